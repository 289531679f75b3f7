"""Several lenalidomide drafts with overlapping schedules are one daily dose (issue 12, class 5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fhir_mappers.case import build_cases
from tests.fhir_mappers.helpers import bundle, dosage, medication_request, rxnorm_concept

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
STRENGTH = {10: "602910", 5: "602912"}


def draft(ident: str, mg: int, *, bounds: dict[str, str] | None = None, capsules: float | None = 1) -> dict[str, Any]:
    line = dosage(capsules, "{capsule}", frequency=1) if capsules is not None else {"text": "as directed"}
    if bounds:
        line["timing"]["repeat"]["boundsPeriod"] = bounds
    return medication_request(ident, concept=rxnorm_concept(STRENGTH[mg]), dosages=[line], authoredOn="2026-11-20")


def cases(*drafts: dict[str, Any], selections: list[str] | None = None, record: tuple = ()):
    return build_cases(
        draft_orders=bundle(*drafts, kind="collection"),
        selections=selections,
        prefetch={"medications": bundle(*record)},
        unavailable=set(),
        now=NOW,
    )


def test_two_drafts_together_are_summed_for_each():
    found = cases(draft("a", 10), draft("b", 5))
    assert [c.dose_orders for c in found] == [("MedicationRequest/a", "MedicationRequest/b")] * 2
    assert [c.daily_dose_mg for c in found] == [15, 15]
    assert [c.order.daily_dose_mg for c in found] == [10, 5]  # each order keeps its own


def test_a_lone_draft_is_not_summed():
    (only,) = cases(draft("a", 10))
    assert only.dose_orders == () and only.daily_dose_mg == 10


def test_drafts_whose_schedules_do_not_overlap_are_successive_not_summed():
    november = draft("a", 10, bounds={"start": "2026-11-20", "end": "2026-12-17"})
    december = draft("b", 5, bounds={"start": "2026-12-18", "end": "2027-01-14"})
    assert [c.dose_orders for c in cases(november, december)] == [(), ()]


def test_an_unselected_draft_counts_on_order_select():
    (selected,) = cases(draft("a", 10), draft("b", 5), selections=["MedicationRequest/a"])
    assert selected.daily_dose_mg == 15


def test_an_order_on_record_is_not_summed():
    on_record = {**draft("old", 5), "status": "active"}
    (only,) = cases(draft("a", 10), record=(on_record,))
    assert only.dose_orders == () and only.daily_dose_mg == 10


def test_an_unknown_dose_makes_the_sum_unknown():
    found = cases(draft("a", 10), draft("b", 5, capsules=None))
    assert found[0].dose_orders and found[0].daily_dose_mg is None
