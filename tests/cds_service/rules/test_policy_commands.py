"""``lenalidomide-cds policy check`` and ``policy diff`` on the shipped policy and on a real edit of a
ceiling (MDS, I.B.7.a and II.A.5.a.i: 10 -> 5 mg/day)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cds_service.cli import main
from cds_service.rules.policy import DEFAULT_PATH, PolicyError, parse_policy
from cds_service.web import config
from tests.conftest import SAMPLES

MDS = "myelodysplastic-syndrome"


def _shipped() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _clause(data: dict[str, Any], clause: str) -> dict[str, Any]:
    def walk(items: list[dict[str, Any]]):
        for item in items:
            yield item
            for key in ("any_of", "all_of"):
                yield from walk(item.get(key, []))

    sets = [*data["indications"].values(), data["unknown-indication"]]
    return next(item for criteria in sets for item in walk(criteria["criteria"]) if item["clause"] == clause)


def _mds_ceiling(data: dict[str, Any], *, ceiling: bool = True, params: bool = True, text: bool = True) -> None:
    """Lower the MDS ceiling from 10 to 5 mg/day in the places a reviewer would have to edit."""
    if ceiling:
        data["indications"][MDS]["dose_ceiling_mg_per_day"] = 5
    for clause in ("CP.PHAR.71 I.B.7.a", "CP.PHAR.71 II.A.5.a.i"):
        criterion = _clause(data, clause)
        if params:
            criterion["params"]["max_mg_per_day"] = 5
        if text:
            criterion["text"] = criterion["text"].replace("10 mg", "5 mg")


def _write(tmp_path: Path, data: dict[str, Any], name: str = "edited.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_check_passes_the_shipped_policy_and_shows_its_ceilings(capsys):
    assert main(["policy", "check"]) == 0
    out = capsys.readouterr().out
    assert "CP.PHAR.71 is valid" in out
    assert "myelodysplastic-syndrome" in out and "dose ceiling 10 mg/day" in out


def test_check_reports_every_repeat_a_ceiling_edit_missed_at_once(tmp_path, capsys):
    data = _shipped()
    _mds_ceiling(data, params=False, text=False)  # only the section's ceiling changed
    assert main(["policy", "check", str(_write(tmp_path, data))]) == 1
    err = capsys.readouterr().err
    assert "CP.PHAR.71 I.B.7.a: max_mg_per_day 10 disagrees with dose_ceiling_mg_per_day 5" in err
    assert "CP.PHAR.71 II.A.5.a.i: max_mg_per_day 10 disagrees with CP.PHAR.71 I.B (myelodysplastic-syndrome)" in err


def test_check_reports_clause_text_that_disagrees_with_its_params(tmp_path, capsys):
    data = _shipped()
    _mds_ceiling(data, text=False)  # the numbers changed, the wording still says 10
    assert main(["policy", "check", str(_write(tmp_path, data))]) == 1
    err = capsys.readouterr().err
    assert "CP.PHAR.71 I.B.7.a: the text says 10 but max_mg_per_day is 5" in err
    assert "CP.PHAR.71 II.A.5.a.i: the text says 10 but max_mg_per_day is 5" in err


@pytest.mark.parametrize(
    ("clause", "param", "value"),
    [
        ("CP.PHAR.71 I.A.3", "years", 21),
        ("CP.PHAR.71 II.A.1", "days", 60),
        ("CP.PHAR.71 I.C.7.a", "max_mg_per_day", 30),
    ],
)
def test_the_service_refuses_a_policy_whose_wording_and_params_disagree(clause, param, value):
    data = _shipped()
    _clause(data, clause)["params"][param] = value
    with pytest.raises(PolicyError, match=f"{clause}: the text says"):
        parse_policy(data)


def test_a_continued_therapy_branch_must_name_known_indications():
    data = _shipped()
    _clause(data, "CP.PHAR.71 II.A.5.a.ii")["params"]["indications"] = ["marginal-zone-lymphoma", "folicular-lymphoma"]
    with pytest.raises(PolicyError) as error:
        parse_policy(data)
    assert "'folicular-lymphoma', which is not an indication of the policy" in str(error.value)
    assert "a dose increase for follicular-lymphoma must fall under one ceiling branch (none)" in str(error.value)


def test_the_fallback_ceiling_stays_the_highest_of_the_policy():
    data = _shipped()
    data["unknown-indication"]["dose_ceiling_mg_per_day"] = 20
    _clause(data, "CP.PHAR.71 I.*.7.a")["params"]["max_mg_per_day"] = 20
    _clause(data, "CP.PHAR.71 I.*.7.a")["text"] = "Dose does not exceed 20 mg per day"
    with pytest.raises(PolicyError, match="not the highest ceiling of the indications \\(25\\)"):
        parse_policy(data)


def test_check_names_an_unreadable_file(tmp_path, capsys):
    assert main(["policy", "check", str(tmp_path / "absent.yaml")]) == 1
    assert "absent.yaml: cannot be read" in capsys.readouterr().err


def test_diff_of_a_policy_with_itself_changes_nothing(capsys):
    assert main(["policy", "diff", str(DEFAULT_PATH), str(DEFAULT_PATH), "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    judged = len([p for p in SAMPLES.glob("*.json")])
    assert out[-1].startswith(f"{judged} requests judged as of 2026-11-23, 0 with a changed decision")


def test_diff_shows_what_lowering_the_mds_ceiling_changes(tmp_path, capsys):
    data = _shipped()
    _mds_ceiling(data)
    edited = _write(tmp_path, data)
    assert main(["policy", "check", str(edited)]) == 0
    capsys.readouterr()
    assert main(["policy", "diff", str(DEFAULT_PATH), str(edited), "--as-of", "2026-11-23"]) == 1
    out = capsys.readouterr().out
    # 40: lenalidomide 10 mg/day for del(5q) MDS: now over the ceiling.
    block = out.split("40-mds-del5q-needs-documentation.json")[1].split(".json")[0]
    assert "CP.PHAR.71 I.B.7: met -> unknown" in block
    assert "+ card dose-limit:" in block
    # Myeloma requests are judged against their own ceiling: untouched.
    assert "01-mm-likely-approved.json" not in out
    assert out.strip().splitlines()[-1].endswith(f"with a changed decision ({DEFAULT_PATH} -> {edited})")


def test_diff_says_which_files_it_could_not_judge(tmp_path, capsys):
    other = tmp_path / "not-a-hook.json"
    other.write_text('{"resourceType": "Patient"}', encoding="utf-8")
    args = ["policy", "diff", str(DEFAULT_PATH), str(DEFAULT_PATH), str(other), str(SAMPLES / "05-over-ceiling.json")]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "not-a-hook.json: skipped, not a CDS Hooks request for this service" in captured.err
    assert captured.out.strip().splitlines()[-1].startswith("1 requests judged")


def test_check_without_a_file_checks_the_file_the_service_is_configured_with(tmp_path, monkeypatch, capsys):
    data = _shipped()
    _mds_ceiling(data, text=False)
    configured = _write(tmp_path, data)
    real_load = config.load
    monkeypatch.setattr(config, "load", lambda: real_load() | {"CDS_POLICY_FILE": str(configured)})
    assert main(["policy", "check"]) == 1
    assert "CP.PHAR.71 I.B.7.a: the text says 10 but max_mg_per_day is 5" in capsys.readouterr().err
