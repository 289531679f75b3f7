"""Configuration from environment variables (documented in the README).

Defaults first, then the environment, then a test's overrides: ``create_app`` passes
``test_config`` on top of what :func:`load_from_env` returns.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    "CDS_AUTH": "required",
    "CDS_TRUSTED_ISSUERS": None,
    "CDS_PUBLIC_BASE_URL": None,
    "CDS_JWT_LEEWAY_SECONDS": 60,
    "CDS_SOURCE_LABEL": "Health plan pharmacy (CP.PHAR.71 lenalidomide)",
    "CDS_FEEDBACK_DB": "instance/feedback.sqlite3",
    "CDS_DATABASE_URL": None,
    "CDS_MAX_BODY_BYTES": 5 * 1024 * 1024,
    "CDS_MAX_JSON_DEPTH": 64,
    "CDS_MAX_PREFETCH_RESOURCES": 10000,
    "CDS_FHIR_TIMEOUT_SECONDS": 2.0,
    "CDS_HOOK_DEADLINE_SECONDS": 2.5,
    "CDS_FHIR_MAX_RESPONSE_BYTES": 10 * 1024 * 1024,
    "CDS_FHIR_MAX_PAGES": 10,
    "CDS_FHIR_MAX_WORKERS": 8,
    "CDS_CORS_ORIGINS": "*",
    "CDS_LOB_PLAN_OVERRIDES": None,
    "LOG_LEVEL": "INFO",
}

_INT_KEYS = {
    "CDS_JWT_LEEWAY_SECONDS",
    "CDS_MAX_BODY_BYTES",
    "CDS_MAX_JSON_DEPTH",
    "CDS_MAX_PREFETCH_RESOURCES",
    "CDS_FHIR_MAX_PAGES",
    "CDS_FHIR_MAX_WORKERS",
    "CDS_FHIR_MAX_RESPONSE_BYTES",
}
_FLOAT_KEYS = {"CDS_FHIR_TIMEOUT_SECONDS", "CDS_HOOK_DEADLINE_SECONDS"}
_JSON_KEYS = {"CDS_LOB_PLAN_OVERRIDES"}


class ConfigurationError(Exception):
    """A one-line reason the service refuses to start."""


def load_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for key in DEFAULTS:
        raw = env.get(key)
        if raw is None or raw == "":
            continue
        config[key] = _coerce(key, raw)
    return config


def _coerce(key: str, raw: str) -> Any:
    try:
        if key in _INT_KEYS:
            return int(raw)
        if key in _FLOAT_KEYS:
            return float(raw)
        if key in _JSON_KEYS:
            return json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{key} is not valid: {exc}") from None
    return raw


def validate(config: Mapping[str, Any]) -> None:
    mode = str(config["CDS_AUTH"]).lower()
    if mode not in {"required", "disabled"}:
        raise ConfigurationError(f"CDS_AUTH must be 'required' or 'disabled', not {config['CDS_AUTH']!r}")
    overrides = config.get("CDS_LOB_PLAN_OVERRIDES")
    if overrides is not None and not isinstance(overrides, dict):
        raise ConfigurationError("CDS_LOB_PLAN_OVERRIDES must be a JSON object")
