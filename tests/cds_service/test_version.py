"""One version number everywhere: the installed package's, as pyproject.toml sets it."""

from __future__ import annotations

import logging
import subprocess
import sys
import tomllib
from importlib.metadata import version

from tests.conftest import ROOT

DECLARED = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_the_installed_package_is_the_one_pyproject_declares():
    assert version("lenalidomide-cds") == DECLARED


def test_version_endpoint_says_the_package_version(client):
    response = client.get("/version")
    assert response.status_code == 200
    assert response.get_json() == {"service": "lenalidomide-cds", "version": DECLARED}


def test_openapi_says_the_package_version(client):
    assert client.get("/openapi.json").get_json()["info"]["version"] == DECLARED


def test_fhir_capability_statement_says_the_package_version(client):
    assert client.get("/fhir/metadata").get_json()["software"]["version"] == DECLARED


def test_the_start_is_logged_with_the_version(make_app, caplog):
    with caplog.at_level(logging.INFO, logger="cds_service.app"):
        make_app()
    starts = [r for r in caplog.records if getattr(r, "event", None) == "service_start"]
    assert [r.__dict__["version"] for r in starts] == [DECLARED]


def test_the_console_command_says_the_package_version():
    result = subprocess.run(
        [sys.executable, "-m", "cds_service.cli", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == f"lenalidomide-cds {DECLARED}"
