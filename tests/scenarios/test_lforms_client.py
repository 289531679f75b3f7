"""A real form client: NLM LHC-Forms renders our DTR Questionnaire in headless Chromium (offline).

The page reads from a live gunicorn through ``fhirclient``; see ``lforms_page`` for how it is served.
The whole loop: order-sign -> needs-documentation -> token -> ``$questionnaire-package`` fetched by the page ->
LHC-Forms renders the pre-filled draft -> answers clicked -> the QuestionnaireResponse read back, completed by
the test as a DTR client would -> order-sign again -> likely-approved. Set
``LFORMS_SCREENSHOT=docs/dtr-form-lforms.png`` to refresh the README's screenshot (the pre-filled package).
"""

from __future__ import annotations

import copy
import json
import os
import time
import urllib.request

import pytest

from cds_service.fhir_api.questionnaire import indication_coding, pathway_coding, questionnaire_id
from cds_service.rules.policy import load_policy
from tests.cds_service.security.dtr_client import CLIENT_ID, live_token
from tests.cds_service.security.jwt_helpers import ISSUER, bearer, generate_key, jwks, make_claims
from tests.conftest import SAMPLES, load_json
from tests.live_server import running_service
from tests.scenarios import lforms_page
from tests.scenarios.lforms_page import answer, checked, chromium, open_form, page_server, shown
from tests.scenarios.test_dtr_loop import (
    BASE,
    MANUAL,
    SIGN,
    coverage_information,
    pa_finding,
    package_parameters,
    walk,
)

SERVER = "auto-server"
ORIGIN = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/information-origin"


def _auto_server(link_id: str, value: dict) -> dict:
    return {
        "linkId": link_id,
        "answer": [
            value | {"extension": [{"url": ORIGIN, "extension": [{"url": "source", "valueCode": "auto-server"}]}]}
        ],
    }


@pytest.fixture(scope="module")
def browser():
    lforms_page.require_browser()
    with chromium() as driver:
        yield driver


def _items(qr: dict) -> dict[str, list]:
    """Every answered item of a QuestionnaireResponse, nested ones included, by linkId."""
    found: dict[str, list] = {}

    def walk(items: list) -> None:
        for item in items:
            if item.get("answer"):
                found[item["linkId"]] = item["answer"]
            walk(item.get("item", []))

    walk(qr.get("item", []))
    return found


def test_lhc_forms_renders_the_generated_questionnaire_with_a_draft_and_gives_the_answers_back(tmp_path, browser):
    policy = load_policy()
    draft = {
        "resourceType": "QuestionnaireResponse",
        "status": "in-progress",
        "item": [
            _auto_server("indication", {"valueCoding": indication_coding(policy, "multiple-myeloma")}),
            _auto_server("pathway", {"valueCoding": pathway_coding("initial")}),
            {"linkId": "CP.PHAR.71 I.A", "item": [_auto_server("CP.PHAR.71 I.A.3", {"valueBoolean": True})]},
        ],
    }
    with running_service(tmp_path, CDS_AUTH="disabled") as base:
        config = {"fhirBase": base + "/fhir", "questionnaireId": questionnaire_id(policy), "draft": draft}
        with page_server(config) as url:
            rendered = open_form(browser, url)
            assert rendered["questionnaire"]["id"] == questionnaire_id(policy)
            # Only the multiple myeloma section shows (enableWhen on the pre-filled indication and pathway).
            assert shown(browser, "CP.PHAR.71 I.A.2")
            assert not shown(browser, "CP.PHAR.71 I.B.2")
            assert checked(browser, "CP.PHAR.71 I.A.3") == "true"  # what the record showed
            assert checked(browser, "CP.PHAR.71 I.A.2") == "null"  # open: for the clinician
            answer(browser, "CP.PHAR.71 I.A.2", True)
            answer(browser, "CP.PHAR.71 I.A.5", False)
            qr = lforms_page.questionnaire_response(browser)
    answers = _items(qr)
    assert qr["resourceType"] == "QuestionnaireResponse"
    assert answers["CP.PHAR.71 I.A.2"][0]["valueBoolean"] is True
    assert answers["CP.PHAR.71 I.A.5"][0]["valueBoolean"] is False
    assert answers["CP.PHAR.71 I.A.3"][0]["valueBoolean"] is True
    assert answers["indication"][0]["valueCoding"]["code"] == indication_coding(policy, "multiple-myeloma")["code"]
    # An open question nobody answered is simply absent: it documents nothing.
    assert "CP.PHAR.71 I.A.6" not in answers
    assert not any(link_id.startswith("CP.PHAR.71 I.B") for link_id in answers)


def _post(url: str, body: dict, headers: dict[str, str]) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **headers}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _as_dtr_client(lforms_qr: dict, draft: dict) -> dict:
    """The DTR client's part: LHC-Forms adds no information-origin or qr-* extensions. Answers the
    draft pre-filled keep the payer's origin; the others are the clinician's (manual)."""
    drafted = {item["linkId"]: item["answer"] for item in walk(draft.get("item", [])) if item.get("answer")}
    for item in walk(lforms_qr.get("item", [])):
        if item.get("answer"):
            item["answer"] = drafted.get(item["linkId"]) or [
                answer | {"extension": [MANUAL]} for answer in item["answer"]
            ]
    return lforms_qr | {
        "id": "qr-lforms",
        "questionnaire": draft["questionnaire"],
        "subject": draft["subject"],
        "extension": draft.get("extension", []),
        "status": "completed",
        "authored": "2026-11-23T14:30:00Z",
    }


def test_the_whole_loop_through_lhc_forms(tmp_path, browser):
    ehr_key, dtr_key = generate_key("ES384"), generate_key("ES384")
    settings = {
        "CDS_AUTH": "required",
        "CDS_TRUSTED_ISSUERS": json.dumps({ISSUER: jwks(ehr_key)}),
        "CDS_DTR_CLIENTS": json.dumps({CLIENT_ID: {"jwks": jwks(dtr_key), "issuer": ISSUER}}),
        "CDS_PUBLIC_BASE_URL": BASE,
    }
    request = load_json(SAMPLES / "02-mm-needs-documentation.json")

    def sign(body: dict) -> dict:
        token = ehr_key.sign(make_claims(ISSUER, BASE + SIGN, now=time.time()))
        return _post(live + SIGN, body, {"Authorization": bearer(token)})

    with running_service(tmp_path, **settings) as live:
        first = sign(request)
        assert pa_finding(first)["likelihood"] == "needs-documentation"
        info = coverage_information(first)
        config = {
            "fhirBase": live + "/fhir",
            "accessToken": live_token(live, dtr_key, BASE),
            "packageParameters": package_parameters(request, info),
        }
        with page_server(config) as url:
            rendered = open_form(browser, url)
            assert checked(browser, "CP.PHAR.71 I.A.3") == "true"  # the record showed the age
            assert checked(browser, "CP.PHAR.71 I.A.2") == "null"
            if os.environ.get("LFORMS_SCREENSHOT"):
                browser.save_screenshot(os.environ["LFORMS_SCREENSHOT"])
            answer(browser, "CP.PHAR.71 I.A.2", True)
            answer(browser, "CP.PHAR.71 I.A.4.c", True)
            completed = _as_dtr_client(lforms_page.questionnaire_response(browser), rendered["draft"])
        again = copy.deepcopy(request)
        again["hookInstance"] = "5b0c7a52-1f0e-4a3c-9d51-6f2f3c1e9a10"
        again["prefetch"]["questionnaireResponses"] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": completed}],
        }
        second = sign(again)
    finding = pa_finding(second)
    assert finding["likelihood"] == "likely-approved", finding["criteria"]
    criteria = {c["clause"]: c for c in finding["criteria"]}
    assert "QuestionnaireResponse/qr-lforms" in criteria["CP.PHAR.71 I.A.2"]["evidence"]
    assert coverage_information(second)["covered"] == "covered"
