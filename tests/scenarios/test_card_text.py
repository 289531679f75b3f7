"""What a prescriber reads on every sample bundle's cards: the reason first, summaries that name the
problem (not a criterion number), the length limits of issue 13, marks that need no emoji font,
and Markdown that a GitHub-flavoured renderer turns into the intended HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from cds_service.rules.rems import load_rems
from tests.conftest import SAMPLES, load_json

FINDING = "lenalidomide-cds.finding"
STEP_IDS = [step["id"] for step in load_rems()["steps"] if "-" in step["id"]]
# A criterion number as the policy writes it: I.A.4, I.*.1, II.A.5, III.A.
CLAUSE = re.compile(r"\b(?:I{1,3}|IV)\.(?:[A-G*])(?:\.\d+)?\b")
# Emoji and pictographs (the marks that render as empty boxes without an emoji font); the plain
# check and cross marks (U+2713, U+2717) are allowed.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u2712\u2714-\u2716\u2718-\u27bf\u2b00-\u2bff\ufe0f]")
NAMES = sorted(p.name for p in SAMPLES.glob("*.json") if not p.name.startswith("11-"))
GFM = MarkdownIt("commonmark").enable("table")


def answer(client, name: str) -> tuple[dict, dict]:
    body = load_json(SAMPLES / name)
    response = client.post(f"/cds-services/lenalidomide-{body['hook']}", json=body)
    assert response.status_code == 200
    return body, response.get_json()


class _Text(HTMLParser):
    """The text a reader sees, and the tags the renderer produced."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def rendered(markdown: str) -> _Text:
    parser = _Text()
    parser.feed(GFM.render(markdown))
    return parser


@pytest.mark.parametrize("name", NAMES)
def test_every_card_reads_well(client, name):
    body, result = answer(client, name)
    for card in result["cards"]:
        code = card["extension"][FINDING]["code"]
        summary, detail = card["summary"], card["detail"]
        where = f"{name} {code}"
        assert len(summary) < 140, where
        assert not CLAUSE.search(summary), f"{where}: a criterion number in the summary: {summary}"
        for text in (summary, detail):
            assert not EMOJI.search(text), f"{where}: an emoji mark"
            assert "(s)" not in text, f"{where}: 'requirement(s)'-style plural"
            assert not any(f"`{step}`" in text or f" {step} " in text for step in STEP_IDS), where
        if card["indicator"] == "critical":
            assert "pregnan" in summary.lower(), f"{where}: a critical summary states why: {summary}"
        if code == "rems":
            assert len(detail) <= 1500, f"{where}: {len(detail)} characters"
            if body["hook"] == "order-select":
                parts = [p for p in ("**Blocks dispensing**", "**Fix in this order**") if p in detail]
                assert len(parts) <= 1, where
                assert detail.count("\n- ") <= 2, f"{where}: order-select shows one part"
        if code == "pa-assessment":
            finding = card["extension"][FINDING]
            limit = 600 if finding["likelihood"] == "likely-approved" else 1200
            assert len(detail) <= limit, f"{where}: {len(detail)} characters"
            open_ = sum(c["status"] != "met" for c in finding["criteria"])
            rows = [line for line in detail.splitlines() if line.startswith("| ")]
            # Only the open or failing criteria are rows (after the header); the met ones are counted.
            assert len(rows) == (open_ + 1 if open_ else 0), where
            assert "(a, b, c, d, e, or f)" not in detail
        html = rendered(detail)
        text = "".join(html.text)
        assert "**" not in text and "](" not in text, f"{where}: Markdown left raw"
        if "|---" in detail:
            assert "table" in html.tags and "|" not in text.replace("\\|", ""), f"{where}: a table left raw"


def test_pa_card_mentions_a_pregnancy_on_record_without_changing_the_likelihood(client):
    _body, result = answer(client, "25-rems-positive-pregnancy-test.json")
    (card,) = [c for c in result["cards"] if c["extension"][FINDING]["code"] == "pa-assessment"]
    assert "positive pregnancy test on 2026-11-19" in card["detail"]
    assert "contraindication" in card["detail"]
    assert card["extension"][FINDING]["likelihood"] == "needs-documentation"


def test_likely_approved_card_is_short_and_says_so(client):
    _body, result = answer(client, "01-mm-likely-approved.json")
    (card,) = [c for c in result["cards"] if c["extension"][FINDING]["code"] == "pa-assessment"]
    assert card["summary"].startswith("Prior auth likely approved")
    assert "12 months" in card["detail"] and "lenalidomide-cds.finding" in card["detail"]
    assert "|" not in card["detail"]


def test_likely_denied_summary_names_the_problem(client):
    _body, result = answer(client, "52-other-diagnosis-commercial.json")
    (card,) = [c for c in result["cards"] if c["extension"][FINDING]["code"] == "pa-assessment"]
    assert card["summary"] == "Prior auth likely denied: diagnosis not covered by this policy"


def test_rems_card_reads_most_urgent_first(client):
    _body, result = answer(client, "20-rems-female-no-pregnancy-test.json")
    (card,) = [c for c in result["cards"] if c["extension"][FINDING]["code"] == "rems"]
    detail = card["detail"]
    order = [detail.index(part) for part in ("Blocks dispensing", "Fix in this order", "Confirm in the REMS program")]
    assert order == sorted(order)
    assert "between 6 and 10 November" in detail
    assert "https://www.lenalidomiderems.com" in detail and "1-888-423-5436" in detail
    assert detail.count("Confirm in the REMS program") == 1
    program_line = next(line for line in detail.splitlines() if "Confirm in the REMS program" in line)
    assert "your certification" in program_line and "the patient's enrollment" in program_line
