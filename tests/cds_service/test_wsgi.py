"""The gunicorn entry point: what it does at start."""

from __future__ import annotations

import os
import subprocess
import sys


def _start(tmp_path, **env: str) -> subprocess.CompletedProcess:
    code = "import gc, cds_service.wsgi; print(gc.get_freeze_count())"
    environ = {**os.environ, "CDS_FEEDBACK_DB": str(tmp_path / "db.sqlite3"), **env}
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=120)


def test_objects_built_at_start_are_frozen_out_of_the_collector(tmp_path):
    done = _start(tmp_path, CDS_AUTH="disabled")
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 10_000


def test_a_bad_configuration_refuses_to_start_with_one_line(tmp_path):
    done = _start(tmp_path, CDS_AUTH="bogus")
    assert done.returncode == 1
    assert "refuses to start" in done.stderr
