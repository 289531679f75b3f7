"""``rems``: the Lenalidomide REMS checklist of one order, and ``rems-monitoring``: the
monitoring the REMS prescriber guide asks for (CBC in del(5q) MDS, thromboprophylaxis).

The ``rems`` card reads most urgent first: what blocks dispensing, what to fix in this order,
what to confirm in the REMS program, what the record confirms. On order-select it shows only what
blocks dispensing, or else the first thing to fix. Its rewrite of the order (a 28-day supply, no
refills: ``rewritten_order``) is composed with the other cards' by ``order_update``.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from fhir_mappers.dosage import capsules_for_days
from fhir_mappers.facts import CaseFacts
from fhir_mappers.medication_request import map_lenalidomide_order

from ..rules.rems import MET, UNKNOWN, UNMET, RemsJudgement, StepResult, load_rems
from .common import SUGGESTION_LINE_RESERVE, json_copy, make_card, override_reason
from .text import date_window, day_month, fit_sections, join_words, plural, record_notes

UCUM = "http://unitsofmeasure.org"
# An order-sign detail in the worst case (nothing on record) stays within this many characters.
MAX_DETAIL = 1500


def _links() -> list[dict[str, str]]:
    return [{"label": link["label"], "url": link["url"], "type": "absolute"} for link in load_rems()["links"]]


def _label(category: str) -> str:
    return load_rems()["risk_categories"].get(category, "Risk category unknown")


def _readable(text: str) -> str:
    """What a step shows, with risk category codes ('adult-male') in the guide's words."""
    for code, label in sorted(load_rems()["risk_categories"].items(), key=lambda item: -len(item[0])):
        text = text.replace(f"'{code}'", f"“{label}”").replace(code, f"“{label}”")
    return text


def _base(step: StepResult) -> dict[str, Any]:
    return next(base for base in load_rems()["steps"] if base["id"] == step.id)


def _contraception(category: str) -> str | None:
    texts = load_rems()["contraception_text"]
    if category in load_rems()["reproductive_potential"] or category == UNKNOWN:
        return texts["female-reproductive-potential"]
    if category in {"adult-male", "male-child"}:
        return texts["male"]
    return None


def rewritten_order(case: CaseFacts, draft: dict[str, Any] | None) -> dict[str, Any] | None:
    """The draft at a 28-day supply (quantity scaled down) and no refills."""
    if not isinstance(draft, dict):
        return None
    limits = load_rems()["limits"]
    updated = json_copy(draft)
    dispense = updated.get("dispenseRequest")
    dispense = dict(dispense) if isinstance(dispense, dict) else {}
    dispense["numberOfRepeatsAllowed"] = limits["max_refills"]
    # The draft as it stands (the dose rewrite may have changed its schedule and quantity
    # first); the case's reading when the draft alone cannot tell (a referenced Medication).
    fresh = map_lenalidomide_order(draft)
    order = fresh if fresh.days_supply is not None else case.order
    supply, cap = order.days_supply, limits["max_days_supply"]
    if supply is not None and supply > cap:
        quantity = dispense.get("quantity")
        value = quantity.get("value") if isinstance(quantity, dict) else None
        if isinstance(quantity, dict) and isinstance(value, int | float) and not isinstance(value, bool):
            if order.computed_days_supply is not None and order.capsules_per_day:
                # As many capsules as the schedule takes in 28 days (21 on days 1-21 of 28).
                fits = capsules_for_days(cap, order.capsules_per_day, order.cycle)
            else:
                fits = math.floor(value * cap / supply)
            dispense["quantity"] = {**quantity, "value": min(fits, math.floor(value))}
        dispense["expectedSupplyDuration"] = {"value": cap, "unit": "days", "system": UCUM, "code": "d"}
    updated["dispenseRequest"] = dispense
    return updated


def _finding(j: RemsJudgement) -> dict[str, Any]:
    return {
        "riskCategory": j.risk_category,
        "riskCategoryReason": j.why,
        "prescription": j.prescription,
        "steps": [{"id": s.id, "status": s.status, "text": s.text, **dict(s.facts)} for s in j.steps],
    }


# --- the three parts ------------------------------------------------------------------------


def _order_day(case: CaseFacts) -> date:
    return case.rems.order_at.date() if case.rems else case.as_of


def _pregnancy_line(case: CaseFacts, j: RemsJudgement, step: StepResult) -> str:
    """What blocks dispensing, with the date windows computed for this order."""
    if j.pregnancy is not None and j.pregnancy.indicator == "critical":
        return (
            f"- **Pregnancy:** {j.pregnancy.text}. Lenalidomide is contraindicated in pregnancy; "
            "see the pregnancy card."
        )
    limits = load_rems()["limits"]
    day = _order_day(case)
    needs = []
    if "early" in step.missing:
        low, high = limits["initial_test_days"]
        needs.append(f"a negative test {date_window(day - timedelta(days=high), day - timedelta(days=low))}")
    if "confirm" in step.missing:
        needs.append(f"{'another' if needs else 'a negative test'} within 24 hours before signing")
    if "recent" in step.missing:
        since = day - timedelta(days=limits["subsequent_test_days"])
        needs.append(f"a negative test within 7 days before signing (from {day_month(since)})")
    found = step.shows.split(": ", 1)[-1] if step.evidence else "none valid on record"
    unread = dict(step.facts).get("unreadableResults")
    if unread and "could not be read" not in found:
        found += f"; result could not be read ({', '.join(unread)})"
    kind = {"initial": "Initial prescription", "subsequent": "Subsequent prescription"}.get(
        j.prescription, "Not known to be a subsequent prescription"
    )
    who = "" if j.risk_category != UNKNOWN else " (if the patient can become pregnant)"
    return (
        f"- **Pregnancy tests{who}:** {found}. {kind}: needs {' and '.join(needs) or 'a valid negative test'}, "
        "sensitive to at least 50 mIU/mL."
    )


def _order_line(step: StepResult, category: str) -> str:
    """One thing to fix in this order, in the prescriber's words."""
    shows = _readable(step.shows)
    if step.id == "days-supply":
        todo = "at most 28 days" if step.status == UNMET else "state the days' supply (at most 28 days)"
        return f"- **Supply:** {shows}; {todo}."
    if step.id == "refills":
        return f"- **Refills:** {shows}; none allowed (each prescription needs its own authorization number)."
    if step.id == "risk-category-on-prescription":
        if step.status == UNMET:
            return f"- **Risk category:** {shows}; correct it to “{_label(category)}”."
        target = f"“{_label(category)}”" if category != UNKNOWN else "the patient's risk category"
        return f"- **Risk category:** none on the order; add {target}."
    if step.id == "authorization-number":
        return "- **Authorization number:** none on the order; add the number issued after your survey."
    if step.id == "certified-pharmacy":
        return f"- **Pharmacy:** {shows}; send it to a REMS-certified pharmacy."
    return f"- **{_base(step)['label']}:** {shows}. {step.action}"


# Open program steps said together when both are open.
_PAIRS = (
    (frozenset({"patient-survey", "prescriber-survey"}), "both surveys"),
    (frozenset({"contraception-counseling", "patient-counseling"}), "counselling on contraception and risks"),
)


def _program_line(steps: list[StepResult]) -> str:
    rems = load_rems()
    site = rems["links"][0]["url"]
    ids = {s.id for s in steps}
    labels: list[str] = []
    for step in steps:
        pair = next((words for pair, words in _PAIRS if step.id in pair and pair <= ids), None)
        label = pair or _base(step)["label"]
        if label not in labels:
            labels.append(label)
    where = f"([{site.removeprefix('https://www.')}]({site}), {rems['phone']})"
    return f"**Confirm in the REMS program** {where}: {join_words(labels)}."


def _on_record_line(steps: list[StepResult]) -> str | None:
    """What the record confirms, in one line: the order's own facts, then the program's."""
    met = [s for s in steps if s.status == MET]
    if not met:
        return None
    shown = [_readable(s.shows) for s in met if _base(s)["part"] != "program"]
    # A program step met by a rule rather than a record (males take no initial survey) says which.
    shown += [_base(s)["label"] if s.evidence else s.shows for s in met if _base(s)["part"] == "program"]
    return "**On record:** " + "; ".join(shown) + "."


def _parts(j: RemsJudgement) -> tuple[list[StepResult], list[StepResult], list[StepResult]]:
    """The open steps by part; within a part what the record shows is wrong comes first."""
    parts: dict[str, list[StepResult]] = {"blocks": [], "order": [], "program": []}
    for step in sorted(j.open_steps, key=lambda s: s.status != UNMET):
        parts[_base(step)["part"]].append(step)
    return parts["blocks"], parts["order"], parts["program"]


def _problem(step: StepResult) -> str:
    """An open step in a few words, for the summary."""
    if step.id == "risk-category-on-prescription":
        return "wrong risk category" if step.status == UNMET else "no risk category"
    if step.id == "authorization-number":
        return "no authorization number"
    if step.id == "certified-pharmacy":
        return "no certified pharmacy"
    return step.shows


def _summary(j: RemsJudgement, blocks: list[StepResult], order: list[StepResult], program: list) -> str:
    if j.pregnancy is not None and j.pregnancy.indicator == "critical":
        return f"{j.pregnancy.text.capitalize()}: lenalidomide cannot be dispensed"
    if j.unlawful:
        return "No valid negative pregnancy test on record: lenalidomide cannot be dispensed"
    problems = [_problem(s) for s in blocks + order]
    if problems:
        text = f"Lenalidomide REMS: {join_words(problems[:2])}"
        more = len(problems) - 2
        if more > 0:
            text += f", {more} more to fix"
        return text + (f"; {plural(len(program), 'item')} to confirm" if program else "")
    return f"Lenalidomide REMS: confirm {join_words([_base(s)['label'] for s in program])}"


def rems_card(case: CaseFacts, j: RemsJudgement, source_label: str, hook: str = "order-sign") -> dict[str, Any] | None:
    """One card per order while any REMS step is unmet or unverified (CONTRACT.md), in three
    parts, most urgent first: what blocks dispensing, what to fix in this order, what to confirm
    in the REMS program; then one line of what the record confirms."""
    if not j.open_steps:
        return None
    indicator = "critical" if j.unlawful else "warning"
    blocks, order, program = _parts(j)
    if j.pregnancy is not None and j.pregnancy.indicator == "critical" and not blocks:
        blocks = [s for s in j.steps if s.id == "pregnancy-test"]
    common: dict[str, Any] = {
        "code": "rems",
        "indicator": indicator,
        "source_label": source_label,
        "orders": [case.order.ref],
        "clauses": j.clauses,
        "finding_extra": _finding(j),
        "links": _links(),
        "summary": _summary(j, blocks, order, program),
    }
    category = _label(j.risk_category)
    kind = {"initial": "Initial prescription", "subsequent": "Subsequent prescription"}.get(
        j.prescription, "Initial or subsequent prescription unknown"
    )
    context = [f"**{category}:** {j.why}. {kind}: {j.prescription_why}."]
    notes = record_notes(case)
    block_lines = [_pregnancy_line(case, j, s) for s in blocks]
    order_lines = [_order_line(s, j.risk_category) for s in order]
    if hook == "order-select":
        first = ["**Blocks dispensing**", *block_lines] if block_lines else []
        if not first and order_lines:
            first = ["**Fix in this order**", order_lines[0]]
            common["summary"] = _summary(j, [], order[:1], [])
        if not first:
            first = [_program_line(program)]
        sections = [(0, first), (2, context), (1, notes), (3, ["The full REMS check follows when you sign."])]
        return make_card(detail=fit_sections(sections, MAX_DETAIL), **common)
    contraception = _contraception(j.risk_category)
    counselling_open = any(s.id == "contraception-counseling" for s in program)
    on_record = _on_record_line(j.steps)
    sections = [
        (0, ["**Blocks dispensing**", *block_lines] if block_lines else []),
        (0, ["**Fix in this order**", *order_lines] if order_lines else []),
        (0, [_program_line(program)] if program else []),
        (2, [on_record] if on_record else []),
        (2, context),
        (1, notes),
        (3, [f"**Contraception:** {contraception}"] if contraception and counselling_open else []),
    ]
    return make_card(
        detail=fit_sections(sections, MAX_DETAIL - SUGGESTION_LINE_RESERVE),
        override_reasons=[
            override_reason("rems-completed-outside-ehr", "Completed outside the EHR"),
            override_reason("rems-verified-with-program", "Verified with Lenalidomide REMS"),
        ],
        **common,
    )


def rems_monitoring_card(case: CaseFacts, j: RemsJudgement, source_label: str) -> dict[str, Any] | None:
    """The monitoring the guide asks for, when something is due."""
    due = [m for m in j.monitoring if m.status == "due"]
    if not due:
        return None
    names = {"cbc": "CBC monitoring (del(5q) MDS)", "thromboprophylaxis": "Thromboprophylaxis"}
    return make_card(
        code="rems-monitoring",
        summary="Lenalidomide: " + "; ".join(names[m.id] for m in due) + " due",
        detail="\n".join(f"- **{names[m.id]}:** {m.text}. ({m.cite})" for m in due),
        indicator="info",
        source_label=source_label,
        orders=[case.order.ref],
        clauses=list(dict.fromkeys(m.cite for m in due)),
        finding_extra={
            "monitoring": [{"id": m.id, "status": m.status, "text": m.text, "evidence": list(m.evidence)} for m in due]
        },
        links=_links()[:1],
    )
