"""Build ``fhir_mappers/data/codesets.json`` from the shared terminology reference.

The service never reads ``../shared`` at run time: this script turns
``reference/terminology.json`` into the code lists the mappers use, and the result is
committed. Rows marked ``unverified`` (or whose code is the placeholder ``UNVERIFIED``)
are left out, so no code that nobody could source ever reaches a rule. Rows marked
``likely`` are kept with their confidence so that a reader can see which matches rest on
a single source.

Run: ``python scripts/build_codesets.py [path/to/terminology.json]``. Only regenerating needs
``../shared/reference/terminology.json`` (the default source) beside the project; the service and the
tests read the committed ``codesets.json`` and nothing in ``../shared``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "reference" / "terminology.json"
TARGET = ROOT / "fhir_mappers" / "data" / "codesets.json"

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"

# Drug names (generic and brand) used to recognise a drug when a medication carries no
# code we hold, e.g. cyclophosphamide and bendamustine, for which the reference has no
# verified RxNorm code. Names are not codes: matching them invents nothing.
DRUG_NAMES: dict[str, list[str]] = {
    "lenalidomide": ["lenalidomide", "revlimid"],
    "thalidomide": ["thalidomide", "thalomid"],
    "pomalidomide": ["pomalidomide", "pomalyst"],
    "dexamethasone": ["dexamethasone"],
    "bortezomib": ["bortezomib", "velcade"],
    "carfilzomib": ["carfilzomib", "kyprolis"],
    "daratumumab": ["daratumumab", "darzalex"],
    "ixazomib": ["ixazomib", "ninlaro"],
    "cyclophosphamide": ["cyclophosphamide", "cytoxan"],
    "elotuzumab": ["elotuzumab", "empliciti"],
    "bendamustine": ["bendamustine", "bendeka", "treanda", "belrapzo"],
    "rituximab": ["rituximab", "rituxan", "truxima", "ruxience", "riabni"],
    "obinutuzumab": ["obinutuzumab", "gazyva"],
    "tafasitamab": ["tafasitamab", "monjuvi"],
    "epcoritamab": ["epcoritamab", "epkinly"],
    "luspatercept": ["luspatercept", "reblozyl"],
    "imetelstat": ["imetelstat", "rytelo"],
    "epoetin alfa": ["epoetin", "epogen", "procrit", "retacrit"],
    "darbepoetin alfa": ["darbepoetin", "aranesp"],
}

# Brand names in the reference, mapped to their ingredient.
BRAND_INGREDIENT = {
    "revlimid": "lenalidomide",
    "thalomid": "thalidomide",
    "velcade": "bortezomib",
    "kyprolis": "carfilzomib",
    "darzalex": "daratumumab",
    "darzalex faspro": "daratumumab",
    "ninlaro": "ixazomib",
    "empliciti": "elotuzumab",
    "rituxan": "rituximab",
    "rituxan hycela": "rituximab",
    "gazyva": "obinutuzumab",
}


def _usable(row: dict) -> bool:
    return row["code"] != "UNVERIFIED" and row["confidence"] != "unverified"


def _entry(row: dict, **extra: object) -> dict:
    out = {
        "system": row["system"],
        "code": row["code"],
        "display": row["display"],
        "confidence": row["confidence"],
        "source": row["source"],
    }
    out.update(extra)
    return out


def _strength_mg(display: str) -> float | None:
    match = re.search(r"(\d+(?:\.\d+)?)\s*(?:MG|mg)\b(?!\s*/)", display)
    return float(match.group(1)) if match else None


def _ingredient_of(display: str) -> str | None:
    low = display.lower()
    if "hyaluronidase" in low and "rituximab" in low:
        return "rituximab"
    if "hyaluronidase" in low and "daratumumab" in low:
        return "daratumumab"
    for brand, ingredient in sorted(BRAND_INGREDIENT.items(), key=lambda kv: -len(kv[0])):
        if low.startswith(brand):
            return ingredient
    for ingredient, names in DRUG_NAMES.items():
        if any(re.search(rf"\b{re.escape(name)}", low) for name in names):
            return ingredient
    return None


def build(rows: list[dict]) -> dict:
    usable = [r for r in rows if _usable(r)]
    groups: dict[str, list[dict]] = {}
    for row in usable:
        groups.setdefault(row["group"], []).append(_entry(row))

    lenalidomide_products: list[dict] = []
    for row in usable:
        if row["system"] not in (RXNORM, NDC):
            continue
        if _ingredient_of(row["display"]) != "lenalidomide":
            continue
        brand = "revlimid" in row["display"].lower()
        lenalidomide_products.append(_entry(row, brand=brand, strength_mg=_strength_mg(row["display"])))

    # Brand -> generic of the same strength and form, for the substitution suggestion.
    generic_for_brand: dict[str, str] = {}
    generics = [p for p in lenalidomide_products if not p["brand"] and p["system"] == RXNORM]
    for product in lenalidomide_products:
        if not product["brand"] or product["system"] != RXNORM:
            continue
        want = re.sub(r"\s*\[Revlimid\]", "", product["display"]).replace("Revlimid", "lenalidomide")
        match = next((g for g in generics if g["display"].lower() == want.lower()), None)
        if match is None and product["display"] == "Revlimid":
            match = next((g for g in generics if g["display"] == "lenalidomide"), None)
        if match is not None:
            generic_for_brand[product["code"]] = match["code"]

    ingredients: dict[str, dict] = {}
    for name, names in DRUG_NAMES.items():
        ingredients[name] = {"names": names, "codes": []}
    for row in usable:
        if row["system"] not in (RXNORM, NDC):
            continue
        ingredient = _ingredient_of(row["display"])
        if ingredient in ingredients:
            ingredients[ingredient]["codes"].append(_entry(row))

    return {
        "_generated_by": "scripts/build_codesets.py from shared/reference/terminology.json",
        "_rule": "unverified rows are excluded; 'likely' rows are kept with their confidence",
        "groups": groups,
        "lenalidomide_products": lenalidomide_products,
        "generic_for_brand": generic_for_brand,
        "ingredients": ingredients,
    }


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    if not source.is_file():
        print(f"build_codesets: {source} not found; pass the terminology reference's path", file=sys.stderr)
        return 2
    rows = json.loads(source.read_text(encoding="utf-8"))
    TARGET.write_text(json.dumps(build(rows), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
