"""Prometheus metrics: counts and timings only, never anything about a patient or a token.

Served at ``GET /metrics`` in the Prometheus text format, without the JWT (it must sit on an internal
port or behind the deployment's network policy: README, "Metrics"). Under gunicorn each worker is its
own process: prometheus-client's multiprocess mode has every worker write its values to files in
``PROMETHEUS_MULTIPROC_DIR``, and ``/metrics`` (answered by any worker) adds up every worker's files.
``gunicorn.conf.py`` makes that directory before the app is imported and removes it at exit; without
it (the Flask test client, ``flask run``) the metrics are the one process's own.

Every label takes a value from a closed set (the service ids, HTTP statuses, the finding codes and
likelihoods the service itself produces, three read outcomes), so no caller can grow the series.

Why a library: prometheus-client is the Prometheus project's own Python client and the only one with
a multiprocess mode that works under gunicorn.
"""

from __future__ import annotations

import os
import time
from collections.abc import Container, Iterator
from contextlib import contextmanager

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

bp = Blueprint("metrics", __name__)

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HOOK_CALLS = Counter("cds_hook_calls", "Hook calls answered, by service and HTTP status.", ["service", "status"])
HOOK_DURATION = Histogram(
    "cds_hook_duration_seconds", "Time from a hook request to its answer.", ["service"], buckets=_SECONDS
)
FINDINGS = Counter("cds_hook_findings", "Cards answered, by service and finding code.", ["service", "finding"])
LIKELIHOODS = Counter(
    "cds_hook_likelihoods",
    "Lenalidomide orders judged, by service and prior-authorization likelihood.",
    ["service", "likelihood"],
)
CARDS_PER_ANSWER = Histogram(
    "cds_cards_per_answer", "Cards in each 200 answer.", ["service"], buckets=(0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20)
)
FHIR_READS = Histogram(
    "cds_fhir_read_duration_seconds",
    "Reads from the EHR's FHIR server, by outcome (ok, failed, late: after the hook deadline), and their time.",
    ["outcome"],
    buckets=_SECONDS,
)
AUDIT_COMMIT = Histogram(
    "cds_audit_commit_duration_seconds",
    "Time to commit a hook call's audit row, by outcome (ok, failed).",
    ["outcome"],
    buckets=_SECONDS,
)


def service_label(service_id: str, known: Container[str]) -> str:
    """The service id when it is one of ours, else ``unknown`` (a caller cannot invent series)."""
    return service_id if service_id in known else "unknown"


def observe_answer(service: str, findings: list[str], likelihoods: list[str], cards: int) -> None:
    for finding in findings:
        FINDINGS.labels(service, finding).inc()
    for likelihood in likelihoods:
        LIKELIHOODS.labels(service, likelihood).inc()
    CARDS_PER_ANSWER.labels(service).observe(cards)


@contextmanager
def timed(histogram: Histogram) -> Iterator[dict[str, str]]:
    """Observe the block's time under the outcome the block sets (``ok`` unless it raised: ``failed``)."""
    started = time.perf_counter()
    labels = {"outcome": "ok"}
    try:
        yield labels
    except BaseException:
        labels["outcome"] = "failed"
        raise
    finally:
        histogram.labels(labels["outcome"]).observe(time.perf_counter() - started)


@bp.get("/metrics")
def metrics() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
