"""Code systems in the spellings converted data carries: OIDs, https, trailing slashes, case."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from fhir_mappers import code_systems
from fhir_mappers.condition import map_condition
from fhir_mappers.datatypes import codings
from fhir_mappers.medication_request import is_lenalidomide
from fhir_mappers.practitioner import map_prescriber
from tests.conftest import shared_dir

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"

SPELLINGS = {
    ICD10CM: ["urn:oid:2.16.840.1.113883.6.90", "2.16.840.1.113883.6.90", "https://hl7.org/fhir/sid/icd-10-cm"],
    "http://snomed.info/sct": ["urn:oid:2.16.840.1.113883.6.96", "http://snomed.info/sct/", "HTTP://SNOMED.INFO/SCT"],
    "http://loinc.org": ["urn:oid:2.16.840.1.113883.6.1", "https://loinc.org/", " http://loinc.org "],
    "http://www.nlm.nih.gov/research/umls/rxnorm": [
        "urn:oid:2.16.840.1.113883.6.88",
        "https://www.nlm.nih.gov/research/umls/rxnorm/",
    ],
    "http://hl7.org/fhir/sid/ndc": ["urn:oid:2.16.840.1.113883.6.69", "URN:OID:2.16.840.1.113883.6.69"],
    "http://nucc.org/provider-taxonomy": ["urn:oid:2.16.840.1.113883.6.101", "https://nucc.org/provider-taxonomy"],
    "http://unitsofmeasure.org": ["urn:oid:2.16.840.1.113883.6.8", "https://unitsofmeasure.org/"],
}


@pytest.mark.parametrize(("canonical", "spelling"), [(c, s) for c, many in SPELLINGS.items() for s in many])
def test_every_spelling_names_the_system(canonical, spelling):
    assert code_systems.canonical_system(spelling) == canonical
    assert code_systems.canonical_system(canonical) == canonical


@pytest.mark.parametrize(
    "other",
    [
        "urn:oid:2.16.840.1.113883.6.9",  # a prefix of the ICD-10-CM OID is another system
        "urn:oid:2.16.840.1.113883.6.900",
        "http://hl7.org/fhir/sid/icd-9-cm",
        "http://hl7.org/fhir/sid/icd-10-cm-local",
        "https://fhir.cerner.com/ec2458f2/synonym",
    ],
)
def test_other_systems_are_not_mistaken(other):
    assert not code_systems.is_icd10cm(other)
    assert code_systems.canonical_system(other) == other.rstrip("/")


def test_codings_carry_the_canonical_system_and_icd_code():
    found = codings({"coding": [{"system": "urn:oid:2.16.840.1.113883.6.90", "code": "c9001"}]})
    assert (found[0].system, found[0].code) == (ICD10CM, "C90.01")


@pytest.mark.parametrize("code", ["C90.01", "C9001", "c90.01", "c9001", " C90.01 "])
@pytest.mark.parametrize("system", [ICD10CM, *SPELLINGS[ICD10CM], ICD10CM + "/"])
def test_ccda_converted_diagnosis_is_recognised(system, code):
    facts = map_condition(
        {
            "resourceType": "Condition",
            "id": "ccda1",
            "clinicalStatus": {"coding": [{"code": "remission"}]},
            "code": {"coding": [{"system": system, "code": code}]},
        }
    )
    assert facts.indications == {"multiple-myeloma"}
    assert facts.active


def test_an_unknown_system_with_a_myeloma_code_names_nothing():
    facts = map_condition(
        {"resourceType": "Condition", "id": "x", "code": {"coding": [{"system": "urn:oid:1.2.3", "code": "C90.00"}]}}
    )
    assert facts.indications == frozenset()


def test_rxnorm_by_oid_orders_lenalidomide():
    order = {
        "resourceType": "MedicationRequest",
        "id": "mr1",
        "medicationCodeableConcept": {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.88", "code": "342369"}]},
    }
    assert is_lenalidomide(order)


def test_nucc_by_oid_gives_the_specialty():
    role = {
        "resourceType": "PractitionerRole",
        "id": "r1",
        "practitioner": {"reference": "Practitioner/p1"},
        "specialty": [{"coding": [{"system": "urn:oid:2.16.840.1.113883.6.101", "code": "207RH0003X"}]}],
    }
    assert "hematology" in map_prescriber([role], "Practitioner/p1").specialties


def test_oids_agree_with_the_shared_terminology_reference():
    """The reference lists the ICD-10-CM and NDC OIDs beside their URIs: the table agrees."""
    rows = json.loads((shared_dir("reference") / "terminology.json").read_text(encoding="utf-8"))
    stated = {
        row["code"]: row["display"]
        for row in rows
        if isinstance(row, dict) and row.get("system") == "urn:ietf:rfc:3986"
    }
    table = json.loads((resources.files("fhir_mappers") / "data" / "code_systems.json").read_text(encoding="utf-8"))
    checked = 0
    for row in table["systems"]:
        display = stated.get(row["uri"], "")
        if "OID" in display:
            assert row["oid"] in display
            checked += 1
    assert checked >= 2
