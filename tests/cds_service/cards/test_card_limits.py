"""The length limits hold in the worst case (issue 13): nothing on record, every rewrite asked,
data that could not be read; and what must be said is never dropped to fit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cds_service.cards.text import fit_sections, record_notes
from cds_service.hooks.engine import cards_for_case
from fhir_mappers.case import build_cases
from tests.fhir_mappers.helpers import bundle, medication_request, rxnorm_concept

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
FINDING = "lenalidomide-cds.finding"
EVERYTHING = {
    "observations",
    "medications",
    "procedures",
    "conditions",
    "practitioner",
    "practitionerRoles",
    "coverage",
}


def worst_draft() -> dict:
    """Brand Revlimid 15 mg twice daily (over the ceiling), 35 days, 3 refills."""
    draft = medication_request(
        "len",
        concept=rxnorm_concept("643714", "lenalidomide 15 MG Oral Capsule [Revlimid]"),
        authoredOn="2026-11-20T15:00:00Z",
        dispense={
            "expectedSupplyDuration": {"value": 35, "unit": "d"},
            "numberOfRepeatsAllowed": 3,
            "quantity": {"value": 70, "unit": "capsule"},
        },
    )
    draft["dosageInstruction"] = [
        {
            "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "capsule"}}],
        }
    ]
    return draft


@pytest.mark.parametrize("unavailable", [set(), EVERYTHING], ids=["nothing-on-record", "nothing-readable"])
@pytest.mark.parametrize("hook", ["order-sign", "order-select"])
def test_worst_case_cards_keep_their_limits(unavailable, hook):
    draft = worst_draft()
    patient = {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1990-01-01"}
    (case,) = build_cases(
        draft_orders=bundle(draft, kind="collection"),
        selections=None,
        prefetch={"patient": patient},
        unavailable=unavailable,
        now=NOW,
    )
    cards, _assessment = cards_for_case(case, draft, "Plan", hook)
    by_code = {card["extension"][FINDING]["code"]: card for card in cards}
    assert {"generic-substitution", "dose-limit", "pa-assessment", "rems"} <= set(by_code)
    rems, pa = by_code["rems"], by_code["pa-assessment"]
    assert len(rems["detail"]) <= 1500 and len(pa["detail"]) <= 1200
    assert rems["indicator"] == "critical"
    assert "between 6 and 10 November" in rems["detail"]  # what blocks dispensing is never dropped
    if hook == "order-sign":
        assert "Fix in this order" in rems["detail"] and "Confirm in the REMS program" in rems["detail"]
        assert "Accept “Rewrite: generic lenalidomide, 25 mg once daily, 28-day supply, no refills”" in rems["detail"]
    for card in cards:
        assert len(card["summary"]) < 140


def test_fit_sections_drops_the_least_important_first_and_never_priority_zero():
    sections = [(0, ["must " * 10]), (2, ["context " * 10]), (1, ["note " * 10]), (3, ["extra " * 10])]
    assert fit_sections(sections, 1000).count("\n\n") == 3
    fitted = fit_sections(sections, 160)
    assert "must" in fitted and "note" in fitted and "extra" not in fitted and "context" not in fitted
    assert fit_sections(sections, 10).startswith("must")  # over the limit rather than silent about it


def test_the_note_on_unreadable_data_leaves_out_forms_most_ehrs_never_send():
    patient = {"resourceType": "Patient", "id": "p", "gender": "male", "birthDate": "1960-01-01"}

    def notes(unavailable: set[str]) -> list[str]:
        (case,) = build_cases(
            draft_orders=bundle(worst_draft(), kind="collection"),
            selections=None,
            prefetch={"patient": patient},
            unavailable=unavailable,
            now=NOW,
        )
        return record_notes(case)

    assert notes({"questionnaireResponses"}) == []
    assert notes({"questionnaireResponses", "medications"}) == [
        "Could not be read from the EHR: medication history; what depends on it is open."
    ]
