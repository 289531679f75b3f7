"""A CDS Hooks answer as an HTML page laid out like an EHR's card list: per card the indicator's
colour, the source, the summary, the detail (rendered Markdown, opened on click), the suggestion
buttons and the links. One self-contained file: no scripts, no fonts, nothing fetched.

Card text comes partly from the patient's record (a diagnosis's display text), so everything is
escaped: Markdown is rendered with raw HTML off, and links are kept only for http(s) URLs.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from markdown_it import MarkdownIt

from .fhir_validate import Issue

# CommonMark with GitHub's tables, raw HTML escaped: what EHRs that render card Markdown do.
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
FINDING_KEY = "lenalidomide-cds.finding"

STYLE = """
body { font: 15px/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 0; background: #eef1f4;
  color: #1d2733; }
header { background: #2b4a6f; color: #fff; padding: 8px 16px; }
header h1 { font-size: 16px; margin: 0; }
header p { margin: 2px 0 0; font-size: 13px; opacity: .9; }
main { max-width: 1100px; margin: 10px auto; padding: 0 12px; }
.card { background: #fff; border: 1px solid #c9d1da; border-left: 8px solid #5a6b7d; border-radius: 4px;
  margin: 0 0 8px; padding: 6px 12px; }
.card.info { border-left-color: #2f6fb3; }
.card.warning { border-left-color: #e08a00; }
.card.critical { border-left-color: #c62828; }
.meta { font-size: 12px; color: #566474; }
.badge { font-weight: bold; text-transform: uppercase; letter-spacing: .04em; }
.info .badge { color: #2f6fb3; } .warning .badge { color: #a86500; } .critical .badge { color: #c62828; }
details > summary { cursor: pointer; font-weight: bold; font-size: 15px; padding: 2px 0; }
.detail { border-top: 1px solid #e3e8ee; margin-top: 4px; padding-top: 4px; }
.detail table { border-collapse: collapse; margin: 6px 0; font-size: 14px; }
.detail th, .detail td { border: 1px solid #c9d1da; padding: 3px 6px; text-align: left; vertical-align: top; }
.detail th { background: #f1f4f7; }
.detail p { margin: 6px 0; } .detail ul { margin: 4px 0; padding-left: 22px; }
.actions { margin: 4px 0 2px; }
.actions button { font: inherit; font-size: 13px; background: #2b4a6f; color: #fff; border: 0;
  border-radius: 3px; padding: 4px 10px; margin: 0 6px 4px 0; cursor: pointer; }
.links a { font-size: 13px; margin-right: 12px; }
.empty { color: #566474; }
.validation { background: #fff; border: 1px solid #c9d1da; border-radius: 4px; padding: 6px 12px; }
.validation li { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
"""


def _link(link: dict[str, Any]) -> str:
    url = str(link.get("url", ""))
    label = escape(str(link.get("label", url)))
    if not url.startswith(("https://", "http://")):
        return f"<span>{label}</span>"
    return f'<a href="{escape(url, quote=True)}" rel="noopener noreferrer">{label}</a>'


def _suggestion(suggestion: dict[str, Any]) -> str:
    described = "; ".join(str(a.get("description", "")) for a in suggestion.get("actions", ()))
    actions = json.dumps(suggestion.get("actions", ()), ensure_ascii=False)
    return (
        f'<button type="button" title="{escape(described, quote=True)}" '
        f'data-actions="{escape(actions, quote=True)}">{escape(str(suggestion.get("label", "")))}</button>'
    )


def _card(card: dict[str, Any]) -> str:
    indicator = str(card.get("indicator", "info"))
    source = card.get("source") or {}
    topic = (source.get("topic") or {}).get("code", "")
    code = ((card.get("extension") or {}).get(FINDING_KEY) or {}).get("code", "")
    suggestions = "".join(_suggestion(s) for s in card.get("suggestions", ()))
    links = " ".join(_link(link) for link in card.get("links", ()))
    parts = [
        f'<article class="card {escape(indicator, quote=True)}" data-code="{escape(code, quote=True)}">',
        f'<div class="meta"><span class="badge">{escape(indicator)}</span> · {escape(str(source.get("label", "")))}'
        f"{' · ' + escape(topic) if topic else ''}</div>",
        "<details>",
        f'<summary class="summary">{escape(str(card.get("summary", "")))}</summary>',
        f'<div class="detail">{MARKDOWN.render(str(card.get("detail", "")))}',
        f'<p class="links">{links}</p>' if links else "",
        "</div></details>",
        f'<div class="actions">{suggestions}</div>' if suggestions else "",
        "</article>",
    ]
    return "\n".join(part for part in parts if part)


def render_page(title: str, hook: str, answer: dict[str, Any], issues: list[Issue] | None = None) -> str:
    """The whole page. ``issues``: the request's FHIR errors (``--validate``), listed after the
    cards; ``None`` when not checked."""
    cards = answer.get("cards", [])
    body = "\n".join(_card(card) for card in cards) or '<p class="empty">No cards.</p>'
    actions = answer.get("systemActions", [])
    sections = [f"<main>\n{body}"]
    if actions:
        noun = "system action" if len(actions) == 1 else "system actions"
        sections.append(f'<p class="meta">{len(actions)} {noun} (coverage information) not shown.</p>')
    if issues is not None:
        items = "".join(f"<li>{escape(str(issue))}</li>" for issue in issues)
        verdict = f"{len(issues)} FHIR R4 problems in the request" if issues else "The request is valid FHIR R4."
        sections.append(f'<section class="validation"><p>{escape(verdict)}</p><ul>{items}</ul></section>')
    sections.append("</main>")
    count = f"{len(cards)} card{'s' if len(cards) != 1 else ''}"
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            f"<style>{STYLE}</style></head><body>",
            f"<header><h1>{escape(title)}</h1><p>{escape(hook)} · {count}</p></header>",
            *sections,
            "</body></html>",
            "",
        ]
    )
