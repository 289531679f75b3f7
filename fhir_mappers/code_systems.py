"""Which code system a coding's ``system`` names, however the data spells it.

The one place that says "this coding is ICD-10-CM" (or LOINC, RxNorm ...): FHIR's canonical
URI, its ``https`` form, a trailing slash, another case, and the OID that data converted
from C-CDA or HL7 v2 carries (``urn:oid:2.16.840.1.113883.6.90`` or the bare OID) all name
the same system. The URIs and OIDs are data (``data/code_systems.json``, each OID cited to
HL7 Terminology); nothing here knows a code. Imports nothing of the package, so that
``datatypes`` can canonicalise every coding it reads (and a cheap first pass can call it).
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from importlib import resources

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
NUCC = "http://nucc.org/provider-taxonomy"
UCUM = "http://unitsofmeasure.org"

_OID = re.compile(r"^[0-2](\.\d+)+$")
_MAX_SYSTEM = 256


@cache
def _spellings() -> dict[str, str]:
    """Lower-cased spelling (http and https URI, bare OID) -> canonical URI."""
    table = json.loads(resources.files("fhir_mappers").joinpath("data", "code_systems.json").read_text("utf-8"))
    out: dict[str, str] = {}
    for row in table["systems"]:
        uri = row["uri"]
        rest = uri.split("://", 1)[1].lower()
        out["http://" + rest] = uri
        out["https://" + rest] = uri
        out[row["oid"]] = uri
    return out


@lru_cache(maxsize=1024)
def _canonical(value: str) -> str:
    key = value.strip().rstrip("/")
    lowered = key.lower()
    if lowered.startswith("urn:oid:"):
        lowered = lowered[len("urn:oid:") :]
    elif not _OID.match(lowered) and "://" not in lowered:
        return key
    return _spellings().get(lowered, key)


def canonical_system(system: object) -> str | None:
    """The canonical URI of a known code system in any of its spellings; any other system
    as given (without surrounding blanks or a trailing slash); ``None`` when absent."""
    if not isinstance(system, str) or not system.strip():
        return None
    if len(system) > _MAX_SYSTEM:
        return system
    return _canonical(system)


def is_icd10cm(system: object) -> bool:
    """Whether ``system`` names ICD-10-CM (any spelling)."""
    return canonical_system(system) == ICD10CM


def icd10_key(code: str) -> str:
    """ICD-10 codes compare without case and with the dot after the category (C9002 = C90.02)."""
    bare = code.strip().upper().replace(".", "")
    return f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare


def canonical_code(system: str | None, code: str | None) -> str | None:
    """A code as the code sets spell it: ICD-10-CM upper case with its dot; others as given."""
    if code is None or system != ICD10CM or len(code) > 64:
        return code
    return icd10_key(code)
