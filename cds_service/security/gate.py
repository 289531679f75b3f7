"""Ask the JWT verifier about the current request; 401 with no details when it says no."""

from __future__ import annotations

import logging

from flask import current_app, request

from ..web.errors import Unauthorized
from .jwt_verifier import AuthError

log = logging.getLogger(__name__)


def public_url(path: str) -> str:
    """``path`` under our public base URL (the request's own host when none is configured)."""
    base = current_app.config.get("CDS_PUBLIC_BASE_URL") or request.host_url
    return base.rstrip("/") + path


def audience() -> str:
    """The URL the client must have signed: our public base URL plus this endpoint's path.

    Never the request's own Host: a token minted for another service would pass with a matching
    Host header. With CDS_AUTH=required the service does not start without CDS_PUBLIC_BASE_URL."""
    return current_app.config["CDS_PUBLIC_BASE_URL"].rstrip("/") + request.path


def require() -> dict | None:
    """The verified JWT claims (``None`` with CDS_AUTH=disabled); 401 on any failure."""
    verifier = current_app.extensions.get("cds_jwt_verifier")
    if verifier is None:  # CDS_AUTH=disabled, announced at start
        return None
    try:
        return verifier.verify(request.headers.get("Authorization"), audience())
    except AuthError as exc:
        log.info(
            "authentication refused",
            extra={"event": "auth_refused", "reason": getattr(exc, "reason", str(exc)), "path": request.path},
        )
        raise Unauthorized() from None
