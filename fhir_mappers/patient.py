"""Patient to facts, and ages on a date (birth dates may be partial)."""

from __future__ import annotations

from datetime import date
from typing import Any

from .datatypes import parse_date, parse_partial_date, resource_ref, text
from .facts import PatientFacts

_SEXES = ("female", "male", "other")
# FHIR AdministrativeGender: what the record says, "unknown" included.
_GENDERS = (*_SEXES, "unknown")


def map_patient(resource: Any) -> PatientFacts | None:
    """Sex from ``gender`` ("unknown" and anything else: ``None``), and the gender as
    recorded (so that "unknown" is said as such); the birth date, full or partial. ``None``
    when the value is not a Patient."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
        return None
    raw = text(resource.get("birthDate"))
    birth = parse_date(raw)
    partial = raw if birth is None and parse_partial_date(raw) is not None else None
    gender = text(resource.get("gender"))
    gender = gender.lower() if gender else None
    return PatientFacts(
        ref=resource_ref(resource) or "Patient",
        birth_date=birth,
        sex=gender if gender in _SEXES else None,
        birth_date_partial=partial,
        gender_recorded=gender if gender in _GENDERS else None,
    )


def _years_between(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_range_on(birth_date: date | str | None, on_date: date | None) -> tuple[int, int] | None:
    """(least, greatest) age in whole years on ``on_date``. A full birth date gives one age;
    a partial one (``1950``, ``1950-09``) the ages of its last and first possible days.
    ``None`` when unknown or when the date is before any possible birth."""
    if on_date is None or birth_date is None:
        return None
    if isinstance(birth_date, date):
        span: tuple[date, date] | None = (birth_date, birth_date)
    else:
        span = parse_partial_date(birth_date)
    if span is None:
        return None
    first, last = span
    if on_date < first:
        return None
    least = _years_between(last, on_date) if on_date >= last else 0
    return least, _years_between(first, on_date)


def age_on(birth_date: date | str | None, on_date: date | None) -> int | None:
    """The age that is certain on ``on_date``: exact for a full birth date; for a partial
    one the least possible age (born 1950, judged on 2026-06-01: 75, though 76 is possible).
    A criterion "at least N years" met on this age is certainly met; see
    ``age_range_on`` for the greatest possible age."""
    ages = age_range_on(birth_date, on_date)
    return ages[0] if ages else None
