"""Predicates of sections I.B-I.E, I.G and II of CP.PHAR.71: lab values, disease features,
variant findings, prior-therapy failure, lines of therapy, continued therapy and the
dose-increase ceilings.

Registered in the same registry as ``predicates.py`` (which imports this module), with the
same rules: missing data is ``unknown``; ``not-met`` only when the record shows the failure
and documentation cannot rescue it. Thresholds and drug lists are YAML params.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from fhir_mappers.facts import CaseFacts, LabObservation, LenalidomideOrder, MedicationOnRecord

from .evaluator import Outcome, Status, all_of
from .predicates import _current, _given_before, _mg, _or_list, _refs, _unavailable, combined_with, predicate

# The assessment passes the indication being judged to the section II predicates under this
# param name (it is not a YAML param: the continued-therapy set serves every indication).
INDICATION_PARAM = "_indication"

_COMPARATORS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_NEVER_GIVEN = frozenset({"cancelled", "entered-in-error"})
# Prior therapies started within this many days of each other count as one regimen.
_REGIMEN_WINDOW_DAYS = 28


# --- lab values (Appendix D: anemia is Hb < 10 g/dL; serum EPO thresholds) -----------------


def latest_lab(case: CaseFacts, kind: str) -> LabObservation | None:
    """The most recent observation of ``kind`` with a usable value (dated ones first)."""
    found = [obs for obs in case.observations if obs.kind == kind and obs.value is not None]
    if not found:
        return None
    return max(found, key=lambda obs: (obs.effective is not None, obs.effective or date.min))


def _lab_text(obs: LabObservation, label: str) -> str:
    when = f" on {obs.effective.isoformat()}" if obs.effective else ""
    return f"{label} {obs.value:g} {obs.unit or ''}".rstrip() + when


@predicate(
    "lab_value",
    required={"lab": "text", "comparator": "text", "value": "number", "label": "text"},
    optional={"when_false": "text", "ask": "text", "then_ask": "text", "then_failed": "names"},
)
def lab_value(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """The latest ``lab`` value satisfies ``comparator value`` (met).

    ``then_ask``: the clause goes on with something only the chart shows, so a satisfied
    value is unknown with that ask. ``then_failed``: the clause goes on with the failure of
    one of those drugs (``prior_therapy_failure``). A value that does not satisfy is
    ``when_false`` (``unknown`` by default; ``not-met`` for a branch that the value rules
    out, e.g. "for serum EPO > 500"). No value on record is unknown, with ``ask``.
    """
    label = params["label"]
    compare = _COMPARATORS.get(params["comparator"])
    if compare is None:
        return Outcome(Status.UNKNOWN, (), f"policy error: unknown comparator {params['comparator']!r}")
    threshold = float(params["value"])
    obs = latest_lab(case, params["lab"])
    ask = params.get("ask") or f"document the {label}"
    if obs is None or obs.value is None:
        where = "observations could not be read" if _unavailable(case, "observations") else f"no {label} on record"
        return Outcome(Status.UNKNOWN, (), f"{where}: {ask}")
    shown = _lab_text(obs, label)
    if not compare(obs.value, threshold):
        status = Status.NOT_MET if params.get("when_false") == "not-met" else Status.UNKNOWN
        tail = "" if status is Status.NOT_MET else f": {ask}"
        return Outcome(status, (obs.ref,), f"{shown}, not {params['comparator']} {threshold:g}{tail}")
    if params.get("then_failed"):
        failure = prior_therapy_failure(case, {"drugs": params["then_failed"]})
        return Outcome(failure.status, (obs.ref, *failure.evidence), f"{shown}; {failure.reason}")
    if params.get("then_ask"):
        return Outcome(Status.UNKNOWN, (obs.ref,), f"{shown}; {params['then_ask']}")
    return Outcome(Status.MET, (obs.ref,), shown)


# --- disease features stated by a diagnosis code, variants ---------------------------------


def _with_feature(case: CaseFacts, feature: str) -> list[Any]:
    return [c for c in case.conditions if c.active and feature in c.features]


@predicate(
    "feature_on_record",
    required={"feature": "text", "label": "text"},
    optional={"ask": "text", "also_ask": "text", "with_all": "names", "with_one_of": "names"},
)
def feature_on_record(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """An active diagnosis whose code states the feature (e.g. D46.C: del(5q); C46.x: Kaposi
    sarcoma) is on record (met); otherwise unknown (with ``ask``).

    ``with_all`` / ``with_one_of``: the clause also prescribes a combination (``combined_with``).
    ``also_ask``: the clause also needs what only the chart shows (a line of therapy, single-
    agent use), so a diagnosis on record is unknown, with that ask."""
    found = _with_feature(case, params["feature"])
    label = params["label"]
    if not found:
        return Outcome(Status.UNKNOWN, (), params.get("ask") or f"no {label} on record: document it")
    outcome = Outcome(Status.MET, _refs(found), f"{label} on record")
    partners = {name: params[key] for key, name in (("with_all", "all"), ("with_one_of", "one_of")) if key in params}
    if partners:
        combined = combined_with(case, partners)
        outcome = Outcome(
            all_of([outcome.status, combined.status]),
            tuple(dict.fromkeys([*outcome.evidence, *combined.evidence])),
            f"{outcome.reason}; {combined.reason}",
        )
    if params.get("also_ask") and outcome.status is Status.MET:
        return Outcome(Status.UNKNOWN, outcome.evidence, f"{outcome.reason}; {params['also_ask']}")
    return outcome


@predicate("feature_not_on_record", required={"feature": "text", "label": "text"}, optional={"ask": "text"})
def feature_not_on_record(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """The clause needs the feature absent: a diagnosis code stating it is not-met; its
    absence from the codes is not proof (unknown)."""
    found = _with_feature(case, params["feature"])
    if found:
        return Outcome(Status.NOT_MET, _refs(found), f"{params['label']} is on record")
    return Outcome(Status.UNKNOWN, (), params.get("ask") or f"document that there is no {params['label']}")


@predicate("variant_present", required={"variant": "text", "label": "text"}, optional={"ask": "text"})
def variant_present(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """A genetic variant assessment reports the variant present (met); else unknown."""
    found = [obs for obs in case.observations if obs.kind == params["variant"] and obs.present]
    if found:
        return Outcome(Status.MET, _refs(found), f"{params['label']} reported present")
    return Outcome(Status.UNKNOWN, (), params.get("ask") or f"no {params['label']} result on record: document it")


# --- prior therapy ------------------------------------------------------------------------


def _prior(case: CaseFacts, names: Iterable[str]) -> list[MedicationOnRecord]:
    wanted = set(names)
    return [
        med
        for med in case.medications
        if med.ref != case.order.ref and med.ingredients & wanted and _given_before(med, case.as_of)
    ]


@predicate("prior_therapy_failure", required={"drugs": "names"}, optional={"also_ask": "text"})
def prior_therapy_failure(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """Failure of one of ``drugs``: met when one is on record as given before the order and
    discontinued (status ``stopped``); a trial that merely ended (``completed``) or is still
    current is unknown ("document the failure"), as is no trial on record (it may have been
    contraindicated, which the chart can show). ``also_ask``: the clause needs more that only
    the chart shows (ring sideroblasts), so a failure on record is still unknown."""
    drugs = list(params["drugs"])
    names = _or_list(drugs)
    stopped = [med for med in _prior(case, drugs) if med.status == "stopped"]
    if stopped:
        found = ", ".join(sorted({n for med in stopped for n in med.ingredients & set(drugs)}))
        if params.get("also_ask"):
            return Outcome(Status.UNKNOWN, _refs(stopped), f"{found} discontinued on record; {params['also_ask']}")
        return Outcome(Status.MET, _refs(stopped), f"{found} discontinued on record (failure)")
    ended = _prior(case, drugs)
    extra = f"; {params['also_ask']}" if params.get("also_ask") else ""
    if ended:
        found = ", ".join(sorted({n for med in ended for n in med.ingredients & set(drugs)}))
        return Outcome(Status.UNKNOWN, _refs(ended), f"prior {found} on record: document its failure{extra}")
    current = _current(case, drugs)
    if current:
        return Outcome(Status.UNKNOWN, _refs(current), f"{names} is current: document its failure{extra}")
    if _unavailable(case, "medications"):
        return Outcome(Status.UNKNOWN, (), f"medications could not be read: document failure of {names}{extra}")
    return Outcome(
        Status.UNKNOWN,
        (),
        f"no prior {names} on record: document its failure, contraindication or adverse effects{extra}",
    )


def _start(med: MedicationOnRecord) -> date | None:
    days = [d for d in (med.period_start, med.authored_on.date() if med.authored_on else None) if d]
    return min(days) if days else None


def _attributable(case: CaseFacts, med: MedicationOnRecord, indication: str) -> bool | None:
    """True when the therapy's reasonCode is a code of a diagnosis with ``indication`` on
    record; False when it names another diagnosis on record; None when the record cannot
    tell (no reason, or a reason matching no diagnosis on record)."""
    codes = {(c.system, c.code) for c in med.reason_codes if c.code}
    if codes:
        same = {(c.system, c.code) for cond in case.conditions if indication in cond.indications for c in cond.codes}
        if codes & same:
            return True
        other = {
            (c.system, c.code) for cond in case.conditions if indication not in cond.indications for c in cond.codes
        }
        if codes & other:
            return False
    return None


def prior_for_disease(case: CaseFacts, indication: str, therapies: Iterable[str]) -> tuple[list, list]:
    """(prior therapies attributable to the disease, those the record cannot attribute).

    A therapy without a usable reason counts for the disease only when no other diagnosis of
    the policy is active on record (then the history can tell); otherwise it is unattributed.
    """
    others = any(c.active and c.indications - {indication} for c in case.conditions)
    mine: list[MedicationOnRecord] = []
    unsure: list[MedicationOnRecord] = []
    for med in _prior(case, therapies):
        if med.ingredients & {"lenalidomide"}:
            continue  # lenalidomide itself is section II (continued therapy), not a prior line
        attributed = _attributable(case, med, indication)
        if attributed or (attributed is None and not others):
            mine.append(med)
        elif attributed is None:
            unsure.append(med)
    return mine, unsure


def regimens(meds: list[MedicationOnRecord]) -> list[list[MedicationOnRecord]]:
    """Prior therapies grouped into regimens: started within 28 days of a regimen's first."""
    out: list[list[MedicationOnRecord]] = []
    for med in sorted(meds, key=lambda m: _start(m) or date.min):
        start = _start(med) or date.min
        if out and (_start(out[-1][0]) or date.min) + timedelta(days=_REGIMEN_WINDOW_DAYS) >= start:
            out[-1].append(med)
        else:
            out.append([med])
    return out


@predicate(
    "line_of_therapy",
    required={"indication": "text", "prior_therapies": "names", "line": "text"},
    optional={"min_prior_regimens": "integer", "including": "names", "with_all": "names", "with_one_of": "names"},
)
def line_of_therapy(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """The line of therapy (see ``_line``), and, with ``with_all`` / ``with_one_of``, the
    combination the clause prescribes for it (``combined_with``): both must hold."""
    line = _line(case, params)
    partners = {key: params[key] for key, name in (("with_all", "all"), ("with_one_of", "one_of")) if key in params}
    if not partners:
        return line
    combined = combined_with(case, {("all" if k == "with_all" else "one_of"): v for k, v in partners.items()})
    status = all_of([line.status, combined.status])
    evidence = tuple(dict.fromkeys([*line.evidence, *combined.evidence]))
    return Outcome(status, evidence, f"{line.reason}; {combined.reason}")


def _line(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """The line of therapy, from the prior therapies on record for the same disease.

    ``line: first``: prior therapy for the disease on record is not-met; none is unknown
    (absence is not proof). ``line: subsequent``: at least ``min_prior_regimens`` (default 1)
    regimens on record, one ``including`` one of those drugs when given, is met; fewer is
    unknown.
    """
    indication = params["indication"]
    mine, unsure = prior_for_disease(case, indication, params["prior_therapies"])
    label = indication.replace("-", " ")
    if params["line"] == "first":
        if mine:
            names = ", ".join(sorted({n for m in mine for n in m.ingredients}))
            return Outcome(Status.NOT_MET, _refs(mine), f"prior {label} therapy on record ({names}): not first line")
        if unsure:
            return Outcome(
                Status.UNKNOWN, _refs(unsure), "prior therapy on record for another diagnosis?: document first line"
            )
        return Outcome(Status.UNKNOWN, (), f"no prior {label} therapy on record: document first-line therapy")
    wanted = int(params.get("min_prior_regimens", 1))
    groups = regimens(mine)
    including = set(params.get("including", ()))
    has_required = not including or any(m.ingredients & including for m in mine)
    if len(groups) >= wanted and has_required:
        names = "; ".join(" + ".join(sorted({n for m in g for n in m.ingredients})) for g in groups)
        return Outcome(Status.MET, _refs(mine), f"{_regimens(len(groups))} on record: {names}")
    need = _regimens(wanted) + (f", one with {_or_list(sorted(including))}" if including else "")
    if _unavailable(case, "medications"):
        return Outcome(Status.UNKNOWN, (), f"medications could not be read: document {need}")
    return Outcome(
        Status.UNKNOWN,
        _refs(mine),
        f"{_regimens(len(groups), label)} on record; document {need}",
    )


def _regimens(count: int, disease: str = "") -> str:
    """``1 prior regimen``, ``no prior mantle cell lymphoma regimens``."""
    what = f"prior {disease} regimen".replace("  ", " ")
    return f"{count or 'no'} {what}{'' if count == 1 else 's'}"


# --- section II: continued therapy ---------------------------------------------------------


def lenalidomide_on_record(case: CaseFacts) -> list[MedicationOnRecord]:
    """Lenalidomide given to this patient before (on record, not this session's drafts)."""
    return [
        med
        for med in case.medications
        if "lenalidomide" in med.ingredients and not med.is_draft_order and med.status not in _NEVER_GIVEN
    ]


# "Currently receiving" (II.A.1): the latest lenalidomide order on record is active or on
# hold, or was written within this many days (two 28-day REMS prescriptions) and not
# discontinued. Each REMS fill is its own MedicationRequest, so earlier ones are "completed".
_CURRENT_WITHIN_DAYS = 60


def _currently_receiving(case: CaseFacts, meds: list[MedicationOnRecord]) -> bool:
    if any(m.status in {"active", "on-hold"} for m in meds):
        return True
    latest = max(meds, key=lambda m: _start(m) or date.min, default=None)
    start = _start(latest) if latest else None
    return (
        latest is not None
        and latest.status != "stopped"
        and start is not None
        and (case.as_of - start).days <= _CURRENT_WITHIN_DAYS
    )


def receiving_since(case: CaseFacts) -> tuple[date | None, tuple[str, ...]]:
    """When the record first shows lenalidomide for this patient, and the orders showing it;
    (None, ()) when the patient is not currently receiving it."""
    meds = [m for m in lenalidomide_on_record(case) if (_start(m) or case.as_of) < case.as_of]
    if not meds or not _currently_receiving(case, meds):
        return None, ()
    starts = [s for m in meds if (s := _start(m))]
    return (min(starts) if starts else None), _refs(meds)


def is_continued_therapy(case: CaseFacts, days: int = 30) -> bool:
    since, _ = receiving_since(case)
    return since is not None and (case.as_of - since).days >= days


@predicate("receiving_for_days", required={"days": "integer"})
def receiving_for_days(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """II.A.1: the record shows lenalidomide for this patient for at least ``days`` (met);
    for less, or not at all, unknown (the chart or the plan's claims can show it)."""
    days = params["days"]
    since, refs = receiving_since(case)
    if since is not None and (case.as_of - since).days >= days:
        return Outcome(Status.MET, refs, f"lenalidomide on record since {since.isoformat()}")
    if since is not None:
        return Outcome(
            Status.UNKNOWN, refs, f"lenalidomide on record only since {since.isoformat()}: document {days} days"
        )
    return Outcome(Status.UNKNOWN, (), f"no lenalidomide on record: document at least {days} days of therapy")


def previous_dose(case: CaseFacts) -> LenalidomideOrder | None:
    """The most recent lenalidomide order on record with a known daily dose."""
    known = [o for o in case.prior_lenalidomide if o.daily_dose_mg is not None and o.status not in _NEVER_GIVEN]
    if not known:
        return None
    return max(known, key=lambda o: (o.authored_on is not None, o.authored_on.isoformat() if o.authored_on else ""))


@predicate(
    "dose_increase_at_most",
    required={"max_mg_per_day": "number"},
    optional={"indications": "names", "other_than": "names"},
)
def dose_increase_at_most(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """II.A.5.a: a dose increase does not exceed the ceiling of the indication judged.

    Applies to ``indications`` (or to every indication but ``other_than``); elsewhere it is
    not-met (another branch applies). Met when the new dose is within the ceiling, or is not
    an increase over the previous dose on record; not-met when it is an increase above the
    ceiling; unknown when the dose, or (above the ceiling) the previous dose, is unknown.
    """
    indication = params.get(INDICATION_PARAM)
    ceiling = float(params["max_mg_per_day"])
    if "indications" in params and indication not in params["indications"]:
        names = [name.replace("-", " ") for name in params["indications"]]
        return Outcome(Status.NOT_MET, (), f"applies to {_or_list(names)} only")
    if "other_than" in params and indication in params["other_than"]:
        return Outcome(Status.NOT_MET, (), f"does not apply to {str(indication).replace('-', ' ')}")
    dose = case.daily_dose_mg  # the overlapping drafts summed (x.7)
    if dose is None:
        return Outcome(Status.UNKNOWN, (), "daily dose cannot be worked out from the order: state dose and frequency")
    if dose <= ceiling:
        return Outcome(Status.MET, (case.order.ref,), f"{_mg(dose)}, within the {_mg(ceiling)} limit")
    before = previous_dose(case)
    if before is None or before.daily_dose_mg is None:
        return Outcome(
            Status.UNKNOWN,
            (case.order.ref,),
            f"{_mg(dose)} is above the {_mg(ceiling)} limit and the previous dose is not on record: "
            "document whether this is a dose increase",
        )
    if dose <= before.daily_dose_mg:
        return Outcome(
            Status.MET,
            (case.order.ref, before.ref),
            f"not a dose increase ({_mg(dose)}; previously {_mg(before.daily_dose_mg)})",
        )
    return Outcome(
        Status.NOT_MET,
        (case.order.ref, before.ref),
        f"increase from {_mg(before.daily_dose_mg)} to {_mg(dose)} is above the {_mg(ceiling)} limit",
    )


def is_dose_increase_over(case: CaseFacts, ceiling: float | None) -> bool | None:
    """For the dose-limit card under section II: True when the order raises the dose above
    the ceiling, False when it does not, None when that cannot be told."""
    dose = case.daily_dose_mg  # the overlapping drafts summed (x.7)
    if ceiling is None or dose is None:
        return None
    if dose <= ceiling:
        return False
    before = previous_dose(case)
    if before is None or before.daily_dose_mg is None:
        return None
    return dose > before.daily_dose_mg


# --- I.G / III: a diagnosis the policy does not cover ------------------------------------


def referral(policies: Iterable[str], line_of_business: str | None) -> str:
    """ "CP.CPA.09 (commercial)" for the member's line of business; all of them, labelled, when
    it is unknown. ``policies`` are "line=POLICY" texts from the YAML."""
    pairs = [p.split("=", 1) for p in policies if "=" in p]
    chosen = [(lob, name) for lob, name in pairs if lob == line_of_business] or pairs
    return ", ".join(f"{name} ({lob})" for lob, name in chosen)


# --- I.F.2: the specialist depends on the diagnosis (HIV-related Kaposi sarcoma) ------------


@predicate(
    "prescriber_for_diagnosis",
    required={"specialties": "names", "ask": "text"},
    optional={"only_feature": "text", "unless_feature": "text", "sure_specialties": "names"},
)
def prescriber_for_diagnosis(case: CaseFacts, params: Mapping[str, Any]) -> Outcome:
    """A specialist rule that applies to one diagnosis (``only_feature``) or to all but one
    (``unless_feature``). Outside its scope it is not-met (the other branch applies). In scope,
    the prescriber's specialty is judged as ``prescriber_specialty``; a specialty outside
    ``sure_specialties`` is unknown with ``ask`` when the scope itself is uncertain (whether a
    Kaposi sarcoma is HIV-related is not coded)."""
    from .predicates import prescriber_specialty

    only, unless = params.get("only_feature"), params.get("unless_feature")
    if only and not _with_feature(case, only):
        return Outcome(Status.NOT_MET, (), f"applies to {only.removeprefix('f-').replace('-', ' ')} only")
    judged = prescriber_specialty(case, {"specialties": params["specialties"]})
    uncertain = bool(only) or bool(unless and _with_feature(case, unless))
    sure = set(params.get("sure_specialties", ()))
    if judged.status is Status.MET and uncertain and not (sure & case.prescriber.specialties):
        return Outcome(Status.UNKNOWN, judged.evidence, f"{judged.reason}; {params['ask']}")
    return judged
