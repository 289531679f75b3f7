"""The whole DTR loop, as an integrator runs it: order-sign -> needs-documentation with a
questionnaire -> $questionnaire-package with the coverage-assertion-id as context -> a draft
pre-filled with what the record showed -> a person's answers -> order-sign again with the
completed form in prefetch -> likely-approved, covered, the form cited as evidence."""

from __future__ import annotations

import copy
import json
import time

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from cds_service.crd.coverage_information import EXTENSION_URL
from cds_service.security.backend_services import TOKEN_PATH
from tests.cds_service.security.dtr_client import CLIENT_ID, assertion, token_form
from tests.cds_service.security.jwt_helpers import ISSUER, bearer, generate_key, jwks, make_claims
from tests.conftest import SAMPLES, findings, load_json

BASE = "https://cds.example.org"
SIGN = "/cds-services/lenalidomide-order-sign"
PACKAGE = "/fhir/Questionnaire/$questionnaire-package"
DTR = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/"


def coverage_information(answer: dict) -> dict[str, object]:
    (action,) = answer["systemActions"]
    (extension,) = [e for e in action["resource"]["extension"] if e["url"] == EXTENSION_URL]
    return {part["url"]: next(v for k, v in part.items() if k.startswith("value")) for part in extension["extension"]}


def pa_finding(answer: dict) -> dict:
    (card,) = findings(answer, "pa-assessment")
    return card["extension"]["lenalidomide-cds.finding"]


def walk(items):
    for item in items:
        yield item
        yield from walk(item.get("item", []))
        for answer in item.get("answer", []):
            yield from walk(answer.get("item", []))


MANUAL = {
    "url": DTR + "information-origin",
    "extension": [
        {"url": "source", "valueCode": "manual"},
        {
            "url": "author",
            "extension": [{"url": "practitioner", "valueReference": {"reference": "Practitioner/prac-ngozi"}}],
        },
    ],
}


def _fill(questions: list[dict], items: list[dict], answers: dict[str, object]) -> None:
    for question in questions:
        existing = next((item for item in items if item["linkId"] == question["linkId"]), None)
        if question["type"] == "group":
            group = existing or {"linkId": question["linkId"], "item": []}
            _fill(question.get("item", []), group.setdefault("item", []), answers)
            if existing is None and group["item"]:
                items.append(group)
        elif question["linkId"] in answers:
            value = answers[question["linkId"]]
            kind = {"boolean": "valueBoolean", "date": "valueDate", "decimal": "valueDecimal"}[question["type"]]
            answer = {kind: value, "extension": [MANUAL]}
            if existing is None:
                items.append({"linkId": question["linkId"], "text": question["text"], "answer": [answer]})
            else:
                existing["answer"] = [answer]


def answer_form(questionnaire: dict, draft: dict, answers: dict[str, object], **changes: object) -> dict:
    """What a clinician does in the DTR client: answer questions (information-origin manual,
    with the author) where the Questionnaire puts them, and complete the form."""
    response = copy.deepcopy(draft)
    _fill(questionnaire["item"], response.setdefault("item", []), answers)
    response.update({"status": "completed", "authored": "2026-11-23T14:30:00Z", "id": "qr-02-signed"}, **changes)
    return response


@pytest.fixture
def fhir_app(make_app):
    return make_app(CDS_PUBLIC_BASE_URL=BASE).test_client()


class Secured:
    """A service with authentication on: the EHR signs its hook calls as ISSUER, and its DTR
    client (acting for ISSUER) gets a SMART Backend Services token; another DTR client acts for
    another organisation."""

    def __init__(self, make_app) -> None:
        self.ehr_key, self.dtr_key, self.other_key = (generate_key("ES384") for _ in range(3))
        clients = {
            CLIENT_ID: {"jwks": jwks(self.dtr_key), "issuer": ISSUER},
            "dtr-app-other": {"jwks": jwks(self.other_key), "issuer": "https://other-ehr.example"},
        }
        self.client = make_app(
            CDS_AUTH="required",
            CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: jwks(self.ehr_key)}),
            CDS_PUBLIC_BASE_URL=BASE,
            CDS_DTR_CLIENTS=json.dumps(clients),
        ).test_client()

    def hook_headers(self) -> dict[str, str]:
        signed = self.ehr_key.sign(make_claims(ISSUER, BASE + SIGN, now=time.time()))
        return {"Authorization": bearer(signed)}

    def fhir_headers(self, key=None, client_id: str = CLIENT_ID) -> dict[str, str]:
        signed = assertion(key or self.dtr_key, BASE + TOKEN_PATH, client_id=client_id)
        response = self.client.post(TOKEN_PATH, data=token_form(signed))
        assert response.status_code == 200, response.json
        return {"Authorization": bearer(response.json["access_token"])}


def test_the_loop_with_authentication_on(make_app):
    secured = Secured(make_app)
    run_loop(secured.client, secured.hook_headers, secured.fhir_headers())


def test_a_dtr_client_of_another_organisation_cannot_read_the_judgement(make_app):
    secured = Secured(make_app)
    request = load_json(SAMPLES / "02-mm-needs-documentation.json")
    info = coverage_information(secured.client.post(SIGN, json=request, headers=secured.hook_headers()).get_json())
    body = package_parameters(request, info)
    other = secured.fhir_headers(secured.other_key, "dtr-app-other")
    response = secured.client.post(PACKAGE, json=body, headers=other)
    assert response.status_code == 404
    assert secured.client.post(PACKAGE, json=body).status_code == 401  # no token
    assert secured.client.post(PACKAGE, json=body, headers=secured.fhir_headers()).status_code == 200


def package_parameters(request: dict, info: dict) -> dict:
    coverage = next(e["resource"] for e in request["prefetch"]["coverage"]["entry"])
    order = request["context"]["draftOrders"]["entry"][0]["resource"]
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "coverage", "resource": coverage},
            {"name": "order", "resource": order},
            {"name": "questionnaire", "valueCanonical": info["questionnaire"]},
            {"name": "context", "valueString": info["coverage-assertion-id"]},
        ],
    }


def test_needs_documentation_to_likely_approved_through_the_form(fhir_app):
    run_loop(fhir_app, dict, {})


def run_loop(fhir_app, hook_headers, fhir_headers: dict[str, str]) -> None:
    request = load_json(SAMPLES / "02-mm-needs-documentation.json")

    # 1. order-sign: needs documentation, and the coverage-information names the form.
    first = fhir_app.post(SIGN, json=request, headers=hook_headers()).get_json()
    assert pa_finding(first)["likelihood"] == "needs-documentation"
    info = coverage_information(first)
    assert info["covered"] == "conditional" and info["doc-needed"] == "clinical"
    questionnaire_canonical = info["questionnaire"]
    assert questionnaire_canonical.startswith(f"{BASE}/fhir/Questionnaire/cp-phar-71|")

    # 2. The DTR client asks for the package with the coverage-assertion-id as context.
    coverage = next(e["resource"] for e in request["prefetch"]["coverage"]["entry"])
    response = fhir_app.post(PACKAGE, json=package_parameters(request, info), headers=fhir_headers)
    assert response.status_code == 200
    parameters = response.get_json()
    Parameters.model_validate(parameters)
    (package,) = [p["resource"] for p in parameters["parameter"] if p["name"] == "packagebundle"]
    Bundle.model_validate(package)
    assert package["type"] == "collection"
    questionnaire, draft = (entry["resource"] for entry in package["entry"])
    assert questionnaire["resourceType"] == "Questionnaire"
    assert f"{questionnaire['url']}|{questionnaire['version']}" == questionnaire_canonical

    # 3. The draft is pre-filled with what the record showed, and leaves the open questions open.
    QuestionnaireResponse.model_validate(draft)
    assert draft["status"] == "in-progress"
    assert draft["questionnaire"] == questionnaire_canonical
    assert draft["subject"] == {"reference": coverage["beneficiary"]["reference"]}
    answered = {item["linkId"]: item["answer"][0] for item in walk(draft["item"]) if "answer" in item}
    assert answered["indication"]["valueCoding"]["code"] == "multiple-myeloma"
    assert answered["pathway"]["valueCoding"]["code"] == "initial"
    assert answered["CP.PHAR.71 I.A.3"]["valueBoolean"] is True  # age met on the record
    assert answered["CP.PHAR.71 I.A.6"]["valueBoolean"] is True
    assert "CP.PHAR.71 I.A.2" not in answered and "CP.PHAR.71 I.A.4.c" not in answered  # open
    sources = {ext["extension"][0]["valueCode"] for a in answered.values() for ext in a["extension"]}
    assert sources == {"auto-server"}

    # 4. The clinician answers the open questions and completes the form.
    completed = answer_form(
        questionnaire,
        draft,
        {
            "CP.PHAR.71 I.A.2": True,
            "CP.PHAR.71 I.A.4.c": True,
            "CP.PHAR.71 I.A.4.c/date": "2026-06-02",
        },
    )
    QuestionnaireResponse.model_validate(completed)

    # 5. order-sign again, the completed form in prefetch: likely approved, covered.
    again = copy.deepcopy(request)
    again["hookInstance"] = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
    again["prefetch"]["questionnaireResponses"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": completed}],
    }
    second = fhir_app.post(SIGN, json=again, headers=hook_headers()).get_json()
    finding = pa_finding(second)
    assert finding["likelihood"] == "likely-approved"
    criteria = {c["clause"]: c for c in finding["criteria"]}
    assert {c["status"] for c in criteria.values()} == {"met"}
    assert "QuestionnaireResponse/qr-02-signed" in criteria["CP.PHAR.71 I.A.2"]["evidence"]
    assert "QuestionnaireResponse/qr-02-signed" in criteria["CP.PHAR.71 I.A.4"]["evidence"]
    # Criteria the record decided keep their own evidence only.
    assert criteria["CP.PHAR.71 I.A.3"]["evidence"] == ["Patient/pat-02"]
    info = coverage_information(second)
    assert info["covered"] == "covered"
    assert "questionnaire" not in info and "info-needed" not in info


# --- the negative side: what does not count, and what an answer cannot change -------------

CANONICAL = f"{BASE}/fhir/Questionnaire/cp-phar-71|2026-05-anything"


def form(answers: dict[str, bool], *, source: str | None = "manual", **changes: object) -> dict:
    """A completed response to our Questionnaire for the patient and coverage of sample 02."""
    origin = [{"url": DTR + "information-origin", "extension": [{"url": "source", "valueCode": source}]}]
    extension = {"extension": origin} if source else {}
    response = {
        "resourceType": "QuestionnaireResponse",
        "id": "qr-test",
        "extension": [{"url": DTR + "qr-coverage", "valueReference": {"reference": "Coverage/cov-02"}}],
        "questionnaire": CANONICAL,
        "status": "completed",
        "subject": {"reference": "Patient/pat-02"},
        "authored": "2026-11-22T10:00:00Z",
        "item": [
            {
                "linkId": "CP.PHAR.71 I.A",
                "item": [
                    {"linkId": link, "answer": [{"valueBoolean": value, **extension}]}
                    for link, value in answers.items()
                ],
            }
        ],
    }
    response.update(changes)
    return response


def signed_with(client, sample: str, *responses: dict) -> dict[str, dict]:
    request = load_json(SAMPLES / sample)
    request["prefetch"]["questionnaireResponses"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in responses],
    }
    answer = client.post(SIGN, json=request).get_json()
    return {c["clause"]: c for c in pa_finding(answer)["criteria"]} | {"likelihood": pa_finding(answer)["likelihood"]}


DOCUMENTED = {"CP.PHAR.71 I.A.2": True, "CP.PHAR.71 I.A.4.e": True}


def test_a_completed_form_from_a_person_documents_the_open_criteria(fhir_app):
    criteria = signed_with(fhir_app, "02-mm-needs-documentation.json", form(DOCUMENTED))
    assert criteria["likelihood"] == "likely-approved"
    assert criteria["CP.PHAR.71 I.A.2"]["evidence"] == ["QuestionnaireResponse/qr-test"]


def test_answers_without_information_origin_count_as_a_persons(fhir_app):
    criteria = signed_with(fhir_app, "02-mm-needs-documentation.json", form(DOCUMENTED, source=None))
    assert criteria["likelihood"] == "likely-approved"


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(form(DOCUMENTED, status="in-progress"), id="in-progress"),
        pytest.param(
            form(DOCUMENTED, extension=[{"url": DTR + "qr-coverage", "valueReference": {"reference": "Coverage/x"}}]),
            id="another-coverage",
        ),
        pytest.param(form(DOCUMENTED, source="auto-client"), id="auto-client"),
        pytest.param(form(DOCUMENTED, source="auto-server"), id="auto-server"),
        pytest.param(form(DOCUMENTED, subject={"reference": "Patient/someone-else"}), id="another-patient"),
        pytest.param(form(DOCUMENTED, authored="2026-10-01T10:00:00Z"), id="older-than-30-days"),
        pytest.param(form(DOCUMENTED, questionnaire="https://other.example/Questionnaire/x"), id="not-our-form"),
    ],
)
def test_responses_that_do_not_count_leave_the_order_needing_documentation(fhir_app, response):
    criteria = signed_with(fhir_app, "02-mm-needs-documentation.json", response)
    assert criteria["likelihood"] == "needs-documentation"
    assert criteria["CP.PHAR.71 I.A.2"]["status"] == "unknown"
    assert all("QuestionnaireResponse/qr-test" not in c["evidence"] for k, c in criteria.items() if k != "likelihood")


def test_a_false_answer_makes_its_clause_not_met(fhir_app):
    criteria = signed_with(fhir_app, "02-mm-needs-documentation.json", form({"CP.PHAR.71 I.A.2": False}))
    assert criteria["CP.PHAR.71 I.A.2"]["status"] == "not-met"
    assert criteria["CP.PHAR.71 I.A.2"]["evidence"] == ["QuestionnaireResponse/qr-test"]
    assert criteria["likelihood"] == "likely-denied"


def test_a_false_alternative_leaves_its_criterion_to_the_other_alternatives(fhir_app):
    criteria = signed_with(fhir_app, "02-mm-needs-documentation.json", form({"CP.PHAR.71 I.A.4.e": False}))
    assert criteria["CP.PHAR.71 I.A.4"]["status"] == "unknown"


def test_an_answer_cannot_rescue_an_age_under_18(fhir_app):
    minor = form(
        {"CP.PHAR.71 I.A.3": True, "CP.PHAR.71 I.A.4.e": True},
        subject={"reference": "Patient/pat-08"},
        extension=[{"url": DTR + "qr-coverage", "valueReference": {"reference": "Coverage/cov-08"}}],
    )
    criteria = signed_with(fhir_app, "08-minor.json", minor)
    assert criteria["CP.PHAR.71 I.A.3"]["status"] == "not-met"
    assert criteria["CP.PHAR.71 I.A.3"]["evidence"] == ["Patient/pat-08"]
    assert criteria["CP.PHAR.71 I.A.4"]["status"] == "met"  # the open one is documented
    assert criteria["likelihood"] == "likely-denied"


def test_the_record_stands_where_it_decides(fhir_app):
    # I.A.6 (generic) is met on the record: a "no" on the form does not undo it.
    criteria = signed_with(fhir_app, "02-mm-needs-documentation.json", form({"CP.PHAR.71 I.A.6": False}))
    assert criteria["CP.PHAR.71 I.A.6"]["status"] == "met"
    assert "QuestionnaireResponse/qr-test" not in criteria["CP.PHAR.71 I.A.6"]["evidence"]


def test_the_newest_form_wins(fhir_app):
    older = form({"CP.PHAR.71 I.A.2": False}, id="qr-old", authored="2026-11-20T10:00:00Z")
    newer = form(DOCUMENTED, id="qr-new")
    criteria = signed_with(fhir_app, "02-mm-needs-documentation.json", older, newer)
    assert criteria["CP.PHAR.71 I.A.2"]["status"] == "met"
    assert criteria["CP.PHAR.71 I.A.2"]["evidence"] == ["QuestionnaireResponse/qr-new"]
