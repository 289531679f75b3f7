"""The rules layer stays free of Flask and FHIR: it may import only ``fhir_mappers.facts``."""

from __future__ import annotations

import ast
from pathlib import Path

import cds_service.rules

RULES_DIR = Path(cds_service.rules.__file__).resolve().parent


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_rules_import_neither_flask_nor_fhir_code():
    sources = sorted(RULES_DIR.rglob("*.py"))
    assert len(sources) >= 4
    for path in sources:
        for name in imported_modules(path):
            root = name.split(".")[0]
            assert root not in {"flask", "flask_cors", "fhir", "requests"}, f"{path.name} imports {name}"
            if root == "fhir_mappers":
                assert name == "fhir_mappers.facts", f"{path.name} imports {name}"
            if root == "cds_service":
                assert name.startswith("cds_service.rules"), f"{path.name} imports {name}"


def test_relative_imports_stay_inside_the_rules_package():
    for path in sorted(RULES_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1, f"{path.name} reaches outside cds_service.rules"
