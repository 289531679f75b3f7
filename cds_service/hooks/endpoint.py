"""``POST /cds-services/{id}``: protocol checks, authentication, then the engine."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from ..fhir_api.access import fhir_base
from ..security import gate as auth_gate
from ..storage import HookCall, coverage_assertion_ids
from ..web import metrics
from ..web.errors import ServiceError
from ..web.request_body import check_prefetch_size, json_object
from .discovery import SERVICES
from .engine import LimitExceeded, Outcome, evaluate
from .prefetch import PrefetchError
from .schemas import CONTEXT_SCHEMAS, MAX_HOOK_INSTANCE, HookRequestSchema, error_paths

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


@bp.before_request
def _started() -> None:
    g.hook_started = time.perf_counter()


@bp.after_request
def _count(response: Response) -> Response:
    """Every hook call answered, whatever its status, in ``cds_hook_calls_total`` and its duration."""
    service = metrics.service_label((request.view_args or {}).get("service_id", ""), SERVICES)
    metrics.HOOK_CALLS.labels(service, str(response.status_code)).inc()
    # An app-level before_request that answered first (a malformed chunked body) skips _started.
    started = g.get("hook_started")
    if started is not None:
        metrics.HOOK_DURATION.labels(service).observe(time.perf_counter() - started)
    return response


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    started = time.perf_counter()
    service = SERVICES.get(service_id)
    if service is None:
        raise ServiceError(404, f"No CDS service with id {service_id!r}")
    claims = auth_gate.require()
    client_iss = claims.get("iss") if isinstance(claims, dict) else None
    hook_instance = None
    try:
        body = json_object()
        hook_instance = _hook_instance(body)
        outcome = _answer(service_id, service.hook, body, client_iss)
        # Serialized before the audit row says 200: an answer that cannot be sent is not a 200.
        response = jsonify(outcome.response)
    except Exception as exc:
        # 400s once the hookInstance is known, 412s, and any 500: on the trail with the status
        # the client receives, then answered as they are.
        if hook_instance is not None:
            status = exc.status if isinstance(exc, ServiceError) else 500
            _audit(HookCall(service_id, hook_instance, status, _elapsed_ms(started), client_iss))
        raise
    if outcome.dtr_contexts and not _keep_judgements(outcome, client_iss):
        # A questionnaire whose context cannot be found would send the EHR to a 4xx.
        raise ServiceError(503, "The service cannot record this call right now; try again")
    duration_ms = _elapsed_ms(started)
    call = HookCall(
        service_id,
        body["hookInstance"],
        200,
        duration_ms,
        client_iss,
        finding_codes=outcome.findings,
        likelihoods=outcome.likelihoods,
        coverage_assertion_ids=coverage_assertion_ids(outcome.response),
        order_count=outcome.orders,
    )
    if not (outcome.response.get("cards") or outcome.response.get("systemActions")):
        # Nothing asserted (an order that is not lenalidomide): the row is written in a batch off the
        # request path (storage/deferred.py); no fsync for the commonest call.
        current_app.extensions["cds_store"].defer_hook_call(call)
    elif not _audit(call):
        # The answer's coverage assertions must be traceable in a dispute: no trail, no answer.
        raise ServiceError(503, "The service cannot record this call right now; try again")
    metrics.observe_answer(service_id, outcome.findings, outcome.likelihoods, len(outcome.response["cards"]))
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
            "duration_ms": duration_ms,
        },
    )
    return response


def _hook_instance(body: dict[str, Any]) -> str | None:
    """The request's hookInstance when it can key an audit row (a text of 1 to 255 characters)."""
    value = body.get("hookInstance")
    return value if isinstance(value, str) and 0 < len(value) <= MAX_HOOK_INSTANCE else None


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _keep_judgements(outcome: Outcome, client_iss: str | None) -> bool:
    """Keep the DTR judgements under their assertion ids and the caller's issuer; False, logged,
    when they were not committed."""
    try:
        current_app.extensions["cds_dtr_store"].keep(outcome.dtr_contexts, client_iss)
    except SQLAlchemyError as exc:
        log.error("dtr judgements not kept", extra={"event": "dtr_keep_failed", "error_type": type(exc).__name__})
        return False
    return True


def _audit(call: HookCall) -> bool:
    """Write the audit row (its own committed transaction); False, logged, when it failed."""
    try:
        with metrics.timed(metrics.AUDIT_COMMIT):
            current_app.extensions["cds_store"].record_hook_call(call)
    except SQLAlchemyError as exc:
        log.error(
            "audit row not written",
            extra={
                "event": "audit_failed",
                "service": call.service_id,
                "hookInstance": call.hook_instance,
                "status": call.http_status,
                "error_type": type(exc).__name__,
            },
        )
        return False
    return True


def _answer(service_id: str, hook: str, body: dict[str, Any], issuer: str | None) -> Outcome:
    _check(body, hook)
    check_prefetch_size(body)
    try:
        return evaluate(body, current_app.extensions["cds_settings"], issuer, fhir_base=fhir_base())
    except LimitExceeded as exc:
        raise ServiceError(413, str(exc), [exc.field_path]) from None
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
