"""JSON text to Python values, with one parser's rules whatever the text's encoding.

Hook requests carry the patient's record (170 KB for a typical one, about 1 MB for a heavy
one) and parsing it is the largest fixed cost of a hook call: orjson parses it in about
half the time of ``json.loads`` (docs/performance.md). orjson also refuses what the contract
calls not JSON and the standard library lets through: a lone surrogate (a ``\\ud800`` escape
or the raw bytes ED A0 80), a number that is not finite (``NaN``, ``Infinity``, ``1e999``),
and nesting beyond 1,024 levels (where ``json.loads`` raises ``RecursionError``).

orjson reads UTF-8 only. Text in another encoding JSON allows (UTF-16 or UTF-32, as
``json.detect_encoding`` tells) or with a UTF-8 byte order mark is decoded strictly (a lone
surrogate is a ``UnicodeDecodeError``) and handed to orjson as UTF-8, so every input meets the
same rules: both paths accept and refuse the same documents (tests/cds_service/web/test_json_text.py).
One difference from ``json.loads`` remains: an integer beyond 64 bits is read as a float; no FHIR
element the service reads holds one. Everything refused raises ``ValueError``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(raw: bytes | str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        if isinstance(raw, str):
            raise
        encoding = json.detect_encoding(raw)
        if encoding == "utf-8":
            raise  # orjson's verdict on UTF-8 stands
    # utf-8-sig, utf-16 and utf-32 drop their byte order mark when decoding.
    return orjson.loads(raw.decode(encoding).encode("utf-8"))
