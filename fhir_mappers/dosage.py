"""Dosage arithmetic: from ``dosageInstruction`` and ``dispenseRequest`` to per-day numbers.

Conventions (the rules and cards rely on them):

- ``administrations_per_day`` is the average over calendar days (``frequency`` per
  ``period``): 2 for BID, 0.5 for every other day, 3/7 for three times a week.
- ``capsules_per_day`` is the same average in capsules; days' supply divides by it.
- ``daily_dose_mg`` is what is taken on a day the drug is taken: the dose per
  administration times the administrations per day, but never fewer than one
  administration (25 mg every other day is 25 mg on the days it is taken, not 12.5 mg/day).
  A ceiling in "mg/day" is about the day the patient takes it.
- Several ``dosageInstruction`` entries: entries sharing a ``sequence`` number are taken
  together (FHIR: same sequence = concurrent), so their doses add up; different sequences,
  or no sequence, are successive steps, and the daily dose is the largest step's. Summing
  successive steps (a titration 3 -> 10 -> 30 mg) would report a dose nobody takes.
  Entries with no dose at all (free-text notes) are left out of the arithmetic.
- A treatment cycle ("days 1-21 of a 28-day cycle") is read from the dosage texts only
  (FHIR Timing cannot state it): it is kept for display and for days' supply, never for
  the daily dose.
- Days' supply: stated (``expectedSupplyDuration``) and computed (the dispensed capsules
  divided by capsules per day, which gives dosing days; with a cycle, dosing days become
  calendar days the way pharmacies count cycled lenalidomide: 21 capsules at one a day on
  days 1-21 of 28 are a 28-day supply, the rest week covered by the same fill; 56 are 70
  days). The supply judged is the larger of the two: a stated 28 days does not hide 56
  capsules taken on days 1-21 of 28.
- A cycle is read from the dosage texts ("days 1-21 of 28-day cycles", "21 days on, 7
  off"), or from ``timing.repeat`` bounds (``boundsDuration`` 21 days, or a
  ``boundsPeriod`` of 21 days) with the cycle length in the texts ("28-day cycle", "every
  28 days", "q28d").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .datatypes import as_list, codings, dicts, number, parse_date, quantity_unit, text
from .facts import Cycle

GTS_ABBREVIATION = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"

# Length of one UCUM time unit (and its common spelled-out forms) in days.
_UNIT_DAYS: dict[str, float] = {
    "s": 1 / 86400,
    "sec": 1 / 86400,
    "second": 1 / 86400,
    "seconds": 1 / 86400,
    "min": 1 / 1440,
    "minute": 1 / 1440,
    "minutes": 1 / 1440,
    "h": 1 / 24,
    "hr": 1 / 24,
    "hour": 1 / 24,
    "hours": 1 / 24,
    "d": 1.0,
    "day": 1.0,
    "days": 1.0,
    "wk": 7.0,
    "week": 7.0,
    "weeks": 7.0,
    "mo": 30.0,
    "month": 30.0,
    "months": 30.0,
    "a": 365.0,
    "year": 365.0,
    "years": 365.0,
}

# Standard FHIR timing abbreviations (v3 GTSAbbreviation): (frequency, period, periodUnit).
_TIMING_CODES: dict[str, tuple[float, float, str]] = {
    "QD": (1, 1, "d"),
    "BID": (2, 1, "d"),
    "TID": (3, 1, "d"),
    "QID": (4, 1, "d"),
    "AM": (1, 1, "d"),
    "PM": (1, 1, "d"),
    "QHS": (1, 1, "d"),
    "BED": (1, 1, "d"),
    "QOD": (1, 2, "d"),
    "Q1H": (1, 1, "h"),
    "Q2H": (1, 2, "h"),
    "Q3H": (1, 3, "h"),
    "Q4H": (1, 4, "h"),
    "Q6H": (1, 6, "h"),
    "Q8H": (1, 8, "h"),
    "Q12H": (1, 12, "h"),
    "WK": (1, 1, "wk"),
    "MO": (1, 1, "mo"),
}

_MASS_MG = {
    "mg": 1.0,
    "milligram": 1.0,
    "milligrams": 1.0,
    "g": 1000.0,
    "gram": 1000.0,
    "grams": 1000.0,
    "ug": 0.001,
    "mcg": 0.001,
    "µg": 0.001,
    "μg": 0.001,
    "microgram": 0.001,
    "micrograms": 0.001,
}

# Units that count dosage forms (lenalidomide only comes as capsules): UCUM annotations
# such as {pill} and {capsule}, the unity "1", v3 orderableDrugForm CAP/TAB, plain words.
_COUNT_UNITS = {
    "1",
    "pill",
    "pills",
    "capsule",
    "capsules",
    "capsule(s)",
    "cap",
    "caps",
    "tab",
    "tabs",
    "tablet",
    "tablets",
    "tablet(s)",
    "tbl",
    "each",
    "ea",
}

_MAX_TEXT = 1000

_TEXT_FREQUENCIES: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), per_day)
    for pattern, per_day in (
        (r"\b(?:twice|two\s+times)\s+(?:a\s+|per\s+|each\s+)?(?:daily|day)\b|\bb\.?i\.?d\b", 2.0),
        (r"\b(?:three|3)\s+times\s+(?:a\s+|per\s+|each\s+)?(?:daily|day)\b|\bt\.?i\.?d\b", 3.0),
        (r"\b(?:four|4)\s+times\s+(?:a\s+|per\s+|each\s+)?(?:daily|day)\b|\bq\.?i\.?d\b", 4.0),
        (r"\bevery\s+other\s+day\b|\bq\.?o\.?d\b|\balternate\s+days\b", 0.5),
        (
            r"\bonce\s+(?:a\s+|per\s+|each\s+)?day\b|\b(?:once\s+)?daily\b(?![-\s]*dos)"
            r"|\bq\.?d\b|\bevery\s+day\b|\bnightly\b|\bat\s+bedtime\b",
            1.0,
        ),
    )
)

_DASH = r"(?:-|–|—|to|through|thru)"
_CYCLE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # "21 days on, 7 days off"
        r"\b(?P<on>\d{1,2})\s*days?\s*on\b[^.;\n\d]{0,20}?(?P<off>\d{1,2})\s*days?\s*off\b",
        # "days 1-21 of each 28-day cycle", "d1-21 q28d", "days 1 to 21 every 4 weeks"
        rf"\b(?:days?|d)\s*1\s*{_DASH}\s*(?P<on>\d{{1,2}})\b[^.;\n\d]{{0,30}}?"
        r"(?:\bof\b|\bevery\b|\bq(?=\s*\d)|\beach\b|\bper\b|/|\bcycles?\b|\brepeat\w*)"
        r"[^.;\n\d]{0,20}?(?P<len>\d{1,2})\s*-?\s*(?P<unit>days?|d|weeks?|wks?|wk)?\b",
        # "for 21 days of a 28-day cycle", "21 of 28 days"
        r"\b(?P<on>\d{1,2})\s*(?:days?\s+)?(?:of|out\s+of|in)\s+(?:a\s+|an\s+|each\s+|every\s+)?"
        r"(?P<len>\d{1,2})\s*-?\s*(?P<unit>days?|d)\b",
    )
)


@dataclass(frozen=True)
class DoseLine:
    """One dosageInstruction, read."""

    sequence: int | None
    mg_per_administration: float | None
    capsules_per_administration: float | None
    administrations_per_day: float | None
    up_to: bool  # the dose is a range's upper end

    @property
    def daily_mg(self) -> float | None:
        if self.mg_per_administration is None or self.administrations_per_day is None:
            return None
        return finite(self.mg_per_administration * max(self.administrations_per_day, 1.0))

    @property
    def capsules_per_day(self) -> float | None:
        if self.capsules_per_administration is None or self.administrations_per_day is None:
            return None
        return finite(self.capsules_per_administration * self.administrations_per_day)


@dataclass(frozen=True)
class DoseSummary:
    daily_dose_mg: float | None
    capsules_per_day: float | None
    dose_per_administration_mg: float | None
    administrations_per_day: float | None
    dose_text: str | None
    cycle: Cycle | None


def unit_days(unit: Any) -> float | None:
    value = text(unit)
    return _UNIT_DAYS.get(value.lower()) if value else None


def duration_days(quantity: Any) -> float | None:
    """A Duration (``{"value": 4, "code": "wk"}``) in days."""
    if not isinstance(quantity, dict):
        return None
    value = number(quantity.get("value"))
    if value is None or value < 0:
        return None
    for unit in (quantity.get("code"), quantity.get("unit")):
        days = unit_days(unit)
        if days is not None:
            return finite(value * days)
    return None


def _norm_unit(unit: Any) -> str | None:
    value = text(unit)
    return value.strip("{}").strip().lower() if value else None


def mass_mg(quantity: Any) -> float | None:
    """A Quantity of mass in mg (mg, g, ug/mcg)."""
    if not isinstance(quantity, dict):
        return None
    value = number(quantity.get("value"))
    if value is None or value < 0:
        return None
    for unit in (quantity.get("code"), quantity.get("unit")):
        factor = _MASS_MG.get(_norm_unit(unit) or "")
        if factor is not None:
            return finite(value * factor)
    return None


def is_count_quantity(quantity: Any) -> bool:
    """Whether a Quantity counts dosage forms (capsules, tablets, pills, the unity 1)."""
    if not isinstance(quantity, dict):
        return False
    return any(_norm_unit(u) in _COUNT_UNITS for u in (quantity.get("code"), quantity.get("unit")))


def count_of(quantity: Any) -> float | None:
    if not is_count_quantity(quantity):
        return None
    value = number(quantity.get("value"))
    return value if value is not None and value >= 0 else None


def finite(value: float | None) -> float | None:
    """The value when it is a finite number: arithmetic on absurd inputs (1e308 capsules)
    gives no infinities downstream."""
    return value if value is not None and math.isfinite(value) else None


def _per_day(frequency: float | None, period: float | None, unit: Any) -> float | None:
    days = unit_days(unit)
    if period is None or days is None or not period * days > 0:
        return None
    freq = frequency if frequency is not None and frequency > 0 else 1.0
    return finite(freq / (period * days))


def administrations_per_day(timing: Any) -> float | None:
    """Average administrations per calendar day from a Timing: ``repeat`` (frequency per
    period, or the number of ``timeOfDay`` / ``when`` entries), else its abbreviation code."""
    if not isinstance(timing, dict):
        return None
    repeat = timing.get("repeat")
    if isinstance(repeat, dict):
        unit = repeat.get("periodUnit", repeat.get("periodUnits"))
        per_day = _per_day(number(repeat.get("frequency")), number(repeat.get("period")), unit)
        if per_day is None:
            times = [t for t in as_list(repeat.get("timeOfDay")) if text(t)]
            whens = [w for w in as_list(repeat.get("when")) if text(w)]
            if times or whens:
                per_day = float(len(times) or len(whens))
        if per_day is not None:
            days_of_week = {d for d in as_list(repeat.get("dayOfWeek")) if text(d)}
            if days_of_week and per_day >= 1 and len(days_of_week) < 7:
                per_day *= len(days_of_week) / 7
            return per_day
    for coding in codings(timing.get("code")):
        if coding.system in (None, GTS_ABBREVIATION) and coding.code:
            known = _TIMING_CODES.get(coding.code.upper())
            if known:
                return _per_day(*known)
    return None


def frequency_from_text(texts: list[str]) -> float | None:
    """Administrations per day when a dosage text says so plainly (daily, QD, BID...)."""
    for value in texts:
        for pattern, per_day in _TEXT_FREQUENCIES:
            if pattern.search(value[:_MAX_TEXT]):
                return per_day
    return None


def parse_cycle(texts: list[str]) -> Cycle | None:
    """A treatment cycle stated in free text ("days 1-21 of 28-day cycle", "d1-21 q28d",
    "21 days on, 7 days off"), or ``None``."""
    for value in texts:
        for pattern in _CYCLE_PATTERNS:
            match = pattern.search(value[:_MAX_TEXT])
            if not match:
                continue
            groups = match.groupdict()
            on = int(groups["on"])
            if groups.get("off") is not None:
                length = on + int(groups["off"])
            else:
                length = int(groups["len"]) * (7 if (groups.get("unit") or "").lower().startswith("w") else 1)
            if 1 <= on <= length <= 84:
                return Cycle(days_on=on, cycle_length_days=length)
    return None


_CYCLE_LENGTH = re.compile(
    r"\b(?P<len>\d{1,2})\s*-?\s*(?P<unit>days?|d|weeks?|wks?)[\s-]*cycles?\b"
    r"|\bcycles?\s+(?:of\s+)?(?P<len2>\d{1,2})\s*-?\s*(?P<unit2>days?|weeks?)\b"
    r"|\b(?:every|repeat(?:ed)?\s+every|q)\s*(?P<len3>\d{1,2})\s*-?\s*(?P<unit3>days?|d|weeks?|wks?)\b",
    re.IGNORECASE,
)


def _cycle_length(texts: list[str]) -> int | None:
    """A cycle length stated in text ("28-day cycle", "cycles of 28 days", "every 4 weeks", "q28d")."""
    for value in texts:
        match = _CYCLE_LENGTH.search(value[:_MAX_TEXT])
        if match:
            groups = match.groupdict()
            length = next(groups[k] for k in ("len", "len2", "len3") if groups[k])
            unit = next((groups[k] for k in ("unit", "unit2", "unit3") if groups[k]), "d")
            days = int(length) * (7 if unit.lower().startswith("w") else 1)
            return days if 1 <= days <= 84 else None
    return None


def _bounded_days(timing: Any) -> int | None:
    """The days a ``timing.repeat`` is bounded to (``boundsDuration``, or a ``boundsPeriod``
    counted inclusively), when whole days."""
    repeat = timing.get("repeat") if isinstance(timing, dict) else None
    if not isinstance(repeat, dict):
        return None
    days = duration_days(repeat.get("boundsDuration"))
    period = repeat.get("boundsPeriod")
    if days is None and isinstance(period, dict):
        start, end = parse_date(period.get("start")), parse_date(period.get("end"))
        days = float((end - start).days + 1) if start and end and end >= start else None
    return int(days) if days is not None and days >= 1 and math.isclose(days, round(days)) else None


def cycle_from_timing(dosages: list[dict[str, Any]], texts: list[str]) -> Cycle | None:
    """Days 1-N of an L-day cycle from ``timing.repeat`` bounds (N days) and a cycle length
    in the texts; ``None`` unless both are there and N is shorter than L."""
    length = _cycle_length(texts)
    if length is None:
        return None
    for dosage in dosages:
        on = _bounded_days(dosage.get("timing"))
        if on is not None and on < length:
            return Cycle(days_on=on, cycle_length_days=length)
    return None


def _dose_quantity(dosage: dict[str, Any]) -> tuple[Any, bool]:
    """(the ordered dose quantity, whether it is a range's upper end). R4 has it in
    ``doseAndRate`` (an array, or an object from some clients); STU3/DSTU2 on the dosage."""
    entries = list(dicts(dosage.get("doseAndRate")))
    ordered = [e for e in entries if any(c.code == "ordered" for c in codings(e.get("type")))]
    for entry in ordered + entries:
        if isinstance(entry.get("doseQuantity"), dict):
            return entry["doseQuantity"], False
    for entry in ordered + entries:
        dose_range = entry.get("doseRange")
        if isinstance(dose_range, dict) and isinstance(dose_range.get("high"), dict):
            return dose_range["high"], True
    if isinstance(dosage.get("doseQuantity"), dict):
        return dosage["doseQuantity"], False
    dose_range = dosage.get("doseRange")
    if isinstance(dose_range, dict) and isinstance(dose_range.get("high"), dict):
        return dose_range["high"], True
    return None, False


def dosage_texts(dosage: dict[str, Any]) -> list[str]:
    out = [text(dosage.get("text")), text(dosage.get("patientInstruction"))]
    out += [text(i.get("text")) for i in dicts(dosage.get("additionalInstruction"))]
    return [t for t in out if t]


def read_line(dosage: dict[str, Any], strength_mg: float | None) -> DoseLine | None:
    """One dosage instruction; ``None`` when it states no dose at all."""
    quantity, up_to = _dose_quantity(dosage)
    if quantity is None:
        return None
    mg = mass_mg(quantity)
    capsules = count_of(quantity)
    if mg is None and capsules is not None and strength_mg is not None:
        mg = finite(capsules * strength_mg)
    if capsules is None and mg is not None and strength_mg:
        # Capsules cannot be split: a dose that is no whole number of capsules of this
        # strength says nothing reliable about capsules.
        ratio = finite(mg / strength_mg)
        whole = round(ratio) if ratio is not None else 0
        capsules = float(whole) if whole > 0 and math.isclose(whole * strength_mg, mg) else None
    per_day = administrations_per_day(dosage.get("timing"))
    if per_day is None and not _has_structured_timing(dosage.get("timing")):
        per_day = frequency_from_text(dosage_texts(dosage))
    sequence = dosage.get("sequence")
    return DoseLine(
        sequence=sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else None,
        mg_per_administration=mg,
        capsules_per_administration=capsules,
        administrations_per_day=per_day,
        up_to=up_to,
    )


def _has_structured_timing(timing: Any) -> bool:
    return isinstance(timing, dict) and (isinstance(timing.get("repeat"), dict) or bool(codings(timing.get("code"))))


def _sum(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else finite(sum(v for v in values if v is not None))


def summarise(dosage_instruction: Any, strength_mg: float | None, extra_texts: list[str]) -> DoseSummary:
    """The per-day numbers of a MedicationRequest's dosage (see the module notes)."""
    dosages = list(dicts(dosage_instruction))
    lines = [line for line in (read_line(d, strength_mg) for d in dosages) if line is not None]
    texts = [t for d in dosages for t in dosage_texts(d)] + extra_texts
    cycle = parse_cycle(texts) or cycle_from_timing(dosages, texts)

    groups: dict[object, list[DoseLine]] = {}
    for index, line in enumerate(lines):
        key: object = ("seq", line.sequence) if line.sequence is not None else ("line", index)
        groups.setdefault(key, []).append(line)

    best: list[DoseLine] | None = None
    best_daily: float | None = None
    unknown = False
    for group in groups.values():
        daily = _sum([line.daily_mg for line in group])
        if daily is None:
            unknown = True
        elif best_daily is None or daily > best_daily:
            best, best_daily = group, daily
    if best is None and len(groups) == 1:
        best = next(iter(groups.values()))

    daily_dose = None if unknown else best_daily
    capsules_per_day = per_admin = admins = None
    if best is not None and (not unknown or len(groups) == 1):
        capsules_per_day = _sum([line.capsules_per_day for line in best])
        admins = _sum([line.administrations_per_day for line in best])
        doses = {line.mg_per_administration for line in best}
        per_admin = doses.pop() if len(doses) == 1 else None

    rendered = [r for r in (_render(line, strength_mg) for line in lines[:3]) if r]
    dose_text: str | None
    if rendered:
        dose_text = "; ".join(rendered)
        if cycle and cycle.days_on < cycle.cycle_length_days:
            dose_text += f", days 1-{cycle.days_on} of {cycle.cycle_length_days}"
    else:
        free = [t for d in dosages for t in dosage_texts(d)]
        dose_text = free[0][:100] if free else None
    return DoseSummary(
        daily_dose_mg=daily_dose,
        capsules_per_day=capsules_per_day,
        dose_per_administration_mg=per_admin,
        administrations_per_day=admins,
        dose_text=dose_text,
        cycle=cycle,
    )


def fmt(value: float) -> str:
    return f"{value:.4g}" if value < 1e5 else f"{value:.0f}"


def _frequency_phrase(per_day: float) -> str:
    named = {1.0: "once daily", 2.0: "twice daily", 3.0: "three times daily", 4.0: "four times daily"}
    for known, phrase in named.items():
        if math.isclose(per_day, known):
            return phrase
    if math.isclose(per_day, 0.5):
        return "every other day"
    if per_day < 1 and math.isclose(per_day * 7, round(per_day * 7)):
        weekly = round(per_day * 7)
        return "once weekly" if weekly == 1 else f"{weekly} times weekly"
    if per_day > 1 and math.isclose(per_day, round(per_day)):
        return f"{round(per_day)} times daily"
    return f"{fmt(per_day)} times per day"


def _render(line: DoseLine, strength_mg: float | None) -> str | None:
    prefix = "up to " if line.up_to else ""
    capsules, mg = line.capsules_per_administration, line.mg_per_administration
    if capsules is not None and strength_mg and capsules > 0 and not math.isclose(capsules, 1.0):
        dose = f"{fmt(capsules)} × {fmt(strength_mg)} mg capsules"
    elif mg is not None:
        dose = f"{fmt(mg)} mg"
    elif capsules is not None:
        dose = f"{fmt(capsules)} capsule" + ("" if math.isclose(capsules, 1.0) else "s")
    else:
        return None
    if line.administrations_per_day:
        return f"{prefix}{dose} {_frequency_phrase(line.administrations_per_day)}"
    return prefix + dose


@dataclass(frozen=True)
class Supply:
    """What a fill covers: as the order states it, as its quantity and schedule compute it,
    and the larger of the two, which the REMS 28-day limit is judged on."""

    stated_days: float | None
    computed_days: float | None
    quantity: float | None  # dispense quantity (capsules when the unit says so)

    @property
    def days(self) -> float | None:
        known = [d for d in (self.stated_days, self.computed_days) if d is not None]
        return max(known) if known else None


def calendar_days(dosing_days: float, cycle: Cycle | None) -> float | None:
    """Calendar days that ``dosing_days`` of drug last on a cycle: 21 capsules at one a day
    on days 1-21 of 28 last 28 days (the rest week is covered by the same fill), 56 last 70."""
    if cycle is None or cycle.days_on >= cycle.cycle_length_days:
        return finite(dosing_days)
    full_cycles = (dosing_days + 1e-9) // cycle.days_on
    remainder = max(dosing_days - full_cycles * cycle.days_on, 0.0)
    if remainder < 1e-9:
        remainder = 0.0
    return finite(full_cycles * cycle.cycle_length_days + remainder)


def capsules_for_days(days: float, capsules_per_day: float, cycle: Cycle | None) -> int:
    """The most whole capsules whose supply (``calendar_days``) is at most ``days``."""
    if cycle is None or cycle.days_on >= cycle.cycle_length_days:
        dosing = days
    else:
        full, rest = divmod(days, cycle.cycle_length_days)
        dosing = full * cycle.days_on + min(rest, cycle.days_on)
    return max(math.floor(dosing * capsules_per_day + 1e-9), 0)


def days_supply(dispense_request: Any, capsules_per_day: float | None, cycle: Cycle | None) -> Supply:
    """The supply of a dispenseRequest (see the module notes).

    The quantity is used when it counts dosage forms or states no unit (lenalidomide is
    dispensed in capsules); a quantity in mL or mg is not capsules and is not used.
    """
    if not isinstance(dispense_request, dict):
        return Supply(None, None, None)
    raw = dispense_request.get("quantity")
    quantity = None
    if isinstance(raw, dict) and (is_count_quantity(raw) or quantity_unit(raw) is None):
        value = number(raw.get("value"))
        quantity = value if value is not None and value >= 0 else None
    stated = duration_days(dispense_request.get("expectedSupplyDuration"))
    computed = None
    if quantity is not None and capsules_per_day and capsules_per_day > 0:
        dosing_days = finite(quantity / capsules_per_day)
        computed = calendar_days(dosing_days, cycle) if dosing_days is not None else None
    return Supply(stated, computed, quantity)
