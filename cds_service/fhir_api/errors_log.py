"""``$log-questionnaire-errors`` input: what is kept of it.

DTR 2.2 (HEAD): ``questionnaire`` (canonical, 1..*) and ``operationOutcome`` (OperationOutcome,
1..*); the 2.2.0 tag's single ``resource`` parameter (an OperationOutcome) is accepted too. Only
each issue's severity, code, diagnostics and expression are kept, bounded: clients must not send
PHI here (DTR oper-2), and what is stored is what a form author needs.
"""

from __future__ import annotations

from typing import Any

from ..web.errors import ServiceError

MAX_ISSUES = 100
MAX_TEXT = 1000
MAX_EXPRESSIONS = 10


def _issue(issue: Any) -> dict[str, Any] | None:
    if not isinstance(issue, dict):
        return None
    kept: dict[str, Any] = {}
    for key in ("severity", "code", "diagnostics"):
        if isinstance(issue.get(key), str):
            kept[key] = issue[key][:MAX_TEXT]
    expression = issue.get("expression")
    if isinstance(expression, list):
        kept["expression"] = [item[:MAX_TEXT] for item in expression[:MAX_EXPRESSIONS] if isinstance(item, str)]
    return kept or None


def parse_errors(body: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    if body.get("resourceType") != "Parameters" or not isinstance(body.get("parameter"), list):
        raise ServiceError(400, "the body must be a FHIR Parameters resource", ["Parameters.parameter"])
    questionnaires: list[str] = []
    issues: list[dict[str, Any]] = []
    outcomes = 0
    for parameter in body["parameter"]:
        if not isinstance(parameter, dict):
            continue
        name = parameter.get("name")
        if name == "questionnaire" and isinstance(parameter.get("valueCanonical"), str):
            questionnaires.append(parameter["valueCanonical"][:MAX_TEXT])
        elif name in ("operationOutcome", "resource"):
            outcome = parameter.get("resource")
            if isinstance(outcome, dict) and outcome.get("resourceType") == "OperationOutcome":
                outcomes += 1
                raw = outcome.get("issue")
                issues += [kept for issue in (raw if isinstance(raw, list) else []) if (kept := _issue(issue))]
    if not outcomes:
        raise ServiceError(400, "operationOutcome (an OperationOutcome) is required", ["operationOutcome"])
    return questionnaires[:MAX_ISSUES], issues[:MAX_ISSUES]
