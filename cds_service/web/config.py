"""Configuration from environment variables (documented in the README), read with pydantic-settings.

Every setting has a type and a range or a set of values; a bad one refuses to start with one line naming
it (never its value, which may be a secret such as a database password). Defaults first, then the
environment, then a test's overrides: ``create_app`` passes ``test_config`` to :func:`load`, where it wins
over the environment. Keys of ``test_config`` that are not settings (a test clock) pass through untouched.

Why a library: pydantic is already here (fhir.resources is built on it), and pydantic-settings gives typed,
range-checked environment variables with one error per bad value, which hand-written coercion did not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, FilePath, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ..security.fhir_servers import configured_server

LineOfBusiness = Literal["medicaid", "marketplace", "commercial"]
CommaList = Annotated[list[str], NoDecode]
# A JWKS source: an https:// URL, a file path, or an inline JWK Set; or a registration naming one.
DtrClientSetting = str | dict[str, Any]


class ConfigurationError(Exception):
    """A one-line reason the service refuses to start."""


class ServiceSettings(BaseSettings):
    """One field per environment variable, named as the variable is."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore")

    CDS_AUTH: Literal["required", "disabled"] = "required"
    # JSON text (or, from a test, the parsed object); parse_trusted_issuers reads and checks it.
    CDS_TRUSTED_ISSUERS: Any = None
    CDS_PUBLIC_BASE_URL: str | None = None
    CDS_JWT_LEEWAY_SECONDS: int = Field(60, ge=0, le=300)
    # A JWKS URL is fetched again (for an unknown kid) at most this often (security/jwt_verifier.py).
    CDS_JWKS_MIN_REFETCH_SECONDS: float = Field(60.0, ge=1, le=3600)
    CDS_SOURCE_LABEL: str = Field("Health plan pharmacy (CP.PHAR.71 lenalidomide)", min_length=1, max_length=200)
    CDS_FEEDBACK_DB: str = Field("instance/feedback.sqlite3", min_length=1)
    CDS_DATABASE_URL: str | None = None
    CDS_MAX_BODY_BYTES: int = Field(5 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    CDS_MAX_JSON_DEPTH: int = Field(64, ge=2, le=1000)
    CDS_MAX_PREFETCH_RESOURCES: int = Field(10000, ge=1, le=1_000_000)
    CDS_MAX_DRAFT_ORDERS: int = Field(500, ge=1, le=100_000)
    CDS_MAX_LENALIDOMIDE_ORDERS: int = Field(20, ge=1, le=1000)
    CDS_FHIR_TIMEOUT_SECONDS: float = Field(2.0, gt=0, le=60)
    CDS_HOOK_DEADLINE_SECONDS: float = Field(2.5, gt=0, le=60)
    CDS_FHIR_MAX_RESPONSE_BYTES: int = Field(10 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    CDS_FHIR_MAX_PAGES: int = Field(10, ge=1, le=1000)
    CDS_FHIR_MAX_WORKERS: int = Field(8, ge=1, le=256)
    # A request's body must arrive within this many seconds after its head (web/serving.py).
    CDS_BODY_READ_SECONDS: float = Field(10.0, gt=0, le=300)
    CDS_CORS_ORIGINS: CommaList = Field(default_factory=lambda: ["*"])
    # FHIR base URLs every call may read from (security/fhir_servers.py); default none.
    CDS_FHIR_SERVERS: CommaList = Field(default_factory=list)
    CDS_LOB_PLAN_OVERRIDES: dict[str, LineOfBusiness] | None = None
    # Days hook-call and feedback rows are kept; ``lenalidomide-cds purge`` deletes older ones. None: kept for ever.
    CDS_AUDIT_RETENTION_DAYS: int | None = Field(None, ge=1, le=36500)
    # DTR clients of the /fhir endpoints (SMART Backend Services): client id -> JWKS source, or
    # {"jwks": source, "issuer": the CDS Hooks iss it acts for}; normalised to the second form.
    CDS_DTR_CLIENTS: dict[str, DtrClientSetting] | None = None
    CDS_FHIR_TOKEN_SECONDS: int = Field(300, ge=30, le=300)
    # Days a DTR judgement is kept under its coverage-assertion-id; past them the context is unknown.
    CDS_DTR_CONTEXT_DAYS: int = Field(30, ge=1, le=3650)
    # The $questionnaire-package output parameter: DTR 2.2 "packagebundle", or "PackageBundle" (DTR 2.0/2.1 clients).
    CDS_DTR_PACKAGE_PARAMETER: Literal["packagebundle", "PackageBundle"] = "packagebundle"
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # The CP.PHAR.71 policy YAML to judge by; None: the one that ships with the service.
    CDS_POLICY_FILE: FilePath | None = None

    @field_validator("CDS_AUTH", "LOG_LEVEL", mode="before")
    @classmethod
    def _case_insensitive(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, str):
            return value
        return value.strip().upper() if info.field_name == "LOG_LEVEL" else value.strip().lower()

    @field_validator("CDS_CORS_ORIGINS", "CDS_FHIR_SERVERS", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("CDS_FHIR_SERVERS")
    @classmethod
    def _fhir_servers(cls, value: list[str]) -> list[str]:
        for url in value:
            configured_server(url)  # ValueError names the URL and why
        return value

    @field_validator("CDS_DTR_CLIENTS", mode="before")
    @classmethod
    def _json_text(cls, value: Any) -> Any:
        """JSON text from a test's overrides too (pydantic-settings decodes only the environment's)."""
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("must be a JSON object") from None

    @field_validator("CDS_DTR_CLIENTS")
    @classmethod
    def _dtr_clients(cls, value: dict[str, DtrClientSetting] | None) -> dict[str, dict[str, Any]] | None:
        """Each client as ``{"jwks": source, "issuer": str | None}``; the source itself (file, URL) is
        read and checked when the app starts."""
        if value is None:
            return None
        clients = {}
        for client_id, entry in value.items():
            if not client_id.strip() or len(client_id) > 200:
                raise ValueError("a client id must be 1 to 200 characters")
            registration = entry if isinstance(entry, dict) and "keys" not in entry else {"jwks": entry}
            unknown = set(registration) - {"jwks", "issuer"}
            if unknown or "jwks" not in registration:
                raise ValueError('each client maps to a JWKS source or to {"jwks": ..., "issuer": ...}')
            jwks, issuer = registration["jwks"], registration.get("issuer")
            if not (isinstance(jwks, str) and jwks.strip()) and not (
                isinstance(jwks, dict) and isinstance(jwks.get("keys"), list)
            ):
                raise ValueError("a JWKS source is a URL, a file path or a JWK Set object")
            if issuer is not None and not (isinstance(issuer, str) and issuer.strip()):
                raise ValueError("a client's issuer must be a non-empty string")
            clients[client_id] = {"jwks": jwks, "issuer": issuer}
        return clients

    @field_validator("CDS_PUBLIC_BASE_URL")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")) or "?" in value or "#" in value:
            raise ValueError("must be an http(s) URL without query or fragment")
        return value


SETTING_NAMES = frozenset(ServiceSettings.model_fields)


def load(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The settings from the environment with ``overrides`` on top, checked; extra override keys kept."""
    overrides = dict(overrides or {})
    known = {key: value for key, value in overrides.items() if key in SETTING_NAMES}
    try:
        settings = ServiceSettings(**known)
    except ValidationError as exc:
        raise ConfigurationError(_one_line(exc)) from None
    values = settings.model_dump()
    values.update({key: value for key, value in overrides.items() if key not in SETTING_NAMES})
    return values


def load_from_env() -> dict[str, Any]:
    """The settings from the environment alone (the migration environment reads the database from it)."""
    return load()


def _one_line(exc: ValidationError) -> str:
    """Name each bad setting and what it must be, never the value given (it may be a secret)."""
    reasons = []
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "configuration"
        reasons.append(f"{name}: {error['msg']}")
    return "invalid configuration: " + "; ".join(reasons)
