"""Coverage facts: the active coverage and its line of business."""

from __future__ import annotations

from datetime import date

import pytest

from fhir_mappers.coverage import line_of_business_of, map_coverage
from tests.fhir_mappers.helpers import r4

SOPT = "https://nahdo.org/sopt"
PRODUCT = "http://terminology.hl7.org/CodeSystem/insurance-product-type"


def coverage(ident: str = "cov1", system: str = SOPT, code: str = "21", **extra):
    return {
        "resourceType": "Coverage",
        "id": ident,
        "status": "active",
        "type": {"coding": [{"system": system, "code": code}]},
        **extra,
    }


@pytest.mark.parametrize(
    ("system", "code", "line"),
    [
        (SOPT, "21", "medicaid"),
        (SOPT, "2", "medicaid"),
        (SOPT, "512", "commercial"),
        (SOPT, "6", "commercial"),
        (SOPT, "1", None),  # Medicare
        (SOPT, "14", None),  # dual Medicare/Medicaid: not the plan's Medicaid line
        (SOPT, "81", None),  # self-pay
        (PRODUCT, "medi", "medicaid"),
        (PRODUCT, "medihmo", "medicaid"),
        (PRODUCT, "commppo", "commercial"),
        (PRODUCT, "mediadv", None),  # Medicare Advantage, despite the "medi" prefix
        ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "EHCPOL", None),
    ],
)
def test_line_of_business_from_type(system, code, line):
    assert line_of_business_of(coverage(system=system, code=code)) == line


def test_sopt_21_medicaid_coverage():
    facts = map_coverage([coverage(payor=[{"reference": "Organization/plan", "display": "Sunrise Health Plan"}])])
    assert facts.ref == "Coverage/cov1"
    assert facts.status == "active"
    assert facts.line_of_business == "medicaid"
    assert facts.payer_display == "Sunrise Health Plan"


def test_plan_overrides_by_class_value_or_payor_identifier():
    marketplace = coverage(code="512", **{"class": [{"value": "QHP-GOLD"}]})
    assert line_of_business_of(marketplace, {"QHP-GOLD": "marketplace"}) == "marketplace"
    by_payor = coverage(code="512", payor=[{"identifier": {"value": "PAYER-9"}}])
    assert map_coverage([by_payor], {"PAYER-9": "marketplace"}).line_of_business == "marketplace"
    assert line_of_business_of(marketplace, {"OTHER": "marketplace"}) == "commercial"


def test_active_coverage_with_the_lowest_order():
    cancelled = coverage("old", status="cancelled", order=1)
    first = coverage("a", code="512")
    primary = coverage("b", order=1)
    assert map_coverage([cancelled, first, primary]).ref == "Coverage/b"
    assert map_coverage([cancelled, first]).ref == "Coverage/a"
    assert map_coverage([cancelled]) is None
    assert map_coverage([]) is None


def test_r4_examples_and_period():
    examples = [r4("Coverage-9876B1"), r4("Coverage-7546D")]
    facts = map_coverage(examples)
    assert facts.ref == "Coverage/7546D"  # order 2 beats no order
    assert facts.line_of_business is None  # EHCPOL cannot tell the line
    assert map_coverage(examples, on=date(2011, 6, 1)).ref == "Coverage/7546D"
    assert map_coverage(examples, on=date(2026, 11, 22)) is None  # both periods ended in 2012


def test_junk_is_no_coverage():
    assert map_coverage(None) is None
    assert map_coverage(["junk", {"resourceType": "Coverage"}]) is None
    assert line_of_business_of("junk") is None
