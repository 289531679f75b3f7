"""Completed DTR QuestionnaireResponses to plain facts: the yes/no answers a person gave.

A response counts (contract, "Documentation") when it is ``completed``, answers our
Questionnaire (any version), is about this patient, was authored at most 30 days before the
order (and not after today), and, where its DTR ``qr-coverage`` names coverages, names the
call's. In it, an item's ``valueBoolean`` answer is taken when a person gave it: DTR
``information-origin`` source ``manual`` or ``override``, or no ``information-origin`` at all.
``auto-client`` and ``auto-server`` answers are left out (the record they came from is judged
directly). Which linkIds are clauses, and what an answer may change, is the rules' business.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from .datatypes import dicts, parse_instant, reference, resource_ref, text
from .facts import DocumentedAnswer
from .resources import parse_reference

DTR = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/"
INFORMATION_ORIGIN = DTR + "information-origin"
QR_COVERAGE = DTR + "qr-coverage"
QR_CONTEXT = DTR + "qr-context"
INTENDED_USE = DTR + "intendedUse"
PERSON_SOURCES = frozenset({"manual", "override"})
MAX_AGE_DAYS = 30
_MAX_DEPTH = 32  # items nest; a deeper form is not ours


def _same(reference_text: str | None, wanted: str | None) -> bool:
    """A relative or absolute reference names ``wanted`` (``Type/id``)."""
    return wanted is not None and parse_reference(reference_text) == wanted


def _names_coverage(response: dict[str, Any], coverage_ref: str | None) -> bool:
    named = [
        reference(ext.get("valueReference"))
        for ext in dicts(response.get("extension"))
        if ext.get("url") == QR_COVERAGE
    ]
    return not named or any(_same(ref, coverage_ref) for ref in named)


def _counts(
    response: dict[str, Any],
    questionnaire_url: str,
    patient_ref: str | None,
    coverage_ref: str | None,
    as_of: date,
    today: date,
) -> datetime | None:
    """The response's ``authored`` instant when it counts, else ``None``."""
    if response.get("status") != "completed":
        return None
    canonical = text(response.get("questionnaire"))
    if canonical is None or canonical.split("|", 1)[0] != questionnaire_url:
        return None
    if not _same(reference(response.get("subject")), patient_ref):
        return None
    authored = parse_instant(response.get("authored"))
    if authored is None or (as_of - authored.date()).days > MAX_AGE_DAYS or authored.date() > today:
        return None
    return authored if _names_coverage(response, coverage_ref) else None


def _by_person(answer: dict[str, Any]) -> bool:
    origins = [ext for ext in dicts(answer.get("extension")) if ext.get("url") == INFORMATION_ORIGIN]
    if not origins:
        return True
    sources = {
        sub.get("valueCode")
        for origin in origins
        for sub in dicts(origin.get("extension"))
        if sub.get("url") == "source"
    }
    return bool(sources) and sources <= PERSON_SOURCES


def _boolean_answers(items: Any, depth: int = 0) -> Iterator[tuple[str, bool]]:
    if depth > _MAX_DEPTH:
        return
    for item in dicts(items):
        link = text(item.get("linkId"))
        for answer in dicts(item.get("answer")):
            value = answer.get("valueBoolean")
            if link is not None and isinstance(value, bool) and _by_person(answer):
                yield link, value
            yield from _boolean_answers(answer.get("item"), depth + 1)
        yield from _boolean_answers(item.get("item"), depth + 1)


def map_documentation(
    responses: Iterable[dict[str, Any]],
    *,
    questionnaire_url: str | None,
    patient_ref: str | None,
    coverage_ref: str | None,
    as_of: date,
    today: date,
) -> tuple[DocumentedAnswer, ...]:
    """The person-given yes/no answers of the responses that count, one per linkId: the most
    recently authored response wins (a later form corrects an earlier one)."""
    if questionnaire_url is None:
        return ()
    newest: dict[str, DocumentedAnswer] = {}
    for response in responses:
        authored = _counts(response, questionnaire_url, patient_ref, coverage_ref, as_of, today)
        ref = resource_ref(response)
        if authored is None or ref is None:
            continue
        for link, value in _boolean_answers(response.get("item")):
            known = newest.get(link)
            if known is None or (known.authored is not None and authored > known.authored):
                newest[link] = DocumentedAnswer(link, value, ref, authored)
    return tuple(newest.values())
