"""The service's one version number: the installed package's (``pyproject.toml``).

Shown by ``GET /version``, ``/openapi.json``, the FHIR CapabilityStatement, the start log line and
``lenalidomide-cds --version``, so an operator and an integrator read the same number everywhere.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "lenalidomide-cds"


@cache
def package_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
