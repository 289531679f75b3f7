"""A worker's memory does not grow with the requests it answers (not timed).

The benchmark reads each worker's RSS over 10,000 requests (docs/performance.md); RSS also
moves with the allocator and with which large requests happened to overlap, so this test
guards the cause instead: Python objects kept from one request to the next. Every sample
bundle is sent once to fill what is meant to fill (the bounded code-set caches, the lazily
loaded policy), then every bundle again three times with fresh hookInstances; the memory
``tracemalloc`` sees held after the last round must be no more than after the first. A
leak of even one resource, card or audit row per request (several KB) fails it.
"""

from __future__ import annotations

import gc
import json
import logging
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from cds_service.web.logging_setup import JsonFormatter
from tests.conftest import SAMPLES, load_json

SLACK_BYTES = 64 * 1024


def _bodies() -> list[tuple[str, bytes]]:
    out = []
    for path in sorted(SAMPLES.glob("*.json")):
        body = load_json(path)
        if not isinstance(body, dict) or "hook" not in body or ("fhirServer" in body and "prefetch" not in body):
            continue  # requests that read a FHIR server are left to the prefetch tests
        service = "lenalidomide-order-select" if body["hook"] == "order-select" else "lenalidomide-order-sign"
        out.append((service, body))
    return out


def _round(client, requests: list[tuple[str, dict]]) -> None:
    for service, body in requests:
        body = {**body, "hookInstance": str(uuid.uuid4())}
        response = client.post(f"/cds-services/{service}", data=json.dumps(body), content_type="application/json")
        assert response.status_code in (200, 412), (service, response.status_code)


class _Discard:
    """A log stream that keeps nothing (pytest's capture would keep every line)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


@contextmanager
def _logs_formatted_and_dropped() -> Iterator[None]:
    """Log lines are still built by the service's JSON formatter, but neither pytest's log
    capture nor its captured stderr keeps them: those would grow with every request. Used
    inside the test body: pytest adds its capturing handler when the call phase starts."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    handler = logging.StreamHandler(_Discard())
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.handlers, root.level = saved, level


def _growth(client, requests: list[tuple[str, dict]]) -> int:
    """Bytes held after four rounds of every request beyond those held after the first."""
    with _logs_formatted_and_dropped():
        _round(client, requests)  # warm-up: caches and lazily built tables fill here
        tracemalloc.start()
        try:
            first = _held(client, requests, 1)
            last = _held(client, requests, 3)
        finally:
            tracemalloc.stop()
    return last - first


def _held(client, requests: list[tuple[str, dict]], rounds: int) -> int:
    for _ in range(rounds):
        _round(client, requests)
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_memory_held_does_not_grow_with_requests(client):
    requests = _bodies()
    assert len(requests) >= 40
    growth = _growth(client, requests)
    assert growth <= SLACK_BYTES, f"{growth / 1024:.0f} KB more held after 3 more rounds"


def test_the_guard_sees_a_leak(client, monkeypatch):
    """The same measurement with a deliberate leak of each request body fails the bound."""
    from cds_service.hooks import endpoint as hooks

    kept: list = []
    original = hooks.json_object

    def leaking() -> dict:
        body = original()
        kept.append(body)
        return body

    monkeypatch.setattr(hooks, "json_object", leaking)
    assert _growth(client, _bodies()) > SLACK_BYTES
