"""Where one request's time goes, in process (no HTTP): ``.venv/bin/python benchmarks/profile.py``.

Prints the median time of each stage of the hook path for the captured, typical and heavy
requests: parsing the body, the nesting-depth check, the protocol schemas, the engine (split
into building the facts from FHIR and the rest: rules, cards, coverage information), the
audit row, and serialising the answer. With ``--pyinstrument`` (``pip install -e '.[bench]'``)
it prints pyinstrument's call tree of the typical request instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import bodies

sys.path.insert(0, str(bodies.PROJECT))


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--pyinstrument", action="store_true")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="cds-profile-")
    os.environ.update(
        {"CDS_AUTH": "disabled", "CDS_FEEDBACK_DB": os.path.join(workdir, "db.sqlite3"), "LOG_LEVEL": "WARNING"}
    )
    from cds_service.app import create_app
    from cds_service.hooks import endpoint as hooks
    from cds_service.hooks import engine
    from cds_service.storage.store import HookCall
    from cds_service.web import json_text
    from cds_service.web.request_body import text_depth_exceeds

    app = create_app()
    settings = app.extensions["cds_settings"]
    store = app.extensions["cds_store"]

    if args.pyinstrument:
        from pyinstrument import Profiler

        client = app.test_client()
        raw = json.dumps(bodies.typical_request()).encode()
        client.post(bodies.SERVICE_PATH, data=raw, content_type="application/json")
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.repeat):
            client.post(bodies.SERVICE_PATH, data=raw, content_type="application/json")
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False))
        return 0

    facts_ms: list[float] = []
    original_build = engine.build_cases

    def timed_build(**kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_build(**kwargs)
        finally:
            facts_ms.append((time.perf_counter() - started) * 1000)

    engine.build_cases = timed_build
    print(
        "| request | parse JSON | depth check | schemas | engine | of which FHIR -> facts | audit row | answer JSON |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, body in (
        ("captured", bodies.captured_request()),
        ("typical", bodies.typical_request()),
        ("heavy", bodies.heavy_request()),
    ):
        raw = json.dumps(body).encode()  # bytes, as the service reads them
        parsed = json.loads(raw)
        outcome = engine.evaluate(parsed, settings)
        facts_ms.clear()
        row = {
            "parse": _median_ms(partial(json_text.loads, raw), args.repeat),
            "depth": _median_ms(partial(text_depth_exceeds, raw, 64), args.repeat),
            "schemas": _median_ms(partial(hooks._check, parsed, parsed["hook"]), args.repeat),
            "engine": _median_ms(partial(engine.evaluate, parsed, settings), args.repeat),
        }
        row["facts"] = statistics.median(facts_ms) if facts_ms else 0.0
        call = HookCall(service_id="lenalidomide-order-sign", hook_instance="profile", http_status=200, duration_ms=1)
        row["audit"] = _median_ms(partial(store.record_hook_call, call), args.repeat)
        row["answer"] = _median_ms(partial(json.dumps, outcome.response), args.repeat)
        print(
            f"| {name} | "
            + " | ".join(
                f"{row[k]:.2f} ms" for k in ("parse", "depth", "schemas", "engine", "facts", "audit", "answer")
            )
            + " |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
