"""A real form client: NLM LHC-Forms renders our DTR Questionnaire in headless Chromium (offline).

The page reads from a live gunicorn through ``fhirclient``; see ``lforms_page`` for how it is served.
Set ``LFORMS_SCREENSHOT=docs/dtr-form-lforms.png`` to refresh the README's screenshot while the test runs.
"""

from __future__ import annotations

import os

import pytest

from cds_service.fhir_api.questionnaire import indication_coding, pathway_coding, questionnaire_id
from cds_service.rules.policy import load_policy
from tests.live_server import running_service
from tests.scenarios import lforms_page
from tests.scenarios.lforms_page import answer, checked, chromium, open_form, page_server, shown

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
            if os.environ.get("LFORMS_SCREENSHOT"):
                browser.save_screenshot(os.environ["LFORMS_SCREENSHOT"])
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
