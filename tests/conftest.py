"""Shared fixtures: an app with a temporary feedback store, a client, and the shared/ folder."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cds_service.app import create_app

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"
SAMPLES = ROOT / "sample_bundles"

# Sample bundles are written as of 2026-11-20; judge them on that day.
FIXED_NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def make_app(tmp_path):
    def _make(**overrides: Any):
        config = {
            "CDS_AUTH": "disabled",
            "CDS_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
            "CDS_SOURCE_LABEL": "Sunrise Health Plan",
            "CLOCK": lambda: FIXED_NOW,
        }
        config.update(overrides)
        return create_app(config)

    return _make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


def findings(response_json: dict, code: str) -> list[dict]:
    """The cards of one finding code."""
    return [card for card in response_json["cards"] if card["extension"]["lenalidomide-cds.finding"]["code"] == code]
