"""Patient facts and ages on a date."""

from __future__ import annotations

from datetime import date

import pytest

from fhir_mappers.patient import age_on, age_range_on, map_patient
from tests.fhir_mappers.helpers import FIXTURES, capture, load, r4


def test_sandbox_patient():
    patient = map_patient(capture("capture-order-sign-007")["prefetch"]["patient"])
    assert patient is not None
    assert (patient.ref, patient.sex, patient.birth_date) == ("Patient/pat017", "male", date(1996, 6, 1))
    assert patient.birth_date_partial is None


def test_r4_and_eu_patients():
    assert map_patient(r4("Patient-example")).birth_date == date(1974, 12, 25)
    assert map_patient(r4("Patient-pat1")).birth_date is None  # no birthDate
    assert map_patient(load(FIXTURES / "hl7-eu-multiple-myeloma" / "Patient-patient1.json")).birth_date == date(
        1950, 9, 15
    )


@pytest.mark.parametrize(
    ("gender", "sex"), [("female", "female"), ("other", "other"), ("unknown", None), (None, None), (3, None)]
)
def test_sex_from_gender(gender, sex):
    assert map_patient({"resourceType": "Patient", "id": "p", "gender": gender}).sex == sex


def test_partial_birth_date_is_kept_apart():
    patient = map_patient({"resourceType": "Patient", "id": "p", "birthDate": "1950-09"})
    assert patient.birth_date is None
    assert patient.birth_date_partial == "1950-09"
    assert map_patient({"resourceType": "Patient", "birthDate": "Sept 1950"}).birth_date_partial is None


def test_not_a_patient():
    assert map_patient({"resourceType": "Practitioner"}) is None
    assert map_patient(None) is None


def test_age_on_full_date():
    assert age_on(date(2008, 11, 23), date(2026, 11, 22)) == 17
    assert age_on(date(2008, 11, 23), date(2026, 11, 23)) == 18
    assert age_on("2008-11-23", date(2026, 11, 23)) == 18
    assert age_on(date(2026, 12, 1), date(2026, 11, 23)) is None
    assert age_on(None, date(2026, 11, 23)) is None


def test_age_on_partial_dates_is_the_least_possible_age():
    assert age_range_on("1950", date(2026, 6, 1)) == (75, 76)
    assert age_on("1950", date(2026, 6, 1)) == 75
    assert age_range_on("1950", date(2026, 12, 31)) == (76, 76)
    assert age_range_on("2008-11", date(2026, 11, 15)) == (17, 18)
    assert age_range_on("2008-11", date(2026, 12, 1)) == (18, 18)
    assert age_range_on("2026", date(2026, 3, 1)) == (0, 0)
    assert age_on("garbage", date(2026, 3, 1)) is None


@pytest.mark.parametrize(
    ("gender", "recorded"),
    [("unknown", "unknown"), ("Unknown", "unknown"), ("other", "other"), (None, None), ("x", None)],
)
def test_gender_as_recorded(gender, recorded):
    assert map_patient({"resourceType": "Patient", "id": "p", "gender": gender}).gender_recorded == recorded
