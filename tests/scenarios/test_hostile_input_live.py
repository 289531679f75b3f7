"""Hostile request bodies against the service as production runs it (gunicorn, the Procfile, loopback).

No client input yields a 5xx: lone surrogates, numbers that are not finite, an over-long
hookInstance and malformed chunked bodies are 400s; a chunked body over the size limit is a 413,
never cut at the limit and processed. The audit trail holds no 200 for any of them.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator

import pytest

from cds_service.storage import Store
from tests.conftest import SAMPLES
from tests.live_server import running_service

SIGN = "/cds-services/lenalidomide-order-sign"
BODY = (SAMPLES / "01-mm-likely-approved.json").read_bytes()
LIMIT = len(BODY) + 4096  # CDS_MAX_BODY_BYTES of the service under test
ORIGINS = ("https://ehr-a.example", "https://ehr-b.example")


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("hostile")
    database = str(folder / "feedback.sqlite3")
    with running_service(
        folder,
        CDS_AUTH="disabled",
        CDS_FEEDBACK_DB=database,
        CDS_MAX_BODY_BYTES=str(LIMIT),
        CDS_CORS_ORIGINS=", ".join(ORIGINS),
    ) as base:
        yield base, database


def exchange(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; the status, headers and body of the answer (the connection is closed after)."""
    host, port = base.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def post(base: str, body: bytes, *, chunks: list[bytes] | None = None) -> tuple[int, bytes]:
    """POST ``body`` with a Content-Length, or as the raw chunked framing ``chunks`` when given."""
    framing = "Transfer-Encoding: chunked" if chunks is not None else f"Content-Length: {len(body)}"
    head = (
        f"POST {SIGN} HTTP/1.1\r\nHost: cds\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
    )
    status, _, answer = exchange(base, head.encode() + (b"".join(chunks) if chunks is not None else body))
    return status, answer


def chunked(body: bytes, size: int = 4096) -> list[bytes]:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces] + [b"0\r\n\r\n"]


def with_hook_instance(body: bytes, hook_instance: str) -> bytes:
    value = json.loads(body)["hookInstance"]
    assert body.count(value.encode()) == 1
    return body.replace(value.encode(), hook_instance.encode())


def statuses(database: str, hook_instance: str) -> list[int]:
    store = Store.open({"CDS_FEEDBACK_DB": database}, upgrade=False)
    try:
        return [row.http_status for row in store.hook_calls(hook_instance)]
    finally:
        store.close()


def is_outcome(answer: bytes) -> bool:
    return json.loads(answer)["resourceType"] == "OperationOutcome"


NOTE = b'"Cycle 1 of lenalidomide + dexamethasone (Rd)."'


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (NOTE, b'"Cycle 1 \\ud800 of lenalidomide"'),
        (NOTE, b'"Cycle 1 \xed\xa0\x80 of lenalidomide"'),
        (b'"userId": "PractitionerRole/role-okafor-heme"', b'"userId": "PractitionerRole/\\udfff"'),
        (b'"value": 21,', b'"value": NaN,'),
        (b'"value": 21,', b'"value": 1e999,'),
        (b'"value": 21,', b'"value": -Infinity,'),
    ],
    ids=["note-escape", "note-raw-bytes", "userId-escape", "NaN", "1e999", "-Infinity"],
)
def test_text_that_is_not_unicode_or_numbers_that_are_not_finite_are_400(service, old, new):
    base, database = service
    hook_instance = str(uuid.uuid4())
    body = with_hook_instance(BODY, hook_instance)
    assert body.count(old) >= 1
    status, answer = post(base, body.replace(old, new, 1))
    assert status == 400 and is_outcome(answer)
    assert 200 not in statuses(database, hook_instance)


def test_a_hook_instance_over_255_characters_is_400(service):
    status, answer = post(service[0], with_hook_instance(BODY, "x" * 256))
    assert status == 400
    assert json.loads(answer)["issue"][0]["expression"] == ["hookInstance"]


@pytest.mark.parametrize(
    "framing",
    [
        [b"zz\r\n" + BODY[:10] + b"\r\n0\r\n\r\n"],  # a chunk size that is not hexadecimal
        [b"a\r\n" + BODY[:10] + b"XX0\r\n\r\n"],  # a chunk without its CRLF terminator
        [b"-a\r\n" + BODY[:10] + b"\r\n0\r\n\r\n"],  # a negative chunk size
    ],
    ids=["bad-size", "missing-terminator", "negative-size"],
)
def test_a_malformed_chunked_body_is_400(service, framing):
    status, answer = post(service[0], b"", chunks=framing)
    assert status == 400 and is_outcome(answer)


def test_a_chunked_body_within_the_limit_is_answered(service):
    base, database = service
    hook_instance = str(uuid.uuid4())
    status, answer = post(base, b"", chunks=chunked(with_hook_instance(BODY, hook_instance)))
    assert status == 200 and "cards" in json.loads(answer)
    assert statuses(database, hook_instance) == [200]


def test_a_chunked_body_over_the_limit_is_413_not_cut_and_processed(service):
    """Valid JSON padded with spaces past the limit: cut at the limit it would still parse (and did)."""
    base, database = service
    hook_instance = str(uuid.uuid4())
    body = with_hook_instance(BODY, hook_instance) + b" " * (LIMIT - len(BODY) + 1)
    assert len(body) == LIMIT + 1
    status, answer = post(base, b"", chunks=chunked(body))
    assert status == 413 and is_outcome(answer)
    assert statuses(database, hook_instance) == []


@pytest.mark.parametrize("origin", ORIGINS)
def test_each_listed_origin_passes_a_preflight(service, origin):
    request = (
        f"OPTIONS {SIGN} HTTP/1.1\r\nHost: cds\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\n"
        "Access-Control-Request-Headers: authorization, content-type\r\nConnection: close\r\n\r\n"
    )
    status, headers, _ = exchange(service[0], request.encode())
    assert status == 200
    assert headers["access-control-allow-origin"] == origin
    assert "POST" in headers["access-control-allow-methods"]
    allowed = {name.strip().lower() for name in headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed


def test_an_origin_not_listed_gets_no_cors_grant(service):
    request = (
        f"OPTIONS {SIGN} HTTP/1.1\r\nHost: cds\r\nOrigin: https://evil.example\r\n"
        "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
    )
    _, headers, _ = exchange(service[0], request.encode())
    assert "access-control-allow-origin" not in headers
