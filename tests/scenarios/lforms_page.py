"""NLM LHC-Forms in headless Chromium, offline: a page served from 127.0.0.1 with the npm packages.

The page is a small DTR client: with ``fhirclient`` (the SMART JavaScript client) it reads from our
``/fhir`` endpoints, with a bearer token when one is given: the package of ``$questionnaire-package``
(Parameters in, the Bundle's Questionnaire and draft QuestionnaireResponse out), or a Questionnaire by id
with a draft handed in. LHC-Forms renders the Questionnaire with the draft merged in; the test answers
through the page and reads the QuestionnaireResponse back with ``LForms.Util.getFormFHIRData``.

``package.json`` pins the packages; ``npm ci`` puts them in ``node_modules`` (``.ci/run`` does). Chromium
and chromedriver are Debian's (``.ci/install_browser``). Without them the test skips locally and fails
under CI, so CI cannot pass by skipping.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

NODE_MODULES = ROOT / "node_modules"
ASSETS = {
    "/lforms/": NODE_MODULES / "lforms" / "dist" / "lforms",
    "/fhirclient/": NODE_MODULES / "fhirclient" / "build",
}
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
RENDER_SECONDS = 60

# Script tags at the end of <body>: lforms' main.js appends to document.body as it loads.
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DTR form</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/lforms/webcomponent/styles.css">
<style>body {{ font-family: sans-serif; margin: 12px; }}</style>
</head><body>
<div id="form"></div>
<script type="application/json" id="config">{config}</script>
<script src="/lforms/webcomponent/assets/lib/zone.min.js"></script>
<script src="/lforms/webcomponent/runtime.js"></script>
<script src="/lforms/webcomponent/polyfills.js"></script>
<script src="/lforms/webcomponent/main.js"></script>
<script src="/lforms/fhir/R4/lformsFHIR.min.js"></script>
<script src="/fhirclient/fhir-client.min.js"></script>
<script>
window.renderState = "waiting";
async function render() {{
  const config = JSON.parse(document.getElementById("config").textContent);
  const state = {{serverUrl: config.fhirBase}};
  if (config.accessToken) {{ state.tokenResponse = {{access_token: config.accessToken, token_type: "bearer"}}; }}
  const client = FHIR.client(state);
  let questionnaire, draft;
  if (config.packageParameters) {{
    const out = await client.request({{
      url: "Questionnaire/$questionnaire-package", method: "POST",
      body: JSON.stringify(config.packageParameters),
      headers: {{"Content-Type": "application/fhir+json"}},
    }});
    const bundle = out.parameter.find(p => p.name === "packagebundle" || p.name === "PackageBundle").resource;
    questionnaire = bundle.entry[0].resource;
    draft = bundle.entry.find(e => e.resource.resourceType === "QuestionnaireResponse").resource;
  }} else {{
    questionnaire = await client.request("Questionnaire/" + encodeURIComponent(config.questionnaireId));
    draft = config.draft;
  }}
  window.dtrPackage = {{questionnaire: questionnaire, draft: draft}};
  let form = LForms.Util.convertFHIRQuestionnaireToLForms(questionnaire, "R4");
  if (draft) {{ form = LForms.Util.mergeFHIRDataIntoLForms(draft, form, "R4"); }}
  await LForms.Util.addFormToPage(form, "form", {{fhirVersion: "R4"}});
}}
(function start() {{
  if (!(window.LForms && LForms.Util && LForms.FHIR && window.FHIR)) {{ return setTimeout(start, 50); }}
  render().then(() => {{ window.renderState = "ready"; }},
                (e) => {{ window.renderState = "error: " + (e && (e.message || JSON.stringify(e))); }});
}})();
</script>
</body></html>
"""


def require_browser() -> None:
    """Skip (fail under CI) when the packages or the browser are missing."""
    missing = [str(path) for path in (*ASSETS.values(), CHROMIUM, CHROMEDRIVER) if not path.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium")
    if missing:
        reason = f"LHC-Forms test needs {', '.join(missing)} (npm ci; .ci/install_browser)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


class _Handler(http.server.SimpleHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/form":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(self.page)))
            self.end_headers()
            self.wfile.write(self.page)
            return
        super().do_GET()

    def translate_path(self, path: str) -> str:
        path = path.split("?")[0].split("#")[0]
        for prefix, folder in ASSETS.items():
            if path.startswith(prefix):
                target = (folder / path[len(prefix) :]).resolve()
                if target.is_relative_to(folder.resolve()):
                    return str(target)
        return str(NODE_MODULES / "no-such-file")

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def page_server(config: dict[str, Any]) -> Iterator[str]:
    """Serve the form page (with ``config``) and the npm packages on 127.0.0.1; yield the page's URL."""
    text = json.dumps(config).replace("</", "<\\/")  # the JSON sits inside a <script> element
    handler = type("PageHandler", (_Handler,), {"page": PAGE.format(config=text).encode("utf-8")})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/form"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium(window: tuple[int, int] = (1100, 1400)) -> Iterator[Any]:
    """Headless Chromium through Debian's chromedriver, a fresh profile, nothing fetched on its own
    (the card preview test uses it too)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="lforms-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_form(driver: Any, url: str) -> dict[str, Any]:
    """Load the page and wait until LHC-Forms has rendered; the Questionnaire and draft it rendered."""
    driver.get(url)
    deadline = time.monotonic() + RENDER_SECONDS
    state = "waiting"
    while time.monotonic() < deadline:
        state = driver.execute_script("return window.renderState")
        if state != "waiting":
            break
        time.sleep(0.1)
    assert state == "ready", f"LHC-Forms did not render: {state}"
    return driver.execute_script("return window.dtrPackage")


# LHC-Forms gives each answer control the id "<linkId>/1/.../1|<value>", one "/1" per nesting level.
_FIND_LABELS = """const [linkId, value] = arguments;
const tail = new RegExp("^(/[0-9]+)+[|]" + value + "$");
return [...document.querySelectorAll("label[id]")].filter(
    l => l.id.startsWith(linkId + "/") && tail.test(l.id.slice(linkId.length)));"""


def _answer_label(driver: Any, link_id: str, value: str) -> Any:
    """The radio label LHC-Forms draws for ``value`` ("true", "false", "null") of a boolean item."""
    labels = driver.execute_script(_FIND_LABELS, link_id, value)
    assert len(labels) == 1, f"{len(labels)} answer controls for {link_id!r} = {value}"
    return labels[0]


def shown(driver: Any, link_id: str) -> bool:
    """Whether the boolean question ``link_id`` is on the page (enableWhen lets it show)."""
    return bool(driver.execute_script(_FIND_LABELS, link_id, "true"))


def checked(driver: Any, link_id: str) -> str:
    """Which of "true", "false", "null" (Not Answered) is checked for a boolean question."""
    for value in ("true", "false", "null"):
        if "ant-radio-wrapper-checked" in _answer_label(driver, link_id, value).get_attribute("class"):
            return value
    raise AssertionError(f"no answer checked for {link_id!r}")


def answer(driver: Any, link_id: str, value: bool) -> None:
    """Click Yes or No for a boolean question, as a user would."""
    label = _answer_label(driver, link_id, "true" if value else "false")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
    label.click()
    assert checked(driver, link_id) == ("true" if value else "false")


def questionnaire_response(driver: Any) -> dict[str, Any]:
    """What LHC-Forms gives back: an R4 QuestionnaireResponse of the page's form."""
    return driver.execute_script(
        "return LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4', document.getElementById('form'))"
    )
