"""Sections I.B-I.E, I.G / III and II of CP.PHAR.71 end to end: each sample request through
the HTTP API, asserting the PA assessment (likelihood, indication, pathway, approvalMonths,
per-clause statuses) and that its system action is a valid CRD coverage-information update.

The samples are written by ``scripts/build_policy_samples.py``. The marketplace ones carry
the plan ``SHP-MKT-SILVER-2026``, which the app here maps to ``marketplace`` through
``CDS_LOB_PLAN_OVERRIDES`` (a Coverage code cannot tell a marketplace plan apart).
"""

from __future__ import annotations

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from cds_service.crd.coverage_information import EXTENSION_URL
from tests.cds_service.crd.test_coverage_information import _parts, check_crd_invariants
from tests.conftest import SAMPLES, findings, load_json

SIGN = "/cds-services/lenalidomide-order-sign"
FINDING = "lenalidomide-cds.finding"
OVERRIDES = {"SHP-MKT-SILVER-2026": "marketplace"}

M, N, U = "met", "not-met", "unknown"
B_ALL = {f"I.B.{n}": M for n in range(1, 8)}
C_ALL = {f"I.C.{n}": M for n in range(1, 8)}
D_ALL = {f"I.D.{n}": M for n in range(1, 8)}
E_ALL = {f"I.E.{n}": M for n in range(1, 8)}
OTHER = {"I.*.1": N, "I.*.2": M, "I.*.3": M, "I.*.5": M, "I.*.6": M, "I.*.7": M}
F_ALL = {f"I.F.{n}": M for n in range(1, 7)}
II = {"II.A.1": M, "II.A.2": U, "II.A.3": M, "II.A.4": M, "II.A.5": M}

# file -> (likelihood, indication, pathway, approvalMonths, clause statuses, line of business, covered)
SCENARIOS = {
    "40-mds-del5q-needs-documentation.json": (
        "needs-documentation",
        "myelodysplastic-syndrome",
        "initial",
        12,
        {**B_ALL, "I.B.1": U},
        "medicaid",
        "conditional",
    ),
    "41-mds-no-del5q-esa-failed.json": (
        "needs-documentation",
        "myelodysplastic-syndrome",
        "initial",
        12,
        {**B_ALL, "I.B.1": U, "I.B.4": U},
        "commercial",
        "conditional",
    ),
    "42-mds-concurrent-thalidomide.json": (
        "likely-denied",
        "myelodysplastic-syndrome",
        "initial",
        12,
        {**B_ALL, "I.B.1": U, "I.B.5": N},
        "medicaid",
        "not-covered",
    ),
    "43-mcl-after-two-regimens.json": (
        "likely-approved",
        "mantle-cell-lymphoma",
        "initial",
        12,
        C_ALL,
        "commercial",
        "covered",
    ),
    "44-mcl-no-history.json": (
        "needs-documentation",
        "mantle-cell-lymphoma",
        "initial",
        12,
        {**C_ALL, "I.C.4": U},
        "marketplace",
        "conditional",
    ),
    "45-mcl-minor.json": (
        "likely-denied",
        "mantle-cell-lymphoma",
        "initial",
        12,
        {**C_ALL, "I.C.3": N},
        "medicaid",
        "not-covered",
    ),
    "46-mzl-second-line-rituximab.json": (
        "likely-approved",
        "marginal-zone-lymphoma",
        "initial",
        12,
        D_ALL,
        "medicaid",
        "covered",
    ),
    "47-mzl-line-unknown.json": (
        "needs-documentation",
        "marginal-zone-lymphoma",
        "initial",
        12,
        {**D_ALL, "I.D.4": U},
        "commercial",
        "conditional",
    ),
    "48-mzl-concurrent-thalidomide.json": (
        "likely-denied",
        "marginal-zone-lymphoma",
        "initial",
        12,
        {**D_ALL, "I.D.4": U, "I.D.5": N},
        "medicaid",
        "not-covered",
    ),
    "49-fl-second-line-obinutuzumab.json": (
        "likely-approved",
        "follicular-lymphoma",
        "initial",
        12,
        E_ALL,
        "marketplace",
        "covered",
    ),
    "50-fl-first-line-no-partner.json": (
        "needs-documentation",
        "follicular-lymphoma",
        "initial",
        12,
        {**E_ALL, "I.E.4": U},
        "medicaid",
        "conditional",
    ),
    "51-fl-minor.json": (
        "likely-denied",
        "follicular-lymphoma",
        "initial",
        12,
        {**E_ALL, "I.E.3": N, "I.E.4": U},
        "commercial",
        "not-covered",
    ),
    "52-other-diagnosis-commercial.json": ("likely-denied", "other", "initial", 12, OTHER, "commercial", "not-covered"),
    "53-other-diagnosis-marketplace.json": (
        "likely-denied",
        "other",
        "initial",
        12,
        OTHER,
        "marketplace",
        "not-covered",
    ),
    "54-continued-mm-same-dose.json": (
        "needs-documentation",
        "multiple-myeloma",
        "continued",
        12,
        II,
        "medicaid",
        "conditional",
    ),
    "55-continued-mds-dose-increase.json": (
        "needs-documentation",
        "myelodysplastic-syndrome",
        "continued",
        12,
        {**II, "II.A.5": U},
        "commercial",
        "conditional",
    ),
    "56-al-amyloidosis-with-dexamethasone.json": (
        "likely-approved",
        "nccn-off-label",
        "initial",
        12,
        F_ALL,
        "commercial",
        "covered",
    ),
    "57-kaposi-sarcoma-immunologist.json": (
        "needs-documentation",
        "nccn-off-label",
        "initial",
        12,
        {**F_ALL, "I.F.1": U, "I.F.2": U},
        "medicaid",
        "conditional",
    ),
    "58-dlbcl-concurrent-thalidomide.json": (
        "likely-denied",
        "nccn-off-label",
        "initial",
        12,
        {**F_ALL, "I.F.1": U, "I.F.4": N},
        "marketplace",
        "not-covered",
    ),
}


@pytest.fixture
def policy_client(make_app):
    return make_app(CDS_LOB_PLAN_OVERRIDES=OVERRIDES).test_client()


def post(client, name: str) -> tuple[dict, dict]:
    body = load_json(SAMPLES / name)
    response = client.post(SIGN, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return body, response.get_json()


def pa(result: dict) -> dict:
    cards = findings(result, "pa-assessment")
    assert len(cards) == 1
    return cards[0]["extension"][FINDING]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_assessment(policy_client, name):
    likelihood, indication, pathway, months, clauses, _line, _covered = SCENARIOS[name]
    _body, result = post(policy_client, name)
    finding = pa(result)
    assert finding["likelihood"] == likelihood
    assert finding["indication"] == indication
    assert finding["pathway"] == pathway
    assert finding["approvalMonths"] == months
    assert {c["clause"].replace("CP.PHAR.71 ", ""): c["status"] for c in finding["criteria"]} == clauses


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_system_action_is_a_valid_crd_update(policy_client, name):
    *_, covered = SCENARIOS[name]
    body, result = post(policy_client, name)
    actions = result["systemActions"]
    assert len(actions) == 1 and actions[0]["type"] == "update"
    resource = actions[0]["resource"]
    MedicationRequest.model_validate(resource)
    extension = next(e for e in resource["extension"] if e["url"] == EXTENSION_URL)
    parts = _parts(extension)
    check_crd_invariants(parts)
    assert parts["covered"] == [covered]
    assert parts["coverage"][0]["reference"] == f"Coverage/cov-{body['context']['patientId'].split('-')[1]}"


def test_every_line_of_business_is_exercised():
    assert {scenario[5] for scenario in SCENARIOS.values()} == {"medicaid", "marketplace", "commercial"}


@pytest.mark.parametrize(
    ("name", "policy"),
    [("52-other-diagnosis-commercial.json", "CP.CPA.09"), ("53-other-diagnosis-marketplace.json", "HIM.PA.154")],
)
def test_other_diagnosis_names_the_referral_policy_of_the_line_of_business(policy_client, name, policy):
    _body, result = post(policy_client, name)
    finding = pa(result)
    assert finding["clauses"] == ["CP.PHAR.71 I.G", "CP.PHAR.71 III.A"]
    reason = finding["criteria"][0]["reason"]
    assert policy in reason and "I.G.1" in reason


def test_marketplace_without_the_override_is_read_as_commercial(client):
    _body, result = post(client, "53-other-diagnosis-marketplace.json")
    assert "CP.CPA.09" in pa(result)["criteria"][0]["reason"]


def test_continued_dose_increase_gets_a_dose_limit_card_citing_ii_a_5(policy_client):
    _body, result = post(policy_client, "55-continued-mds-dose-increase.json")
    cards = findings(result, "dose-limit")
    assert len(cards) == 1
    assert "II.A.5" in str(cards[0])
    assert "10" in cards[0]["summary"]


def test_continued_without_increase_has_no_dose_limit_card(policy_client):
    _body, result = post(policy_client, "54-continued-mm-same-dose.json")
    assert findings(result, "dose-limit") == []
