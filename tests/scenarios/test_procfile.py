"""The service starts the way production starts it: the Procfile's web line under gunicorn."""

from __future__ import annotations

import subprocess

import pytest

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
