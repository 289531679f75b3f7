"""One CaseFacts per lenalidomide order the service speaks about, from a hook's
``draftOrders``, ``selections`` and resolved prefetch.

Prefetch keys (the service advertises them): ``patient``, ``conditions``, ``medications``
(MedicationRequests, possibly with included Medications), ``coverage``, ``observations``,
``procedures``, ``practitioner`` (the user: Practitioner or PractitionerRole) and
``practitionerRoles``. A key holding an OperationOutcome is a failed read: unavailable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from .condition import map_condition
from .coverage import map_coverage
from .datatypes import as_list, parse_date, resource_ref, text
from .facts import CaseFacts, LenalidomideOrder, MedicationOnRecord
from .medication_request import (
    LENALIDOMIDE,
    MEDICATION_REQUEST_TYPES,
    is_lenalidomide,
    is_medication_request,
    map_lenalidomide_order,
    map_medication_on_record,
)
from .observation import map_observations
from .patient import age_range_on, map_patient
from .practitioner import map_prescriber
from .questionnaire_response import map_documentation
from .rems_evidence import is_antithrombotic, map_rems_evidence
from .resources import ResourceIndex, is_operation_outcome, iter_resources, parse_reference, resources_of_type

_PRESCRIBER_TYPES = ("Practitioner", "PractitionerRole")


def _selected(selections: Any) -> set[str] | None:
    """``Type/id`` of each selection; ``None`` on order-sign (no selections: every draft)."""
    if selections is None:
        return None
    return {ref for s in as_list(selections) if (ref := parse_reference(s))}


def _drafts(draft_orders: Any) -> list[dict[str, Any]]:
    """The draft medication orders that have an id (only those can be named in cards)."""
    return [r for r in iter_resources(draft_orders) if is_medication_request(r) and resource_ref(r)]


def _lenalidomide_refs(drafts: list[dict[str, Any]], selections: Any, index: ResourceIndex) -> list[str]:
    wanted = _selected(selections)
    refs: dict[str, None] = {}  # ordered and O(1) to look up: thousands of drafts stay linear
    for mr in drafts:
        ref = resource_ref(mr)
        if ref is None or ref in refs or (wanted is not None and ref not in wanted):
            continue
        if is_lenalidomide(mr, index.get):
            refs[ref] = None
    return list(refs)


def _index(draft_orders: Any, prefetch: Mapping[str, Any] | None) -> ResourceIndex:
    values = [draft_orders, *(prefetch.values() if isinstance(prefetch, Mapping) else ())]
    return ResourceIndex(values)


def lenalidomide_draft_refs(
    draft_orders: Any, selections: Any, *, prefetch: Mapping[str, Any] | None = None
) -> list[str]:
    """``Type/id`` of the lenalidomide drafts the service speaks about: on order-select
    those in ``selections``, on order-sign (``selections`` None) every one. Medications
    referenced by the drafts are looked up in draftOrders (and in ``prefetch`` when given:
    a draft may point at a Medication the client prefetched)."""
    return _lenalidomide_refs(_drafts(draft_orders), selections, _index(draft_orders, prefetch))


def _overlap(a: MedicationOnRecord, b: MedicationOnRecord) -> bool:
    """Whether two orders' schedules share a day; an order with no stated period runs from
    now on, so it overlaps any other."""
    a_start, a_end = a.period_start or date.min, a.period_end or date.max
    b_start, b_end = b.period_start or date.min, b.period_end or date.max
    return a_start <= b_end and b_start <= a_end


def summed_daily_dose(
    ref: str, drafts: Mapping[str, LenalidomideOrder], meds: Mapping[str, MedicationOnRecord]
) -> tuple[tuple[str, ...], float | None]:
    """(the lenalidomide drafts taken together with ``ref``, itself included, in request
    order; their summed daily dose, None when any dose is unknown). Empty when no other
    draft's schedule overlaps: a 10 mg and a 5 mg capsule ordered together are 15 mg a day.
    Orders on record are not summed: a renewal would count twice."""
    together = tuple(r for r in drafts if r == ref or (r in meds and ref in meds and _overlap(meds[r], meds[ref])))
    if len(together) < 2:
        return (), None
    doses = [drafts[r].daily_dose_mg for r in together]
    return together, (None if any(d is None for d in doses) else sum(d for d in doses if d is not None))


def _today(now: Any) -> date:
    if not isinstance(now, datetime):
        return datetime.now(UTC).date()
    return now.astimezone(UTC).date() if now.tzinfo is not None else now.date()


def build_cases(
    *,
    draft_orders: Any,
    selections: Any,
    prefetch: Mapping[str, Any] | None,
    unavailable: set[str] | frozenset[str] | None,
    now: datetime,
    user_ref: str | None = None,
    plan_overrides: dict[str, str] | None = None,
    questionnaire_url: str | None = None,
) -> list[CaseFacts]:
    """One CaseFacts per lenalidomide order spoken about (see ``lenalidomide_draft_refs``).

    ``medications`` holds every other draft order (a thalidomide ordered beside the
    lenalidomide counts as concurrent) and the MedicationRequests on record, the order
    itself excluded; a record entry that is also a draft appears once, as the draft. Of the
    other drafts only those a rule can read are kept (a recognised ingredient, or an
    antithrombotic by its text), chosen once per call: an admission order set of hundreds
    of drafts does not make every lenalidomide order scan all of them again.
    ``as_of`` is the date the order was written (``authoredOn``: its own calendar date when
    it states an offset, UTC otherwise), else today in UTC. ``documentation`` holds the answers
    of completed responses (prefetch ``questionnaireResponses``) to the Questionnaire at
    ``questionnaire_url`` (none when it is not given).
    """
    prefetch = prefetch if isinstance(prefetch, Mapping) else {}
    index = _index(draft_orders, prefetch)
    drafts = _drafts(draft_orders)
    refs = _lenalidomide_refs(drafts, selections, index)
    if not refs:
        return []

    failed = {str(key) for key, value in prefetch.items() if is_operation_outcome(value)}
    given = unavailable if isinstance(unavailable, set | frozenset | list | tuple) else ()
    gone = frozenset(k for k in given if isinstance(k, str)) | failed

    patient = next((p for r in resources_of_type(prefetch.get("patient"), "Patient") if (p := map_patient(r))), None)
    conditions = tuple(c for r in resources_of_type(prefetch.get("conditions"), "Condition") if (c := map_condition(r)))
    prescriber_resources = resources_of_type(prefetch.get("practitioner"), *_PRESCRIBER_TYPES) + resources_of_type(
        prefetch.get("practitionerRoles"), *_PRESCRIBER_TYPES
    )
    prescriber = map_prescriber(prescriber_resources, text(user_ref))
    coverages = resources_of_type(prefetch.get("coverage"), "Coverage")

    by_ref = {resource_ref(mr): mr for mr in drafts}
    draft_meds = {ref: map_medication_on_record(mr, index.get, True) for ref, mr in by_ref.items() if ref}
    record_meds: list[MedicationOnRecord] = []
    # Lenalidomide orders on record (section II: continued therapy and the previous dose),
    # known by the ingredients just read (what ``is_lenalidomide`` would read again).
    record_lenalidomide_orders: list[dict[str, Any]] = []
    for mr in resources_of_type(prefetch.get("medications"), *MEDICATION_REQUEST_TYPES):
        med = map_medication_on_record(mr, index.get, False)
        if med.ref not in draft_meds:
            record_meds.append(med)
        if LENALIDOMIDE in med.ingredients and resource_ref(mr) not in by_ref:
            record_lenalidomide_orders.append(mr)
    record_lenalidomide = tuple(map_lenalidomide_order(mr, index.get) for mr in record_lenalidomide_orders)
    # Every lenalidomide draft, spoken about or not (on order-select an unselected one is
    # context, as for concurrency), for the daily dose the drafts add up to.
    lenalidomide_drafts = {
        ref: map_lenalidomide_order(by_ref[ref], index.get)
        for ref, med in draft_meds.items()
        if LENALIDOMIDE in med.ingredients
    }
    # Other drafts a rule can read; the record is kept whole (CDS_MAX_PREFETCH_RESOURCES bounds it).
    context = [*(m for m in draft_meds.values() if m.ingredients or is_antithrombotic(m)), *record_meds]
    observation_resources = resources_of_type(prefetch.get("observations"), "Observation")
    observations = map_observations(observation_resources)

    responses = resources_of_type(prefetch.get("questionnaireResponses"), "QuestionnaireResponse")
    today = _today(now)
    birth = (patient.birth_date or patient.birth_date_partial) if patient else None
    cases: list[CaseFacts] = []
    for ref in refs:
        mr = by_ref[ref]
        order = lenalidomide_drafts.get(ref) or map_lenalidomide_order(mr, index.get)
        summed, total = summed_daily_dose(ref, lenalidomide_drafts, draft_meds)
        as_of = parse_date(mr.get("authoredOn", mr.get("dateWritten"))) or today
        ages = age_range_on(birth, as_of)
        medications = tuple(m for m in context if m.ref != ref)
        coverage = map_coverage(coverages, plan_overrides, on=as_of)
        cases.append(
            CaseFacts(
                order=order,
                as_of=as_of,
                patient=patient,
                age_years=ages[0] if ages else None,
                conditions=conditions,
                prescriber=prescriber,
                medications=medications,
                coverage=coverage,
                unavailable=gone,
                age_uncertain=bool(ages and ages[0] != ages[1]),
                rems=map_rems_evidence(
                    mr,
                    prefetch,
                    prescriber_resources=prescriber_resources,
                    medications=medications,
                    now=now,
                    conditions=conditions,
                    observations=observation_resources,
                ),
                observations=observations,
                prior_lenalidomide=record_lenalidomide,
                dose_orders=summed,
                combined_daily_dose_mg=total,
                documentation=map_documentation(
                    responses,
                    questionnaire_url=questionnaire_url,
                    patient_ref=patient.ref if patient else None,
                    coverage_ref=coverage.ref if coverage else None,
                    as_of=as_of,
                    today=today,
                ),
            )
        )
    return cases
