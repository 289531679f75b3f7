"""The ``/fhir`` routes: thin Flask views over the generator, the package and the store."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request

from ..rules.policy import Policy
from ..storage.dtr import DtrContext, DtrStore
from ..version import package_version
from ..web.errors import ServiceError
from ..web.request_body import json_object
from .access import FHIR_PREFIX, DtrClient, caller, fhir_base
from .capability import capability_statement
from .errors_log import parse_errors
from .package import check_context, draft_response, package_bundle, parse_request, warnings
from .questionnaire import build_questionnaire, canonical_url, policy_version, questionnaire_id

bp = Blueprint("fhir_api", __name__, url_prefix=FHIR_PREFIX)

FHIR_JSON = "application/fhir+json"


def current_policy() -> Policy:
    """The policy the hooks judge by (and so the one the form asks about): loaded at start from
    CDS_POLICY_FILE."""
    return current_app.extensions["cds_policy"]


def fhir_response(resource: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(resource, ensure_ascii=False), status=status, mimetype=FHIR_JSON)


def _questionnaire() -> dict[str, Any]:
    return build_questionnaire(current_policy(), fhir_base(), current_app.config["CDS_SOURCE_LABEL"])


@bp.get("/metadata")
def metadata() -> Response:
    policy = current_policy()
    return fhir_response(capability_statement(fhir_base(), package_version(), policy.last_review_date))


@bp.get("/Questionnaire/<resource_id>")
def read_questionnaire(resource_id: str) -> Response:
    caller()
    if resource_id != questionnaire_id(current_policy()):
        raise ServiceError(404, f"No Questionnaire with id {resource_id!r}")
    return fhir_response(_questionnaire())


@bp.get("/Questionnaire")
def search_questionnaire() -> Response:
    """Search by ``url`` (``url|version`` matches only the current version); no ``url``: all."""
    caller()
    policy = current_policy()
    wanted = request.args.getlist("url")
    url, _, version = (wanted[0] if wanted else "").partition("|")
    matches = not wanted or (
        len(wanted) == 1
        and url == canonical_url(fhir_base(), policy)
        and (not version or version == policy_version(policy))
    )
    entry = {"fullUrl": canonical_url(fhir_base(), policy), "resource": _questionnaire(), "search": {"mode": "match"}}
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 1 if matches else 0,
        "link": [{"relation": "self", "url": fhir_base() + request.full_path.removeprefix(FHIR_PREFIX).rstrip("?")}],
        "entry": [entry] if matches else [],
    }
    return fhir_response(bundle)


def _dtr_store() -> DtrStore:
    return current_app.extensions["cds_dtr_store"]


def _judgement(context: str | None, client: DtrClient | None) -> DtrContext | None:
    """The kept judgement ``context`` names, as this caller may see it: a DTR client sees only
    its issuer's judgements (none when it acts for no issuer); with CDS_AUTH=disabled, any."""
    if context is None:
        return None
    if client is None:
        return _dtr_store().find(context, None, any_issuer=True)
    if not client.issuer:
        return None
    return _dtr_store().find(context, client.issuer)


@bp.post("/Questionnaire/$questionnaire-package")
@bp.post("/$questionnaire-package")
def questionnaire_package() -> Response:
    client = caller()
    package_request = parse_request(json_object())
    judgement = _judgement(package_request.context, client)
    check_context(package_request, judgement)
    policy = current_policy()
    wanted, issues = warnings(package_request, canonical_url(fhir_base(), policy), policy_version(policy))
    parameters: list[dict[str, Any]] = []
    if wanted:
        questionnaire = _questionnaire()
        now = _dtr_store().clock()
        draft = draft_response(questionnaire, package_request, judgement, now)
        parameters.append(
            {
                "name": current_app.config["CDS_DTR_PACKAGE_PARAMETER"],
                "resource": package_bundle(questionnaire, draft, now),
            }
        )
    if issues:
        parameters.append({"name": "outcome", "resource": {"resourceType": "OperationOutcome", "issue": issues}})
    return fhir_response({"resourceType": "Parameters", "parameter": parameters})


@bp.post("/Questionnaire/$log-questionnaire-errors")
@bp.post("/$log-questionnaire-errors")
def log_questionnaire_errors() -> Response:
    """Store what a DTR client reports about our Questionnaire (DTR oper-1); no output."""
    client = caller()
    questionnaires, issues = parse_errors(json_object())
    _dtr_store().log_errors(
        questionnaires, issues, client.client_id if client else None, client.issuer if client else None
    )
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": f"{len(issues)} issues logged"}],
    }
    return fhir_response(outcome)
