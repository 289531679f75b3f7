"""Under gunicorn (the Procfile's line, 2 workers): /metrics adds up every worker's counts, a worker that
exits keeps its counts in the totals, and gunicorn's own lines are JSON like the service's, with the
request id in the access log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cds_service.web.test_logging import _identifying_values
from tests.conftest import ROOT, SAMPLES
from tests.live_server import free_port, http, service_env, web_command

SIGN = "/cds-services/lenalidomide-order-sign"
BODY = (SAMPLES / "05-over-ceiling.json").read_bytes()
FINDINGS = ("dose-limit", "pa-assessment")  # cards of 05 (among others)


@pytest.fixture
def service(tmp_path):
    """gunicorn with 2 workers and the access log on; yields (base URL, metrics dir, log files)."""
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    env = service_env(
        tmp_path, PORT=str(port), CDS_AUTH="disabled", WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)
    )
    env["GUNICORN_CMD_ARGS"] = f"--bind 127.0.0.1:{port} --access-logfile -"
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(web_command(), cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _up(base):
            assert process.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.2)
        yield base, metrics_dir, out, err
    finally:
        process.terminate()
        process.wait(timeout=15)


def _up(base: str) -> bool:
    try:
        return http(base + "/healthz")[0] == 200
    except OSError:
        return False


def _call(base: str, request_id: str) -> str:
    request = urllib.request.Request(
        base + SIGN, data=BODY, headers={"Content-Type": "application/json", "X-Request-ID": request_id}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return response.headers["X-Request-ID"]


def _samples(base: str) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _worker_pids(metrics_dir: Path) -> set[int]:
    return {int(path.stem.rsplit("_", 1)[1]) for path in metrics_dir.glob("counter_*.db")}


def _calls(samples: dict, **labels: str) -> float:
    return samples.get(("cds_hook_calls_total", tuple(sorted(labels.items()))), 0.0)


def test_metrics_add_up_over_workers_and_survive_a_worker_exit(service):
    base, metrics_dir, _out, _err = service
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda i: _call(base, f"first-{i}"), range(8))) == [f"first-{i}" for i in range(8)]
    served = _worker_pids(metrics_dir)
    assert served  # at least one worker has written counts
    gone = min(served)
    os.kill(gone, signal.SIGTERM)  # the master replaces it; its counts must stay in the totals
    calls_made, deadline = 8, time.monotonic() + 20
    while True:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda i: _call(base, f"after-{i}"), range(4)))
        calls_made += 4
        if _worker_pids(metrics_dir) - {gone}:
            break
        assert time.monotonic() < deadline, "no other worker answered"
    samples = _samples(base)
    assert len(_worker_pids(metrics_dir)) >= 2  # the sums below come from more than one process
    service_label = {"service": "lenalidomide-order-sign"}
    assert _calls(samples, status="200", **service_label) == calls_made
    for finding in FINDINGS:
        key = ("cds_hook_findings_total", tuple(sorted({"finding": finding, **service_label}.items())))
        assert samples[key] == calls_made
    assert samples[("cds_hook_duration_seconds_count", (("service", "lenalidomide-order-sign"),))] == calls_made
    assert samples[("cds_cards_per_answer_count", (("service", "lenalidomide-order-sign"),))] == calls_made
    assert samples[("cds_audit_commit_duration_seconds_count", (("outcome", "ok"),))] == calls_made


def test_gunicorn_lines_are_json_and_the_access_log_carries_the_request_id(service):
    base, _metrics_dir, out, err = service
    _call(base, "trace-me-1")
    time.sleep(0.5)  # the access line is written after the answer
    access = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"event": "access", "method": "POST", "path": SIGN, "status": 200, "request_id": "trace-me-1"}.items() <= (
        next(line for line in access if line.get("request_id") == "trace-me-1").items()
    )
    errors = [json.loads(line) for line in err.read_text().splitlines() if line.strip()]
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["msg"] for line in errors)
    hook = next(line for line in errors if line.get("event") == "hook")
    assert hook["request_id"] == "trace-me-1"
    text = out.read_text() + err.read_text()
    for value in _identifying_values(json.loads(BODY)):  # the patient's names, ids, birth date; the token
        assert value not in text
