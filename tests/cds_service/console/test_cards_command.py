"""``lenalidomide-cds cards``: the request through the service in process, the cards as text, the
HTML page and the FHIR R4 report."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from cds_service.cli import main
from tests.conftest import SAMPLES


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["cards", *argv])
    return code, capsys.readouterr().out


def test_prints_every_card_as_a_clinician_reads_it(capsys):
    code, out = run(capsys, str(SAMPLES / "14-brand-over-ceiling-long-supply.json"))
    assert code == 0
    assert "Revlimid ordered: the plan requires generic lenalidomide 15 mg" in out
    assert "WARNING" in out and "therapy-alternatives-opt" in out
    assert "[ Rewrite: generic lenalidomide, 25 mg once daily, 28-day supply, no refills ]" in out
    assert "**" not in out and "|---" not in out  # Markdown rendered, not shown raw
    assert "Link: Lenalidomide REMS (program site) <https://www.lenalidomiderems.com>" in out


def test_hook_option_sends_it_as_order_select(capsys):
    code, out = run(capsys, str(SAMPLES / "20-rems-female-no-pregnancy-test.json"), "--hook", "order-select")
    assert code == 0
    assert "order-select" in out
    assert "Blocks dispensing" in out and "Fix in this order" not in out


def test_validate_reports_what_is_not_fhir_r4(capsys, tmp_path):
    code, out = run(capsys, str(SAMPLES / "13-sandbox-style-order-select-empty.json"), "--validate")
    assert code == 1
    assert "context.draftOrders.entry[0] MedicationRequest/mr-13-new: category: Input should be a valid list" in out
    code, out = run(capsys, str(SAMPLES / "01-mm-likely-approved.json"), "--validate")
    assert code == 0 and "The request is valid FHIR R4." in out


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.classes: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.classes += (dict(attrs).get("class") or "").split()
        self.scripts += tag == "script"


def test_html_page_escapes_record_text_and_renders_markdown(capsys, tmp_path):
    body = json.loads((SAMPLES / "52-other-diagnosis-commercial.json").read_text(encoding="utf-8"))
    # A display text from the record that would be markup if it were not escaped.
    for entry in body["prefetch"]["conditions"]["entry"]:
        entry["resource"]["code"]["text"] = "<script>alert(1)</script> leukemia"
        for coding in entry["resource"]["code"].get("coding", []):
            coding["display"] = "<script>alert(1)</script> leukemia"
    request = tmp_path / "request.json"
    request.write_text(json.dumps(body), encoding="utf-8")
    out_file = tmp_path / "cards.html"
    code, _out = run(capsys, str(request), "--html", str(out_file))
    assert code == 0
    page = out_file.read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(page)
    assert parsed.scripts == 0
    assert {"card", "warning", "summary", "detail"} <= set(parsed.classes)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; leukemia" in page  # shown, as text
    assert "<table>" in page and "**" not in page


def test_unreadable_file_is_exit_2(capsys, tmp_path):
    missing = tmp_path / "nope.json"
    assert main(["cards", str(missing)]) == 2


def test_a_request_with_no_cards_leaves_nothing_behind_at_exit():
    """The command's audit row of a `{"cards": []}` answer is queued (storage/deferred.py): it must be
    written before the command removes its temporary database, not fail at exit with a traceback."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    proc = subprocess.run(
        [sys.executable, "-m", "cds_service.cli", "cards", str(SAMPLES / "09-non-lenalidomide.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "No cards." in proc.stdout
    assert "Traceback" not in proc.stderr and "not written" not in proc.stderr, proc.stderr
