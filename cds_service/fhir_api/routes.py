"""The ``/fhir`` routes: thin Flask views over the generator, the package and the store."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request

from ..cli import package_version
from ..rules.policy import Policy, load_policy
from ..web.errors import ServiceError
from .access import FHIR_PREFIX, caller, fhir_base
from .capability import capability_statement
from .questionnaire import build_questionnaire, canonical_url, policy_version, questionnaire_id

bp = Blueprint("fhir_api", __name__, url_prefix=FHIR_PREFIX)

FHIR_JSON = "application/fhir+json"


def current_policy() -> Policy:
    """The policy the hooks judge by (and so the one the form asks about)."""
    return load_policy()


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
