"""The Flask application factory: reads like a table of contents of the service."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import yaml
from flask import Flask, Response, jsonify
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS
from sqlalchemy.exc import SQLAlchemyError

from fhir_mappers.codes import CodeListError, load_code_lists

from .fhir_api import routes as fhir_routes
from .hooks import discovery, endpoint, feedback, openapi
from .hooks.engine import Settings
from .rules.policy import Policy, PolicyError, load_policy
from .rules.rems import load_rems
from .security import backend_services
from .security.fhir_servers import FhirServerAllowList
from .security.jwt_verifier import ConfigError, JwtVerifier, parse_trusted_issuers
from .storage import Store
from .storage.dtr import DtrStore
from .version import DISTRIBUTION, package_version
from .web import config as config_module
from .web import errors, metrics, request_body, request_id
from .web.logging_setup import configure as configure_logging

log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    settings = config_module.load(test_config)
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = int(settings["CDS_MAX_BODY_BYTES"])
    json_provider = DefaultJSONProvider(app)
    json_provider.sort_keys = False
    json_provider.ensure_ascii = False
    app.json = json_provider

    configure_logging(settings["LOG_LEVEL"])
    issuers = _trusted_issuers(app)
    policy = _load_rules(settings)
    app.extensions["cds_policy"] = policy
    # One store for the hook-call audit trail, the feedback and the JWT replay cache.
    store = _open_store(settings)
    app.extensions["cds_store"] = app.extensions["cds_feedback_store"] = store
    app.extensions["cds_jwt_verifier"] = _verifier(app, issuers, store)
    try:
        backend_services.init_app(app, store)  # /fhir: token endpoint, SMART configuration, the gate
    except ConfigError as exc:
        raise config_module.ConfigurationError(str(exc)) from None
    app.extensions["cds_dtr_store"] = DtrStore(
        store, context_days=int(settings["CDS_DTR_CONTEXT_DAYS"]), clock=settings.get("CLOCK") or _utc_now
    )
    app.extensions["cds_settings"] = Settings(
        source_label=settings["CDS_SOURCE_LABEL"],
        fhir_timeout=float(settings["CDS_FHIR_TIMEOUT_SECONDS"]),
        fhir_max_pages=int(settings["CDS_FHIR_MAX_PAGES"]),
        hook_deadline=float(settings["CDS_HOOK_DEADLINE_SECONDS"]),
        fhir_max_bytes=int(settings["CDS_FHIR_MAX_RESPONSE_BYTES"]),
        executor=ThreadPoolExecutor(max_workers=int(settings["CDS_FHIR_MAX_WORKERS"]), thread_name_prefix="fhir"),
        max_draft_orders=int(settings["CDS_MAX_DRAFT_ORDERS"]),
        max_lenalidomide_orders=int(settings["CDS_MAX_LENALIDOMIDE_ORDERS"]),
        plan_overrides=settings.get("CDS_LOB_PLAN_OVERRIDES"),
        fhir_servers=FhirServerAllowList(
            settings["CDS_FHIR_SERVERS"],
            {iss: source.fhir_servers for iss, source in (issuers or {}).items()},
        ),
        now=settings.get("CLOCK"),
        policy=policy,
    )

    CORS(
        app,
        origins=settings["CDS_CORS_ORIGINS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID", "traceparent"],
        expose_headers=["X-Request-ID"],
        methods=["GET", "POST", "OPTIONS"],
        max_age=600,
    )
    request_id.init_app(app)
    errors.init_app(app)
    app.before_request(request_body.read_chunked_body)
    app.register_blueprint(discovery.bp)
    app.register_blueprint(endpoint.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(fhir_routes.bp)
    app.register_blueprint(metrics.bp)

    @app.get("/version")
    def service_version() -> Response:
        return jsonify({"service": DISTRIBUTION, "version": package_version()})

    @app.get("/healthz")
    def healthz() -> Response:
        # 200 only while hook calls can be answered (CONTRACT.md, Endpoints): the policy is loaded and
        # the audit trail accepts writes. The reason is ours, never an exception's text.
        if app.extensions.get("cds_policy") is None:
            reason: str | None = "the policy is not loaded"
        else:
            reason = app.extensions["cds_store"].write_problem()
        response = jsonify({"status": "ok"} if reason is None else {"status": "unavailable", "reason": reason})
        response.status_code = 200 if reason is None else 503
        return response

    # Once the configuration is accepted (a refusal stays the one line it is).
    log.info("lenalidomide-cds started", extra={"event": "service_start", "version": package_version()})
    return app


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _open_store(settings: dict[str, Any]) -> Store:
    """Open the database and bring its schema to the latest migration (idempotent; with
    gunicorn's preload_app the master does this once, before forking the workers)."""
    try:
        return Store.open(settings)
    except SQLAlchemyError as exc:
        where = "CDS_DATABASE_URL" if settings.get("CDS_DATABASE_URL") else "CDS_FEEDBACK_DB"
        raise config_module.ConfigurationError(
            f"the database ({where}) cannot be opened or migrated: {type(exc).__name__}"
        ) from None


def _trusted_issuers(app: Flask) -> dict | None:
    """The issuers to trust, or ``None`` with CDS_AUTH=disabled. Checked before anything else
    starts, so a misconfigured service refuses to start with one line and touches nothing."""
    if app.config["CDS_AUTH"] == "disabled":
        log.warning(
            "CDS_AUTH=disabled: hook and feedback calls are NOT authenticated; never run this way in production",
            extra={"event": "auth_disabled"},
        )
        return None
    try:
        issuers = parse_trusted_issuers(app.config.get("CDS_TRUSTED_ISSUERS"))
    except ConfigError as exc:
        raise config_module.ConfigurationError(f"CDS_AUTH=required but {exc}") from None
    if not app.config.get("CDS_PUBLIC_BASE_URL"):
        # The JWT aud is checked against it; the request's Host header is the caller's to choose.
        raise config_module.ConfigurationError("CDS_AUTH=required but CDS_PUBLIC_BASE_URL is not set")
    return issuers


def _load_rules(settings: dict[str, Any]) -> Policy:
    """The policy (``CDS_POLICY_FILE``), the REMS data and the code lists, read and checked now:
    one that does not load refuses to start with the loader's reason (which names the entry at
    fault) instead of failing every hook call."""
    try:
        policy = load_policy(settings["CDS_POLICY_FILE"])
    except (PolicyError, OSError) as exc:
        raise config_module.ConfigurationError(f"CDS_POLICY_FILE: {_one_line(exc)}") from None
    try:
        load_rems()
    except (LookupError, TypeError, ValueError, OSError, yaml.YAMLError) as exc:
        raise config_module.ConfigurationError(
            f"the REMS data (lenalidomide_rems.yaml) does not load: {type(exc).__name__} {_one_line(exc)}"
        ) from None
    try:
        load_code_lists()
    except CodeListError as exc:
        raise config_module.ConfigurationError(f"a code list does not load: {exc}") from None
    return policy


def _one_line(exc: BaseException) -> str:
    """A loader's message on one line: its list of problems joined with ``; ``."""
    head, *problems = (" ".join(part.split()) for part in str(exc).split("\n  - "))
    return " ".join([head, "; ".join(problems)]) if problems else head


def _verifier(app: Flask, issuers: dict | None, store: Store) -> JwtVerifier | None:
    if issuers is None:
        return None
    # Used jti values go to the store, so a token replayed to another worker or instance is refused.
    verifier = JwtVerifier(
        issuers,
        leeway_seconds=int(app.config["CDS_JWT_LEEWAY_SECONDS"]),
        replay_cache=store,
        jwks_min_refetch_seconds=float(app.config["CDS_JWKS_MIN_REFETCH_SECONDS"]),
    )
    verifier.fetch_keys()  # JWKS URLs, before the workers fork; one that fails is retried when needed
    return verifier
