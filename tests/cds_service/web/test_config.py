"""Configuration: every setting typed and bounded; a bad one refuses to start with one line naming it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cds_service.web.config import ConfigurationError, load


def test_defaults_and_environment(monkeypatch):
    monkeypatch.setenv("CDS_MAX_JSON_DEPTH", "100")
    monkeypatch.setenv("CDS_AUTH", "Disabled")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load()
    assert settings["CDS_MAX_JSON_DEPTH"] == 100
    assert settings["CDS_AUTH"] == "disabled"
    assert settings["LOG_LEVEL"] == "DEBUG"
    assert settings["CDS_HOOK_DEADLINE_SECONDS"] == 2.5


def test_overrides_win_and_extra_keys_pass_through(monkeypatch):
    monkeypatch.setenv("CDS_MAX_JSON_DEPTH", "100")
    settings = load({"CDS_MAX_JSON_DEPTH": 20, "CLOCK": "a test clock"})
    assert settings["CDS_MAX_JSON_DEPTH"] == 20
    assert settings["CLOCK"] == "a test clock"


def test_cors_origins_comma_list(monkeypatch):
    monkeypatch.setenv("CDS_CORS_ORIGINS", "https://a.example, https://b.example")
    assert load()["CDS_CORS_ORIGINS"] == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CDS_MAX_JSON_DEPTH", "-5"),
        ("CDS_HOOK_DEADLINE_SECONDS", "-1"),
        ("CDS_FHIR_MAX_WORKERS", "0"),
        ("LOG_LEVEL", "verbose"),
        ("CDS_AUTH", "maybe"),
        ("CDS_LOB_PLAN_OVERRIDES", '{"PLAN-1": "markteplace"}'),
        ("CDS_LOB_PLAN_OVERRIDES", "not json"),
        ("CDS_MAX_BODY_BYTES", "lots"),
        ("CDS_PUBLIC_BASE_URL", "cds.plan.example"),
    ],
)
def test_bad_setting_names_itself_not_its_value(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as err:
        load()
    message = str(err.value)
    assert name in message
    assert "\n" not in message
    assert value not in message or value in {"-1", "0"}


def test_database_password_never_echoed(monkeypatch):
    monkeypatch.setenv("CDS_FHIR_MAX_PAGES", "0")
    monkeypatch.setenv("CDS_DATABASE_URL", "postgresql://cds:s3cret-pw@db/cds")
    with pytest.raises(ConfigurationError) as err:
        load()
    assert "s3cret-pw" not in str(err.value)


def test_gunicorn_entry_point_refuses_to_start_with_one_line(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "CDS_AUTH": "disabled",
        "CDS_FEEDBACK_DB": str(tmp_path / "a.db"),
        "LOG_LEVEL": "verbose",
    }
    proc = subprocess.run(
        [sys.executable, "-c", "import cds_service.wsgi"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("lenalidomide-cds refuses to start:")
    assert "LOG_LEVEL" in lines[-1]
    assert "Traceback" not in proc.stderr
