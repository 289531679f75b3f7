"""The Flask application factory: reads like a table of contents of the service."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, Response, jsonify
from flask_cors import CORS

from . import config as config_module
from . import discovery, errors, feedback, hooks, openapi
from .auth import ConfigError, JwtVerifier, parse_trusted_issuers
from .engine import Settings
from .feedback_store import FeedbackStore
from .logging_setup import configure as configure_logging

log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    settings = config_module.load_from_env()
    if test_config:
        settings.update(test_config)
    config_module.validate(settings)
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = int(settings["CDS_MAX_BODY_BYTES"])
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    configure_logging(settings["LOG_LEVEL"])
    _init_auth(app)
    app.extensions["cds_feedback_store"] = FeedbackStore(settings["CDS_FEEDBACK_DB"])
    app.extensions["cds_settings"] = Settings(
        source_label=settings["CDS_SOURCE_LABEL"],
        fhir_timeout=float(settings["CDS_FHIR_TIMEOUT_SECONDS"]),
        fhir_max_pages=int(settings["CDS_FHIR_MAX_PAGES"]),
        hook_deadline=float(settings["CDS_HOOK_DEADLINE_SECONDS"]),
        fhir_max_bytes=int(settings["CDS_FHIR_MAX_RESPONSE_BYTES"]),
        executor=ThreadPoolExecutor(max_workers=int(settings["CDS_FHIR_MAX_WORKERS"]), thread_name_prefix="fhir"),
        plan_overrides=settings.get("CDS_LOB_PLAN_OVERRIDES"),
        now=settings.get("CLOCK"),
    )

    CORS(
        app,
        origins=settings["CDS_CORS_ORIGINS"],
        allow_headers=["Authorization", "Content-Type"],
        methods=["GET", "POST", "OPTIONS"],
        max_age=600,
    )
    errors.init_app(app)
    app.register_blueprint(discovery.bp)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(openapi.bp)

    @app.get("/healthz")
    def healthz() -> Response:
        store_ok = app.extensions["cds_feedback_store"].healthy()
        response = jsonify({"status": "ok" if store_ok else "degraded", "feedbackStore": store_ok})
        response.status_code = 200 if store_ok else 503
        return response

    return app


def _init_auth(app: Flask) -> None:
    mode = str(app.config["CDS_AUTH"]).lower()
    if mode == "disabled":
        app.extensions["cds_jwt_verifier"] = None
        log.warning(
            "CDS_AUTH=disabled: hook and feedback calls are NOT authenticated; never run this way in production",
            extra={"event": "auth_disabled"},
        )
        return
    try:
        issuers = parse_trusted_issuers(app.config.get("CDS_TRUSTED_ISSUERS"))
    except ConfigError as exc:
        raise config_module.ConfigurationError(f"CDS_AUTH=required but {exc}") from None
    if not app.config.get("CDS_PUBLIC_BASE_URL"):
        log.warning(
            "CDS_PUBLIC_BASE_URL is not set: the JWT aud is checked against the request's own URL",
            extra={"event": "config_warning"},
        )
    app.extensions["cds_jwt_verifier"] = JwtVerifier(issuers, leeway_seconds=int(app.config["CDS_JWT_LEEWAY_SECONDS"]))
