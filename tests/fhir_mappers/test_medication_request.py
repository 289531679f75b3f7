"""MedicationRequest to LenalidomideOrder / MedicationOnRecord."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fhir_mappers.facts import Cycle
from fhir_mappers.medication_request import is_lenalidomide, map_lenalidomide_order, map_medication_on_record
from fhir_mappers.resources import ResourceIndex
from tests.conftest import fixture_files
from tests.fhir_mappers.helpers import (
    FIXTURES,
    NDC,
    R4,
    capture,
    dosage,
    load,
    medication_request,
    r4,
    rxnorm_concept,
)

R4_REQUESTS = sorted(R4.glob("MedicationRequest-*.json"))
SPEC_EXAMPLES = fixture_files(FIXTURES / "spec-examples")


def _draft(request: dict) -> dict:
    return request["context"]["draftOrders"]["entry"][0]["resource"]


# --- the sandbox's real order -------------------------------------------------------------


def test_sandbox_revlimid_order():
    mr = _draft(capture("capture-order-sign-007"))
    assert is_lenalidomide(mr)
    order = map_lenalidomide_order(mr)
    assert order.ref == "MedicationRequest/request-123"
    assert order.brand is True
    assert order.rxnorm_code == "616114"
    assert order.strength_mg == 10.0
    assert order.capsules_per_day == 1.0  # 1 {pill} once daily
    assert order.daily_dose_mg == 10.0
    assert order.days_supply == 30.0
    assert order.dose_text == "10 mg once daily"
    assert order.authored_on == datetime(2026, 11, 22, tzinfo=UTC)
    assert order.medication_source == "codeableconcept"
    assert (order.refills, order.quantity) == (None, None)


def test_sandbox_empty_draft_is_not_lenalidomide():
    mr = _draft(capture("capture-order-select-005"))  # page load: no medication yet
    assert not is_lenalidomide(mr)
    order = map_lenalidomide_order(mr)
    assert order.medication_source == "none"
    assert (order.brand, order.strength_mg, order.daily_dose_mg, order.days_supply) == (
        None,
        None,
        None,
        None,
    )
    assert map_medication_on_record(mr, None, True).ingredients == frozenset()


# --- official FHIR R4 examples ------------------------------------------------------------


@pytest.mark.parametrize("path", R4_REQUESTS, ids=lambda p: p.stem)
def test_r4_examples_are_not_lenalidomide_and_map(path):
    mr = load(path)
    index = ResourceIndex([load(R4 / "Medication-med0316.json"), load(R4 / "Medication-med0301.json")])
    assert not is_lenalidomide(mr, index.get)
    order = map_lenalidomide_order(mr, index.get)
    assert order.ref == f"MedicationRequest/{mr['id']}"
    assert order.brand is None
    assert map_medication_on_record(mr, index.get).ref == order.ref


def test_r4_contained_medication_is_read():
    mr = r4("MedicationRequest-medrx0306")  # busulfan, contained Medication with an NDC
    assert map_lenalidomide_order(mr).medication_source == "contained"
    record = map_medication_on_record(mr)
    assert record.display == "Myleran 2mg tablet, film coated"  # the Medication's own code
    assert record.ingredients == frozenset()


def test_r4_referenced_medication_is_resolved():
    mr = r4("MedicationRequest-medrx002")
    index = ResourceIndex([r4("Medication-med0316")])
    record = map_medication_on_record(mr, index.get)
    assert record.display == "Chlorthalidone 50mg tablet (product)"
    assert map_medication_on_record(mr).display == "prescribed medication"  # unresolved: the reference's display
    assert map_lenalidomide_order(mr, index.get).medication_source == "reference"


def test_r4_dose_arithmetic_mg_three_times_daily():
    order = map_lenalidomide_order(r4("MedicationRequest-medrx0312"))  # 100 mg TID
    assert order.dose_per_administration_mg == 100.0
    assert order.administrations_per_day == 3.0
    assert order.daily_dose_mg == 300.0
    assert order.days_supply == 30.0  # expectedSupplyDuration
    assert order.quantity is None  # 360 mL is not capsules
    assert order.refills == 3


def test_r4_dose_arithmetic_every_four_hours_in_tablets():
    order = map_lenalidomide_order(r4("MedicationRequest-medrx0308"))  # 1 TAB every 4 h
    assert order.administrations_per_day == 6.0
    assert order.capsules_per_day == 6.0
    assert order.daily_dose_mg is None  # no strength known: tablets are not mg
    assert order.quantity == 30.0
    assert order.days_supply == 10.0


def test_r4_per_body_size_doses_are_not_mg():
    assert map_lenalidomide_order(r4("MedicationRequest-medrx0309")).daily_dose_mg is None  # mg/m2
    assert map_lenalidomide_order(r4("MedicationRequest-medrx0316")).daily_dose_mg is None  # mg/kg


def test_r4_successive_dosage_steps_take_the_largest():
    order = map_lenalidomide_order(r4("MedicationRequest-medrx0317"))  # 3 -> 10 -> 30 mg, 3 times a week
    assert order.daily_dose_mg == 30.0
    assert order.administrations_per_day == pytest.approx(3 / 7)
    assert "30 mg 3 times weekly" in order.dose_text


@pytest.mark.parametrize("path", SPEC_EXAMPLES, ids=lambda p: p.name)
def test_spec_examples_are_not_lenalidomide(path):
    for entry in load(path)["context"]["draftOrders"]["entry"]:
        resource = entry["resource"]
        assert not is_lenalidomide(resource)
        map_lenalidomide_order(resource)


def test_spec_dose_and_rate_object_and_dstu2_period_units():
    r4_object = load(FIXTURES / "spec-examples" / "docs-order-select-example1.json")
    amoxicillin = r4_object["context"]["draftOrders"]["entry"][1]["resource"]
    assert isinstance(amoxicillin["dosageInstruction"][0]["doseAndRate"], dict)
    order = map_lenalidomide_order(amoxicillin)
    assert order.administrations_per_day == 2.0
    assert order.daily_dose_mg is None  # mL is not mg
    assert order.dose_text == "5 mL bid x 10 days"  # nothing to render: the prescriber's text

    dstu2 = load(FIXTURES / "spec-examples" / "lib-order-select-example3.json")
    medication_order = dstu2["context"]["draftOrders"]["entry"][1]["resource"]
    assert medication_order["resourceType"] == "MedicationOrder"
    order = map_lenalidomide_order(medication_order)
    assert order.ref == "MedicationOrder/smart-MedicationOrder-103"
    assert order.administrations_per_day == 2.0  # repeat.periodUnits (DSTU2)
    assert order.refills == 1
    assert order.days_supply == 10.0


def test_dstu2_medication_order_of_lenalidomide_is_recognised():
    order = {
        "resourceType": "MedicationOrder",
        "id": "mo1",
        "status": "draft",
        "dateWritten": "2026-11-20",
        "medicationCodeableConcept": rxnorm_concept("602912"),
        "dosageInstruction": [
            {
                "doseQuantity": {"value": 1, "code": "{capsule}"},
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnits": "d"}},
            }
        ],
    }
    assert is_lenalidomide(order)
    facts = map_lenalidomide_order(order)
    assert (facts.brand, facts.daily_dose_mg, facts.intent) == (False, 5.0, None)
    assert facts.authored_on == datetime(2026, 11, 20, tzinfo=UTC)


# --- recognition ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["342369", "337535", "602909", "1162570", "1182529", "643719", "1242231", "643722"],
)
def test_every_kind_of_lenalidomide_rxnorm_concept_is_recognised(code):
    assert is_lenalidomide(medication_request(concept=rxnorm_concept(code)))


def test_other_drugs_are_not_lenalidomide():
    assert not is_lenalidomide(medication_request(concept=rxnorm_concept("200390")))  # thalidomide 50 mg
    assert not is_lenalidomide(
        {"resourceType": "ServiceRequest", "medicationCodeableConcept": rxnorm_concept("616114")}
    )


def test_ndc_package_in_11_digit_form():
    mr = medication_request(concept={"coding": [{"system": NDC, "code": "59572041028"}]})
    assert is_lenalidomide(mr)
    order = map_lenalidomide_order(mr)
    assert (order.brand, order.strength_mg, order.rxnorm_code) == (True, 10.0, None)


def test_contained_medication_with_sbd_code():
    mr = medication_request(
        medicationReference={"reference": "#med1"},
        contained=[{"resourceType": "Medication", "id": "med1", "code": rxnorm_concept("643722")}],
        dosages=[dosage(1, "{capsule}", frequency=1)],
    )
    assert is_lenalidomide(mr)
    order = map_lenalidomide_order(mr)
    assert order.medication_source == "contained"
    assert (order.brand, order.strength_mg, order.daily_dose_mg) == (True, 25.0, 25.0)
    assert order.product_display == "lenalidomide 25 MG Oral Capsule [Revlimid]"


def test_referenced_medication_needs_a_resolver():
    medication = {"resourceType": "Medication", "id": "len5", "code": rxnorm_concept("602912")}
    mr = medication_request(medicationReference={"reference": "Medication/len5"})
    assert not is_lenalidomide(mr)
    assert is_lenalidomide(mr, ResourceIndex([medication]).get)
    order = map_lenalidomide_order(mr, ResourceIndex([medication]).get)
    assert (order.medication_source, order.brand, order.strength_mg) == ("reference", False, 5.0)


def test_resolver_returning_a_non_medication_is_ignored():
    mr = medication_request(medicationReference={"reference": "Patient/p1"})
    assert not is_lenalidomide(mr, lambda ref: {"resourceType": "Patient", "id": "p1"})


def test_medication_without_code_uses_ingredient_and_strength():
    medication = {
        "resourceType": "Medication",
        "id": "m",
        "ingredient": [
            {
                "itemCodeableConcept": rxnorm_concept("342369", "lenalidomide"),
                "strength": {
                    "numerator": {"value": 15, "code": "mg"},
                    "denominator": {"value": 1, "code": "{capsule}"},
                },
            }
        ],
    }
    mr = medication_request(
        medicationReference={"reference": "#m"},
        contained=[medication],
        dosages=[dosage(1, "{capsule}", frequency=1)],
    )
    assert is_lenalidomide(mr)
    order = map_lenalidomide_order(mr)
    assert order.brand is None  # the Medication names no product
    assert order.strength_mg == 15.0
    assert order.daily_dose_mg == 15.0


def test_text_only_medication_is_recognised_by_name():
    mr = medication_request(concept={"text": "Revlimid 10 mg capsules"})
    assert is_lenalidomide(mr)
    assert map_lenalidomide_order(mr).brand is None  # brand is read from codes only


# --- dose arithmetic ------------------------------------------------------------------------


def _order(concept_code: str, *dosages: dict, dispense: dict | None = None, **extra):
    return map_lenalidomide_order(
        medication_request(concept=rxnorm_concept(concept_code), dosages=list(dosages), dispense=dispense, **extra)
    )


def test_bid_two_5mg_capsules_is_20mg_a_day():
    order = _order("602912", dosage(2, "{capsule}", frequency=2))
    assert order.daily_dose_mg == 20.0
    assert order.capsules_per_day == 4.0
    assert order.dose_per_administration_mg == 10.0
    assert order.administrations_per_day == 2.0
    assert order.dose_text == "2 × 5 mg capsules twice daily"


def test_dose_in_mg_with_timing_code_qd():
    order = _order("643720", dosage(25, "mg", code="QD"))
    assert order.daily_dose_mg == 25.0
    assert order.capsules_per_day == 1.0
    assert order.dose_text == "25 mg once daily"


def test_timing_code_bid():
    order = _order("602910", dosage(1, "{pill}", code="BID"))
    assert (order.administrations_per_day, order.daily_dose_mg) == (2.0, 20.0)


def test_timing_codes_qod_and_q12h():
    every_other_day = _order("643712", dosage(1, "{capsule}", code="QOD"))
    assert every_other_day.administrations_per_day == 0.5
    assert every_other_day.daily_dose_mg == 15.0  # 15 mg on the days it is taken
    assert every_other_day.capsules_per_day == 0.5
    assert every_other_day.dose_text == "15 mg every other day"
    assert _order("602912", dosage(5, "mg", code="Q12H")).daily_dose_mg == 10.0


def test_two_and_a_half_mg_capsules():
    order = _order("1242231", dosage(1, "1", frequency=1))
    assert (order.strength_mg, order.daily_dose_mg) == (2.5, 2.5)
    assert order.dose_text == "2.5 mg once daily"


@pytest.mark.parametrize(("value", "unit", "mg"), [(0.01, "g", 10.0), (10000, "ug", 10.0), (10000, "mcg", 10.0)])
def test_mass_units_convert_to_mg(value, unit, mg):
    assert _order("602910", dosage(value, unit, frequency=1)).daily_dose_mg == pytest.approx(mg)


def test_mg_dose_not_a_whole_number_of_capsules_has_no_capsule_count():
    order = _order("602910", dosage(25, "mg", frequency=1))  # 25 mg from 10 mg capsules
    assert order.daily_dose_mg == 25.0
    assert order.capsules_per_day is None


def test_stu3_dose_quantity_on_the_dosage_and_hourly_period():
    stu3 = {
        "doseQuantity": {"value": 10, "unit": "mg"},
        "timing": {"repeat": {"frequency": 1, "period": 24, "periodUnit": "h"}},
    }
    assert _order("602910", stu3).daily_dose_mg == 10.0


def test_time_of_day_and_when_count_administrations():
    times = {
        "doseAndRate": {"doseQuantity": {"value": 1, "code": "{capsule}"}},
        "timing": {"repeat": {"timeOfDay": ["08:00:00", "20:00:00"]}},
    }
    assert _order("602912", times).daily_dose_mg == 10.0
    when = {
        "doseAndRate": [{"doseQuantity": {"value": 1, "code": "CAP"}}],
        "timing": {"repeat": {"when": ["MORN"]}},
    }
    assert _order("602912", when).daily_dose_mg == 5.0


def test_frequency_max_is_ignored():
    repeat = {"frequency": 1, "frequencyMax": 3, "period": 1, "periodUnit": "d"}
    order = _order(
        "602910",
        {"doseAndRate": [{"doseQuantity": {"value": 1, "code": "{capsule}"}}], "timing": {"repeat": repeat}},
    )
    assert order.daily_dose_mg == 10.0


def test_no_timing_means_no_daily_dose_unless_text_says_daily():
    assert _order("602910", dosage(1, "{capsule}")).daily_dose_mg is None
    assert _order("602910", dosage(1, "{capsule}", text="Take 1 capsule by mouth once daily")).daily_dose_mg == 10.0
    assert _order("602910", dosage(1, "{capsule}", text="1 cap PO QD")).daily_dose_mg == 10.0
    assert _order("602910", dosage(1, "{capsule}", text="one capsule twice daily")).daily_dose_mg == 20.0
    assert _order("602910", dosage(1, "{capsule}", text="as directed")).daily_dose_mg is None


def test_unit_missing_means_dose_unknown():
    order = _order(
        "602910",
        {"doseAndRate": [{"doseQuantity": {"value": 1}}], "timing": {"code": {"coding": [{"code": "QD"}]}}},
    )
    assert order.daily_dose_mg is None
    assert order.administrations_per_day == 1.0


def test_concurrent_entries_with_the_same_sequence_add_up():
    order = _order(
        "602912",
        dosage(2, "{capsule}", code="AM", sequence=1),
        dosage(1, "{capsule}", code="PM", sequence=1),
    )
    assert order.daily_dose_mg == 15.0
    assert order.capsules_per_day == 3.0
    assert order.dose_per_administration_mg is None  # different doses per administration


def test_successive_entries_take_the_largest_daily_dose():
    order = _order(
        "602912",
        dosage(1, "{capsule}", frequency=1, sequence=1),
        dosage(2, "{capsule}", frequency=1, sequence=2),
        {"text": "Hold if ANC < 1000"},  # a note without a dose does not count
    )
    assert order.daily_dose_mg == 10.0
    assert order.capsules_per_day == 2.0


def test_an_entry_with_dose_but_unknown_frequency_makes_the_daily_dose_unknown():
    order = _order("602912", dosage(1, "{capsule}", frequency=1, sequence=1), dosage(5, "{capsule}", sequence=2))
    assert order.daily_dose_mg is None


def test_dose_range_uses_its_upper_end():
    ranged = {
        "doseAndRate": [
            {
                "doseRange": {
                    "low": {"value": 1, "code": "{capsule}"},
                    "high": {"value": 2, "code": "{capsule}"},
                }
            }
        ],
        "timing": {"code": {"coding": [{"code": "QD"}]}},
    }
    order = _order("602910", ranged)
    assert order.daily_dose_mg == 20.0
    assert order.dose_text.startswith("up to 2 × 10 mg capsules")


# --- cycle, supply, refills -----------------------------------------------------------------


def test_cycle_from_dosage_text_is_shown():
    order = _order("602910", dosage(1, "{capsule}", frequency=1, text="10 mg PO daily days 1-21 of each 28-day cycle"))
    assert order.cycle == Cycle(days_on=21, cycle_length_days=28)
    assert order.dose_text == "10 mg once daily, days 1-21 of 28"
    assert order.daily_dose_mg == 10.0  # the cycle never changes the daily dose


def test_quantity_21_once_daily_without_expected_supply_duration():
    order = _order(
        "643720", dosage(1, "{capsule}", code="QD"), dispense={"quantity": {"value": 21, "code": "{capsule}"}}
    )
    assert order.quantity == 21.0
    assert order.days_supply == 21.0


def test_quantity_21_once_daily_in_a_21_of_28_cycle_is_a_28_day_supply():
    order = _order(
        "643720",
        {**dosage(1, "{capsule}", code="QD"), "patientInstruction": "d1-21 q28d"},
        dispense={"quantity": {"value": 21, "unit": "capsule"}},
    )
    assert order.cycle == Cycle(21, 28)
    assert order.days_supply == 28.0


def test_expected_supply_duration_units():
    weeks = _order(
        "602910",
        dosage(1, "{capsule}", code="QD"),
        dispense={"expectedSupplyDuration": {"value": 4, "code": "wk"}},
    )
    assert weeks.days_supply == 28.0
    hours = _order(
        "602910",
        dosage(1, "{capsule}", code="QD"),
        dispense={"expectedSupplyDuration": {"value": 48, "unit": "hours"}},
    )
    assert hours.days_supply == 2.0


def test_refills_and_identifiers_and_reasons():
    order = _order(
        "602910",
        dosage(1, "{capsule}", code="QD"),
        dispense={"numberOfRepeatsAllowed": 0, "quantity": {"value": 28}},
        identifier=[{"system": "urn:rems-authorization", "value": "A123"}],
        reasonReference=[
            {"reference": "Condition/c1"},
            {"reference": "https://ehr.example/fhir/Condition/c2"},
        ],
        reasonCode=[{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C90.00"}]}],
        note=[{"text": "Cycle 3"}],
    )
    assert order.refills == 0
    assert order.quantity == 28.0  # no unit: capsules
    assert order.days_supply == 28.0
    assert order.identifiers[0].code == "A123"
    assert order.reason_refs == ("Condition/c1", "Condition/c2")
    assert order.reason_codes[0].code == "C90.00"


def test_negative_or_fractional_refills_are_unknown():
    assert _order("602910", dispense={"numberOfRepeatsAllowed": -1}).refills is None
    assert _order("602910", dispense={"numberOfRepeatsAllowed": 1.5}).refills is None


# --- medications on record ------------------------------------------------------------------


def test_medication_on_record_from_eu_multiple_myeloma_bundle():
    eu = load(FIXTURES / "hl7-eu-multiple-myeloma" / "Bundle-100A-multiitem-prescription-with-orchestration.json")
    requests = [e["resource"] for e in eu["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]
    records = [map_medication_on_record(mr) for mr in requests]
    assert [r.ingredients for r in records] == [
        frozenset({"thalidomide"}),
        frozenset(),
        frozenset(),
    ]  # SNOMED-coded: by name
    assert records[0].period_start == date(2024, 10, 3)
    assert records[0].period_end == date(2024, 12, 3)
    assert records[0].reason_codes[0].code == "109989006"
    assert records[0].status == "active"
    assert records[0].is_current


def test_medication_on_record_period_prefers_dosage_bounds():
    mr = r4("MedicationRequest-medrx0309")
    record = map_medication_on_record(mr)
    assert (record.period_start, record.period_end) == (date(2016, 1, 22), date(2016, 2, 4))


def test_draft_thalidomide_on_record():
    mr = medication_request("thal", concept=rxnorm_concept("200390", "thalidomide 50 MG Oral Capsule"))
    record = map_medication_on_record(mr, None, True)
    assert record.ingredients == {"thalidomide"}
    assert record.is_draft_order and record.is_current
    assert record.display == "thalidomide 50 MG Oral Capsule"


def test_coded_only_order_takes_its_display_from_the_code_sets():
    bare = medication_request(
        "t", concept={"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "10432"}]}
    )
    assert map_medication_on_record(bare).display == "thalidomide"
    ndc_only = medication_request("n", concept={"coding": [{"system": NDC, "code": "59572041028"}]})
    assert map_medication_on_record(ndc_only).display == "Revlimid 10 mg, 28 capsules in 1 bottle"
