"""The service starts the way production starts it: the Procfile's web line under gunicorn."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES

BIN = Path(sys.executable).parent


def _web_command() -> list[str]:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    argv = shlex.split(line.removeprefix("web:").strip())
    argv[0] = str(BIN / argv[0])
    return argv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    env.update({"CDS_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"), "WEB_CONCURRENCY": "1"}, **extra)
    return env


def _get(url: str, data: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.loads(response.read())


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    env = _env(tmp_path, PORT=str(port), CDS_AUTH="disabled")
    env["GUNICORN_CMD_ARGS"] = f"--bind 127.0.0.1:{port}"  # loopback only in tests
    process = subprocess.Popen(_web_command(), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "gunicorn did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_procfile_starts_gunicorn_and_answers_a_hook(server):
    status, discovery = _get(server + "/cds-services")
    assert status == 200 and len(discovery["services"]) == 2
    body = (SAMPLES / "04-brand-revlimid.json").read_bytes()
    status, answer = _get(server + "/cds-services/lenalidomide-order-sign", data=body)
    assert status == 200
    codes = {card["extension"]["lenalidomide-cds.finding"]["code"] for card in answer["cards"]}
    assert {"generic-substitution", "pa-assessment"} <= codes


def test_required_auth_without_issuers_refuses_to_start_with_one_line(tmp_path):
    env = _env(tmp_path, PORT=str(_free_port()), CDS_AUTH="required")
    result = subprocess.run(_web_command(), cwd=ROOT, env=env, capture_output=True, timeout=60, check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.decode().splitlines() if line.strip()]
    assert lines == ["lenalidomide-cds refuses to start: CDS_AUTH=required but CDS_TRUSTED_ISSUERS is not set"]
