"""The tests a policy clause can name, registered by name.

Each predicate judges plain facts (``fhir_mappers.facts``) with the params the policy YAML
gives it and answers an :class:`Outcome`. The rules of the house:

- Missing data is ``unknown``, never ``not-met``. Absence from the record is not proof
  (the record may be incomplete), so "no dexamethasone on record" is unknown.
- ``not-met`` only when the record positively shows the clause fails (an age under the
  threshold, a current thalidomide, a dose over the ceiling).
- Every reason is short and says what was found or what to document.

Policy numbers and drug lists are params from the YAML, not literals here. Each predicate
declares its params so that the loader can refuse a misspelt or missing one at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from fhir_mappers.facts import CaseFacts, ConditionFacts, MedicationOnRecord

from .evaluator import Outcome, Predicate, Status

ParamKind = Literal["text", "integer", "number", "names"]

# Record statuses that mean the therapy was never (validly) given: not prior therapy.
_NEVER_GIVEN = frozenset({"cancelled", "entered-in-error"})


@dataclass(frozen=True)
class PredicateSpec:
    """A registered predicate and the params it takes (name -> kind)."""

    name: str
    function: Predicate
    required: Mapping[str, ParamKind]
    optional: Mapping[str, ParamKind]
    summary: str
    any_required: tuple[str, ...] = ()  # at least one of these optional params must be given


REGISTRY: dict[str, PredicateSpec] = {}


def predicate(
    name: str,
    *,
    required: Mapping[str, ParamKind] | None = None,
    optional: Mapping[str, ParamKind] | None = None,
    any_required: tuple[str, ...] = (),
) -> Callable[[Predicate], Predicate]:
    """Register ``function`` under ``name``; the YAML refers to it as ``test: name``."""

    def register(function: Predicate) -> Predicate:
        if name in REGISTRY:
            raise ValueError(f"predicate {name!r} registered twice")
        summary = next(iter((function.__doc__ or "").strip().splitlines()), "")
        REGISTRY[name] = PredicateSpec(
            name, function, dict(required or {}), dict(optional or {}), summary, any_required
        )
        return function

    return register


def predicate_functions() -> dict[str, Predicate]:
    """Name -> function, as the evaluator wants it."""
    return {name: spec.function for name, spec in REGISTRY.items()}


def check_params(spec: PredicateSpec, params: Mapping[str, Any]) -> list[str]:
    """Problems with ``params`` for ``spec`` (empty when they are fine)."""
    problems = [f"missing param {key!r}" for key in spec.required if key not in params]
    if spec.any_required and not any(key in params for key in spec.any_required):
        problems.append(f"needs at least one of the params {', '.join(map(repr, spec.any_required))}")
    kinds = {**spec.required, **spec.optional}
    for key, value in params.items():
        kind = kinds.get(key)
        if kind is None:
            problems.append(f"unexpected param {key!r} (takes: {', '.join(kinds) or 'none'})")
        elif not _is_kind(value, kind):
            problems.append(f"param {key!r} must be {kind}, got {value!r}")
    return problems


def _is_kind(value: Any, kind: ParamKind) -> bool:
    if kind == "text":
        return isinstance(value, str) and bool(value.strip())
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return (
        isinstance(value, list | tuple)
        and bool(value)
        and all(isinstance(item, str) and item.strip() for item in value)
    )


# --- helpers ---------------------------------------------------------------------------


def _or_list(names: Iterable[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _mg(value: float) -> str:
    return f"{value:g} mg/day"


def _refs(items: Iterable[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.ref for item in items))


def _indication_names(conditions: Iterable[ConditionFacts]) -> str:
    names = sorted({name for c in conditions for name in c.indications})
    return _or_list([name.replace("-", " ") for name in names])


def _unavailable(case: CaseFacts, *domains: str) -> bool:
    return any(domain in case.unavailable for domain in domains)


def _current(case: CaseFacts, names: Iterable[str]) -> list[MedicationOnRecord]:
    """Current medications (draft in this session, or active/on-hold on record) that
    contain any of ``names``, other than the lenalidomide order being judged."""
    wanted = set(names)
    return [
        med for med in case.medications if med.ref != case.order.ref and med.is_current and med.ingredients & wanted
    ]


def _given_before(med: MedicationOnRecord, as_of: date) -> bool:
    """Prior therapy: not current, not cancelled, and dated before the order date."""
    if med.is_current or med.status in _NEVER_GIVEN:
        return False
    authored = med.authored_on.date() if med.authored_on else None
    return any(day is not None and day < as_of for day in (med.period_start, authored, med.period_end))


def reason_rank(case: CaseFacts, condition: ConditionFacts) -> int:
    """0 when the order names the condition (``reasonReference``), 1 when one of the order's
    ``reasonCode``s is one of its codes, 2 otherwise."""
    if condition.ref in case.order.reason_refs:
        return 0
    reason_codes = {(coding.system, coding.code) for coding in case.order.reason_codes if coding.code}
    if reason_codes & {(coding.system, coding.code) for coding in condition.codes}:
        return 1
    return 2


def indication_conditions(case: CaseFacts, indication: str) -> tuple[ConditionFacts, ...]:
    """Active conditions with ``indication``, those the order gives as its reason first."""
    matches = [c for c in case.conditions if c.active and indication in c.indications]
    return tuple(sorted(matches, key=lambda condition: reason_rank(case, condition)))


# --- I.x.1 diagnosis -------------------------------------------------------------------


@predicate("diagnosis_on_record", required={"indication": "text", "label": "text"}, optional={"also_ask": "text"})
def diagnosis_on_record(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """An active Condition with the indication is on record (met), else unknown.

    ``also_ask``: the clause qualifies the diagnosis in a way no code states (MDS "lower
    risk" by IPSS-R/IPSS/WPSS), so a diagnosis on record is still unknown, with that ask."""
    label = params["label"]
    found = indication_conditions(case, params["indication"])
    if found:
        stated = " (the order's stated reason)" if found[0].ref in case.order.reason_refs else ""
        if params.get("also_ask"):
            return Outcome(Status.UNKNOWN, _refs(found), f"{label} on record{stated}; {params['also_ask']}")
        return Outcome(Status.MET, _refs(found), f"{label} on record{stated}")
    if _unavailable(case, "conditions"):
        return Outcome(Status.UNKNOWN, (), f"conditions could not be read from the EHR: document the {label}")
    inactive = [c for c in case.conditions if not c.active and params["indication"] in c.indications]
    if inactive:
        refs = ", ".join(_refs(inactive))
        return Outcome(Status.UNKNOWN, (), f"{label} on record but not active ({refs}): confirm the diagnosis")
    return Outcome(Status.UNKNOWN, (), f"no {label} diagnosis on record: document the diagnosis")


@predicate("diagnosis_undetermined", optional={"off_label_policies": "names", "label_change_policies": "names"})
def diagnosis_undetermined(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """Used by the fallback set when no assessed indication is on record.

    Not-met when the only policy-relevant diagnoses on record are ones the policy does not
    cover (indication ``other``: sections I.G and III): the request belongs to the off-label
    policy of the member's line of business (``off_label_policies``, "line=POLICY"), or, after
    a recent label change, to ``label_change_policies`` (G.1). Otherwise unknown, and the
    reason says why: the conditions could not be read, the diagnoses on record belong to a
    section this service does not judge yet, or there is no covered diagnosis.
    """
    if _unavailable(case, "conditions"):
        return Outcome(
            Status.UNKNOWN,
            (),
            "conditions could not be read from the EHR: document the diagnosis being treated",
        )
    from .clinical_predicates import referral  # registered after this module

    active = [c for c in case.conditions if c.active and c.indications]
    uncovered = [c for c in active if c.indications == {"other"}]
    if uncovered and len(uncovered) == len(active):
        line = case.coverage.line_of_business if case.coverage else None
        named = ", ".join(sorted({(c.text or (c.codes[0].code if c.codes else None) or c.ref) for c in uncovered}))
        off_label = referral(params.get("off_label_policies", ()), line)
        label_change = referral(params.get("label_change_policies", ()), line)
        return Outcome(
            Status.NOT_MET,
            _refs(uncovered),
            f"{named} is not an indication of CP.PHAR.71 (III): submit under the off-label use policy "
            f"{off_label} (I.G.2), or, after a label change within 6 months, {label_change} (I.G.1)",
        )
    other = [c for c in case.conditions if c.active and c.indications]
    if other:
        return Outcome(
            Status.UNKNOWN,
            (),
            f"{_indication_names(other)} on record ({', '.join(_refs(other))}) is not assessed by this "
            "service yet: submit under its own section of the policy",
        )
    inactive = [c for c in case.conditions if not c.active and c.indications]
    if inactive:
        return Outcome(
            Status.UNKNOWN,
            (),
            f"{_indication_names(inactive)} on record but not active ({', '.join(_refs(inactive))}): "
            "confirm the diagnosis being treated",
        )
    return Outcome(
        Status.UNKNOWN,
        (),
        "no diagnosis covered by the policy on record: document the diagnosis being treated",
    )


# --- I.x.2 prescriber ------------------------------------------------------------------


@predicate("prescriber_specialty", required={"specialties": "names"})
def prescriber_specialty(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """The prescriber has one of the specialties (met); otherwise unknown, because
    "in consultation with" a specialist can always be documented."""
    wanted = list(params["specialties"])
    prescriber = case.prescriber
    found = [name for name in wanted if name in prescriber.specialties]
    if found:
        evidence = (prescriber.ref,) if prescriber.ref else ()
        return Outcome(Status.MET, evidence, f"prescriber specialty: {' and '.join(found)}")
    specialists = _or_list(wanted)
    if not prescriber.known or _unavailable(case, "practitioner", "practitionerRoles"):
        return Outcome(
            Status.UNKNOWN,
            (),
            f"prescriber's specialty could not be read: document it, or the {specialists} specialist consulted",
        )
    return Outcome(
        Status.UNKNOWN,
        (),
        f"no {specialists} specialty on record for the prescriber: document it, or the specialist consulted",
    )


# --- I.x.3 age -------------------------------------------------------------------------


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@predicate("minimum_age", required={"years": "integer"})
def minimum_age(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """Age on the order date is at least ``years`` (met) or certainly below it (not-met).

    With a partial birth date (a year, or a year and month) ``age_years`` is the least
    possible age; when the patient may be one year older and that would reach ``years``,
    the answer is unknown, not not-met.
    """
    years = params["years"]
    patient = case.patient
    age = case.age_years
    if age is None and patient is not None and patient.birth_date is not None:
        age = _age_on(patient.birth_date, case.as_of)
    if age is None:
        if patient is None or _unavailable(case, "patient"):
            return Outcome(Status.UNKNOWN, (), "patient record could not be read: document the date of birth")
        return Outcome(Status.UNKNOWN, (), "no date of birth on record: document the patient's age")
    evidence = (patient.ref,) if patient else ()
    if age >= years:
        return Outcome(Status.MET, evidence, f"age {age} on the order date")
    if case.age_uncertain and age + 1 >= years:
        born = f" ({patient.birth_date_partial})" if patient and patient.birth_date_partial else ""
        return Outcome(
            Status.UNKNOWN,
            evidence,
            f"birth date on record is partial{born}: age {age} or {age + 1} on the order date; "
            "document the date of birth",
        )
    return Outcome(Status.NOT_MET, evidence, f"age {age} on the order date; the policy requires {years} or older")


# --- I.A.4 use -------------------------------------------------------------------------


@predicate("combined_with", optional={"all": "names", "one_of": "names"}, any_required=("all", "one_of"))
def combined_with(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """Current orders show the combination: every drug of ``all`` and one of ``one_of``.

    Met when they do; otherwise unknown, never not-met: a partner drug missing from the
    record may be ordered elsewhere or documented in the chart.
    """
    every = list(params.get("all", ()))
    one_of = list(params.get("one_of", ()))
    evidence: list[str] = []
    missing: list[str] = []
    found: list[str] = []
    for name in every:
        meds = _current(case, [name])
        if meds:
            evidence += _refs(meds)
            found.append(name)
        else:
            missing.append(name)
    if one_of:
        meds = _current(case, one_of)
        if meds:
            evidence += _refs(meds)
            found += sorted({name for med in meds for name in med.ingredients & set(one_of)})
        else:
            missing.append(f"one of {_or_list(one_of)}" if len(one_of) > 1 else one_of[0])
    if not missing:
        return Outcome(Status.MET, tuple(dict.fromkeys(evidence)), f"with {' + '.join(found)} (current orders)")
    wanted = " + ".join([*every, *([f"one of {_or_list(one_of)}"] if len(one_of) > 1 else one_of)])
    if _unavailable(case, "medications"):
        return Outcome(Status.UNKNOWN, (), f"medications could not be read: document the regimen ({wanted})")
    return Outcome(Status.UNKNOWN, (), f"no current {' + '.join(missing)} on record: order it or document the regimen")


@predicate("previously_treated", required={"indication": "text", "prior_therapies": "names"})
def previously_treated(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """Previously treated relapsed or progressive disease: a relapsed diagnosis code, or
    prior (not current) therapy from the list dated before the order. Else unknown."""
    relapsed = [c for c in case.conditions if c.relapsed and params["indication"] in c.indications]
    if relapsed:
        return Outcome(Status.MET, _refs(relapsed), "diagnosis coded as in relapse")
    therapies = set(params["prior_therapies"])
    prior = [
        med
        for med in case.medications
        if med.ref != case.order.ref and med.ingredients & therapies and _given_before(med, case.as_of)
    ]
    if prior:
        names = ", ".join(sorted({name for med in prior for name in med.ingredients & therapies}))
        return Outcome(Status.MET, _refs(prior), f"prior therapy on record: {names}")
    unread = [domain for domain in ("conditions", "medications") if domain in case.unavailable]
    if unread:
        return Outcome(
            Status.UNKNOWN,
            (),
            f"{' and '.join(unread)} could not be read: document previously treated relapsed or progressive disease",
        )
    return Outcome(
        Status.UNKNOWN,
        (),
        "no relapse or prior therapy on record: document previously treated relapsed or progressive disease",
    )


@predicate("documentation", required={"ask": "text"})
def documentation(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """Something only the chart can show (an intolerance, a treatment line, an attestation):
    always unknown, with ``ask`` as the reason."""
    return Outcome(Status.UNKNOWN, (), params["ask"])


# --- I.x.5 concurrency -----------------------------------------------------------------


@predicate("not_concurrent_with", required={"drugs": "names"})
def not_concurrent_with(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """None of ``drugs`` is current (met); one is, drafted or on record (not-met: it stays
    not met until that order is stopped); the medications could not be read (unknown)."""
    drugs = list(params["drugs"])
    current = _current(case, drugs)
    if current:
        parts = []
        for med in current:
            names = "/".join(sorted(med.ingredients & set(drugs)))
            where = "ordered in this session" if med.is_draft_order else f"{med.status or 'current'} on record"
            parts.append(f"{names} {where}")
        return Outcome(
            Status.NOT_MET,
            _refs(current),
            f"{'; '.join(dict.fromkeys(parts))}: not covered together, stop it first",
        )
    if _unavailable(case, "medications"):
        return Outcome(Status.UNKNOWN, (), f"medications could not be read: confirm no current {_or_list(drugs)}")
    return Outcome(Status.MET, (), f"no current {_or_list(drugs)} on record")


# --- I.x.6 generic ---------------------------------------------------------------------


@predicate("generic_product")
def generic_product(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """Generic lenalidomide ordered (met). A Revlimid order is unknown, not not-met: its
    exceptions (contraindication, adverse effects, shortage) can still be documented."""
    order = case.order
    if order.brand is False:
        return Outcome(Status.MET, (order.ref,), "generic lenalidomide ordered")
    if order.brand is True:
        return Outcome(
            Status.UNKNOWN,
            (order.ref,),
            "Revlimid requires generic lenalidomide unless contraindicated, adverse effects, or generic "
            "shortage — document the exception or switch to generic",
        )
    return Outcome(
        Status.UNKNOWN,
        (),
        "brand or generic cannot be told from the order's coding: order generic lenalidomide by RxNorm code",
    )


# --- I.x.7 dose ------------------------------------------------------------------------


@predicate("daily_dose_at_most", required={"max_mg_per_day": "number"})
def daily_dose_at_most(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """The order's daily dose is at most the ceiling (met) or above it (not-met)."""
    ceiling = float(params["max_mg_per_day"])
    dose = case.daily_dose_mg  # the overlapping drafts summed (x.7)
    if dose is None:
        return Outcome(
            Status.UNKNOWN,
            case.dose_orders,
            f"daily dose cannot be worked out from {_the_orders(case)}: state dose and frequency",
        )
    refs, summed = dose_refs(case)
    if dose <= ceiling:
        return Outcome(Status.MET, refs, f"{_mg(dose)}{summed}, within the {_mg(ceiling)} limit")
    return Outcome(Status.NOT_MET, refs, f"{_mg(dose)}{summed} is above the {_mg(ceiling)} limit")


def dose_refs(case: CaseFacts) -> tuple[tuple[str, ...], str]:
    """(the orders a daily dose is of, a note naming them when several drafts are summed)."""
    if not case.dose_orders:
        return (case.order.ref,), ""
    return case.dose_orders, f" ({len(case.dose_orders)} lenalidomide orders taken together)"


def _the_orders(case: CaseFacts) -> str:
    return "the lenalidomide orders taken together" if case.dose_orders else "the order"


# Predicates of sections I.B-I.E, I.G and II register themselves on import.
from . import clinical_predicates as _clinical_predicates  # noqa: E402,F401
