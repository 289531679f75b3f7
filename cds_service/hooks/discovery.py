"""The services this endpoint offers, with their prefetch templates, and ``GET /cds-services``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, jsonify

from ..crd.configuration import discovery_extension
from ..security import gate as auth_gate

# What every lenalidomide decision may need. Keys are ours to choose (CDS Hooks lets the
# service name them); they match what the CDS Hooks sandbox was set up with, so a
# sandbox request arrives fully prefetched.
PREFETCH_TEMPLATES: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "medications": "MedicationRequest?patient={{context.patientId}}&_include=MedicationRequest:medication",
    "coverage": "Coverage?patient={{context.patientId}}&status=active",
    # Laboratory results, and social history: pregnancy and menopausal status, breastfeeding, REMS evidence (README).
    "observations": (
        "Observation?patient={{context.patientId}}&category=laboratory,social-history&_sort=-date&_count=100"
    ),
    "procedures": "Procedure?patient={{context.patientId}}",
    "practitioner": "{{context.userId}}",
    "practitionerRoles": "PractitionerRole?practitioner={{userPractitionerId}}",
    # Completed DTR forms (our Questionnaire): a person's answers settle what the record leaves open.
    "questionnaireResponses": "QuestionnaireResponse?patient={{context.patientId}}&status=completed",
}

USAGE = (
    "Register for order-select and order-sign on MedicationRequest orders. Send the prefetch "
    "listed here, or a fhirServer with a fhirAuthorization token that can read Patient, Condition, "
    "MedicationRequest, Medication, Coverage, Observation, Procedure, Practitioner, "
    "PractitionerRole and QuestionnaireResponse for the patient. Calls must carry a JWT signed with "
    "ES384 or RS384 by a registered issuer."
)


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str

    def discovery_entry(self) -> dict:
        return {
            "id": self.id,
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(PREFETCH_TEMPLATES),
            "usageRequirements": USAGE,
            "extension": discovery_extension(self.hook),
        }


SERVICES: dict[str, Service] = {
    service.id: service
    for service in (
        Service(
            id="lenalidomide-order-select",
            hook="order-select",
            title="Lenalidomide order review",
            description=(
                "When a lenalidomide (Revlimid) order is selected: offers the generic for a brand "
                "order, flags a daily dose above the plan's ceiling, thalidomide or pomalidomide "
                "beside it, and how likely prior authorization is under policy CP.PHAR.71."
            ),
        ),
        Service(
            id="lenalidomide-order-sign",
            hook="order-sign",
            title="Lenalidomide order check before signing",
            description=(
                "Before a lenalidomide (Revlimid) order is signed: generic substitution, dose "
                "ceiling, concurrent thalidomide or pomalidomide, and the prior-authorization "
                "assessment under CP.PHAR.71 with each criterion tied to its clause."
            ),
        ),
    )
}

bp = Blueprint("discovery", __name__)


@bp.get("/cds-services")
def discovery() -> Response:
    auth_gate.require()
    return jsonify({"services": [service.discovery_entry() for service in SERVICES.values()]})
