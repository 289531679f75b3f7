"""The benchmark leaves nothing behind when it is stopped: no gunicorn, no temporary folder.

``benchmarks/run.py`` starts several gunicorn masters and writes bodies, logs and a database into
a temporary folder. A run stopped with SIGTERM (a CI timeout, ``kill``) used to leave two masters
with their workers and the folder. Here a process sets up the run's folder and one master as
``run.py`` does, is sent SIGTERM, and every process and the folder must be gone.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT

CHILD = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, "benchmarks")
    import run

    workdir = run.make_workdir()
    server = run.Gunicorn("baseline_app:app", workdir, "baseline", {}, pythonpath="benchmarks")
    print(json.dumps({"workdir": str(workdir), "pids": [server.proc.pid, *server.workers()]}), flush=True)
    time.sleep(120)
    """
)


def _alive(pid: int) -> bool:
    """Running or sleeping; a zombie (exited, not yet reaped) counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_sigterm_stops_the_gunicorn_masters_and_removes_the_folder(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "WEB_CONCURRENCY": "2", "HOME": str(tmp_path)},
        text=True,
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line, child.stderr.read() if child.stderr else "no output"
        started = json.loads(line)
        workdir, pids = Path(started["workdir"]), started["pids"]
        assert workdir.is_dir() and len(pids) == 3 and all(_alive(pid) for pid in pids)

        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert [pid for pid in pids if _alive(pid)] == []
    assert not workdir.exists()
