"""FHIR OperationOutcome error answers: the contract's error table lives here."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# HTTP status -> OperationOutcome issue code (http://hl7.org/fhir/issue-type).
_ISSUE_CODE = {
    400: "invalid",
    401: "security",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    412: "incomplete",
    413: "too-costly",
    415: "not-supported",
    503: "transient",
}


class ServiceError(Exception):
    """An error answered with ``status`` and an OperationOutcome naming the field and why."""

    def __init__(self, status: int, diagnostics: str, expression: list[str] | None = None) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.expression = expression or []


class Unauthorized(Exception):
    """401 with no details (CDS Hooks best practice: say nothing about why)."""


def operation_outcome(status: int, diagnostics: str, expression: list[str] | None = None) -> dict:
    issue: dict = {
        "severity": "error",
        "code": _ISSUE_CODE.get(status, "exception" if status >= 500 else "processing"),
        "diagnostics": diagnostics,
    }
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def outcome_response(status: int, diagnostics: str, expression: list[str] | None = None) -> Response:
    response = jsonify(operation_outcome(status, diagnostics, expression))
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        response = outcome_response(exc.status, exc.diagnostics, exc.expression)
        if exc.status == 503:
            response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Unauthorized)
    def _unauthorized(_exc: Unauthorized) -> Response:
        response = Response(status=401)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            return outcome_response(413, f"Request body is larger than the limit of {limit} bytes")
        return outcome_response(status, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error", extra={"event": "error", "error_type": type(exc).__name__})
        return outcome_response(500, "Internal error; the request was not processed")
