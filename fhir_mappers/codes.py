"""The code sets of ``data/codesets.json``, loaded once, and lookups over them.

No clinical code is written here: every code comes from ``codesets.json``, which
``scripts/build_codesets.py`` builds from the shared terminology reference. What lives in
this module is how codes are compared: code-system aliases, NDC normalisation (package
NDCs in their 10-digit hyphenated and 11-digit forms, product NDCs), ICD-10 with or
without the dot, and whole-word matching of drug names when no known code is present.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from .code_systems import ICD10CM, NDC, NUCC, RXNORM, SNOMED, canonical_system, icd10_key
from .datatypes import cached_by_code, codings, concept_texts, text

__all__ = ["ICD10CM", "NDC", "NUCC", "RXNORM", "SNOMED", "icd10_key"]

ICD10 = "http://hl7.org/fhir/sid/icd-10"

# Systems read as another: WHO ICD-10 shares the three- and four-character codes of
# ICD-10-CM that the groups list (e.g. C90.0).
_SYSTEM_ALIASES = {ICD10: ICD10CM}

# NUCC specialty categories, recognised by a word of the taxonomy's display in the data.
_SPECIALTY_WORDS = {"Hematology": "hematology", "Oncology": "oncology", "Immunology": "immunology"}

_MAX_NAME_TEXT = 2000


class CodeListError(ValueError):
    """A code list of ``fhir_mappers/data`` does not load; the message names the file or table."""


_T = TypeVar("_T")

# The lookup tables built from the code lists (``@table``), built at start by load_code_lists.
_TABLES: list[Callable[[], Any]] = []


@cache
def load_json(name: str) -> dict[str, Any]:
    """A JSON table of ``fhir_mappers/data``, read once."""
    return json.loads(resources.files("fhir_mappers").joinpath("data", name).read_text(encoding="utf-8"))


def table(build: Callable[[], _T]) -> Callable[[], _T]:
    """A lookup table built from the code lists once (``functools.cache``), and registered so
    that :func:`load_code_lists` builds it at start."""
    cached = cache(build)
    _TABLES.append(cached)
    return cached


def load_code_lists() -> None:
    """Read every code list and build every table from them now. The service calls this at start, so
    a bad edit of ``fhir_mappers/data`` refuses to start (:class:`CodeListError`, one line naming the
    file or the table) instead of failing hook calls."""
    from . import condition, coverage, observation  # noqa: F401  (their tables register on import)

    for entry in sorted(resources.files("fhir_mappers").joinpath("data").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            try:
                load_json(entry.name)
            except (OSError, ValueError) as exc:
                raise CodeListError(f"fhir_mappers/data/{entry.name}: {_one_line(exc)}") from None
    for build in _TABLES:
        try:
            build()
        except (LookupError, TypeError, ValueError, AttributeError, re.error) as exc:
            raise CodeListError(f"{build.__module__}.{build.__name__}: {type(exc).__name__} {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def codesets() -> dict[str, Any]:
    return load_json("codesets.json")


def normalise_system(system: Any) -> str | None:
    value = text(system)
    if value is None:
        return None
    return _normalised(value)


@cached_by_code
def _normalised(value: str) -> str:
    """Cached: a handful of systems, looked up for every coding of every resource. Any
    spelling of a known system (``code_systems``), then the aliases."""
    value = canonical_system(value) or value
    return _SYSTEM_ALIASES.get(value, value)


def ndc_candidates(code: Any) -> list[tuple[str | None, str]]:
    """The (11-digit package, 9-digit product) keys an NDC may stand for, in 5-4-2 form.

    Hyphenated NDCs (4-4-2, 5-3-2, 5-4-1, 5-4-2, or labeler-product 4-4/5-3/5-4) are
    unambiguous once each part is zero-padded. Unhyphenated 11 digits are 5-4-2; an
    unhyphenated 10-digit code could be any of the three 10-digit layouts, so all are tried.
    """
    raw = text(code)
    if raw is None or len(raw) > 20:
        return []
    raw = raw.replace(" ", "")
    if "-" in raw:
        parts = raw.split("-")
        if not all(p.isdigit() for p in parts):
            return []
        if len(parts) == 3 and len(parts[0]) <= 5 and len(parts[1]) <= 4 and len(parts[2]) <= 2:
            product = parts[0].zfill(5) + parts[1].zfill(4)
            return [(product + parts[2].zfill(2), product)]
        if len(parts) == 2 and len(parts[0]) <= 5 and len(parts[1]) <= 4:
            return [(None, parts[0].zfill(5) + parts[1].zfill(4))]
        return []
    if not raw.isdigit():
        return []
    if len(raw) == 11:
        return [(raw, raw[:9])]
    if len(raw) == 10:
        layouts = ((4, 4), (5, 3), (5, 4))
        out: list[tuple[str | None, str]] = []
        for lab, prod in layouts:
            product = raw[:lab].zfill(5) + raw[lab : lab + prod].zfill(4)
            out.append((product + raw[lab + prod :].zfill(2), product))
        return out
    if len(raw) == 9:
        return [(None, raw)]
    if len(raw) == 8:
        return [(None, raw[:4].zfill(5) + raw[4:]), (None, raw[:5] + raw[5:].zfill(4))]
    return []


class _NdcTable:
    """Entries keyed by normalised package and product NDC. A listed package also answers
    for its product when the product itself is not listed."""

    def __init__(self) -> None:
        self.packages: dict[str, Any] = {}
        self.products: dict[str, Any] = {}
        self.products_of_packages: dict[str, Any] = {}

    def add(self, code: str, value: Any) -> None:
        candidates = ndc_candidates(code)
        if len(candidates) != 1:
            return
        package, product = candidates[0]
        if package is None:
            self.products.setdefault(product, value)
        else:
            self.packages.setdefault(package, value)
            self.products_of_packages.setdefault(product, value)

    def get(self, code: Any) -> Any:
        """The entry of the package NDC, else of its product; ``None`` when ambiguous."""
        candidates = ndc_candidates(code)
        for table, keys in (
            (self.packages, [p for p, _ in candidates if p is not None]),
            (self.products, [p for _, p in candidates]),
            (self.products_of_packages, [p for _, p in candidates]),
        ):
            found = [table[k] for k in keys if k in table]
            if found:
                return found[0] if all(v == found[0] for v in found) else None
        return None


@cache
def _product_tables() -> tuple[dict[str, dict[str, Any]], _NdcTable]:
    rxnorm: dict[str, dict[str, Any]] = {}
    ndc = _NdcTable()
    for product in codesets().get("lenalidomide_products", []):
        if product.get("system") == RXNORM:
            rxnorm[product["code"]] = product
        elif product.get("system") == NDC:
            ndc.add(product["code"], product)
    return rxnorm, ndc


def lenalidomide_product(system: Any, code: Any) -> dict[str, Any] | None:
    """The lenalidomide product entry (``brand``, ``strength_mg``, ``display``, ``code``)
    of an RxNorm or NDC code; NDCs match in any of their usual forms, a package NDC also
    through its product NDC."""
    system_, code_ = normalise_system(system), text(code)
    if code_ is None:
        return None
    rxnorm, ndc = _product_tables()
    if system_ == RXNORM:
        found = rxnorm.get(code_)
    elif system_ == NDC:
        found = ndc.get(code_)
    else:
        found = None
    return dict(found) if found else None


def generic_for_brand(code: Any) -> str | None:
    """The RxNorm generic lenalidomide concept of the same strength and form as a Revlimid one."""
    value = text(code)
    return codesets().get("generic_for_brand", {}).get(value) if value else None


@cache
def _ingredient_tables() -> tuple[dict[str, frozenset[str]], _NdcTable, re.Pattern[str], dict[str, str]]:
    rxnorm: dict[str, set[str]] = {}
    ndc_sets: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    for ingredient, entry in codesets().get("ingredients", {}).items():
        for row in entry.get("codes", []):
            if row.get("system") == RXNORM:
                rxnorm.setdefault(row["code"], set()).add(ingredient)
            elif row.get("system") == NDC:
                ndc_sets.setdefault(row["code"], set()).add(ingredient)
        for name in entry.get("names", []):
            names[name.lower()] = ingredient
    ndc = _NdcTable()
    for code, found in ndc_sets.items():
        ndc.add(code, frozenset(found))
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE) if names else re.compile(r"(?!x)x")
    return {k: frozenset(v) for k, v in rxnorm.items()}, ndc, pattern, names


@cached_by_code
def ingredients_of_code(system: Any, code: Any) -> frozenset[str]:
    """Ingredient names of an RxNorm or NDC code that the code sets hold."""
    system_, code_ = normalise_system(system), text(code)
    if code_ is None:
        return frozenset()
    rxnorm, ndc, _, _ = _ingredient_tables()
    if system_ == RXNORM:
        return rxnorm.get(code_, frozenset())
    if system_ == NDC:
        return ndc.get(code_) or frozenset()
    return frozenset()


@cache
def _drug_displays() -> tuple[dict[str, str], _NdcTable]:
    rxnorm: dict[str, str] = {}
    ndc = _NdcTable()
    for entry in codesets().get("ingredients", {}).values():
        for row in entry.get("codes", []):
            if row.get("system") == RXNORM:
                rxnorm.setdefault(row["code"], row["display"])
            elif row.get("system") == NDC:
                ndc.add(row["code"], row["display"])
    return rxnorm, ndc


def drug_display(system: Any, code: Any) -> str | None:
    """The display the code sets give a drug's RxNorm or NDC code."""
    system_, code_ = normalise_system(system), text(code)
    if code_ is None:
        return None
    rxnorm, ndc = _drug_displays()
    if system_ == RXNORM:
        return rxnorm.get(code_)
    return ndc.get(code_) if system_ == NDC else None


def ingredients_named_in(texts: Iterable[str | None]) -> frozenset[str]:
    """Ingredients whose generic or brand name appears as a whole word (any case)."""
    found: frozenset[str] = frozenset()
    for value in texts:
        if isinstance(value, str):
            found |= _names_in(value[:_MAX_NAME_TEXT])
    return found


@cached_by_code
def _names_in(value: str) -> frozenset[str]:
    """A record names the same few drugs again and again (each refill's display): one regex
    scan per distinct (short) text."""
    _, _, pattern, names = _ingredient_tables()
    return frozenset(names[match.group(0).lower()] for match in pattern.finditer(value))


def ingredients_of_coding(system: Any, code: Any, display_text: str | None) -> set[str]:
    """Ingredients of one coding: by its code when the code sets know it, else by the drug
    names in its display or text."""
    by_code = ingredients_of_code(system, code)
    if by_code:
        return set(by_code)
    return set(ingredients_named_in([display_text]))


def ingredients_of_concept(concept: Any) -> frozenset[str]:
    """Ingredients of a CodeableConcept. Codes decide when any coding carries a code the
    code sets know; only when none does are the names in ``text`` and displays read."""
    found: set[str] = set()
    for coding in codings(concept):
        found |= ingredients_of_code(coding.system, coding.code)
    if found:
        return frozenset(found)
    return ingredients_named_in(concept_texts(concept))


def group_entries(group: str) -> tuple[dict[str, Any], ...]:
    return tuple(codesets().get("groups", {}).get(group, ()))


@cache
def codes_in_group(group: str) -> frozenset[tuple[str, str]]:
    """(system, code) pairs of a terminology group."""
    return frozenset((row["system"], row["code"]) for row in group_entries(group))


def _lookup_key(system: str | None, code: str) -> tuple[str | None, str]:
    if system == ICD10CM:
        return system, icd10_key(code)
    return system, code.strip()


@cache
def _group_index(group: str) -> dict[tuple[str | None, str], dict[str, Any]]:
    index: dict[tuple[str | None, str], dict[str, Any]] = {}
    for row in group_entries(group):
        index.setdefault(_lookup_key(normalise_system(row["system"]), row["code"]), row)
    return index


def find_in_group(group: str, system: Any, code: Any) -> dict[str, Any] | None:
    """The group's entry for a coding, comparing systems through their aliases and
    ICD-10 codes with or without the dot."""
    code_ = text(code)
    if code_ is None or len(code_) > 64:
        return None
    return _group_index(group).get(_lookup_key(normalise_system(system), code_))


@cache
def _specialties() -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for row in group_entries("nucc_taxonomy"):
        found = {category for word, category in _SPECIALTY_WORDS.items() if word in row["display"]}
        out[row["code"]] = frozenset(found)
    return out


def specialty_categories(code: Any) -> frozenset[str]:
    """Categories ("oncology", "hematology", "immunology") of a NUCC taxonomy code, read
    from the taxonomy's display in the code sets; empty for codes the sets do not hold."""
    value = text(code)
    return _specialties().get(value.upper(), frozenset()) if value else frozenset()
