"""Who is calling ``/fhir``, and where our FHIR endpoints are published."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from ..web.errors import Unauthorized

FHIR_PREFIX = "/fhir"


@dataclass(frozen=True)
class Caller:
    """The DTR client of a /fhir call and the CDS Hooks issuer it acts for (if it names one)."""

    client_id: str
    issuer: str | None


def caller() -> Caller | None:
    """The authenticated DTR client, ``None`` with CDS_AUTH=disabled; 401 otherwise.

    SMART Backend Services tokens for /fhir are not issued yet: with CDS_AUTH=required every
    protected /fhir call is refused, never served open."""
    if current_app.config["CDS_AUTH"] == "disabled":
        return None
    raise Unauthorized()


def fhir_base() -> str:
    """``{CDS_PUBLIC_BASE_URL}/fhir`` (the request's own host when no public base is set)."""
    base = current_app.config.get("CDS_PUBLIC_BASE_URL") or request.host_url
    return base.rstrip("/") + FHIR_PREFIX
