"""What the record shows for the Lenalidomide REMS: pregnancy tests and status, menopause,
surgery, breastfeeding, CBCs, and the evidence of each REMS step (see the README,
"REMS evidence convention").

Clinical codes come only from ``codesets.json`` (terminology groups ``loinc_pregnancy_test``,
``obs_pregnancy_status``, ``obs_menopausal_status``, ``icd_pregnancy``, ``loinc_hematology``);
entries are told apart by their display in the data, never by a code written here. Where no
verified clinical code exists (hysterectomy, oophorectomy, menarche, breastfeeding, the REMS
steps), the record carries our own code system ``urn:lenalidomide-cds:rems``: it names what a
resource shows, it is not a clinical code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time
from typing import Any

from . import codes
from .condition import map_condition
from .datatypes import (
    cached_by_code,
    codings,
    dicts,
    number,
    parse_instant,
    quantity_unit,
    resource_ref,
    text,
)
from .facts import ConditionFacts, DatedEvidence, MedicationOnRecord, PregnancyTest, RemsEvidence
from .lab_results import NEGATIVE, POSITIVE, ResultReading, read_presence
from .resources import resources_of_type

REMS_SYSTEM = "urn:lenalidomide-cds:rems"
AUTHORIZATION_SYSTEM = "urn:lenalidomide-cds:rems-authorization"
RISK_CATEGORY_EXTENSION = "urn:lenalidomide-cds:rems-risk-category"
PHARMACY_SYSTEM = "urn:lenalidomide-cds:rems-certified-pharmacy"
PRESCRIBER_SYSTEM = "urn:lenalidomide-cds:rems-prescriber"

# Step ids (CONTRACT.md) whose evidence the record may carry as an Observation or Procedure
# coded in REMS_SYSTEM.
STEP_CODES = frozenset(
    {
        "prescriber-certification",
        "patient-enrollment",
        "patient-survey",
        "prescriber-survey",
        "contraception-counseling",
        "patient-counseling",
    }
)
SURGERY_CODES = frozenset({"hysterectomy", "bilateral-oophorectomy"})
MENSTRUATION_NOT_STARTED = "menstruation-not-started"
BREASTFEEDING = "breastfeeding"
TEST_SENSITIVITY = "test-sensitivity"

_VOID = {"entered-in-error", "cancelled", "not-done"}
# hCG units in which 1 unit equals 1 mIU/mL.
_HCG_UNITS = {"miu/ml", "m[iu]/ml", "iu/l", "[iu]/l"}
# Anticoagulants and antiplatelets by name (generic and brand), matched as words in the order's
# drug text: names, not codes, for the thromboprophylaxis reminder.
ANTITHROMBOTIC_NAMES = (
    "aspirin",
    "clopidogrel",
    "prasugrel",
    "ticagrelor",
    "warfarin",
    "coumadin",
    "apixaban",
    "eliquis",
    "rivaroxaban",
    "xarelto",
    "edoxaban",
    "dabigatran",
    "enoxaparin",
    "lovenox",
    "dalteparin",
    "tinzaparin",
    "fondaparinux",
    "heparin",
)
_ANTITHROMBOTIC = re.compile(r"\b(" + "|".join(ANTITHROMBOTIC_NAMES) + r")\b", re.IGNORECASE)


@cached_by_code
def _role(group: str, system: Any, code: Any) -> str | None:
    """What an entry of a terminology group stands for, from its display in the data."""
    entry = codes.find_in_group(group, system, code)
    if entry is None:
        return None
    display = str(entry.get("display") or "").lower()
    if group == "obs_pregnancy_status":
        if display.startswith("pregnancy status"):
            return "code"
        if display.startswith("not pregnant"):
            return "not-pregnant"
        if display.startswith("pregnant"):
            return "pregnant"
        return "unknown"
    if group == "obs_menopausal_status":
        if "function" in display:
            return "code"
        if display.startswith(("after menopause", "postmenopausal")):
            return "post"
        if display.startswith(("before menopause", "premenopausal")):
            return "pre"
        if display.startswith("perimenopausal"):
            return "peri"
        return "unknown"
    if group == "icd_pregnancy":
        return "pregnant" if display.startswith("pregnant state") else None
    if group == "loinc_hematology":
        return "cbc" if display.startswith(("hemoglobin", "platelets", "neutrophils", "leukocytes")) else None
    return "member"


# What an Observation's code may ask (``_questions``).
PREGNANCY_TEST = "pregnancy-test"
PREGNANCY_STATUS = "pregnancy-status"
MENOPAUSAL_STATUS = "menopausal-status"
CBC = "cbc"


@cached_by_code
def _questions(system: str | None, code: str | None) -> tuple[frozenset[str], str | None]:
    """What an Observation coded so reports (a pregnancy test, a pregnancy or menopausal
    status, a blood count), and its code when the system is ours: one cached answer per
    coding instead of four group look-ups and a system comparison."""
    our_code = _our_code(system, code)
    asks = set()
    if _role("loinc_pregnancy_test", system, code):
        asks.add(PREGNANCY_TEST)
    if _role("obs_pregnancy_status", system, code) == "code":
        asks.add(PREGNANCY_STATUS)
    if _role("obs_menopausal_status", system, code) == "code":
        asks.add(MENOPAUSAL_STATUS)
    if _role("loinc_hematology", system, code) == "cbc":
        asks.add(CBC)
    return frozenset(asks), our_code


def _roles(group: str, concept: Any) -> set[str]:
    return {r for c in codings(concept) if (r := _role(group, c.system, c.code))}


def _our_code(system: str | None, code: str | None) -> str | None:
    """The code of a coding in the service's own REMS system, else ``None``."""
    return code if code and codes.normalise_system(system) == REMS_SYSTEM else None


def _our_codes(concept: Any) -> set[str]:
    return {our for c in codings(concept) if (our := _our_code(c.system, c.code))}


def _effective(resource: dict[str, Any]) -> datetime | None:
    for key in ("effectiveDateTime", "effectiveInstant", "performedDateTime", "occurrenceDateTime"):
        if (at := parse_instant(resource.get(key))) is not None:
            return at
    for key in ("effectivePeriod", "performedPeriod"):
        period = resource.get(key)
        if isinstance(period, dict):
            at = parse_instant(period.get("start")) or parse_instant(period.get("end"))
            if at is not None:
                return at
    return parse_instant(resource.get("issued"))


def _since(resource: dict[str, Any]) -> datetime | None:
    """The start of what an observation states (``effectivePeriod.start``), else its date."""
    period = resource.get("effectivePeriod")
    if isinstance(period, dict) and (start := parse_instant(period.get("start"))) is not None:
        return start
    return _effective(resource)


def _usable(resource: dict[str, Any]) -> bool:
    return text(resource.get("status")) not in _VOID


def _boolean(resource: dict[str, Any]) -> bool | None:
    value = resource.get("valueBoolean")
    return value if isinstance(value, bool) else None


def _hcg(quantity: Any) -> float | None:
    """A quantity in mIU/mL (or IU/L, the same number), else None."""
    if not isinstance(quantity, dict):
        return None
    unit = (quantity_unit(quantity) or "").replace(" ", "").lower()
    return number(quantity.get("value")) if unit in _HCG_UNITS else None


def _test_result(obs: dict[str, Any]) -> ResultReading:
    """A coded pregnancy-status answer ("Not pregnant"), else the result as labs send it
    (``lab_results.read_presence``, in mIU/mL)."""
    roles = _roles("obs_pregnancy_status", obs.get("valueCodeableConcept"))
    if "pregnant" in roles:
        return ResultReading(POSITIVE)
    if "not-pregnant" in roles:
        return ResultReading(NEGATIVE)
    return read_presence(obs, _hcg)


def _sensitivity(obs: dict[str, Any]) -> float | None:
    for component in dicts(obs.get("component")):
        if TEST_SENSITIVITY in _our_codes(component.get("code")):
            return _hcg(component.get("valueQuantity"))
    return None


def _order_instant(mr: dict[str, Any], now: datetime) -> tuple[datetime, bool]:
    """The order's authoredOn in UTC. A bare date stands for the end of that day (the test
    windows are then counted from the latest moment the order may have been written)."""
    raw = text(mr.get("authoredOn", mr.get("dateWritten")))
    at = parse_instant(raw)
    if at is None:
        if not isinstance(now, datetime):
            return datetime.now(UTC), True
        return (now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)), True
    if raw is not None and "T" not in raw:
        return datetime.combine(at.date(), time(23, 59, 59), tzinfo=UTC), False
    return at, True


def _has_identifier(resource: Any, system: str) -> bool:
    return isinstance(resource, dict) and any(
        text(i.get("system")) == system and text(i.get("value")) for i in dicts(resource.get("identifier"))
    )


def _sorted(items: list[DatedEvidence]) -> tuple[DatedEvidence, ...]:
    floor = datetime.min.replace(tzinfo=UTC)
    return tuple(sorted(items, key=lambda e: e.at or floor))


def is_antithrombotic(medication: MedicationOnRecord) -> bool:
    """An anticoagulant or antiplatelet, by its drug text."""
    return bool(medication.display and _ANTITHROMBOTIC.search(medication.display))


def antithrombotics(medications: Iterable[MedicationOnRecord]) -> tuple[str, ...]:
    """Current anticoagulant or antiplatelet orders (drafts or active), by their drug text."""
    return tuple(m.display for m in medications if m.is_current and m.display and is_antithrombotic(m))


def map_rems_evidence(
    mr: Any,
    prefetch: Mapping[str, Any],
    *,
    prescriber_resources: Iterable[Any] = (),
    medications: Iterable[MedicationOnRecord] = (),
    now: datetime,
    conditions: Iterable[ConditionFacts | None] | None = None,
    observations: Iterable[dict[str, Any]] | None = None,
) -> RemsEvidence:
    """The REMS evidence for one lenalidomide draft order. Lenient: never raises.

    ``conditions``: the prefetched Conditions already mapped (``build_cases`` has them), so
    they are not mapped a second time; ``None`` maps them here. ``observations``: the
    prefetched Observations already listed (``build_cases`` lists them once per call, not
    once per order); ``None`` lists them here."""
    mr = mr if isinstance(mr, dict) else {}
    order_at, stated = _order_instant(mr, now)
    tests: list[PregnancyTest] = []
    status: list[DatedEvidence] = []
    menopause: list[DatedEvidence] = []
    surgical: list[DatedEvidence] = []
    menarche: list[DatedEvidence] = []
    breastfeeding: list[DatedEvidence] = []
    steps: list[tuple[str, DatedEvidence]] = []
    cbc: list[DatedEvidence] = []

    if observations is None:
        observations = resources_of_type(prefetch.get("observations"), "Observation")
    for obs in observations:
        if not _usable(obs):
            continue
        # Each coding read once, and classified by one cached look-up (docs/performance.md).
        asks: set[str] = set()
        ours: set[str] = set()
        for coding in codings(obs.get("code")):
            questions, our_code = _questions(coding.system, coding.code)
            asks |= questions
            if our_code is not None:
                ours.add(our_code)
        if not asks and not ours:
            continue
        ref = resource_ref(obs) or "Observation"
        at = _effective(obs)
        if PREGNANCY_TEST in asks:
            reading = _test_result(obs)
            sensitivity = _sensitivity(obs) or reading.detection_limit
            tests.append(PregnancyTest(ref, at, reading.result, sensitivity, unreadable=reading.unreadable))
        if PREGNANCY_STATUS in asks:
            value = _roles("obs_pregnancy_status", obs.get("valueCodeableConcept")) - {"code"}
            status.append(DatedEvidence(ref, at, next(iter(sorted(value)), None)))
        if MENOPAUSAL_STATUS in asks:
            value = _roles("obs_menopausal_status", obs.get("valueCodeableConcept")) - {"code"}
            menopause.append(DatedEvidence(ref, _since(obs), next(iter(sorted(value)), None)))
        if CBC in asks:
            cbc.append(DatedEvidence(ref, at))
        if ours:
            _our_evidence(ours, ref, at, _boolean(obs), surgical, menarche, breastfeeding, steps)

    for proc in resources_of_type(prefetch.get("procedures"), "Procedure"):
        ours = _our_codes(proc.get("code"))
        if ours and _usable(proc) and text(proc.get("status")) in (None, "completed"):
            _our_evidence(
                ours, resource_ref(proc) or "Procedure", _effective(proc), None, surgical, menarche, [], steps
            )

    pregnant_conditions = []
    if conditions is None:
        conditions = (map_condition(r) for r in resources_of_type(prefetch.get("conditions"), "Condition"))
    for condition in conditions:
        if condition and condition.current and any(_role("icd_pregnancy", c.system, c.code) for c in condition.codes):
            pregnant_conditions.append(condition.ref)

    dispense = mr.get("dispenseRequest")
    performer = dispense.get("performer") if isinstance(dispense, dict) else None
    pharmacy = None if not isinstance(performer, dict) else _has_identifier(performer, PHARMACY_SYSTEM)

    risk = None
    for extension in dicts(mr.get("extension")):
        if text(extension.get("url")) == RISK_CATEGORY_EXTENSION:
            value_coding = extension.get("valueCoding")
            risk = text(extension.get("valueCode")) or (
                text(value_coding.get("code")) if isinstance(value_coding, dict) else None
            )
    authorization = next(
        (text(i.get("value")) for i in dicts(mr.get("identifier")) if text(i.get("system")) == AUTHORIZATION_SYSTEM),
        None,
    )
    return RemsEvidence(
        order_at=order_at,
        order_time_stated=stated,
        pregnancy_tests=tuple(sorted(tests, key=lambda t: t.at or datetime.min.replace(tzinfo=UTC))),
        pregnancy_status=_sorted(status),
        pregnancy_conditions=tuple(pregnant_conditions),
        menopause=_sorted(menopause),
        surgical=_sorted(surgical),
        menstruation_not_started=_sorted(menarche),
        breastfeeding=_sorted(breastfeeding),
        steps=tuple(steps),
        authorization_number=authorization,
        risk_category_written=risk,
        pharmacy_certified=pharmacy,
        prescriber_certified=any(_has_identifier(r, PRESCRIBER_SYSTEM) for r in prescriber_resources),
        antithrombotics=antithrombotics(medications),
        cbc=_sorted(cbc),
    )


def _our_evidence(
    ours: set[str],
    ref: str,
    at: datetime | None,
    flag: bool | None,
    surgical: list[DatedEvidence],
    menarche: list[DatedEvidence],
    breastfeeding: list[DatedEvidence],
    steps: list[tuple[str, DatedEvidence]],
) -> None:
    """Sort one resource coded in our system into what it shows. ``valueBoolean: false``
    denies (not breastfeeding, survey not done); no value affirms."""
    if BREASTFEEDING in ours:
        breastfeeding.append(DatedEvidence(ref, at, "no" if flag is False else "yes"))
    if flag is False:
        return
    for code in sorted(ours & SURGERY_CODES):
        surgical.append(DatedEvidence(ref, at, code))
    if MENSTRUATION_NOT_STARTED in ours:
        menarche.append(DatedEvidence(ref, at))
    for code in sorted(ours & STEP_CODES):
        steps.append((code, DatedEvidence(ref, at)))
