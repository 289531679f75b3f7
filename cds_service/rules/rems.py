"""Judge one lenalidomide order against the Lenalidomide REMS (data/lenalidomide_rems.yaml).

Three outcomes per step: ``met`` (the record shows it), ``unmet`` (the record shows it is not
so: a 35-day supply, a positive test, a wrong risk category on the prescription) and
``unverified`` (the record cannot show it: the card says what to confirm). Missing data is
never ``unmet``. Imports nothing FHIR: only the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from fhir_mappers.facts import CaseFacts, DatedEvidence, MedicationOnRecord, PregnancyTest, RemsEvidence

DATA_PATH = Path(__file__).resolve().parent / "data" / "lenalidomide_rems.yaml"
MET, UNMET, UNVERIFIED = "met", "unmet", "unverified"
UNKNOWN = "unknown"
_VOID_ORDERS = {"entered-in-error", "cancelled", "draft"}


@lru_cache(maxsize=1)
def load_rems() -> dict[str, Any]:
    """The REMS data, read once and checked: a bad edit stops the service at start."""
    data = yaml.safe_load(DATA_PATH.read_text(encoding="utf-8"))
    ids = [s["id"] for s in data["steps"]]
    if len(ids) != len(set(ids)):
        raise ValueError("lenalidomide_rems.yaml: duplicate step id")
    if set(data["category_sex_and_age"]) != set(data["risk_categories"]):
        raise ValueError("lenalidomide_rems.yaml: category_sex_and_age must name every risk category")
    known = set(data["risk_categories"]) | {UNKNOWN}
    for step in data["steps"]:
        missing = {"id", "label", "part", "who", "text", "action", "cite", "applies_to"} - set(step)
        if missing:
            raise ValueError(f"lenalidomide_rems.yaml: step {step.get('id')} lacks {sorted(missing)}")
        if step["part"] not in {"blocks", "order", "program"}:
            raise ValueError(f"lenalidomide_rems.yaml: step {step['id']} has an unknown part")
        if step["applies_to"] != "all" and not set(step["applies_to"]) <= known:
            raise ValueError(f"lenalidomide_rems.yaml: step {step['id']} applies to an unknown category")
    return data


@dataclass(frozen=True)
class StepResult:
    id: str
    status: str  # met | unmet | unverified
    text: str  # the requirement and what the record shows
    action: str  # what to do or confirm
    cite: str
    evidence: tuple[str, ...] = ()
    shows: str = ""  # what the record shows, without the requirement (the cards' wording)
    # The pregnancy tests still needed: "early" (10-14 days before an initial prescription),
    # "confirm" (within 24 hours before it), "recent" (within 7 days before a subsequent one).
    missing: tuple[str, ...] = ()
    # Structured facts behind the text, for the card's finding (e.g. results that could not be read).
    facts: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class PregnancyFinding:
    indicator: str  # critical (pregnant / positive test) | warning (breastfeeding)
    kind: str  # "pregnancy" | "positive-test" | "breastfeeding"
    text: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class MonitoringItem:
    id: str  # "cbc" | "thromboprophylaxis"
    status: str  # "due" (record shows it is needed now) | "current" (CBC recent enough)
    text: str
    cite: str
    evidence: tuple[str, ...] = ()


@dataclass
class RemsJudgement:
    risk_category: str
    why: str
    prescription: str  # "initial" | "subsequent" | "unknown"
    prescription_why: str
    steps: list[StepResult] = field(default_factory=list)
    pregnancy: PregnancyFinding | None = None
    monitoring: list[MonitoringItem] = field(default_factory=list)

    @property
    def open_steps(self) -> list[StepResult]:
        return [s for s in self.steps if s.status != MET]

    @property
    def unlawful(self) -> bool:
        """Dispensing would be unlawful as ordered: a pregnancy, or a female of reproductive
        potential without a valid negative pregnancy test."""
        if self.pregnancy is not None and self.pregnancy.indicator == "critical":
            return True
        # An unknown category counts as reproductive potential (README, "REMS evidence
        # convention"): the guide makes every female one unless the record shows otherwise,
        # and a record that cannot tell the sex or age cannot show otherwise.
        possibly = self.risk_category in set(load_rems()["reproductive_potential"]) or self.risk_category == UNKNOWN
        return possibly and any(s.id == "pregnancy-test" and s.status != MET for s in self.steps)

    @property
    def clauses(self) -> list[str]:
        return list(dict.fromkeys(s.cite for s in self.open_steps))


def _day(at: datetime | None) -> str:
    return at.date().isoformat() if at else "an undated record"


def _latest(items: tuple[DatedEvidence, ...], before: datetime) -> DatedEvidence | None:
    """The latest evidence dated up to ``before`` (undated evidence counts as oldest)."""
    usable = [e for e in items if e.at is None or e.at <= before]
    return usable[-1] if usable else None


def _months_before(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 - months, 12)
    target_year, target_month = day.year + year, month + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(target_year, target_month, d)
        except ValueError:
            continue
    return date(target_year, target_month, 28)


# --- risk category -------------------------------------------------------------------------


def risk_category(case: CaseFacts) -> tuple[str, str, bool]:
    """(category, why, from_record). ``from_record`` is False when the category is the
    guide's default for lack of evidence (a female is of reproductive potential unless the
    record shows otherwise)."""
    limits = load_rems()["limits"]
    patient, ev = case.patient, case.rems
    if patient is None or patient.sex not in {"female", "male"}:
        recorded = patient.gender_recorded if patient else None
        said = f"sex recorded as {recorded}" if recorded else "sex not on record"
        return UNKNOWN, f"{said}: treated as possibly of reproductive potential", False
    if case.age_years is None:
        return UNKNOWN, "birth date not on record", False
    adult_age = limits["adult_age"]
    if case.age_uncertain and case.age_years == adult_age - 1:
        return UNKNOWN, "partial birth date: adult or child cannot be told", False
    adult = case.age_years >= adult_age
    if patient.sex == "male":
        return ("adult-male" if adult else "male-child"), f"male, {case.age_years} years old", True
    prefix = "adult-female" if adult else "female-child"
    if ev is None:
        return f"{prefix}-reproductive-potential", "no menopause or hysterectomy on record", False
    order_at = ev.order_at
    surgery = _latest(ev.surgical, order_at)
    if surgery is not None:
        what = (surgery.value or "surgery").replace("-", " ")
        return f"{prefix}-not-reproductive-potential", f"{what} on record ({surgery.ref})", True
    if not adult:
        started = _latest(ev.menstruation_not_started, order_at)
        if started is not None:
            return f"{prefix}-not-reproductive-potential", f"menstruation not begun ({started.ref})", True
        return f"{prefix}-reproductive-potential", "no record that menstruation has not begun", False
    status = _latest(tuple(m for m in ev.menopause if m.value in {"post", "pre", "peri"}), order_at)
    if status is not None and status.value == "post":
        post = [m for m in ev.menopause if m.value == "post" and (m.at is None or m.at <= order_at)]
        since = min((m.at for m in post if m.at), default=None)
        cutoff = _months_before(order_at.date(), limits["menopause_months"])
        if since is not None and since.date() <= cutoff:
            return (
                f"{prefix}-not-reproductive-potential",
                f"natural menopause on record since {since.date().isoformat()} (24 months or more)",
                True,
            )
        when = f"since {since.date().isoformat()}" if since else "undated"
        return (
            f"{prefix}-reproductive-potential",
            f"menopause on record {when}: not 24 consecutive months before the order",
            False,
        )
    return f"{prefix}-reproductive-potential", "no menopause or hysterectomy on record", False


def _supply_shown(order: Any) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """The supply judged (the larger of stated and computed, REMS guide: "no more than a
    4-week (28-day) supply"), saying both where they disagree."""
    stated, computed = order.stated_days_supply, order.computed_days_supply
    facts = tuple((k, v) for k, v in (("statedDays", stated), ("computedDays", computed)) if v is not None)
    supply = f"{order.days_supply:g}-day supply"
    if stated is not None and computed is not None and abs(stated - computed) >= 1:
        cycle = f", days 1-{order.cycle.days_on} of {order.cycle.cycle_length_days}" if order.cycle else ""
        supply += f" ({order.quantity:g} capsules as dosed{cycle}: {computed:g} days; the order states {stated:g})"
    return supply, facts


def _contradicts_record(case: CaseFacts, written: str) -> str | None:
    """What of the record a written category contradicts (its sex, or adult / child on an
    age the record makes certain), else None. Whatever the reproductive potential, "adult-male"
    for a woman is wrong (REMS guide: the patient risk category on the prescription)."""
    stated = load_rems()["category_sex_and_age"][written]
    sex = case.patient.sex if case.patient else None
    if sex in {"female", "male"} and sex != stated["sex"]:
        return f"the record says {sex}"
    if case.age_years is None:
        return None
    adult_age = load_rems()["limits"]["adult_age"]
    oldest = case.age_years + (1 if case.age_uncertain else 0)
    if stated["adult"] and oldest < adult_age:
        return f"the record says {case.age_years} years old"
    if not stated["adult"] and case.age_years >= adult_age:
        return f"the record says {case.age_years} years old"
    return None


# --- initial or subsequent -----------------------------------------------------------------


def _lenalidomide_history(case: CaseFacts) -> list[MedicationOnRecord]:
    return [
        m
        for m in case.medications
        if "lenalidomide" in m.ingredients and not m.is_draft_order and m.status not in _VOID_ORDERS
    ]


def _last_therapy_day(med: MedicationOnRecord, as_of: date) -> date | None:
    if med.status in {"active", "on-hold"} and med.period_end is None:
        return as_of
    days = [d for d in (med.period_end, med.period_start, med.authored_on.date() if med.authored_on else None) if d]
    return max(days) if days else None


def prescription_kind(case: CaseFacts) -> tuple[str, str]:
    """Initial (first, or after 12 consecutive months without therapy: a new enrollment) or
    subsequent, from the lenalidomide orders on record."""
    gap = load_rems()["limits"]["reenrollment_gap_days"]
    if "medications" in case.unavailable:
        return UNKNOWN, "the medication history could not be read"
    history = _lenalidomide_history(case)
    if not history:
        return "initial", "no lenalidomide on record"
    days = [d for m in history if (d := _last_therapy_day(m, case.as_of))]
    if not days:
        return UNKNOWN, "lenalidomide on record without dates"
    last = max(days)
    if (case.as_of - last).days >= gap:
        return "initial", f"last lenalidomide on record {last.isoformat()}: 12 months or more ago (re-enrollment)"
    return "subsequent", f"lenalidomide on record until {last.isoformat()}"


# --- pregnancy -----------------------------------------------------------------------------


def pregnancy_finding(case: CaseFacts) -> PregnancyFinding | None:
    ev = case.rems
    if ev is None or (case.patient is not None and case.patient.sex == "male"):
        return None
    if ev.pregnancy_conditions:
        return PregnancyFinding("critical", "pregnancy", "pregnancy on record", ev.pregnancy_conditions)
    signals: list[tuple[datetime, str, str]] = []
    for test in ev.pregnancy_tests:
        if test.at and test.at <= ev.order_at and test.result:
            signals.append((test.at, "positive-test" if test.result == "positive" else "negative", test.ref))
    for status in ev.pregnancy_status:
        if status.at and status.at <= ev.order_at and status.value in {"pregnant", "not-pregnant"}:
            signals.append((status.at, "pregnancy" if status.value == "pregnant" else "negative", status.ref))
    if signals:
        at, kind, ref = max(signals, key=lambda s: s[0])
        if kind == "positive-test":
            return PregnancyFinding("critical", kind, f"positive pregnancy test on {_day(at)}", (ref,))
        if kind == "pregnancy":
            return PregnancyFinding("critical", kind, f"pregnancy status 'pregnant' recorded on {_day(at)}", (ref,))
    feeding = _latest(ev.breastfeeding, ev.order_at)
    if feeding is not None and feeding.value == "yes":
        return PregnancyFinding(
            "warning", "breastfeeding", f"breastfeeding on record ({_day(feeding.at)})", (feeding.ref,)
        )
    return None


def _counts(test: PregnancyTest, ev: RemsEvidence, max_sensitivity: float) -> bool:
    return (
        test.result == "negative"
        and test.at is not None
        and test.at <= ev.order_at
        and (test.sensitivity_miu_ml is None or test.sensitivity_miu_ml <= max_sensitivity)
    )


def _pregnancy_test_step(case: CaseFacts, kind: str, pregnancy: PregnancyFinding | None, base: dict) -> StepResult:
    limits = load_rems()["limits"]
    ev = case.rems
    if pregnancy is not None and pregnancy.indicator == "critical":
        return _step(base, UNMET, f"{pregnancy.text}: lenalidomide is contraindicated", pregnancy.evidence)
    needed = ("recent",) if kind == "subsequent" else ("early", "confirm")
    if ev is None or not ev.pregnancy_tests:
        return _step(base, UNVERIFIED, "no pregnancy test on record", missing=needed)
    unread = tuple(t.ref for t in ev.pregnancy_tests if t.unreadable and (t.at is None or t.at <= ev.order_at))
    facts = (("unreadableResults", list(unread)),) if unread else ()
    tests = [t for t in ev.pregnancy_tests if _counts(t, ev, limits["test_sensitivity_miu_ml"])]
    weak = [
        t
        for t in ev.pregnancy_tests
        if t.sensitivity_miu_ml and t.sensitivity_miu_ml > limits["test_sensitivity_miu_ml"]
    ]
    note = (
        f" ({len(weak)} {'tests' if len(weak) > 1 else 'test'} not sensitive to 50 mIU/mL do not count)" if weak else ""
    )
    if unread:
        # A result in a form the service cannot read (REMS Key points: a negative test is
        # needed): "cannot confirm", and the card says which result to look at.
        note += f"; result could not be read ({', '.join(unread)})"
    if not tests:
        if unread and len(unread) == len(ev.pregnancy_tests):
            shows = f"result could not be read ({', '.join(unread)})"
            return _step(base, UNVERIFIED, shows, unread, missing=needed, facts=facts)
        shows = f"no negative pregnancy test before the order on record{note}"
        return _step(base, UNVERIFIED, shows, missing=needed, facts=facts)
    latest = tests[-1]
    hours = (ev.order_at - latest.at).total_seconds() / 3600 if latest.at else None
    if kind == "subsequent":
        if hours is not None and hours <= limits["subsequent_test_days"] * 24:
            return _step(base, MET, f"negative test on {_day(latest.at)}, within 7 days", (latest.ref,))
        return _step(
            base,
            UNVERIFIED,
            f"latest negative test on {_day(latest.at)} is more than 7 days before the order: "
            f"a new test is needed (testing every 4 weeks, every 2 weeks with irregular menses){note}",
            (latest.ref,),
            missing=needed,
            facts=facts,
        )
    low, high = limits["initial_test_days"]
    order_day = ev.order_at.date()
    early = [t for t in tests if t.at and low <= (order_day - t.at.date()).days <= high]
    confirm = [t for t in tests if t.at and (ev.order_at - t.at) <= timedelta(hours=limits["initial_confirm_hours"])]
    first = "initial prescription" if kind == "initial" else "prescription not known to be subsequent: initial rule"
    if early and confirm:
        return _step(
            base,
            MET,
            f"{first}: negative tests on {_day(early[-1].at)} (10-14 days before) and {_day(confirm[-1].at)} "
            "(within 24 hours)",
            (early[-1].ref, confirm[-1].ref),
        )
    missing = []
    if not early:
        missing.append("a negative test 10 to 14 days before")
    if not confirm:
        old = f"{hours:.0f} hours" if hours is not None and hours < 48 else f"{(hours or 0) / 24:.0f} days"
        age = f" (the latest is {old} old)" if hours is not None else ""
        missing.append(f"a negative test within 24 hours before{age}")
    refs = tuple(t.ref for t in (early[-1:] + confirm[-1:]))
    which = tuple(name for name, found in (("early", early), ("confirm", confirm)) if not found)
    return _step(base, UNVERIFIED, f"{first}: no record of {' and '.join(missing)}{note}", refs, which, facts)


# --- steps ---------------------------------------------------------------------------------


def _step(
    base: dict,
    status: str,
    shows: str,
    evidence: tuple[str, ...] = (),
    missing: tuple[str, ...] = (),
    facts: tuple[tuple[str, Any], ...] = (),
) -> StepResult:
    return StepResult(
        id=base["id"],
        status=status,
        text=f"{base['text']}: {shows}",
        action=base["action"],
        cite=base["cite"],
        evidence=tuple(evidence),
        shows=shows,
        missing=missing,
        facts=facts,
    )


def _evidence(ev: RemsEvidence | None, step_id: str) -> list[DatedEvidence]:
    if ev is None:
        return []
    return [e for sid, e in ev.steps if sid == step_id and (e.at is None or e.at <= ev.order_at)]


def _recent(items: list[DatedEvidence], ev: RemsEvidence, days: int) -> DatedEvidence | None:
    dated = sorted((e for e in items if e.at), key=lambda e: e.at)  # type: ignore[arg-type,return-value]
    if dated and (ev.order_at - dated[-1].at).days <= days:  # type: ignore[operator]
        return dated[-1]
    return None


def _survey_days(category: str, limits: dict) -> int:
    if category == "adult-female-not-reproductive-potential":
        return limits["survey_six_monthly_days"]
    return limits["survey_monthly_days"]


def _judge_step(base: dict, case: CaseFacts, j: RemsJudgement, from_record: bool) -> StepResult:
    rems = load_rems()
    limits = rems["limits"]
    ev = case.rems
    order = case.order
    step_id = base["id"]
    found = _evidence(ev, step_id)
    if step_id == "prescriber-certification":
        if (ev and ev.prescriber_certified) or found:
            return _step(base, MET, "certification on record", tuple(e.ref for e in found))
        return _step(base, UNVERIFIED, "no certification on record")
    if step_id == "patient-enrollment":
        if not found:
            return _step(base, UNVERIFIED, "no enrollment on record")
        if "re-enrollment" in j.prescription_why:
            return _step(base, UNVERIFIED, "therapy stopped 12 months or more ago: the patient must enroll again")
        return _step(base, MET, f"enrollment on record ({_day(found[-1].at)})", (found[-1].ref,))
    if step_id == "patient-survey":
        if j.risk_category in {"adult-male", "male-child"} and j.prescription == "initial":
            return _step(base, MET, "males do not take an initial survey")
        days = _survey_days(j.risk_category, limits)
        period = "every 6 months" if days > 60 else "monthly"
        recent = _recent(found, ev, days) if ev else None
        if recent:
            return _step(base, MET, f"survey on {_day(recent.at)} ({period})", (recent.ref,))
        last = f"; last on record {_day(found[-1].at)}" if found else ""
        return _step(base, UNVERIFIED, f"no survey on record within the schedule ({period}){last}")
    if step_id == "prescriber-survey":
        if ev and ev.authorization_number:
            return _step(base, MET, "an authorization number is issued only after the survey")
        frp = j.risk_category in set(rems["reproductive_potential"]) or j.risk_category == UNKNOWN
        days = limits["subsequent_test_days"] if frp else limits["authorization_days_other"]
        recent = _recent(found, ev, days) if ev else None
        if recent:
            return _step(base, MET, f"survey on {_day(recent.at)}", (recent.ref,))
        return _step(base, UNVERIFIED, "no survey for this prescription on record")
    if step_id == "authorization-number":
        if ev and ev.authorization_number:
            return _step(base, MET, "authorization number on the order")
        return _step(base, UNVERIFIED, "no authorization number on the order")
    if step_id == "risk-category-on-prescription":
        written = ev.risk_category_written if ev else None
        if written is None:
            return _step(base, UNVERIFIED, "no risk category on the order")
        if written not in rems["risk_categories"]:
            return _step(base, UNMET, f"'{written}' is not a REMS risk category")
        contradiction = _contradicts_record(case, written)
        if contradiction:
            return _step(base, UNMET, f"'{written}' on the order, but {contradiction}")
        if j.risk_category == UNKNOWN or written == j.risk_category:
            return _step(base, MET, f"'{written}' on the order")
        status = UNMET if from_record else UNVERIFIED
        return _step(base, status, f"'{written}' on the order, but the record shows {j.risk_category} ({j.why})")
    if step_id == "pregnancy-test":
        return _pregnancy_test_step(case, j.prescription, j.pregnancy, base)
    if step_id in {"contraception-counseling", "patient-counseling"}:
        if found:
            return _step(base, MET, f"counselling on record ({_day(found[-1].at)})", (found[-1].ref,))
        return _step(base, UNVERIFIED, "no counselling on record")
    if step_id == "days-supply":
        if order.days_supply is None:
            return _step(base, UNVERIFIED, "the days' supply cannot be told from the order")
        supply, facts = _supply_shown(order)
        if order.days_supply <= limits["max_days_supply"]:
            return _step(base, MET, supply, facts=facts)
        return _step(base, UNMET, f"{supply} ordered", facts=facts)
    if step_id == "refills":
        # An absent numberOfRepeatsAllowed means no refills are authorized.
        if order.refills is None or order.refills <= limits["max_refills"]:
            return _step(base, MET, "no refills")
        return _step(base, UNMET, f"{order.refills} refill{'s' if order.refills != 1 else ''} ordered")
    if step_id == "certified-pharmacy":
        if ev and ev.pharmacy_certified:
            return _step(base, MET, "the order names a certified pharmacy")
        shown = (
            "the named pharmacy's certification is not on the order"
            if ev and ev.pharmacy_certified is False
            else ("no pharmacy on the order")
        )
        return _step(base, UNVERIFIED, shown)
    raise ValueError(f"no judge for REMS step {step_id}")  # a YAML step without code: fail loudly in tests


def _applies(base: dict, category: str) -> bool:
    return base["applies_to"] == "all" or category in base["applies_to"]


# --- monitoring ----------------------------------------------------------------------------


def _del5q_mds(case: CaseFacts) -> tuple[str, ...]:
    wanted = {
        (c["system"], c["code"].replace(".", "").upper()) for c in load_rems()["monitoring"]["cbc"]["del5q_mds_codes"]
    }
    return tuple(
        cond.ref
        for cond in case.conditions
        if cond.active and any((c.system, (c.code or "").replace(".", "").upper()) in wanted for c in cond.codes)
    )


def monitoring(case: CaseFacts) -> list[MonitoringItem]:
    data = load_rems()["monitoring"]
    items: list[MonitoringItem] = []
    mds = _del5q_mds(case)
    if mds:
        cbc = data["cbc"]
        starts = [
            d
            for m in _lenalidomide_history(case)
            if (d := m.period_start or (m.authored_on.date() if m.authored_on else None))
        ]
        recent = [d for d in starts if (case.as_of - d).days < load_rems()["limits"]["reenrollment_gap_days"]]
        start = min(recent) if recent else case.as_of
        weeks = (case.as_of - start).days // 7
        weekly = weeks < cbc["weekly_weeks"]
        every = cbc["weekly_days"] if weekly else cbc["monthly_days"]
        phase = f"week {weeks + 1} of therapy: weekly CBC" if weekly else "after week 8: CBC at least monthly"
        last = case.rems.cbc[-1] if case.rems and case.rems.cbc else None
        if last is None or last.at is None:
            items.append(MonitoringItem("cbc", "due", f"{cbc['text']}; {phase}; no CBC on record", cbc["cite"], mds))
        else:
            age = (case.as_of - last.at.date()).days
            status = "current" if age <= every else "due"
            items.append(
                MonitoringItem(
                    "cbc",
                    status,
                    f"{cbc['text']}; {phase}; last CBC on record {_day(last.at)}",
                    cbc["cite"],
                    (*mds, last.ref),
                )
            )
    myeloma = tuple(c.ref for c in case.conditions if c.active and "multiple-myeloma" in c.indications)
    dex = tuple(m.ref for m in case.medications if m.is_current and "dexamethasone" in m.ingredients)
    if (
        myeloma
        and dex
        and case.rems is not None
        and not case.rems.antithrombotics
        and "medications" not in case.unavailable
    ):
        tp = data["thromboprophylaxis"]
        items.append(
            MonitoringItem(
                "thromboprophylaxis",
                "due",
                f"{tp['text']}: no anticoagulant or antiplatelet on record; choose a regimen from the patient's risks",
                tp["cite"],
                myeloma + dex,
            )
        )
    return items


# --- the judgement -------------------------------------------------------------------------


def judge(case: CaseFacts) -> RemsJudgement:
    category, why, from_record = risk_category(case)
    kind, kind_why = prescription_kind(case)
    j = RemsJudgement(risk_category=category, why=why, prescription=kind, prescription_why=kind_why)
    j.pregnancy = pregnancy_finding(case)
    for base in load_rems()["steps"]:
        male = case.patient is not None and case.patient.sex == "male"
        if _applies(base, category) and not (base["id"] == "pregnancy-test" and male):
            j.steps.append(_judge_step(base, case, j, from_record))
    j.monitoring = monitoring(case)
    return j
