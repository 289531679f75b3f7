"""What in a CDS Hooks request is not valid FHIR: every resource in ``context`` and ``prefetch``
checked against fhir.resources' R4B models (the closest to R4 it ships; R4B changed no resource a
hook request carries in a way these checks can tell apart).

An integrator debugging an EHR's payloads wants the FHIR errors the service tolerates (it reads
what it can and calls the rest unknown) spelled out: this is the list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

MAX_ERRORS_PER_RESOURCE = 10


@dataclass(frozen=True)
class Issue:
    where: str  # e.g. "context.draftOrders" or "prefetch.patient"
    resource: str  # "MedicationRequest/mr-1", or the type alone
    path: str  # the element, dotted
    message: str

    def __str__(self) -> str:
        at = f" {self.path}:" if self.path else ""
        return f"{self.where} {self.resource}:{at} {self.message}"


def _resources(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    context = body.get("context")
    for key, value in context.items() if isinstance(context, dict) else ():
        if isinstance(value, dict) and "resourceType" in value:
            yield f"context.{key}", value
    prefetch = body.get("prefetch")
    for key, value in prefetch.items() if isinstance(prefetch, dict) else ():
        if isinstance(value, dict) and "resourceType" in value:
            yield f"prefetch.{key}", value


def _name(resource: dict[str, Any]) -> str:
    kind = str(resource.get("resourceType"))
    return f"{kind}/{resource['id']}" if isinstance(resource.get("id"), str) else kind


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "__root__")


def validate_resource(where: str, resource: dict[str, Any]) -> list[Issue]:
    """The resource's errors; a Bundle's entries are each checked on their own, so that an error
    names the resource it is in."""
    kind = resource.get("resourceType")
    if kind == "Bundle" and isinstance(resource.get("entry"), list):
        issues: list[Issue] = []
        shell = {k: v for k, v in resource.items() if k != "entry"}
        shell["entry"] = [
            {k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e for e in resource["entry"]
        ]
        issues += _check(where, shell)
        for index, entry in enumerate(resource["entry"]):
            inner = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(inner, dict):
                issues += validate_resource(f"{where}.entry[{index}]", inner)
        return issues
    return _check(where, resource)


def _check(where: str, resource: dict[str, Any]) -> list[Issue]:
    kind = resource.get("resourceType")
    try:
        model = get_fhir_model_class(str(kind))
    except (KeyError, ValueError):
        return [Issue(where, str(kind), "resourceType", f"{kind!r} is not a FHIR R4 resource type")]
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        errors = exc.errors()
        issues = [
            Issue(where, _name(resource), _location(tuple(error.get("loc", ()))), error.get("msg", "invalid"))
            for error in errors[:MAX_ERRORS_PER_RESOURCE]
        ]
        if len(errors) > MAX_ERRORS_PER_RESOURCE:
            issues.append(Issue(where, _name(resource), "", f"{len(errors) - MAX_ERRORS_PER_RESOURCE} more errors"))
        return issues
    return []


def validate_request(body: dict[str, Any]) -> list[Issue]:
    """Every FHIR error in the request's context and prefetch, in the order they appear."""
    return [issue for where, resource in _resources(body) for issue in validate_resource(where, resource)]
