"""Lenient readers for FHIR datatypes in plain JSON dicts.

Every reader takes whatever a client sent (any JSON value, or ``None``) and returns a
typed value or ``None`` / empty: they never raise. Real clients send single objects where
the specification has arrays (``category``, ``doseAndRate``), so ``as_list`` wraps them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache, wraps
from typing import Any, TypeVar

from .code_systems import canonical_code, canonical_system
from .facts import Coding

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$")


def as_list(value: Any) -> list[Any]:
    """A FHIR array as a list: a single object (a common client fault) becomes one item."""
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [value]


def cached_by_code(func: Callable[..., _T]) -> Callable[..., _T]:
    """Memoise a pure function of short string arguments (systems, codes, dates).

    The code-set look-ups and date parsing run for every coding and date of every resource,
    and a record repeats the same few (every weekly hemoglobin has the same LOINC coding,
    every result of a lab panel the same timestamp): answers are cached
    when every argument is a string (of bounded length) or None, and computed afresh for
    anything else a lenient reader may be handed. Callers must return immutable values."""
    cached = lru_cache(maxsize=4096)(func)

    @wraps(func)
    def lookup(*args: Any) -> _T:
        for arg in args:
            if arg is not None and (type(arg) is not str or len(arg) > _CACHED_ARG_CHARS):
                return func(*args)
        return cached(*args)

    return lookup


_CACHED_ARG_CHARS = 256
_T = TypeVar("_T")


def dicts(value: Any) -> Iterator[dict[str, Any]]:
    """The dict items of an array-or-object value."""
    for item in as_list(value):
        if isinstance(item, dict):
            yield item


def text(value: Any) -> str | None:
    """A non-empty string, stripped; anything else is ``None``."""
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return None


def number(value: Any) -> float | None:
    """A finite JSON number (not a boolean); numeric strings are accepted too."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            result = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str) and len(value) < 40:
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    """A whole number (``3`` or ``3.0``), else ``None``."""
    result = number(value)
    if result is None or result != int(result):
        return None
    return int(result)


def codings(concept: Any) -> list[Coding]:
    """The codings of a CodeableConcept (or of a bare Coding, or a list of either).

    Called for every coded element of every resource, several times per resource: written
    as plain loops (no generators, no second filtering pass) because it shows in profiles."""
    out: list[Coding] = []
    if concept is None:
        return out
    for item in concept if isinstance(concept, list) else (concept,):
        if not isinstance(item, dict):
            continue
        if "coding" in item:
            inner = item.get("coding")
            for coding in inner if isinstance(inner, list) else () if inner is None else (inner,):
                if isinstance(coding, dict):
                    found = _coding(coding)
                    if found.code or found.display:
                        out.append(found)
        elif "code" in item or "system" in item:
            found = _coding(item)
            if found.code or found.display:
                out.append(found)
    return out


def _coding(coding: dict[str, Any]) -> Coding:
    return _make_coding(coding.get("system"), coding.get("code"), coding.get("display"))


# A record repeats the same few codings in every resource (each weekly hemoglobin carries the
# same LOINC coding): Coding is frozen, so one instance per distinct (system, code, display)
# serves them all.
@cached_by_code
def _make_coding(system: Any, code: Any, display: Any) -> Coding:
    """The system in its canonical spelling (an OID or ``https`` form of a known system
    reads as its FHIR URI) and an ICD-10-CM code as the code sets spell it (``c9001`` reads
    as ``C90.01``): the rules compare codings as given, so they compare alike here."""
    if isinstance(code, int | float) and not isinstance(code, bool):
        code = str(code)
    canonical = canonical_system(text(system))
    return Coding(system=canonical, code=canonical_code(canonical, text(code)), display=text(display))


def concept_texts(concept: Any) -> list[str]:
    """The human texts of a CodeableConcept: its ``text`` and its codings' displays."""
    out: list[str] = []
    for item in dicts(concept):
        value = text(item.get("text"))
        if value:
            out.append(value)
    out.extend(c.display for c in codings(concept) if c.display)
    return out


def first_code(concept: Any) -> str | None:
    """The first code of a CodeableConcept, or the value itself when it is a plain code
    string (DSTU2/STU3 used plain codes where R4 has CodeableConcepts)."""
    plain = text(concept)
    if plain:
        return plain
    for coding in codings(concept):
        if coding.code:
            return coding.code
    return None


def reference(value: Any) -> str | None:
    """The ``reference`` string of a Reference."""
    return text(value.get("reference")) if isinstance(value, dict) else None


def parse_date(value: Any) -> date | None:
    """The calendar date of a full FHIR date or dateTime, as written (a dateTime keeps the
    date of its own offset: ``2026-11-22T23:30:00-05:00`` is 22 November). Partial dates
    (``2026``, ``2026-11``) are ``None``: they do not name one day."""
    raw = text(value)
    if raw is None:
        return None
    return _parse_date(raw)


@cached_by_code
def _parse_date(raw: str) -> date | None:
    """Cached, as ``_parse_instant``: a record repeats its dates. Dates are immutable."""
    match = _DATE.match(raw)
    if match:
        if match.group(3) is None:
            return None
        return _safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = _DATETIME.match(raw)
    if match:
        return _safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    return None


def parse_partial_date(value: Any) -> tuple[date, date] | None:
    """The first and last day a FHIR date (full or partial) or dateTime may mean:
    ``1950`` is 1950-01-01..1950-12-31, ``1950-09`` is 1950-09-01..1950-09-30."""
    raw = text(value)
    if raw is None:
        return None
    match = _DATE.match(raw)
    if not match:
        day = parse_date(raw)
        return (day, day) if day else None
    year = int(match.group(1))
    if match.group(2) is None:
        first, last = _safe_date(year, 1, 1), _safe_date(year, 12, 31)
    elif match.group(3) is None:
        month = int(match.group(2))
        first = _safe_date(year, month, 1)
        following = _safe_date(year + (month == 12), month % 12 + 1, 1) if first else None
        last = following - timedelta(days=1) if following else None
    else:
        first = last = _safe_date(year, int(match.group(2)), int(match.group(3)))
    if first is None or last is None:
        return None
    return first, last


def parse_instant(value: Any) -> datetime | None:
    """A FHIR date or dateTime as an aware datetime in UTC. A date is its midnight UTC; a
    dateTime without an offset is taken as UTC; one with an offset is converted."""
    raw = text(value)
    if raw is None:
        return None
    return _parse_instant(raw)


@cached_by_code
def _parse_instant(raw: str) -> datetime | None:
    """Cached: a record repeats its timestamps (every result of a lab panel shares one), and
    parsing them showed in profiles (docs/performance.md). Datetimes are immutable."""
    match = _DATE.match(raw)
    if match:
        day = parse_date(raw)
        return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None
    match = _DATETIME.match(raw)
    if not match:
        return None
    year, month, day_, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    fraction = (match.group(7) or "").ljust(6, "0")[:6]
    zone = match.group(8)
    try:
        if zone in (None, "Z"):
            tz: timezone = UTC
        else:
            sign = -1 if zone[0] == "-" else 1
            tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        stamp = datetime(year, month, day_, hour, minute, min(second, 59), int(fraction), tzinfo=tz)
        return stamp.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def quantity_unit(quantity: Any) -> str | None:
    """A Quantity's unit, preferring the UCUM ``code`` over the free ``unit`` text."""
    if not isinstance(quantity, dict):
        return None
    return text(quantity.get("code")) or text(quantity.get("unit"))


def resource_ref(resource: Any) -> str | None:
    """``Type/id`` of a resource, or ``None`` when it has no type or id."""
    if not isinstance(resource, dict):
        return None
    kind, ident = text(resource.get("resourceType")), resource.get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    ident = text(ident)
    return f"{kind}/{ident}" if kind and ident else None
