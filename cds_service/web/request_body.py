"""Read the request body as a JSON object, whatever Content-Type the client claims, within limits.

The body size is capped at ``CDS_MAX_BODY_BYTES`` (413): by Flask (``MAX_CONTENT_LENGTH``) for a
body with a Content-Length, by :func:`read_chunked_body` for a chunked one. Here too the nesting
depth (400: no FHIR resource nests that deep) and the number of resources in prefetch (413).
"""

from __future__ import annotations

import io
import json
from typing import Any

from flask import current_app, request
from gunicorn.http.errors import ParseException

from . import json_text
from .errors import ServiceError

_READ_STEP = 64 * 1024
_DRAIN_BYTES = 1024 * 1024


def read_chunked_body() -> None:
    """``before_request``: read a body sent without Content-Length (chunked) within the size limit,
    and hand it on as a sized one.

    Werkzeug reads such a body up to ``MAX_CONTENT_LENGTH`` and silently stops there, so a body
    over the limit was cut and processed; and a malformed chunk escaped gunicorn's parser as a
    500. Here the first byte over the limit is a 413 and a body the server cannot decode a 400."""
    environ = request.environ
    if environ.get("CONTENT_LENGTH") or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return
    limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    stream = environ["wsgi.input"]
    body = bytearray()
    try:
        while chunk := stream.read(min(_READ_STEP, limit + 1 - len(body))):
            body += chunk
            if len(body) > limit:
                _drain(stream)
                raise ServiceError(413, f"Request body is larger than the limit of {limit} bytes")
    except (ParseException, OSError, ValueError):
        raise ServiceError(400, "The request body is not a well-formed chunked body") from None
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _drain(stream: Any) -> None:
    """Read and drop up to _DRAIN_BYTES more of a body over the limit: a client a little over it then
    reads its 413 instead of a connection reset (the server closes a connection with unread data)."""
    left = _DRAIN_BYTES
    while left > 0 and (chunk := stream.read(min(_READ_STEP, left))):
        left -= len(chunk)


def json_object() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    try:
        body = json_text.loads(raw)
    except UnicodeDecodeError as exc:
        raise ServiceError(
            400, f"The request body is not valid {exc.encoding} text (byte {exc.start}: {exc.reason})"
        ) from None
    except ValueError as exc:
        # orjson's reason names what and where (a lone surrogate, a number that is not finite,
        # line and column), never the text itself.
        raise ServiceError(400, f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ServiceError(400, "The request body must be a JSON object")
    max_depth = int(current_app.config.get("CDS_MAX_JSON_DEPTH", 64))
    if nests_deeper(raw, body, max_depth):
        raise ServiceError(400, f"The request body nests deeper than {max_depth} levels")
    return body


_CONTAINERS = (dict, list)  # built once: ``dict | list`` in the loop builds a union per item


def nests_deeper(raw: bytes, body: Any, limit: int) -> bool:
    """The check on the text when it is UTF-8 (what every client sends), else the walk of
    the parsed value: in UTF-16 or UTF-32 a quote or bracket byte can be part of another
    character. ``json.detect_encoding`` is the standard library parser's own decision."""
    if json.detect_encoding(raw) in ("utf-8", "utf-8-sig"):
        return text_depth_exceeds(raw, limit)
    return depth_exceeds(body, limit)


# ``bytes.translate`` keeps only quotes and brackets, with every bracket made ``[``/``]``.
_NOT_KEPT = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")


def text_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether the UTF-8 JSON text ``raw`` (already parsed, so known valid) nests deeper than
    ``limit``: the same answer as ``depth_exceeds`` on its parsed value, in C-speed passes
    (tests/cds_service/test_request_body.py checks the two agree on generated JSON).

    In valid UTF-8 the bytes of ``"``, ``\\`` and the brackets occur only as those
    characters. Escaped backslashes go first (a run of backslashes pairs up from the left),
    then escaped quotes; every quote left opens or closes a string. Keep only quotes and
    brackets; drop adjacent quote pairs (quotes alternate open/close, so pairs removed from
    the left keep the alternation, and nothing stood between two adjacent quotes); quotes
    still left enclose brackets inside strings, cut out by splitting. The brackets left nest
    as the containers do, and each ``replace("[]")`` pass removes one level: the text nests
    deeper than ``limit`` exactly when brackets remain after ``limit`` passes. On a typical
    hook request this is several times cheaper than walking the parsed value."""
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = raw.translate(_AS_SQUARE, _NOT_KEPT).replace(b'""', b"")
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[::2])
    for _ in range(limit):
        if not marks:
            return False
        marks = marks.replace(b"[]", b"")
    return bool(marks)


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (iterative: no recursion on hostile input).

    Walks one nesting level at a time with a plain loop (no per-item generator or tuple):
    on a typical 170 KB hook request this is several times cheaper than a depth-tagged stack
    and about as cheap as parsing the body (docs/performance.md)."""
    level = [value]
    depth = 1
    while level:
        if depth > limit:
            return True
        deeper: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                children: Any = item.values()
            elif isinstance(item, list):
                children = item
            else:
                continue
            for child in children:
                if isinstance(child, _CONTAINERS):
                    deeper.append(child)
        level = deeper
        depth += 1
    return False


def count_prefetch_resources(prefetch: Any) -> int:
    """Resources sent in prefetch: a bare resource counts 1, a Bundle its entries."""
    if not isinstance(prefetch, dict):
        return 0
    total = 0
    for value in prefetch.values():
        if isinstance(value, dict):
            entries = value.get("entry") if value.get("resourceType") == "Bundle" else None
            total += len(entries) if isinstance(entries, list) else 1
    return total


def check_prefetch_size(body: dict[str, Any]) -> None:
    limit = int(current_app.config.get("CDS_MAX_PREFETCH_RESOURCES", 10000))
    count = count_prefetch_resources(body.get("prefetch"))
    if count > limit:
        raise ServiceError(413, f"prefetch holds {count} resources; the limit is {limit}", ["prefetch"])
