"""Shared fixtures: an app with a temporary feedback store, a client, and the test data's folders.

The project's tests need nothing beside the project: public fixtures live in ``tests/fixtures/``
(their provenance and licenses are in its README). The only exception is ``../shared``'s vendor
examples, which state no license and so are not copied; tests reach them through ``shared_dir()``
or ``shared_files()``, which skip with the reason when ``../shared`` is absent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cds_service.app import create_app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = ROOT / "sample_bundles"
SHARED = ROOT.parent / "shared"
SHARED_ABSENT = (
    "needs ../shared beside the project: its vendor examples state no license and its reference documents"
    " are sources, not test data, so neither is copied into the project (see tests/fixtures/README.md)"
)

# Sample bundles are written as of 2026-11-20; judge them on that day.
FIXED_NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def fixture_files(folder: Path, pattern: str = "*.json") -> list[Path]:
    """The files of ``folder`` matching ``pattern``, sorted; none is an error, not zero tests.

    Used for parametrizing: a moved or misspelt folder must fail the run (at collection), never
    make its tests vanish without a word.
    """
    files = sorted(folder.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no {pattern} in {folder}: a parametrized test would silently run zero cases")
    return files


def shared_dir(*parts: str) -> Path:
    """A folder of ``../shared`` (e.g. ``shared_dir("fixtures", "vendor-examples")``).

    Skips the calling test with the reason when ``../shared`` is absent; a missing folder inside a
    present ``../shared`` is an error, as a renamed folder would otherwise hide tests.
    """
    if not SHARED.is_dir():
        pytest.skip(SHARED_ABSENT)
    folder = SHARED.joinpath(*parts)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is missing from ../shared")
    return folder


def shared_files(*parts: str, pattern: str = "*.json") -> list[Any]:
    """Parameters for ``pytest.mark.parametrize`` over the files of a ``../shared`` folder.

    When ``../shared`` is absent this is a single parameter that is skipped with the reason, so
    the report says why those cases did not run; when present, it is ``fixture_files()``.
    """
    if not SHARED.is_dir():
        return [pytest.param(None, id="shared-absent", marks=pytest.mark.skip(reason=SHARED_ABSENT))]
    return list(fixture_files(SHARED.joinpath(*parts), pattern))


@pytest.fixture
def make_app(tmp_path):
    made = []

    def _make(**overrides: Any):
        config = {
            "CDS_AUTH": "disabled",
            "CDS_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
            "CDS_SOURCE_LABEL": "Sunrise Health Plan",
            "CLOCK": lambda: FIXED_NOW,
        }
        config.update(overrides)
        app = create_app(config)
        made.append(app)
        return app

    yield _make
    # Audit rows queued off the request path (storage/deferred.py) go to this test's database before
    # its folder is removed, not to a missing file when the test process exits.
    for app in made:
        app.extensions["cds_store"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


def findings(response_json: dict, code: str) -> list[dict]:
    """The cards of one finding code."""
    return [card for card in response_json["cards"] if card["extension"]["lenalidomide-cds.finding"]["code"] == code]


@pytest.fixture
def vendor_examples() -> Path:
    """``../shared/fixtures/vendor-examples`` (no license stated: not copied), or skip with the reason."""
    return shared_dir("fixtures", "vendor-examples")
