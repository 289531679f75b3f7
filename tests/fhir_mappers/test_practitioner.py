"""The prescriber's specialty from NUCC taxonomy codes."""

from __future__ import annotations

from fhir_mappers.practitioner import map_prescriber
from tests.fhir_mappers.helpers import FIXTURES, load

NUCC = "http://nucc.org/provider-taxonomy"


def role(code: str, *, field: str = "specialty", **extra):
    return {
        "resourceType": "PractitionerRole",
        "id": "r1",
        field: [{"coding": [{"system": NUCC, "code": code}]}],
        **extra,
    }


def test_hematologist_role():
    facts = map_prescriber([role("207RH0000X")], "Practitioner/p1")
    assert facts.known
    assert facts.ref == "Practitioner/p1"
    assert facts.specialty_codes == {"207RH0000X"}
    assert facts.specialties == {"hematology"}


def test_codes_from_role_code_and_practitioner_qualification():
    practitioner = {
        "resourceType": "Practitioner",
        "id": "p1",
        "qualification": [{"code": {"coding": [{"system": NUCC, "code": "207RX0202X"}]}}],
    }
    facts = map_prescriber([practitioner, role("207K00000X", field="code")], None)
    assert facts.ref == "Practitioner/p1"
    assert facts.specialties == {"oncology", "immunology"}


def test_inactive_role_and_other_systems_do_not_count():
    other_system = {
        "resourceType": "PractitionerRole",
        "specialty": [{"coding": [{"system": "http://snomed.info/sct", "code": "207RH0000X"}]}],
    }
    facts = map_prescriber([role("207RH0000X", active=False), other_system], "PractitionerRole/r1")
    assert facts.known
    assert facts.specialties == frozenset()


def test_eu_role_with_snomed_code_is_known_but_unclassified():
    eu = load(FIXTURES / "hl7-eu-multiple-myeloma" / "Bundle-100A-multiitem-prescription-with-orchestration.json")
    roles = [e["resource"] for e in eu["entry"] if e["resource"]["resourceType"] == "PractitionerRole"]
    facts = map_prescriber(roles, None)
    assert facts.known and facts.ref == "PractitionerRole/doctor1"
    assert facts.specialty_codes == frozenset()


def test_no_resources_is_unknown():
    facts = map_prescriber([], "Practitioner/p1")
    assert not facts.known
    assert facts.specialties == frozenset()
    assert not map_prescriber(None, None).known
    assert not map_prescriber([{"resourceType": "Patient"}, "junk"], None).known
