"""``lenalidomide-cds cards``: run a CDS Hooks request through the service in process and show
the cards as a clinician reads them.

For the people who write and check the rules: ``cards BUNDLE.json`` prints each card (indicator,
summary, the detail's Markdown rendered for a terminal, suggestions, links); ``--html OUT.html``
writes a page laid out like an EHR's card list; ``--validate`` lists what in the request is not
valid FHIR R4. The request goes through the whole service (the Flask app, its checks, prefetch,
rules, cards) with authentication off and a throwaway database; nothing is sent anywhere except
to a FHIR server the request names for missing prefetch, when ``CDS_FHIR_SERVERS`` allows it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.rule import Rule

from .card_page import render_page
from .fhir_validate import validate_request

HOOKS = ("order-sign", "order-select")
INDICATOR_STYLE = {"critical": "bold red", "warning": "bold yellow", "info": "bold blue"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cards",
        help="run a CDS Hooks request through the service and show its cards (text, or an HTML preview)",
        description=__doc__.split("\n", 1)[0].strip("`"),
    )
    parser.add_argument("bundle", type=Path, help="a CDS Hooks request body (JSON), e.g. sample_bundles/01-*.json")
    parser.add_argument("--hook", choices=HOOKS, help="send it as this hook (default: the request's own)")
    parser.add_argument("--html", type=Path, metavar="OUT.html", help="also write the cards as an HTML page")
    parser.add_argument(
        "--validate", action="store_true", help="report what in the request is not valid FHIR R4 (exit 1 if any)"
    )
    parser.set_defaults(handler=run)


def as_hook(body: dict[str, Any], hook: str) -> dict[str, Any]:
    """The request sent as ``hook``: order-select needs ``selections`` (every draft, when the
    request has none); order-sign has none."""
    body = {**body, "hook": hook, "context": dict(body.get("context") or {})}
    context = body["context"]
    if hook == "order-select" and not isinstance(context.get("selections"), list):
        entries = (context.get("draftOrders") or {}).get("entry") or []
        context["selections"] = [
            f"{e['resource']['resourceType']}/{e['resource']['id']}"
            for e in entries
            if isinstance(e, dict) and isinstance(e.get("resource"), dict) and e["resource"].get("id")
        ]
    if hook == "order-sign":
        context.pop("selections", None)
    return body


def answer(body: dict[str, Any], overrides: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """The service's answer to ``body``: (HTTP status, JSON)."""
    from ..app import create_app  # the app only when a command needs it (the CLI starts fast)

    with tempfile.TemporaryDirectory(prefix="lenalidomide-cds-cards-") as tmp:
        config = {
            "CDS_AUTH": "disabled",
            "CDS_DATABASE_URL": None,
            "CDS_FEEDBACK_DB": str(Path(tmp) / "cards.sqlite3"),
            "LOG_LEVEL": "ERROR",
            **(overrides or {}),
        }
        app = create_app(config)
        try:
            response = app.test_client().post(f"/cds-services/lenalidomide-{body['hook']}", json=body)
            return response.status_code, response.get_json(silent=True) or {}
        finally:
            app.extensions["cds_store"].close()
            app.extensions["cds_settings"].executor.shutdown(wait=False)


def print_cards(console: Console, result: dict[str, Any]) -> None:
    cards = result.get("cards", [])
    if not cards:
        console.print("No cards.")
    for card in cards:
        indicator = str(card.get("indicator", "info"))
        source = card.get("source") or {}
        topic = (source.get("topic") or {}).get("code", "")
        console.print(Rule(f"{indicator.upper()} · {source.get('label', '')} · {topic}", style="dim"))
        console.print(card.get("summary", ""), style=INDICATOR_STYLE.get(indicator, "bold"))
        console.print(Markdown(str(card.get("detail", ""))))
        for suggestion in card.get("suggestions", ()):
            kinds = ", ".join(f"{a['type']} {a.get('resourceId') or _ref(a)}" for a in suggestion.get("actions", ()))
            console.print(f"[ {suggestion.get('label', '')} ]  ({kinds})", markup=False)
        for link in card.get("links", ()):
            console.print(f"Link: {link.get('label', '')} <{link.get('url', '')}>", markup=False)
    if result.get("systemActions"):
        console.print(Rule(style="dim"))
        count = len(result["systemActions"])
        console.print(f"{count} system action{'' if count == 1 else 's'} (coverage information).")


def _ref(action: dict[str, Any]) -> str:
    resource = action.get("resource") or {}
    return f"{resource.get('resourceType', '')}/{resource.get('id', '')}"


def run(args: argparse.Namespace) -> int:
    try:
        body = json.loads(args.bundle.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"lenalidomide-cds cards: cannot read {args.bundle}: {exc}\n")
        return 2
    if not isinstance(body, dict):
        sys.stderr.write("lenalidomide-cds cards: the file is not a CDS Hooks request (a JSON object)\n")
        return 2
    hook = args.hook or body.get("hook")
    if hook not in HOOKS:
        sys.stderr.write(f"lenalidomide-cds cards: hook {hook!r} is not one of {', '.join(HOOKS)}; use --hook\n")
        return 2
    body = as_hook(body, hook)
    console = Console(file=sys.stdout, width=110, highlight=False, emoji=False)
    issues = validate_request(body) if args.validate else None
    status, result = answer(body)
    if status != 200:
        console.print(f"The service answered {status}:", markup=False)
        console.print(json.dumps(result, indent=2, ensure_ascii=False), markup=False)
        return 1
    console.print(f"{args.bundle.name} · {hook}", style="bold", markup=False)
    print_cards(console, result)
    if issues is not None:
        console.print(Rule("FHIR R4 validation", style="dim"))
        for issue in issues:
            console.print(str(issue), markup=False)
        console.print(f"{len(issues)} problems." if issues else "The request is valid FHIR R4.", markup=False)
    if args.html:
        args.html.write_text(render_page(args.bundle.name, hook, result, issues), encoding="utf-8")
        console.print(f"Wrote {args.html}", markup=False)
    return 1 if issues else 0
