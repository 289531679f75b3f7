"""What start-up loads and checks: the policy (CDS_POLICY_FILE), the REMS data and the code lists.

A policy the loader refuses stops the start with one line naming the entry at fault; it never
surfaces as errors on hook calls.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.rules.policy import DEFAULT_PATH
from cds_service.web.config import ConfigurationError
from fhir_mappers import codes
from tests.conftest import SAMPLES, findings, load_json

SIGN = "/cds-services/lenalidomide-order-sign"
MM_CEILING = "dose_ceiling_mg_per_day: 25    # I.A.7.a"
# The Medicaid line of the initial approval durations (the continued ones follow it).
MEDICAID_INITIAL = "(the same under every indication)\n    medicaid: {months: 12}"


def policy_copy(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """The shipped policy YAML with ``edits`` (old, new) applied, each exactly once."""
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_dose_ceiling_changed_refuses_to_start_naming_the_entry(make_app, tmp_path):
    path = policy_copy(tmp_path, (MM_CEILING, MM_CEILING.replace("25", "30")))
    with pytest.raises(ConfigurationError) as refused:
        make_app(CDS_POLICY_FILE=str(path))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("CDS_POLICY_FILE: ")
    assert "indications.multiple-myeloma: CP.PHAR.71 I.A.7.a: max_mg_per_day 25 disagrees" in message


def test_a_policy_that_is_not_yaml_refuses_to_start_with_one_line(make_app, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("policy: [unclosed\n  title: x\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"^CDS_POLICY_FILE: .*not valid YAML") as refused:
        make_app(CDS_POLICY_FILE=str(path))
    assert "\n" not in str(refused.value)


def test_a_policy_file_that_does_not_exist_refuses_to_start(make_app, tmp_path):
    with pytest.raises(ConfigurationError, match="CDS_POLICY_FILE"):
        make_app(CDS_POLICY_FILE=str(tmp_path / "nowhere.yaml"))


def test_the_configured_policy_is_the_one_judged_by(make_app, tmp_path):
    """Sample 02 is a Medicaid member's first request: the approval the card states follows the policy file."""
    body = load_json(SAMPLES / "02-mm-needs-documentation.json")

    def approval_months(app) -> int:
        [card] = findings(app.test_client().post(SIGN, json=body).get_json(), "pa-assessment")
        return card["extension"]["lenalidomide-cds.finding"]["approvalMonths"]

    assert approval_months(make_app()) == 12
    path = policy_copy(tmp_path, (MEDICAID_INITIAL, MEDICAID_INITIAL.replace("12", "6")))
    assert approval_months(make_app(CDS_POLICY_FILE=str(path), CDS_FEEDBACK_DB=str(tmp_path / "other.sqlite3"))) == 6


def test_a_code_list_table_that_does_not_build_names_itself(monkeypatch):
    def broken_table() -> dict:
        return {row["group"]: row for row in [{"kind": "lab"}]}

    monkeypatch.setattr(codes, "_TABLES", list(codes._TABLES))
    codes.table(broken_table)
    with pytest.raises(codes.CodeListError, match=r"broken_table: KeyError 'group'"):
        codes.load_code_lists()


def test_every_code_list_table_is_built_at_start(app):
    assert len(codes._TABLES) >= 5
    assert all(table.cache_info().currsize == 1 for table in codes._TABLES)
