"""Code-set lookups: every code comes from data/codesets.json, compared leniently."""

from __future__ import annotations

import pytest

from fhir_mappers import codes
from fhir_mappers.codes import _NdcTable
from tests.fhir_mappers.helpers import NDC, RXNORM


def test_revlimid_sbd_is_brand_with_strength():
    product = codes.lenalidomide_product(RXNORM, "616114")
    assert product is not None
    assert product["brand"] is True
    assert product["strength_mg"] == 10.0


def test_generic_scd_is_not_brand():
    product = codes.lenalidomide_product(RXNORM, "1242231")
    assert product is not None
    assert (product["brand"], product["strength_mg"]) == (False, 2.5)


def test_unknown_or_malformed_codes_are_no_product():
    assert codes.lenalidomide_product(RXNORM, "617993") is None  # amoxicillin/clavulanate (spec example)
    assert codes.lenalidomide_product("http://snomed.info/sct", "616114") is None
    for junk in (None, "", 616114.5, [], {}, "x" * 500):
        assert codes.lenalidomide_product(RXNORM, junk) is None
        assert codes.lenalidomide_product(NDC, junk) is None


def test_product_entries_are_copies():
    codes.lenalidomide_product(RXNORM, "616114")["brand"] = "changed"
    assert codes.lenalidomide_product(RXNORM, "616114")["brand"] is True


@pytest.mark.parametrize(
    "code",
    [
        "59572-410-28",  # 10-digit package NDC, 5-3-2, as listed
        "59572041028",  # the same package, 11-digit 5-4-2 without hyphens
        "59572-0410-28",  # 11-digit with hyphens
        "5957241028",  # 10 digits without hyphens: layouts tried, one matches
    ],
)
def test_package_ndc_in_its_usual_forms(code):
    product = codes.lenalidomide_product(NDC, code)
    assert product is not None
    assert product["brand"] is True
    assert product["strength_mg"] == 10.0


def test_product_ndc_labeler_product_forms():
    assert codes.lenalidomide_product(NDC, "0574-1425")["strength_mg"] == 25.0  # 4-4 labeler-product
    assert codes.lenalidomide_product(NDC, "005741425")["strength_mg"] == 25.0  # 5-4 unhyphenated
    assert codes.lenalidomide_product(NDC, "16729-694")["brand"] is False


def test_package_matches_through_its_product():
    table = _NdcTable()
    table.add("59572-410", "revlimid 10 mg")
    assert table.get("59572-410-28") == "revlimid 10 mg"
    assert table.get("59572041028") == "revlimid 10 mg"
    assert table.get("76282-696-48") is None


def test_ndc_normalisation_pads_each_part():
    assert codes.ndc_candidates("0245-0571-01") == [("00245057101", "002450571")]  # 4-4-2 from the capture
    assert codes.ndc_candidates("76282-696-48") == [("76282069648", "762820696")]
    assert codes.ndc_candidates("12-34-56-78") == []
    assert codes.ndc_candidates("abc-def") == []


def test_generic_for_brand():
    assert codes.generic_for_brand("616114") == "602910"
    assert codes.generic_for_brand("602910") is None
    assert codes.generic_for_brand(None) is None


def test_ingredients_by_code_then_by_name():
    assert codes.ingredients_of_coding(RXNORM, "616114", None) == {"lenalidomide"}
    assert codes.ingredients_of_coding(RXNORM, "10432", None) == {"thalidomide"}
    assert codes.ingredients_of_coding(NDC, "59572041028", None) == {"lenalidomide"}
    # No known code: the display is read for drug names, whole words only, any case.
    assert codes.ingredients_of_coding("http://snomed.info/sct", "x", "Thalidomide 50 mg oral capsule") == {
        "thalidomide"
    }
    assert codes.ingredients_of_coding(None, None, "REVLIMID 10mg") == {"lenalidomide"}
    assert codes.ingredients_of_coding(None, None, "thalidomides") == set()
    assert codes.ingredients_of_coding(None, None, None) == set()


def test_concept_codes_win_over_names():
    concept = {
        "coding": [{"system": RXNORM, "code": "10432", "display": "thalidomide"}],
        "text": "thalidomide (instead of lenalidomide)",
    }
    assert codes.ingredients_of_concept(concept) == {"thalidomide"}
    no_known_code = {"coding": [{"system": RXNORM, "display": "Lenalidomide 5 MG Oral Capsule"}]}
    assert codes.ingredients_of_concept(no_known_code) == {"lenalidomide"}


def test_every_lenalidomide_rxnorm_code_names_lenalidomide():
    groups = ("rxnorm_lenalidomide_scd", "rxnorm_revlimid_sbd", "rxnorm_lenalidomide_grouping")
    for group in groups:
        assert codes.codes_in_group(group)
        for system, code in codes.codes_in_group(group):
            assert codes.ingredients_of_coding(system, code, None) == {"lenalidomide"}, code


def test_codes_in_group_and_find_in_group():
    assert ("http://hl7.org/fhir/sid/icd-10-cm", "C90.02") in codes.codes_in_group("icd_multiple_myeloma")
    assert codes.codes_in_group("no-such-group") == frozenset()
    entry = codes.find_in_group("icd_multiple_myeloma", "http://hl7.org/fhir/sid/icd-10", "c9002")
    assert entry is not None and entry["code"] == "C90.02"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("207RH0000X", {"hematology"}),
        ("207RX0202X", {"oncology"}),
        ("207RH0003X", {"hematology", "oncology"}),
        ("2080P0207X", {"hematology", "oncology"}),
        ("207K00000X", {"immunology"}),
        ("207rh0000x", {"hematology"}),
        ("not-a-taxonomy-code", set()),
        (None, set()),
    ],
)
def test_nucc_specialty_categories(code, expected):
    assert codes.specialty_categories(code) == expected
