"""The words and Markdown the cards share: marks that need no emoji font, table cells, plurals,
dates as a clinician reads them, and the notes about how the record was read.

Cards are read in EHRs that render GitHub-flavoured Markdown with whatever fonts the workstation
has: marks are words or the plain ✓ and ✗, never emoji.
"""

from __future__ import annotations

from datetime import date

from fhir_mappers.facts import CaseFacts

CHECK, CROSS = "✓", "✗"

# What the prefetch keys hold, in the words of a card.
DATA_NAMES = {
    "patient": "patient demographics",
    "conditions": "diagnoses",
    "medications": "medication history",
    "coverage": "coverage",
    "observations": "laboratory results",
    "procedures": "procedures",
    "practitioner": "prescriber",
    "practitionerRoles": "prescriber roles",
}
# Prefetch keys whose absence is ordinary and changes nothing a prescriber reads: most EHRs send
# no completed DTR forms, and a criterion they could answer is shown open anyway.
QUIET_WHEN_UNREAD = {"questionnaireResponses"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 refill``, ``2 refills``; ``many`` for irregular plurals."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def day_month(day: date) -> str:
    return f"{day.day} {day:%B}"


def date_window(first: date, last: date) -> str:
    """``between 9 and 13 November``; ``between 28 October and 1 November``; years only when
    the window crosses one."""
    if first.year != last.year:
        return f"between {day_month(first)} {first.year} and {day_month(last)} {last.year}"
    if first.month == last.month:
        return f"between {first.day} and {day_month(last)}"
    return f"between {day_month(first)} and {day_month(last)}"


def join_words(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def fit_sections(sections: list[tuple[int, list[str]]], limit: int) -> str:
    """The sections (each a priority and its Markdown lines) joined by blank lines, dropping
    whole sections from the least important (highest priority number) until the text fits
    ``limit`` characters. Priority 0 is never dropped: what must be said stays, and the card
    builders keep it within the limit on their own (the scenario tests hold them to it)."""
    kept = [(priority, lines) for priority, lines in sections if lines]

    def text() -> str:
        return "\n\n".join("\n".join(lines) for _priority, lines in kept)

    while len(text()) > limit:
        droppable = [index for index, (priority, _lines) in enumerate(kept) if priority > 0]
        if not droppable:
            break
        worst = max(droppable, key=lambda index: (kept[index][0], index))
        del kept[worst]
    return text()


def record_notes(case: CaseFacts) -> list[str]:
    """One short line each about how the record was read that a reader of any card should
    know (data that could not be read). Cards show them under their main text; each line stays
    within ~160 characters so that the cards' length limits hold with them."""
    notes: list[str] = []
    unread = set(case.unavailable) - QUIET_WHEN_UNREAD
    if unread:
        missing = join_words(sorted(DATA_NAMES.get(key, key) for key in unread))
        notes.append(f"Could not be read from the EHR: {missing}; what depends on it is open.")
    return notes
