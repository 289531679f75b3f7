"""Start the service the way production does (the Procfile's web line under gunicorn), on loopback."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def web_command() -> list[str]:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    argv = shlex.split(line.removeprefix("web:").strip())
    argv[0] = str(BIN / argv[0])
    return argv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    env.update({"CDS_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"), "WEB_CONCURRENCY": "1"}, **extra)
    return env


def http(url: str, data: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.loads(response.read())


@contextmanager
def running_service(tmp_path: Path, port: int | None = None, **extra: str) -> Iterator[str]:
    """Yield the base URL of a gunicorn-served instance (on ``port``, or a free one); stop it afterwards."""
    port = port or free_port()
    env = service_env(tmp_path, PORT=str(port), **extra)
    env["GUNICORN_CMD_ARGS"] = f"--bind 127.0.0.1:{port}"  # loopback only in tests
    process = subprocess.Popen(web_command(), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if http(base + "/healthz")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "gunicorn did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
