"""``concurrent-imid``: thalidomide or pomalidomide active or ordered beside lenalidomide."""

from __future__ import annotations

from typing import Any

from fhir_mappers.facts import CaseFacts, MedicationOnRecord

from .common import make_card, new_uuid, override_reason

IMIDS = ("thalidomide", "pomalidomide")


def concurrent_imids(case: CaseFacts) -> list[MedicationOnRecord]:
    return [
        med for med in case.medications if med.is_current and med.ref != case.order.ref and med.ingredients & set(IMIDS)
    ]


def _describe(med: MedicationOnRecord) -> str:
    drug = " / ".join(sorted(med.ingredients & set(IMIDS)))
    where = "ordered in this session (draft)" if med.is_draft_order else f"on record, status {med.status}"
    since = f", since {med.authored_on.date().isoformat()}" if med.authored_on else ""
    label = f" ({med.display})" if med.display else ""
    return f"- **{drug}**{label}: {where}{since}"


def concurrent_imid_card(case: CaseFacts, clause: str, source_label: str) -> dict[str, Any] | None:
    meds = concurrent_imids(case)
    if not meds:
        return None
    drugs = sorted({name for med in meds for name in med.ingredients & set(IMIDS)})
    detail = [
        "Lenalidomide, thalidomide and pomalidomide are immunomodulatory drugs of the same class; "
        f"the plan does not cover lenalidomide prescribed together with Thalomid or Pomalyst (**{clause}**), "
        "and the combination adds thromboembolic and teratogenic risk.",
        "",
        *(_describe(med) for med in meds),
        "",
        "Stop the other agent, or do not start lenalidomide.",
    ]
    suggestions = [
        {
            "label": f"Remove the draft {' / '.join(sorted(med.ingredients & set(IMIDS)))} order",
            "uuid": new_uuid(),
            "actions": [
                {
                    "type": "delete",
                    "description": f"Remove {med.display or med.ref} from this order session.",
                    "resourceId": med.ref,
                }
            ],
        }
        for med in meds
        if med.is_draft_order
    ]
    return make_card(
        code="concurrent-imid",
        summary=f"{' and '.join(d.capitalize() for d in drugs)} beside lenalidomide: not covered together",
        detail="\n".join(detail),
        indicator="warning",
        source_label=source_label,
        orders=[case.order.ref],
        clauses=[clause],
        finding_extra={"concurrent": [med.ref for med in meds]},
        suggestions=suggestions or None,
        override_reasons=[override_reason("imid-being-stopped", "The other agent is being stopped")],
    )
