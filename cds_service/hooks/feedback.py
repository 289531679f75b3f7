"""``POST /cds-services/{id}/feedback``: CDS Hooks 2.0 feedback, stored durably, within the
contract's limits (64 KB, 100 entries, a checked shape; CONTRACT.md, Endpoints)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ..security import gate as auth_gate
from ..web.errors import ServiceError
from ..web.request_body import json_object
from .discovery import SERVICES
from .schemas import MAX_FEEDBACK_BYTES, FeedbackRequestSchema, error_paths

log = logging.getLogger(__name__)
bp = Blueprint("feedback", __name__)
_SCHEMA = FeedbackRequestSchema()


@bp.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    if service_id not in SERVICES:
        raise ServiceError(404, f"No CDS service with id {service_id!r}")
    claims = auth_gate.require()
    client_iss = claims.get("iss") if isinstance(claims, dict) else None
    # Content-Length first (nothing read); a chunked body was read within the general limit
    # (web/request_body.py) and is measured once read.
    if (request.content_length or 0) > MAX_FEEDBACK_BYTES or len(request.get_data(cache=True)) > MAX_FEEDBACK_BYTES:
        raise ServiceError(413, f"A feedback body is at most {MAX_FEEDBACK_BYTES} bytes")
    try:
        entries = _SCHEMA.load(json_object())["feedback"]
    except ValidationError as exc:
        pairs = error_paths(exc.messages)
        raise ServiceError(400, "; ".join(f"{p}: {m}" for p, m in pairs), [p for p, _ in pairs]) from None
    try:
        stored = current_app.extensions["cds_feedback_store"].add(service_id, entries, client_iss)
    except SQLAlchemyError as exc:
        log.error("feedback not stored", extra={"event": "feedback_store_failed", "error": type(exc).__name__})
        raise ServiceError(503, "Feedback cannot be stored right now; try again later") from None
    log.info("feedback stored", extra={"event": "feedback", "service": service_id, "count": stored})
    return jsonify({"stored": stored})
