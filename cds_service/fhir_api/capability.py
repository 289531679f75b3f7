"""``GET /fhir/metadata``: the CapabilityStatement naming what the DTR endpoint serves."""

from __future__ import annotations

from typing import Any

DTR_OPERATION = "http://hl7.org/fhir/us/davinci-dtr/OperationDefinition/"

DOCUMENTATION = (
    "Da Vinci DTR payer endpoint for policy CP.PHAR.71 (lenalidomide). The Questionnaire is generated from the "
    "policy; $questionnaire-package returns it with a draft QuestionnaireResponse pre-filled by the payer from the "
    "judgement kept under the CRD coverage-assertion-id (context). The Questionnaire carries no CQL libraries: no "
    "CQL-to-ELM compiler is available to this service, so pre-population is done by the payer (answers marked "
    "information-origin auto-server), not by CQL run in the DTR client. ValueSet/$expand and $next-question are not "
    "offered: the Questionnaire uses no value set and is not adaptive."
)


def capability_statement(fhir_base: str, software_version: str, date: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": {"name": "lenalidomide-cds", "version": software_version},
        "implementation": {"description": "Lenalidomide CP.PHAR.71 DTR payer endpoint", "url": fhir_base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": DOCUMENTATION,
                "security": {
                    "cors": True,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": (
                        "SMART Backend Services (client_credentials with a signed client assertion); the token "
                        f"endpoint is listed at {fhir_base}/.well-known/smart-configuration."
                    ),
                },
                "resource": [
                    {
                        "type": "Questionnaire",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [{"name": "url", "type": "uri"}],
                        "operation": [
                            {
                                "name": "questionnaire-package",
                                "definition": DTR_OPERATION + "questionnaire-package",
                            },
                            {
                                "name": "log-questionnaire-errors",
                                "definition": DTR_OPERATION + "log-questionnaire-errors",
                            },
                        ],
                    }
                ],
            }
        ],
    }
