"""The service starts the way production starts it: the Procfile's web line under gunicorn."""

from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest

from tests.cds_service.security.jwt_helpers import ISSUER, generate_key, jwks
from tests.cds_service.test_startup import MM_CEILING, policy_copy
from tests.conftest import ROOT, SAMPLES
from tests.live_server import free_port, http, running_service, service_env, web_command


@pytest.fixture
def server(tmp_path):
    with running_service(tmp_path, CDS_AUTH="disabled") as base:
        yield base


def test_procfile_starts_gunicorn_and_answers_a_hook(server):
    status, discovery = http(server + "/cds-services")
    assert status == 200 and len(discovery["services"]) == 2
    body = (SAMPLES / "04-brand-revlimid.json").read_bytes()
    status, answer = http(server + "/cds-services/lenalidomide-order-sign", data=body)
    assert status == 200
    codes = {card["extension"]["lenalidomide-cds.finding"]["code"] for card in answer["cards"]}
    assert {"generic-substitution", "pa-assessment"} <= codes


def test_required_auth_without_issuers_refuses_to_start_with_one_line(tmp_path):
    env = service_env(tmp_path, PORT=str(free_port()), CDS_AUTH="required")
    result = subprocess.run(web_command(), cwd=ROOT, env=env, capture_output=True, timeout=60, check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.decode().splitlines() if line.strip()]
    assert lines == ["lenalidomide-cds refuses to start: CDS_AUTH=required but CDS_TRUSTED_ISSUERS is not set"]


def test_required_auth_without_public_base_url_refuses_to_start_with_one_line(tmp_path):
    """The JWT aud is checked against CDS_PUBLIC_BASE_URL, never against the caller's Host header."""
    issuers = json.dumps({ISSUER: jwks(generate_key("ES384"))})
    env = service_env(tmp_path, PORT=str(free_port()), CDS_AUTH="required", CDS_TRUSTED_ISSUERS=issuers)
    result = subprocess.run(web_command(), cwd=ROOT, env=env, capture_output=True, timeout=60, check=False)
    assert result.returncode == 1
    lines = [line for line in result.stderr.decode().splitlines() if line.strip()]
    assert lines == ["lenalidomide-cds refuses to start: CDS_AUTH=required but CDS_PUBLIC_BASE_URL is not set"]


def test_a_policy_the_loader_refuses_stops_gunicorn_with_one_line(tmp_path):
    """One dose ceiling changed in a copy of the policy: the loader refuses it, so nothing starts
    (before, the service started, /healthz said 200 and every hook call answered 500)."""
    policy = policy_copy(tmp_path, (MM_CEILING, MM_CEILING.replace("25", "30")))
    env = service_env(tmp_path, PORT=str(free_port()), CDS_AUTH="disabled", CDS_POLICY_FILE=str(policy))
    result = subprocess.run(web_command(), cwd=ROOT, env=env, capture_output=True, timeout=60, check=False)
    assert result.returncode == 1
    lines = [line for line in result.stderr.decode().splitlines() if line.strip()]
    refusal = [line for line in lines if "refuses to start" in line]
    assert refusal == [lines[-1]]
    assert refusal[0].startswith("lenalidomide-cds refuses to start: CDS_POLICY_FILE: ")
    assert "indications.multiple-myeloma: CP.PHAR.71 I.A.7.a: max_mg_per_day 25 disagrees" in refusal[0]


def test_a_slow_upload_does_not_hold_up_the_workers_other_calls(server):
    """A client still sending its body must not hold up the worker's other calls. One worker
    here (WEB_CONCURRENCY=1)."""
    body = (SAMPLES / "01-mm-likely-approved.json").read_bytes()
    host, port = server.removeprefix("http://").split(":")
    head = (
        f"POST /cds-services/lenalidomide-order-sign HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as slow:
        slow.sendall(head + body[: len(body) // 2])
        time.sleep(0.5)  # the worker has taken the slow call and waits for the rest of its body
        status, _ = http(server + "/cds-services/lenalidomide-order-sign", data=body)  # 5 s timeout
        assert status == 200
        slow.sendall(body[len(body) // 2 :])
        answer = b""
        while chunk := slow.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")


def test_no_gunicorn_control_socket_unless_one_is_asked_for(tmp_path):
    """gunicorn 27 would open a control socket at one path per user ($XDG_RUNTIME_DIR or
    ~/.gunicorn/), shared by every gunicorn on the host: the project's configuration turns it off."""
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True)
    where = {"HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run")}
    with running_service(tmp_path, CDS_AUTH="disabled", **where) as base:
        assert http(base + "/healthz")[0] == 200
        assert list(home.rglob("*.ctl")) == []
    # Named by the operator, it is opened there (so the check above looked where gunicorn would).
    wanted = tmp_path / "cds.ctl"
    with running_service(tmp_path, CDS_AUTH="disabled", GUNICORN_CONTROL_SOCKET=str(wanted), **where):
        deadline = time.monotonic() + 10
        while not wanted.is_socket() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert wanted.is_socket()
        assert list(home.rglob("*.ctl")) == []
