"""SMART Backend Services for the DTR FHIR endpoints (``/fhir``): the token endpoint and the gate.

A DTR client registered in ``CDS_DTR_CLIENTS`` (client id -> its JWK Set, and the CDS Hooks issuer it
acts for) posts ``grant_type=client_credentials`` with a ``client_assertion``: a JWT it signed (ES384 or
RS384) with ``iss`` = ``sub`` = its client id, ``aud`` = our token endpoint URL, ``exp`` at most five
minutes ahead and a ``jti`` never used before. It gets an opaque bearer token of at most five minutes for
the ``/fhir`` endpoints. Errors at the token endpoint are RFC 6749 section 5.2 JSON; a ``/fhir`` call
without a valid token is a 401 with no details, decided before routing (an unknown path says nothing).

Decisions:

* joserfc verifies the assertion (signature, the ES384/RS384 allow-list, key type and curve for the
  algorithm, and the registered claims). It is the JOSE half of Authlib, by the same maintainer, which
  Authlib's own ``authlib.jose`` now defers to; PyJWT stays for the CDS Hooks JWTs it already checks.
  Authlib's OAuth 2.0 server classes were not used: they want a client model and a token store of their
  own, and the grant here is one request shape whose every check is a line below.
* The JWKS sources (URL, file, inline) are read and fetched exactly as for ``CDS_TRUSTED_ISSUERS``
  (``jwt_verifier``: https only, size bounds, refetch throttling, key rotation).
* Access tokens are random (256 bits) and kept in the service's database as their SHA-256, not signed:
  every worker and instance sharing the database accepts them, with no signing key to distribute or
  rotate, and a token can be revoked by deleting its row. A /fhir call costs one indexed read.
* Used assertion ``jti`` values go to the store's replay table (shared by workers and instances) under
  ``dtr-client <client id>``, so they cannot collide with a CDS Hooks issuer's.

Nothing here logs an assertion or a token; refusals log the client id and why.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from werkzeug.datastructures import MultiDict

from ..storage import Store
from ..web.errors import ServiceError, Unauthorized
from .gate import public_url
from .jwt_verifier import AuthError, ConfigError, JwksSource, KeyStore, key_store, parse_jwks_source

log = logging.getLogger(__name__)

FHIR_PREFIX = "/fhir"
TOKEN_PATH = "/fhir/auth/token"
SMART_CONFIGURATION_PATH = "/fhir/.well-known/smart-configuration"
# The only /fhir paths open without a token (the contract's "Authorization" paragraph).
OPEN_PATHS = frozenset({"/fhir/metadata", SMART_CONFIGURATION_PATH, TOKEN_PATH})

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("ES384", "RS384")  # what SMART Backend Services requires a server to accept
MAX_ASSERTION_SECONDS = 300  # SMART: exp no more than five minutes in the future
# A client whose clock runs a little ahead of ours still signs exp = its now + 300.
FUTURE_SKEW_SECONDS = 30
MAX_ASSERTION_CHARS = 16_384
MAX_JTI_CHARS = 255
REPLAY_PREFIX = "dtr-client "

# Resource types the /fhir endpoints serve, each readable under a SMART system scope.
SCOPED_TYPES = ("Questionnaire", "ValueSet")
_SCOPE = re.compile(r"system/(?P<type>[A-Z][A-Za-z]+|\*)\.(?P<perm>read|write|\*|c?r?u?d?s?)")
_RESOURCE_SEGMENT = re.compile(r"[A-Z][A-Za-z]+")


@dataclass(frozen=True)
class DtrClient:
    """The DTR client a /fhir call was made by, and the CDS Hooks issuer it acts for (if registered)."""

    client_id: str
    issuer: str | None


@dataclass(frozen=True)
class _Registration:
    client: DtrClient
    source: JwksSource
    keys: KeyStore


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error answer of the token endpoint. ``reason`` is logged, never sent."""

    def __init__(self, error: str, *, reason: str, description: str | None = None, status: int = 400) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason
        self.description = description
        self.status = status


def _invalid_client(reason: str) -> OAuthError:
    # 401, and no description: the client learns nothing about which check failed.
    return OAuthError("invalid_client", reason=reason, status=401)


def parse_dtr_clients(
    clients: Mapping[str, Mapping[str, Any]] | None, *, clock: Callable[[], float] = time.time, timeout: float = 5.0
) -> dict[str, _Registration]:
    """The registrations of ``CDS_DTR_CLIENTS`` (as ``config`` normalised it); files are read and URLs
    checked now. Raises :class:`ConfigError` with a one-line reason naming the client."""
    registrations = {}
    for client_id, entry in (clients or {}).items():
        try:
            source = parse_jwks_source(entry["jwks"])
        except ConfigError as exc:
            raise ConfigError(f"CDS_DTR_CLIENTS[{client_id!r}]: {exc}") from None
        registrations[client_id] = _Registration(
            DtrClient(client_id, entry.get("issuer")), source, key_store(source, clock=clock, timeout=timeout)
        )
    return registrations


def granted_scopes(requested: str) -> list[str]:
    """The requested scopes we grant: SMART v1 or v2 system scopes that can read a type we serve."""
    granted = []
    for scope in requested.split():
        match = _SCOPE.fullmatch(scope)
        if not match or not match["perm"]:
            continue
        if match["type"] not in (*SCOPED_TYPES, "*") or not _reads(match["perm"]):
            continue
        if scope not in granted:
            granted.append(scope)
    return granted


def _reads(permission: str) -> bool:
    return permission in ("read", "*") or (permission != "write" and bool({"r", "s"} & set(permission)))


def scope_covers(scope: str, resource_type: str) -> bool:
    """Whether a granted scope string lets its holder read ``resource_type``."""
    for match in map(_SCOPE.fullmatch, scope.split()):
        if match and match["type"] in (resource_type, "*") and _reads(match["perm"]):
            return True
    return False


class BackendServices:
    """Issues and checks /fhir access tokens. One per process; all state is in the store."""

    def __init__(
        self,
        clients: Mapping[str, _Registration],
        store: Store,
        *,
        token_seconds: int = MAX_ASSERTION_SECONDS,
        leeway_seconds: float = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clients = dict(clients)
        self._store = store
        self._token_seconds = token_seconds
        self._leeway = leeway_seconds
        self._clock = clock

    # --- the token endpoint ---------------------------------------------------------

    def grant(self, form: MultiDict[str, str], token_url: str) -> dict[str, Any]:
        """The token response for a client-credentials request, or :class:`OAuthError`."""
        for name in form:
            if len(form.getlist(name)) > 1:
                raise OAuthError("invalid_request", reason=f"repeated {name}", description=f"{name} is repeated")
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", reason="no grant_type", description="grant_type is required")
        if grant_type != "client_credentials":
            raise OAuthError(
                "unsupported_grant_type",
                reason="grant_type is not client_credentials",
                description="only client_credentials is supported",
            )
        assertion = form.get("client_assertion")
        if not assertion or not form.get("client_assertion_type"):
            raise OAuthError(
                "invalid_request",
                reason="no client assertion",
                description="client_assertion and client_assertion_type are required",
            )
        if form["client_assertion_type"] != ASSERTION_TYPE:
            raise _invalid_client("client_assertion_type is not jwt-bearer")
        requested = form.get("scope", "")
        if not requested.strip():
            raise OAuthError("invalid_scope", reason="no scope", description="scope is required")

        now = self._clock()
        client = self._authenticate(assertion, token_url, now)
        if form.get("client_id") not in (None, client.client_id):
            raise _invalid_client("client_id does not match the assertion")
        scopes = granted_scopes(requested)
        if not scopes:
            raise OAuthError(
                "invalid_scope",
                reason="no grantable scope",
                description=f"grantable: system/{{{','.join(SCOPED_TYPES)}}}.read or .rs",
            )
        token = secrets.token_urlsafe(32)
        scope = " ".join(scopes)
        grant = {"client_id": client.client_id, "issuer": client.issuer, "scope": scope}
        self._store.save_access_token(_digest(token), grant, now + self._token_seconds, now)
        log.info("token issued", extra={"event": "fhir_token_issued", "client_id": client.client_id})
        return {"access_token": token, "token_type": "bearer", "expires_in": self._token_seconds, "scope": scope}

    def _authenticate(self, assertion: str, token_url: str, now: float) -> DtrClient:
        if len(assertion) > MAX_ASSERTION_CHARS:
            raise _invalid_client("assertion too long")
        try:
            compact = jws.extract_compact(assertion.encode("ascii"))
            header = compact.headers()
            unverified = json.loads(compact.payload)
        except (JoseError, ValueError, TypeError, UnicodeError):
            raise _invalid_client("malformed assertion") from None
        if not isinstance(unverified, dict):
            raise _invalid_client("the assertion's payload is not a JSON object")
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise _invalid_client(f"alg {_show(alg)} not allowed")
        if header.get("typ") not in (None, "JWT") or "crit" in header:
            raise _invalid_client("typ or crit header refused")
        kid = header.get("kid")
        client_id = unverified.get("iss")
        if not isinstance(client_id, str) or (registration := self._clients.get(client_id)) is None:
            raise _invalid_client(f"unknown client {_show(client_id)}")
        jku = header.get("jku")
        if jku is not None and registration.source.kind == "url" and jku != registration.source.location:
            raise _invalid_client(f"jku is not the JWKS URL registered for {_show(client_id)}")
        if not isinstance(kid, str) or not kid:
            raise _invalid_client("no kid")
        try:
            key = registration.keys.get(kid)
        except AuthError as exc:
            raise _invalid_client(exc.reason) from None
        mismatch = key.accepts(alg)
        if mismatch:
            raise _invalid_client(mismatch)
        public = key.public_key  # its type matches alg: key.accepts(alg) said so
        jose_key = ECKey.import_key(public) if isinstance(public, EllipticCurvePublicKey) else RSAKey.import_key(public)
        claims_check = jwt.JWTClaimsRegistry(
            now=int(now),
            leeway=int(self._leeway),
            iss={"essential": True, "value": client_id},
            sub={"essential": True, "value": client_id},
            aud={"essential": True, "value": token_url},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            claims = jwt.decode(assertion, jose_key, algorithms=[alg]).claims
            claims_check.validate(claims)
        except JoseError as exc:
            raise _invalid_client(f"assertion refused: {exc.error}") from None
        exp, jti = claims["exp"], claims["jti"]
        if not isinstance(exp, int | float) or isinstance(exp, bool) or not math.isfinite(exp):
            raise _invalid_client("exp is not a number")
        if exp > now + MAX_ASSERTION_SECONDS + FUTURE_SKEW_SECONDS:
            raise _invalid_client("exp more than five minutes ahead")
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_CHARS:
            raise _invalid_client("jti is not a string of 1 to 255 characters")
        # Only a verified assertion may take a place in the replay table.
        if not self._store.add_if_new((REPLAY_PREFIX + client_id, jti), exp + self._leeway, now):
            raise _invalid_client(f"replayed jti {_show(jti)}")
        return registration.client

    # --- the /fhir gate -------------------------------------------------------------

    def check(self, authorization: str | None, resource_type: str | None) -> DtrClient:
        """The client holding this bearer token, or :class:`AuthError`."""
        if not authorization:
            raise AuthError("no Authorization header")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 512:
            raise AuthError("no bearer token")
        grant = self._store.access_token(_digest(token), self._clock())
        if grant is None:
            raise AuthError("unknown or expired access token")
        if resource_type is not None and not scope_covers(grant["scope"], resource_type):
            raise ServiceError(403, f"The access token's scope does not cover {resource_type}")
        return DtrClient(grant["client_id"], grant["issuer"])


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _show(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- Flask ------------------------------------------------------------------------------

bp = Blueprint("backend_services", __name__)


def _services() -> BackendServices:
    return current_app.extensions["cds_backend_services"]


@bp.post(TOKEN_PATH)
def token() -> Response:
    try:
        if request.mimetype != "application/x-www-form-urlencoded":
            raise OAuthError(
                "invalid_request",
                reason="not a form post",
                description="the body must be application/x-www-form-urlencoded",
            )
        body = _services().grant(request.form, public_url(TOKEN_PATH))
    except OAuthError as exc:
        log.info(
            "token refused",
            extra={"event": "fhir_token_refused", "oauth_error": exc.error, "reason": exc.reason},
        )
        error = {"error": exc.error} | ({"error_description": exc.description} if exc.description else {})
        return _no_store(jsonify(error), exc.status)
    return _no_store(jsonify(body), 200)


def _no_store(response: Response, status: int) -> Response:
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.get(SMART_CONFIGURATION_PATH)
def smart_configuration() -> Response:
    """SMART discovery for backend clients (SMART App Launch 2.x, "Backend Services")."""
    return jsonify(
        {
            "issuer": public_url(FHIR_PREFIX),
            "token_endpoint": public_url(TOKEN_PATH),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
            "scopes_supported": [f"system/{kind}.{perm}" for kind in SCOPED_TYPES for perm in ("rs", "read")],
            "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
        }
    )


def _gate() -> None:
    """Before any /fhir route (an unknown one too): the client, or 401 with no details."""
    path = request.path
    if not (path == FHIR_PREFIX or path.startswith(FHIR_PREFIX + "/")) or path in OPEN_PATHS:
        return
    if request.method == "OPTIONS" or current_app.config["CDS_AUTH"] == "disabled":
        return
    segment = path[len(FHIR_PREFIX) + 1 :].split("/", 1)[0]
    resource_type = segment if _RESOURCE_SEGMENT.fullmatch(segment) else None
    try:
        g.dtr_client = _services().check(request.headers.get("Authorization"), resource_type)
    except AuthError as exc:
        log.info("fhir call refused", extra={"event": "auth_refused", "reason": exc.reason, "path": path})
        raise Unauthorized() from None


def require_fhir_client() -> DtrClient | None:
    """The DTR client making this /fhir call (``None`` with CDS_AUTH=disabled).

    The gate has already refused a call without a valid token (401) before the view runs; this
    raises :class:`Unauthorized` all the same if called where the gate did not run.
    """
    if current_app.config["CDS_AUTH"] == "disabled":
        return None
    client = g.get("dtr_client")
    if client is None:
        raise Unauthorized()
    return client


def init_app(app: Flask, store: Store) -> None:
    """Register the token endpoint, the SMART configuration and the /fhir gate.

    ``CDS_DTR_CLIENTS`` is read here; a client whose JWKS file cannot be read, or whose URL is not
    https, refuses to start (:class:`ConfigError`)."""
    clients = parse_dtr_clients(app.config.get("CDS_DTR_CLIENTS"), clock=app.config.get("AUTH_CLOCK") or time.time)
    if app.config["CDS_AUTH"] == "required" and not clients:
        log.warning(
            "CDS_DTR_CLIENTS is not set: no DTR client can obtain a token for /fhir",
            extra={"event": "config_warning"},
        )
    app.extensions["cds_backend_services"] = BackendServices(
        clients,
        store,
        token_seconds=int(app.config["CDS_FHIR_TOKEN_SECONDS"]),
        leeway_seconds=int(app.config["CDS_JWT_LEEWAY_SECONDS"]),
        clock=app.config.get("AUTH_CLOCK") or time.time,
    )
    app.register_blueprint(bp)
    app.before_request(_gate)
