"""``pregnancy``: lenalidomide is contraindicated in pregnancy (a positive test or a pregnancy
on record: critical) and must not be taken while breastfeeding (warning)."""

from __future__ import annotations

from typing import Any

from fhir_mappers.facts import CaseFacts

from ..rules.rems import RemsJudgement, load_rems
from .common import make_card, new_uuid, override_reason

CITE_PREGNANCY = "REMS guide, Risks of lenalidomide; Prescription requirements (continued)"
CITE_BREASTFEEDING = "REMS guide, Prescription requirements (continued): must not breastfeed"


def pregnancy_card(case: CaseFacts, j: RemsJudgement, source_label: str) -> dict[str, Any] | None:
    finding = j.pregnancy
    if finding is None:
        return None
    rems = load_rems()
    if finding.indicator == "critical":
        summary = f"Lenalidomide contraindicated: {finding.text}"
        detail = "\n".join(
            [
                f"The record shows a **{finding.text}** ({', '.join(finding.evidence)}). Lenalidomide is "
                "contraindicated in pregnancy (embryo-fetal toxicity): do not start it, or stop it immediately.",
                "",
                "**Report** any suspected embryo-fetal exposure immediately to the **FDA MedWatch** "
                f"({rems['medwatch_phone']}) and to **Lenalidomide REMS** ({rems['phone']}). Refer the patient to "
                "an obstetrician/gynecologist experienced in reproductive toxicity.",
                "",
                "If the record is out of date (the patient is not pregnant), record a negative pregnancy test.",
            ]
        )
        cite = CITE_PREGNANCY
    else:
        summary = "Lenalidomide: the patient must not breastfeed during treatment"
        detail = (
            f"The record shows **{finding.text}**. The patient must not breastfeed while being treated with "
            "lenalidomide. Confirm she has stopped before therapy starts."
        )
        cite = CITE_BREASTFEEDING
    suggestions = None
    if finding.indicator == "critical":
        suggestions = [
            {
                "label": "Remove the lenalidomide order",
                "uuid": new_uuid(),
                "actions": [
                    {
                        "type": "delete",
                        "description": "Remove the lenalidomide draft: contraindicated in pregnancy.",
                        "resourceId": case.order.ref,
                    }
                ],
            }
        ]
    return make_card(
        code="pregnancy",
        summary=summary,
        detail=detail,
        indicator=finding.indicator,
        source_label=source_label,
        orders=[case.order.ref],
        clauses=[cite],
        finding_extra={"kind": finding.kind, "evidence": list(finding.evidence)},
        suggestions=suggestions,
        links=[{"label": "Lenalidomide REMS", "url": rems["links"][0]["url"], "type": "absolute"}],
        override_reasons=[override_reason("pregnancy-ruled-out", "Pregnancy ruled out; the record is out of date")],
    )
