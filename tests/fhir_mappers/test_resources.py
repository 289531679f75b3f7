"""Resources out of prefetch values, and references among them."""

from __future__ import annotations

from fhir_mappers.resources import (
    ResourceIndex,
    find_contained,
    iter_resources,
    parse_reference,
    resources_of_type,
)
from tests.fhir_mappers.helpers import FIXTURES, bundle, capture, load, r4


def test_single_resource_bundle_none_and_operation_outcome():
    patient = r4("Patient-pat1")
    assert list(iter_resources(patient)) == [patient]
    assert list(iter_resources(bundle(patient))) == [patient]
    assert list(iter_resources(bundle(patient, kind=None))) == [patient]  # Bundle without type
    assert list(iter_resources(None)) == []
    assert list(iter_resources({"resourceType": "OperationOutcome", "issue": []})) == []


def test_bundle_entries_that_are_not_resources_are_skipped():
    outcome = {"resourceType": "OperationOutcome"}
    value = {
        "resourceType": "Bundle",
        "entry": [{"resource": outcome}, {"x": 1}, "junk", {"resource": {"id": "a"}}],
    }
    assert list(iter_resources(value)) == []
    assert list(iter_resources({"resourceType": "Bundle", "entry": {"resource": r4("Patient-pat1")}})) == [
        r4("Patient-pat1")
    ]


def test_resources_of_type_from_the_sandbox_capture():
    prefetch = capture("capture-order-sign-007")["prefetch"]
    meds = resources_of_type(prefetch["medications"], "MedicationRequest")
    assert [m["id"] for m in meds] == [
        "pat017-mr-IPledge",
        "pat017-mr-TIRF",
        "pat017-mr-addyi",
        "pat017-mr-turalio",
    ]
    assert resources_of_type(prefetch["patient"], "Patient")[0]["id"] == "pat017"


def test_parse_reference_forms():
    assert parse_reference("Medication/med0316") == "Medication/med0316"
    assert parse_reference("https://ehr.example/fhir/Medication/med0316") == "Medication/med0316"
    assert parse_reference("Medication/med0316/_history/2") == "Medication/med0316"
    assert parse_reference("#med0304") is None
    assert parse_reference("urn:uuid:5b0c2d3e") is None
    assert parse_reference(None) is None


def test_contained_lookup():
    mr = r4("MedicationRequest-medrx0306")
    assert find_contained(mr, "#med0304")["resourceType"] == "Medication"
    assert find_contained(mr, "#nothing") is None
    assert find_contained(mr, "Medication/med0304") is None


def test_index_finds_by_reference_and_full_url():
    eu = load(FIXTURES / "hl7-eu-multiple-myeloma" / "Bundle-100A-multiitem-prescription-with-orchestration.json")
    index = ResourceIndex([eu, r4("Medication-med0316"), None, "junk"])
    assert index.get("PractitionerRole/doctor1")["id"] == "doctor1"
    assert index.get("https://example.com/Patient/patient1")["id"] == "patient1"
    assert index.get("http://other.example/fhir/Medication/med0316")["id"] == "med0316"
    assert index.get("Medication/unknown") is None
    mr = r4("MedicationRequest-medrx0306")
    assert index.resolve("#med0304", container=mr)["id"] == "med0304"


def test_index_urn_uuid_full_urls_first_seen_wins_and_added_values():
    """References that name no type are looked up by fullUrl across every entry; a later
    duplicate never shadows the first; values added after a lookup are found."""
    med = {"resourceType": "Medication", "id": "m1", "code": {"text": "lenalidomide 10 mg"}}
    twin = {"resourceType": "Medication", "id": "m1", "code": {"text": "a later copy"}}
    drafts = {
        "resourceType": "Bundle",
        "entry": [
            {"fullUrl": "urn:uuid:0f0f", "resource": med},
            {"fullUrl": "urn:uuid:1e1e", "resource": {"resourceType": "Patient", "id": "p"}},
        ],
    }
    index = ResourceIndex([drafts, {"resourceType": "Bundle", "entry": [{"resource": twin}]}])
    assert index.get("urn:uuid:0f0f") is med
    assert index.get("urn:uuid:1e1e")["resourceType"] == "Patient"
    assert index.get("Medication/m1") is med
    assert index.get(" Medication/m1 ") is med
    assert index.get("Medication/m2") is None
    index.add({"resourceType": "Medication", "id": "m2"})
    assert index.get("Medication/m2")["id"] == "m2"
    assert index.get("Patient/p")["id"] == "p"


def test_index_type_with_stray_whitespace_is_found_as_before():
    index = ResourceIndex([{"resourceType": " Medication ", "id": "m3"}])
    assert index.get("Medication/m3")["id"] == "m3"


def _first_by_reference(values: list, reference: str) -> dict | None:
    """What the index must answer, read the slow way: the first Bundle entry with that fullUrl,
    else the first listed resource with that ``Type/id``."""
    for value in values:
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            for entry in value.get("entry") or []:
                if isinstance(entry, dict) and entry.get("fullUrl") == reference:
                    resource = entry.get("resource")
                    if isinstance(resource, dict) and resource.get("resourceType") == reference.split("/")[-2]:
                        return resource
    wanted = parse_reference(reference)
    for value in values:
        for resource in iter_resources(value):
            if f"{resource.get('resourceType')}/{resource.get('id')}" == wanted:
                return resource
    return None


def test_index_built_in_one_pass_finds_what_the_record_holds():
    """Over every JSON fixture and sample bundle: each resource is found by ``Type/id`` and by its
    entry's fullUrl exactly as a plain search finds it (the index groups by type in one pass)."""
    paths = sorted(FIXTURES.rglob("*.json")) + sorted((FIXTURES.parent.parent / "sample_bundles").glob("*.json"))
    checked = 0
    for path in paths:
        document = load(path)
        values = list(document["prefetch"].values()) if isinstance(document.get("prefetch"), dict) else [document]
        index = ResourceIndex(values)
        for value in values:
            entries = value.get("entry") if isinstance(value, dict) and value.get("resourceType") == "Bundle" else []
            for entry in entries or []:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if not isinstance(resource, dict) or not isinstance(resource.get("id"), str):
                    continue
                reference = f"{resource['resourceType']}/{resource['id']}"
                if parse_reference(reference) is None:
                    continue
                assert index.get(reference) is _first_by_reference(values, reference), (path, reference)
                url = entry.get("fullUrl")
                if isinstance(url, str) and parse_reference(url):
                    assert index.get(url) is _first_by_reference(values, url), (path, url)
                checked += 1
    assert checked > 100
