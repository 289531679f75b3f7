"""``POST /cds-services/{id}``: protocol checks, authentication, then the engine."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from . import auth_gate
from .discovery import SERVICES
from .engine import evaluate
from .errors import ServiceError
from .prefetch import PrefetchError
from .request_body import check_prefetch_size, json_object
from .schemas import CONTEXT_SCHEMAS, HookRequestSchema, error_paths

log = logging.getLogger(__name__)
bp = Blueprint("hooks", __name__)

_REQUEST_SCHEMA = HookRequestSchema()
_CONTEXT_SCHEMAS = {hook: schema() for hook, schema in CONTEXT_SCHEMAS.items()}


def _check(body: dict[str, Any], hook: str) -> None:
    errors = _REQUEST_SCHEMA.validate(body)
    if errors:
        raise _bad_request(errors)
    if body["hook"] != hook:
        raise ServiceError(400, f"hook {body['hook']!r} is not this service's hook {hook!r}", ["hook"])
    errors = _CONTEXT_SCHEMAS[hook].validate(body["context"])
    if errors:
        raise _bad_request(errors, prefix="context")


def _bad_request(errors: dict, prefix: str = "") -> ServiceError:
    pairs = error_paths(errors, prefix)
    text = "; ".join(f"{path}: {message}" for path, message in pairs)
    return ServiceError(400, text, [path for path, _ in pairs])


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    started = time.perf_counter()
    service = SERVICES.get(service_id)
    if service is None:
        raise ServiceError(404, f"No CDS service with id {service_id!r}")
    auth_gate.require()
    body = json_object()
    _check(body, service.hook)
    check_prefetch_size(body)
    try:
        outcome = evaluate(body, current_app.extensions["cds_settings"])
    except PrefetchError as exc:
        log.info(
            "prefetch unavailable",
            extra={
                "event": "hook",
                "service": service_id,
                "hookInstance": body["hookInstance"],
                "status": 412,
            },
        )
        raise ServiceError(
            412,
            f"The service needs {', '.join(exc.missing)}: absent from prefetch and not readable from fhirServer",
            [f"prefetch.{key}" for key in exc.missing],
        ) from None
    log.info(
        "hook answered",
        extra={
            "event": "hook",
            "service": service_id,
            "hookInstance": body["hookInstance"],
            "status": 200,
            "orders": outcome.orders,
            "findings": outcome.findings,
            "likelihood": outcome.likelihoods,
            "prefetch_read": outcome.prefetch_read,
            "prefetch_unavailable": outcome.prefetch_unavailable,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return jsonify(outcome.response)
