"""What an audit row takes from a hook answer: the CRD coverage-assertion ids, nothing else."""

from __future__ import annotations

from typing import Any

from ..crd.coverage_information import EXTENSION_URL as COVERAGE_INFORMATION_URL


def coverage_assertion_ids(response: dict[str, Any]) -> list[str]:
    """The ``coverage-assertion-id`` of every coverage-information extension on a resource
    that one of the answer's ``systemActions`` carries, in order, without repeats."""
    found: list[str] = []
    actions = response.get("systemActions") if isinstance(response, dict) else None
    for action in actions if isinstance(actions, list) else []:
        resource = action.get("resource") if isinstance(action, dict) else None
        extensions = resource.get("extension") if isinstance(resource, dict) else None
        for ext in extensions if isinstance(extensions, list) else []:
            if not isinstance(ext, dict) or ext.get("url") != COVERAGE_INFORMATION_URL:
                continue
            for part in ext.get("extension") or []:
                if isinstance(part, dict) and part.get("url") == "coverage-assertion-id":
                    value = part.get("valueString")
                    if isinstance(value, str) and value not in found:
                        found.append(value)
    return found
