"""The service's OpenAPI 3 document, generated from the same marshmallow schemas that check
requests (apispec), and served at ``GET /openapi.json``."""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, jsonify
from marshmallow import INCLUDE, Schema, fields, validate

from ..version import package_version
from .discovery import SERVICES
from .schemas import FeedbackRequestSchema, HookRequestSchema, OrderSelectContextSchema, OrderSignContextSchema


class _Open(Schema):
    class Meta:
        unknown = INCLUDE


class CodingSchema(_Open):
    system = fields.String(required=True)
    code = fields.String(required=True)
    display = fields.String()


class ActionSchema(_Open):
    type = fields.String(required=True, validate=validate.OneOf(["create", "update", "delete"]))
    description = fields.String(required=True)
    resource = fields.Dict()
    resourceId = fields.String()


class SuggestionSchema(_Open):
    label = fields.String(required=True)
    uuid = fields.String()
    isRecommended = fields.Boolean()
    actions = fields.List(fields.Nested(ActionSchema))


class LinkSchema(_Open):
    label = fields.String(required=True)
    url = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(["absolute", "smart"]))
    appContext = fields.String()


class SourceSchema(_Open):
    label = fields.String(required=True)
    url = fields.String()
    icon = fields.String()
    topic = fields.Nested(CodingSchema)


class CardSchema(_Open):
    uuid = fields.String()
    summary = fields.String(required=True, validate=validate.Length(max=139))
    detail = fields.String()
    indicator = fields.String(required=True, validate=validate.OneOf(["info", "warning", "critical"]))
    source = fields.Nested(SourceSchema, required=True)
    suggestions = fields.List(fields.Nested(SuggestionSchema))
    selectionBehavior = fields.String(validate=validate.OneOf(["at-most-one", "any"]))
    overrideReasons = fields.List(fields.Nested(CodingSchema))
    links = fields.List(fields.Nested(LinkSchema))
    extension = fields.Dict()


class HookResponseSchema(_Open):
    cards = fields.List(fields.Nested(CardSchema), required=True)
    systemActions = fields.List(fields.Nested(ActionSchema))


class ServiceSchema(_Open):
    id = fields.String(required=True)
    hook = fields.String(required=True)
    title = fields.String()
    description = fields.String(required=True)
    prefetch = fields.Dict(keys=fields.String(), values=fields.String())
    usageRequirements = fields.String()
    extension = fields.Dict()


class DiscoverySchema(_Open):
    services = fields.List(fields.Nested(ServiceSchema), required=True)


class IssueSchema(_Open):
    severity = fields.String(required=True)
    code = fields.String(required=True)
    diagnostics = fields.String()
    expression = fields.List(fields.String())


class OperationOutcomeSchema(_Open):
    resourceType = fields.String(required=True, validate=validate.Equal("OperationOutcome"))
    issue = fields.List(fields.Nested(IssueSchema), required=True)


class FeedbackAnswerSchema(_Open):
    stored = fields.Integer(required=True)


class HealthSchema(_Open):
    status = fields.String(required=True, validate=validate.OneOf(["ok", "unavailable"]))
    reason = fields.String(metadata={"description": "why the service cannot answer hooks (503 only)"})


class VersionSchema(_Open):
    service = fields.String(required=True)
    version = fields.String(required=True)


def _json(schema: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _outcome(description: str) -> dict[str, Any]:
    return {"description": description, **_json("OperationOutcome")}


_UNAUTHORIZED = {"description": "JWT missing or not acceptable (no details are given)"}
_SERVICE_ID = {
    "name": "service_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": sorted(SERVICES)},
}


@cache
def build_spec(secured: bool = True) -> dict[str, Any]:
    """The document; with ``secured`` False (CDS_AUTH=disabled) it says, truly, that no JWT is needed."""
    spec = APISpec(
        title="Lenalidomide CDS Hooks service",
        version=package_version(),
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "CDS Hooks 2.0 order-select / order-sign service for lenalidomide orders (CP.PHAR.71)."},
    )
    spec.components.security_scheme("cdsClientJwt", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    for name, schema in {
        "HookRequest": HookRequestSchema,
        "OrderSelectContext": OrderSelectContextSchema,
        "OrderSignContext": OrderSignContextSchema,
        "HookResponse": HookResponseSchema,
        "Discovery": DiscoverySchema,
        "FeedbackRequest": FeedbackRequestSchema,
        "FeedbackAnswer": FeedbackAnswerSchema,
        "OperationOutcome": OperationOutcomeSchema,
        "Health": HealthSchema,
        "Version": VersionSchema,
    }.items():
        spec.components.schema(name, schema=schema)
    security: list[dict[str, list[str]]] = [{"cdsClientJwt": []}] if secured else []
    spec.path(
        path="/cds-services",
        operations={
            "get": {
                "summary": "Discovery",
                "security": security,
                "responses": {"200": {"description": "The services", **_json("Discovery")}, "401": _UNAUTHORIZED},
            }
        },
    )
    spec.path(
        path="/cds-services/{service_id}",
        operations={
            "post": {
                "summary": "Call a service (order-select or order-sign)",
                "security": security,
                "parameters": [_SERVICE_ID],
                "requestBody": {"required": True, **_json("HookRequest")},
                "responses": {
                    "200": {"description": "Cards and system actions", **_json("HookResponse")},
                    "400": _outcome("Not JSON, or a request that breaks CDS Hooks"),
                    "401": _UNAUTHORIZED,
                    "404": _outcome("Unknown service"),
                    "412": _outcome("The Patient is absent from prefetch and cannot be read from fhirServer"),
                    "413": _outcome("Body or prefetch over the configured limit"),
                    "503": _outcome("The call could not be written to the audit trail; nothing was answered"),
                },
            }
        },
    )
    spec.path(
        path="/cds-services/{service_id}/feedback",
        operations={
            "post": {
                "summary": "CDS Hooks 2.0 feedback",
                "security": security,
                "parameters": [_SERVICE_ID],
                "requestBody": {"required": True, **_json("FeedbackRequest")},
                "responses": {
                    "200": {"description": "Stored", **_json("FeedbackAnswer")},
                    "400": _outcome("Not JSON, or feedback that breaks CDS Hooks"),
                    "401": _UNAUTHORIZED,
                    "404": _outcome("Unknown service"),
                    "413": _outcome("Body over the configured limit"),
                    "503": _outcome("The feedback could not be stored"),
                },
            }
        },
    )
    spec.path(
        path="/healthz",
        operations={
            "get": {
                "summary": "Health",
                "responses": {
                    "200": {"description": "Can answer hooks", **_json("Health")},
                    "503": {
                        "description": "Cannot answer hooks: no policy, or the audit trail does not accept writes",
                        **_json("Health"),
                    },
                },
            }
        },
    )
    spec.path(
        path="/version",
        operations={
            "get": {
                "summary": "The service's version (the package's, as in /openapi.json and the start log line)",
                "responses": {"200": {"description": "The version", **_json("Version")}},
            }
        },
    )
    return spec.to_dict()


bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec(secured=current_app.extensions.get("cds_jwt_verifier") is not None))
