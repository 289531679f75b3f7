"""Qualitative results (the presence of an analyte, e.g. hCG) in the forms labs send them.

The one place that reads a result as negative, positive, or unreadable: ``valueString``
("NEG", "neg.", "Negative", "Not detected", "<5 mIU/mL", Soarian's ">=100UCUM
http://unitsofmeasure.org,%"), ``valueQuantity`` with or without a ``comparator``,
``valueCodeableConcept`` answers (by their text and displays), and ``interpretation`` codes
(HL7 v3 ObservationInterpretation). Cautious (``data/result_forms.json``): a false negative
harms and a false positive only asks for a retest, so any positive sign wins, a negative
needs every readable sign to agree, and a result that was reported but cannot be read is
``unreadable``, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from .code_systems import canonical_system
from .codes import load_json
from .datatypes import codings, concept_texts, dicts, text

NEGATIVE, POSITIVE = "negative", "positive"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_UPPER = {"<": True, "<=": True, "≤": True, ">": False, ">=": False, "≥": False}
# "<5 mIU/mL", ">= 100", and Soarian's "<value>UCUM <system>,<unit>".
_QUANTITY = re.compile(
    r"^\s*(?P<cmp><=|>=|<|>|≤|≥)?\s*(?P<value>\d+(?:\.\d+)?)\s*(?:ucum\s+\S+?,\s*)?(?P<unit>[^\d\s][^\s]*)?\s*$",
    re.IGNORECASE,
)
_MAX_TEXT = 200

InUnit = Callable[[Any], float | None]


@dataclass(frozen=True)
class ResultReading:
    result: str | None  # "negative" | "positive" | None (nothing reported, or unreadable)
    unreadable: bool = False  # a result was reported in a form that cannot be read
    # "<5 mIU/mL": the test detects down to 5 (in the caller's unit); None when not stated.
    detection_limit: float | None = None


@cache
def _forms() -> dict[str, Any]:
    return load_json("result_forms.json")


@cache
def _phrases(kind: str) -> re.Pattern[str]:
    words = sorted(_forms()["words"][kind], key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w-])")


def read_words(value: str) -> str | None:
    """negative / positive / None (unreadable) for a result text."""
    said = " ".join(value[:_MAX_TEXT].lower().split()).rstrip(".! ")
    if not said:
        return None
    if _phrases("negated_negative").search(said):
        return POSITIVE
    if _phrases("negated_positive").search(said):
        return None
    rest = _phrases("negative").sub(" ", said)
    if _phrases("positive").search(rest):
        return POSITIVE
    if _phrases("doubt").search(said):
        return None
    return NEGATIVE if rest != said else None


def _interpretations(obs: dict[str, Any]) -> list[str]:
    """What the interpretation codes say: "positive", "negative", "normal" or "other"."""
    table = _forms()["interpretation"]
    out = []
    for coding in codings(obs.get("interpretation")):
        system = canonical_system(coding.system)
        if not coding.code or system not in (None, INTERPRETATION):
            out.append("other")
            continue
        code = coding.code.strip().upper()
        kind = next((k for k, codes in table.items() if code in codes), "other")
        out.append(kind)
    return out


def _cut_off(obs: dict[str, Any], in_unit: InUnit) -> float | None:
    """The lab's cut-off: the upper end of its reference range, in the caller's unit."""
    for reference_range in dicts(obs.get("referenceRange")):
        high = in_unit(reference_range.get("high"))
        if high is not None:
            return high
    return None


def _quantity(obs: dict[str, Any], in_unit: InUnit) -> tuple[bool, float | None, str | None]:
    """(a quantity was reported, its value in the caller's unit, its comparator)."""
    quantity = obs.get("valueQuantity")
    if isinstance(quantity, dict):
        return True, in_unit(quantity), text(quantity.get("comparator"))
    string = text(obs.get("valueString"))
    match = _QUANTITY.match(string) if string and len(string) <= _MAX_TEXT else None
    if match is None:
        return False, None, None
    value = in_unit({"value": float(match["value"]), "unit": match["unit"]})
    return True, value, match["cmp"]


def _from_quantity(value: float | None, comparator: str | None, cut_off: float | None) -> ResultReading:
    if value is None:
        return ResultReading(None, True)
    upper = _UPPER.get(comparator or "")
    if upper is True:  # "<5": below the test's lower limit: not detected down to 5
        if cut_off is None or value <= cut_off:
            return ResultReading(NEGATIVE, detection_limit=value)
        return ResultReading(None, True)
    if upper is False:  # ">1000": above a bound
        return ResultReading(POSITIVE) if cut_off is None or value >= cut_off else ResultReading(None, True)
    if cut_off is None:
        return ResultReading(None, True)
    return ResultReading(NEGATIVE if value < cut_off else POSITIVE)


def read_presence(obs: Any, in_unit: InUnit) -> ResultReading:
    """How a qualitative result reads (see the module notes). ``in_unit`` turns a Quantity
    into the analyte's unit (None when its unit is not one)."""
    if not isinstance(obs, dict):
        return ResultReading(None)
    signs: list[str | None] = []
    reported = False
    concept = obs.get("valueCodeableConcept")
    string = text(obs.get("valueString"))
    has_quantity, value, comparator = _quantity(obs, in_unit)
    cut_off = _cut_off(obs, in_unit)
    quantity_reading = _from_quantity(value, comparator, cut_off) if has_quantity else None
    if quantity_reading is not None:
        reported = True
        signs.append(quantity_reading.result)
    elif isinstance(concept, dict):
        reported = True
        said = [read_words(t) for t in [*concept_texts(concept), *(c.code or "" for c in codings(concept))] if t]
        signs.append(POSITIVE if POSITIVE in said else NEGATIVE if NEGATIVE in said else None)
    elif string is not None:
        reported = True
        signs.append(read_words(string))
    for kind in _interpretations(obs):
        reported = True
        if kind == "normal":
            # "Normal" says negative only beside a value below the cut-off (already a sign).
            signs.append(NEGATIVE if quantity_reading is not None and quantity_reading.result == NEGATIVE else None)
        else:
            signs.append(kind if kind in (NEGATIVE, POSITIVE) else None)
    if not reported:
        return ResultReading(None)
    limit = quantity_reading.detection_limit if quantity_reading else None
    if POSITIVE in signs:
        return ResultReading(POSITIVE)
    if signs and all(s == NEGATIVE for s in signs):
        return ResultReading(NEGATIVE, detection_limit=limit)
    return ResultReading(None, True)
