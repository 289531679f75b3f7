"""``POST /cds-services/{id}/feedback``: CDS Hooks 2.0 feedback, stored durably."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify

from ..security import gate as auth_gate
from ..web.errors import ServiceError
from ..web.request_body import json_object
from .discovery import SERVICES
from .schemas import FeedbackRequestSchema, error_paths

log = logging.getLogger(__name__)
bp = Blueprint("feedback", __name__)
_SCHEMA = FeedbackRequestSchema()


@bp.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    if service_id not in SERVICES:
        raise ServiceError(404, f"No CDS service with id {service_id!r}")
    auth_gate.require()
    body = json_object()
    errors = _SCHEMA.validate(body)
    if errors:
        pairs = error_paths(errors)
        raise ServiceError(400, "; ".join(f"{p}: {m}" for p, m in pairs), [p for p, _ in pairs])
    stored = current_app.extensions["cds_feedback_store"].add(service_id, body["feedback"])
    log.info("feedback stored", extra={"event": "feedback", "service": service_id, "count": stored})
    return jsonify({"stored": stored})
