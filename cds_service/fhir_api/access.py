"""Who is calling ``/fhir``, and where our FHIR endpoints are published."""

from __future__ import annotations

from ..security.backend_services import FHIR_PREFIX, DtrClient, require_fhir_client
from ..security.gate import public_url

__all__ = ["FHIR_PREFIX", "DtrClient", "caller", "fhir_base"]


def caller() -> DtrClient | None:
    """The DTR client of this /fhir call (its client id, and the CDS Hooks issuer it acts for),
    ``None`` with CDS_AUTH=disabled; 401 without a valid SMART Backend Services token."""
    return require_fhir_client()


def fhir_base() -> str:
    """``{CDS_PUBLIC_BASE_URL}/fhir`` (the request's own host when no public base is set)."""
    return public_url(FHIR_PREFIX)
