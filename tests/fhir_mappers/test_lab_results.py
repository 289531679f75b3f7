"""Pregnancy-test results in the forms labs send: read cautiously, never guessed."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappers.lab_results import read_presence, read_words
from fhir_mappers.rems_evidence import _hcg

V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def obs(**value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "o", "status": "final", **value}


def interpretation(*codes: str, system: str | None = V3) -> dict[str, Any]:
    return {"interpretation": [{"coding": [{"system": system, "code": c} for c in codes]}]}


def reading(resource: dict[str, Any]) -> tuple[str | None, bool]:
    found = read_presence(resource, _hcg)
    return found.result, found.unreadable


@pytest.mark.parametrize(
    "said", ["NEG", "neg.", "Neg", "Negative", "NEGATIVE.", "Not detected", "none detected", "ND", "Non-reactive"]
)
def test_negative_words(said):
    assert read_words(said) == "negative"
    assert reading(obs(valueString=said)) == ("negative", False)


@pytest.mark.parametrize("said", ["POS", "pos.", "Positive", "Detected", "DETECTED", "Reactive", "not negative"])
def test_positive_words(said):
    assert read_words(said) == "positive"
    assert reading(obs(valueString=said)) == ("positive", False)


@pytest.mark.parametrize(
    "said", ["Equivocal", "indeterminate", "see note", "QNS", "hemolyzed", "?", "not positive", "Invalid test", "xyz"]
)
def test_what_cannot_be_read_is_unreadable(said):
    assert read_words(said) is None
    assert reading(obs(valueString=said)) == (None, True)


def test_positive_wins_over_a_negative_phrase_in_the_same_text():
    assert read_words("negative control; patient positive") == "positive"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"valueQuantity": {"value": 5, "comparator": "<", "unit": "mIU/mL"}}, ("negative", False)),
        ({"valueQuantity": {"value": 5, "comparator": "<=", "code": "m[IU]/mL"}}, ("negative", False)),
        ({"valueString": "<5 mIU/mL"}, ("negative", False)),
        ({"valueString": "< 2.0 IU/L"}, ("negative", False)),
        ({"valueString": ">1000 mIU/mL"}, ("positive", False)),
        ({"valueQuantity": {"value": 1000, "comparator": ">", "unit": "mIU/mL"}}, ("positive", False)),
        # No comparator and no cut-off: the number alone says neither.
        ({"valueQuantity": {"value": 3, "unit": "mIU/mL"}}, (None, True)),
        # A unit that is not an hCG unit cannot be read.
        ({"valueString": "<5 %"}, (None, True)),
        ({"valueQuantity": {"value": 5, "comparator": "<", "unit": "ng/mL"}}, (None, True)),
    ],
)
def test_quantities_and_comparators(value, expected):
    assert reading(obs(**value)) == expected


def test_a_comparator_states_how_low_the_test_detects():
    found = read_presence(obs(valueString="<100 mIU/mL"), _hcg)
    assert found.result == "negative" and found.detection_limit == 100


def test_a_bound_above_the_cut_off_cannot_be_read():
    ranged = obs(valueString="<30 mIU/mL", referenceRange=[{"high": {"value": 5, "unit": "mIU/mL"}}])
    assert reading(ranged) == (None, True)


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (("NEG",), ("negative", False)),
        (("ND",), ("negative", False)),
        (("POS",), ("positive", False)),
        (("DET",), ("positive", False)),
        (("A",), ("positive", False)),
        (("H",), ("positive", False)),
        # "Normal" alone is no negative: it needs a value below the cut-off beside it.
        (("N",), (None, True)),
        (("IND",), (None, True)),
        (("L",), (None, True)),
    ],
)
def test_interpretation_codes_alone(codes, expected):
    assert reading(obs(**interpretation(*codes))) == expected


def test_interpretation_without_a_system_and_by_oid():
    assert reading(obs(**interpretation("NEG", system=None))) == ("negative", False)
    assert reading(obs(**interpretation("POS", system="urn:oid:2.16.840.1.113883.5.83"))) == ("positive", False)
    assert reading(obs(**interpretation("NEG", system="http://example.org/local-flags"))) == (None, True)


def test_normal_beside_a_value_below_the_cut_off_is_negative():
    ranged = {
        "valueQuantity": {"value": 2, "unit": "mIU/mL"},
        "referenceRange": [{"high": {"value": 5, "unit": "mIU/mL"}}],
    }
    assert reading(obs(**ranged, **interpretation("N"))) == ("negative", False)
    unranged = {"valueQuantity": {"value": 2, "unit": "mIU/mL"}}
    assert reading(obs(**unranged, **interpretation("N"))) == (None, True)


def test_any_positive_sign_wins():
    assert reading(obs(valueString="Negative", **interpretation("POS"))) == ("positive", False)
    assert reading(obs(valueString="Negative", **interpretation("A"))) == ("positive", False)


def test_a_negative_needs_every_readable_sign_to_agree():
    assert reading(obs(valueString="Negative", **interpretation("IND"))) == (None, True)
    assert reading(obs(valueString="Negative", **interpretation("NEG"))) == ("negative", False)


def test_coded_answers_by_their_text():
    neg = {
        "valueCodeableConcept": {"coding": [{"system": "http://example.org/lab", "code": "NEGRES"}], "text": "Negative"}
    }
    assert reading(obs(**neg)) == ("negative", False)
    bare = {"valueCodeableConcept": {"coding": [{"system": "http://example.org/lab", "code": "R1"}]}}
    assert reading(obs(**bare)) == (None, True)


def test_nothing_reported_is_no_result_and_not_unreadable():
    assert reading(obs()) == (None, False)
