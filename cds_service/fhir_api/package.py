"""``$questionnaire-package``: the request read, the package Bundle built, the draft pre-filled.

Input (DTR 2.2 ``dtr-qpackage-input-parameters``): ``coverage`` 1..1, ``order`` 0..*,
``questionnaire`` 0..* (canonical, ``|version`` allowed), ``context`` 0..1 (a CRD
coverage-assertion-id); at least one of order, questionnaire or context (``dtr-1``). The 2.0/2.1
``referenced`` parameter is accepted and ignored; ``changedsince`` is accepted, and the package is
always returned (its draft is made for this call, so it has always changed).

Output: one package Bundle (``collection``, the Questionnaire first, exactly one
QuestionnaireResponse) under the configured parameter name, plus ``outcome`` with warnings. The
draft is ``in-progress``, about the Coverage's beneficiary, with DTR ``qr-coverage``,
``qr-context`` and ``intendedUse`` ``withpa``; pre-filled from the judgement named by
``context``: the indication, the pathway, and ``true`` for each question the record met, each
answer marked ``information-origin`` ``auto-server``. Open questions are left unanswered.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fhir_mappers.questionnaire_response import DTR, INFORMATION_ORIGIN, INTENDED_USE, QR_CONTEXT, QR_COVERAGE

from ..storage.dtr import DtrContext
from ..web.errors import ServiceError
from .questionnaire import INDICATION_ITEM, PATHWAY_ITEM

PACKAGE_BUNDLE_PROFILE = DTR + "DTR-QPackageBundle"
QUESTIONNAIRE_RESPONSE_PROFILE = DTR + "dtr-questionnaireresponse"
# CRD 2.2 DocReason codes (reference/davinci-crd.md 1.3: coverage-information-codes, _docReason).
DOC_REASON_SYSTEM = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/coverage-information-codes"
ORDER_TYPES = frozenset(
    {
        "Appointment",
        "Encounter",
        "CommunicationRequest",
        "DeviceRequest",
        "MedicationRequest",
        "NutritionOrder",
        "ServiceRequest",
        "SupplyRequest",
        "VisionPrescription",
    }
)
_KNOWN = {"coverage", "order", "questionnaire", "context", "changedsince", "referenced"}


@dataclass
class PackageRequest:
    coverage: dict[str, Any]
    orders: list[dict[str, Any]] = field(default_factory=list)
    questionnaires: list[str] = field(default_factory=list)
    context: str | None = None

    @property
    def coverage_ref(self) -> str:
        return f"Coverage/{self.coverage['id']}"

    @property
    def order_refs(self) -> list[str]:
        return [f"{order['resourceType']}/{order['id']}" for order in self.orders]


def _bad(message: str, where: str) -> ServiceError:
    return ServiceError(400, message, [where])


def _parameters(body: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    if body.get("resourceType") != "Parameters":
        raise _bad("the body must be a FHIR Parameters resource", "resourceType")
    parameters = body.get("parameter")
    if not isinstance(parameters, list):
        raise _bad("Parameters.parameter must be a list", "Parameters.parameter")
    for index, parameter in enumerate(parameters):
        if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
            raise _bad("each parameter needs a name", f"Parameters.parameter[{index}]")
        yield index, parameter


def _resource_id(resource: dict[str, Any], where: str) -> None:
    ident = resource.get("id")
    if not isinstance(ident, str) or not ident or len(ident) > 64:
        raise _bad("the resource needs an id", f"{where}.resource.id")


def parse_request(body: dict[str, Any]) -> PackageRequest:
    """The request's parameters, checked; a 400 naming the parameter otherwise."""
    coverages: list[dict[str, Any]] = []
    request = PackageRequest(coverage={})
    for index, parameter in _parameters(body):
        name, where = parameter["name"], f"Parameters.parameter[{index}]"
        if name not in _KNOWN:
            raise _bad(f"unknown parameter {name!r}", where)
        if name == "coverage":
            resource = parameter.get("resource")
            if not isinstance(resource, dict) or resource.get("resourceType") != "Coverage":
                raise _bad("coverage must be a Coverage resource", where)
            _resource_id(resource, where)
            coverages.append(resource)
        elif name == "order":
            resource = parameter.get("resource")
            if not isinstance(resource, dict) or resource.get("resourceType") not in ORDER_TYPES:
                raise _bad("order must be a request resource (MedicationRequest, ServiceRequest, ...)", where)
            _resource_id(resource, where)
            request.orders.append(resource)
        elif name == "questionnaire":
            value = parameter.get("valueCanonical")
            if not isinstance(value, str) or not value:
                raise _bad("questionnaire must be a valueCanonical", where)
            request.questionnaires.append(value)
        elif name == "context":
            value = parameter.get("valueString")
            if not isinstance(value, str) or not value or request.context is not None:
                raise _bad("context is one valueString", where)
            request.context = value
    if len(coverages) != 1:
        raise _bad("exactly one coverage parameter is required", "Parameters.parameter")
    request.coverage = coverages[0]
    if not request.orders and not request.questionnaires and request.context is None:
        raise _bad("at least one of order, questionnaire or context is required (dtr-1)", "Parameters.parameter")
    return request


def _beneficiary(coverage: dict[str, Any]) -> dict[str, str]:
    beneficiary = coverage.get("beneficiary")
    reference = beneficiary.get("reference") if isinstance(beneficiary, dict) else None
    if not isinstance(reference, str) or not reference:
        raise _bad("the Coverage needs a beneficiary reference (the draft's subject)", "coverage.beneficiary")
    return {"reference": reference}


def _origin() -> list[dict[str, Any]]:
    return [{"url": INFORMATION_ORIGIN, "extension": [{"url": "source", "valueCode": "auto-server"}]}]


def _prefilled(items: Iterable[dict[str, Any]], answers: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The response items mirroring ``items``, keeping only what is answered (and its groups)."""
    out: list[dict[str, Any]] = []
    for item in items:
        link = item["linkId"]
        if item["type"] == "group":
            children = _prefilled(item.get("item", []), answers)
            if children:
                out.append({"linkId": link, "text": item["text"], "item": children})
        elif link in answers:
            out.append({"linkId": link, "text": item["text"], "answer": [{**answers[link], "extension": _origin()}]})
    return out


def _answers(questionnaire: dict[str, Any], judgement: DtrContext | None) -> dict[str, dict[str, Any]]:
    if judgement is None:
        return {}
    options = {
        item["linkId"]: {option["valueCoding"]["code"]: option["valueCoding"] for option in item["answerOption"]}
        for item in questionnaire["item"]
        if item["linkId"] in (INDICATION_ITEM, PATHWAY_ITEM)
    }
    answers: dict[str, dict[str, Any]] = {}
    for link, code in ((INDICATION_ITEM, judgement.indication), (PATHWAY_ITEM, judgement.pathway)):
        if code in options.get(link, {}):
            answers[link] = {"valueCoding": dict(options[link][code])}
    for clause, judged in judgement.criteria.items():
        if judged.status == "met":
            answers[clause] = {"valueBoolean": True}
    return answers


def draft_response(
    questionnaire: dict[str, Any],
    request: PackageRequest,
    judgement: DtrContext | None,
    now: datetime,
) -> dict[str, Any]:
    contexts = request.order_refs or ([judgement.order_ref] if judgement else [])
    extensions: list[dict[str, Any]] = [{"url": QR_COVERAGE, "valueReference": {"reference": request.coverage_ref}}]
    extensions += [{"url": QR_CONTEXT, "valueReference": {"reference": ref}} for ref in contexts]
    extensions.append(
        {"url": INTENDED_USE, "valueCodeableConcept": {"coding": [{"system": DOC_REASON_SYSTEM, "code": "withpa"}]}}
    )
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": uuid.uuid4().hex,
        "meta": {"profile": [QUESTIONNAIRE_RESPONSE_PROFILE]},
        "extension": extensions,
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "status": "in-progress",
        "subject": _beneficiary(request.coverage),
        "authored": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    items = _prefilled(questionnaire["item"], _answers(questionnaire, judgement))
    if items:
        response["item"] = items
    return response


def package_bundle(questionnaire: dict[str, Any], response: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "meta": {"profile": [PACKAGE_BUNDLE_PROFILE]},
        "type": "collection",
        "timestamp": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "entry": [
            {"fullUrl": questionnaire["url"], "resource": questionnaire},
            {"fullUrl": f"urn:uuid:{uuid.UUID(response['id'])}", "resource": response},
        ],
    }


def check_context(request: PackageRequest, judgement: DtrContext | None) -> None:
    """4xx when ``context`` names no judgement this caller may see, or one for another coverage
    or another order (DTR spec-129/130)."""
    if request.context is None:
        return
    if judgement is None:
        raise ServiceError(404, "context: no judgement is kept under this coverage-assertion-id", ["context"])
    if judgement.coverage_ref != request.coverage_ref:
        raise ServiceError(422, "coverage: not the Coverage this context was judged under", ["coverage"])
    if request.orders and judgement.order_ref not in request.order_refs:
        raise ServiceError(422, "order: none of the orders is the one this context was judged for", ["order"])


def warnings(request: PackageRequest, canonical: str, version: str) -> tuple[bool, list[dict[str, Any]]]:
    """Whether our Questionnaire is wanted, and the warnings for what is not served (DTR oper-9)."""
    issues: list[dict[str, Any]] = []
    ours = not request.questionnaires or request.context is not None or bool(request.orders)
    for wanted in request.questionnaires:
        url, _, asked = wanted.partition("|")
        if url != canonical:
            issues.append({"severity": "warning", "code": "not-found", "diagnostics": f"no Questionnaire {wanted}"})
            continue
        ours = True
        if asked and asked != version:
            issues.append(
                {
                    "severity": "warning",
                    "code": "not-found",
                    "diagnostics": f"version {asked} is not served; the current version {version} is returned",
                }
            )
    return ours, issues
