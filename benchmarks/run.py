"""Benchmark: the service under gunicorn, as the Procfile runs it, against two baseline Flask apps.

Run from the project root: ``.venv/bin/python benchmarks/run.py`` (about 9 minutes; ``--soak-seconds 0``
skips the 5-minute soak).

1. Builds the request bodies (``bodies.py``): the pass-through order (a typical record, a draft that
   is not lenalidomide), the sandbox's captured order-sign, a typical record, a heavy one, and the
   prefetch-fallback request against a local FHIR server.
2. Starts the service (``gunicorn --config gunicorn.conf.py cds_service.wsgi:app``, the
   Procfile's command, same worker settings, ``CDS_AUTH=disabled``, a temporary
   ``CDS_FEEDBACK_DB``), the baseline (``benchmarks/baseline_app.py``, orjson, the same gunicorn
   config) and the fixed reference of the targets (``benchmarks/reference_app.py``: the standard
   library's json under gunicorn's default sync worker), all bound to 127.0.0.1 only.
3. Loads them with ``wrk`` at 10 connections, alternating reference, baseline and service round by
   round, each round bounded in time and in requests; reads each worker's peak RSS (``VmHWM``);
   prints the targets of issue 16 (ratios against the reference) and whether each is met.
4. Fallback: the request without prefetch, reads answered by ``fhir_stub.py`` after a fixed
   delay; one request at a time to show that the reads overlap, then under load.
5. Memory: a fresh service, 10,000 requests (mostly small records, some large; ``ab``, count-bound),
   RSS of each worker after every thousand.
6. Soak: a fresh service, 5 minutes at about 80 % of the typical request's measured capacity,
   errors counted and RSS read every 30 s.
7. Prints the table and writes it into ``docs/performance.md`` (between the benchmark markers).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bodies
from fhir_stub import FhirStub

PROJECT = bodies.PROJECT
DOC = PROJECT / "docs" / "performance.md"
BEGIN, END = "<!-- benchmark:begin -->", "<!-- benchmark:end -->"
CONNECTIONS = 10
WRK_THREADS = 2
COMMAND = ".venv/bin/python benchmarks/run.py"
# The targets (issue 16), against the reference app in the same run: (request, least throughput ratio,
# most p99 in ms); None where a target does not bound it.
TARGETS = (
    ("pass-through", 0.8, None),
    ("typical", 0.35, 50.0),
    ("captured", 0.35, None),
    ("heavy", None, 150.0),
)
# Each block of about 1,000 requests in the memory run: mostly small records, some large ones.
MEMORY_MIX = (("captured", 700), ("typical", 250), ("heavy", 50))

# wrk scripts: every one POSTs the body file given as its first argument and prints its
# latency histogram as one JSON line; the second argument is the request cap of each thread
# (LUA) or the pause before each request in ms (SOAK_LUA).
_LUA_INIT = r"""
local arg2, count = 0, 0
function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  arg2 = tonumber(args[2])
end
"""
_LUA_DONE = r"""
function done(summary, latency, requests)
  local hist = {}
  for i = 1, #latency do
    local value, n = latency(i)
    hist[#hist + 1] = string.format("[%d,%d]", value, n)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"hist":[%s]}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    table.concat(hist, ",")))
end
"""
LUA = (
    _LUA_INIT
    + r"""
function response(status, headers, body)
  count = count + 1
  if count >= arg2 then wrk.thread:stop() end
end
"""
    + _LUA_DONE
)
SOAK_LUA = (
    _LUA_INIT
    + r"""
function delay()
  return arg2
end
"""
    + _LUA_DONE
)


@dataclass
class Load:
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    hist: dict[int, int] = field(default_factory=dict)

    def add(self, result: dict[str, Any]) -> Load:
        self.requests += result["requests"]
        self.seconds += result["duration_us"] / 1e6
        self.errors += result["errors"] + result["non2xx"]
        for value, count in result["hist"]:
            self.hist[value] = self.hist.get(value, 0) + count
        return self

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        total = sum(self.hist.values())
        if not total:
            return float("nan")
        rank, seen = p / 100 * total, 0
        for value in sorted(self.hist):
            seen += self.hist[value]
            if seen >= rank:
                return value / 1000
        return max(self.hist) / 1000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def fsync_probe(directory: Path, seconds: float = 5.0) -> str:
    """How long an fsync of 4 KB takes where the audit file lives: each hook call waits for
    one (the audit row is committed before the answer), so the disk's rare stalls are the
    service's tail latency, which the baseline, writing nothing, does not have."""
    path = directory / "fsync-probe"
    times: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            os.write(fd, b"x" * 4096)
            started = time.perf_counter()
            os.fsync(fd)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    slow = sum(t > 100 for t in times)
    return (
        f"{len(times):,} fsyncs of 4 KB in {seconds:.0f} s: p50 {times[len(times) // 2]:.2f} ms, "
        f"p99.9 {times[int(len(times) * 0.999)]:.2f} ms, max {times[-1]:.1f} ms, {slow} over 100 ms"
    )


_STARTED: list[Gunicorn] = []  # every master this run started, stopped at exit whatever happens


def _exit_on_signal(signum: int, _frame: Any) -> None:
    """SIGTERM / SIGHUP end the run as Ctrl-C does: every ``finally`` and the atexit cleanup run."""
    raise SystemExit(128 + signum)


def _clean_up(workdir: Path) -> None:
    for server in reversed(_STARTED):
        server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def make_workdir() -> Path:
    """The run's temporary folder. Whatever ends the run (its end, an error, Ctrl-C, SIGTERM, SIGHUP;
    not SIGKILL), the gunicorn masters it started are stopped and the folder is deleted."""
    workdir = Path(tempfile.mkdtemp(prefix="cds-bench-"))
    atexit.register(_clean_up, workdir)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    return workdir


class Gunicorn:
    """A gunicorn master with the project's config, bound to 127.0.0.1 only.

    It runs in a session of its own, so that when it has to be killed its workers go with it."""

    def __init__(
        self,
        app: str,
        workdir: Path,
        name: str,
        extra_env: dict[str, str],
        pythonpath: str | None = None,
        *,
        project_config: bool = True,
    ):
        self.port = free_port()
        self.name = name
        self.log = (workdir / f"{name}.log").open("wb")
        cmd = [str(PROJECT / ".venv" / "bin" / "gunicorn")]
        if project_config:
            cmd += ["--config", "gunicorn.conf.py"]
        else:  # gunicorn's defaults (the sync worker), with the same number of workers
            cmd += ["--workers", str(self.expected_workers())]
        cmd += ["--bind", f"127.0.0.1:{self.port}"]  # the config binds 0.0.0.0: override to loopback
        if pythonpath:
            cmd += ["--pythonpath", pythonpath]
        cmd.append(app)
        env = {**os.environ, "PORT": str(self.port), **extra_env}
        self.proc = subprocess.Popen(
            cmd, cwd=PROJECT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        _STARTED.append(self)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited at start; see {self.log.name}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                if response.status == 200 and len(self.workers()) >= self.expected_workers():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become ready; see {self.log.name}")

    @staticmethod
    def expected_workers() -> int:
        return int(os.environ.get("WEB_CONCURRENCY", "2"))

    def workers(self) -> list[int]:
        pids: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pids += [int(p) for p in task.read_text().split()]
        return sorted(pids)

    def memory_kb(self, field_name: str) -> list[int]:
        out = []
        for pid in self.workers():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(field_name + ":"):
                        out.append(int(line.split()[1]))
        return out

    def reset_peak(self) -> bool:
        """Reset each worker's VmHWM (Linux >= 4.0: write 5 to clear_refs); False if refused."""
        ok = True
        for pid in self.workers():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                ok = False
        return ok

    def stop(self) -> None:
        """Stop the master and its workers (gracefully, else killed after 15 s); idempotent."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def post(url: str, body: bytes, timeout: float = 10) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return response.status, json.loads(response.read())


def one_at_a_time_ms(url: str, body_file: Path, count: int) -> list[float]:
    """Latency of ``count`` requests sent one after another, in ms."""
    body = body_file.read_bytes()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        post(url, body)
        times.append((time.perf_counter() - started) * 1000)
    return times


def wrk(
    url: str, body_file: Path, lua: Path, *, seconds: float, max_requests: int, connections: int = CONNECTIONS
) -> dict[str, Any]:
    """One wrk run with ``LUA``: at most ``seconds`` and about ``max_requests`` requests."""
    threads = min(WRK_THREADS, connections)
    return _run_wrk(url, body_file, lua, seconds, str(max(1, max_requests // threads)), connections)


def wrk_paced(url: str, body_file: Path, lua: Path, *, seconds: float, pause_ms: float) -> dict[str, Any]:
    """One wrk run with ``SOAK_LUA``: each connection pauses ``pause_ms`` before each request."""
    return _run_wrk(url, body_file, lua, seconds, f"{pause_ms:.0f}")


def _run_wrk(
    url: str, body_file: Path, lua: Path, seconds: float, arg2: str, connections: int = CONNECTIONS
) -> dict[str, Any]:
    threads = min(WRK_THREADS, connections)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    cmd += ["-s", str(lua), url, "--", str(body_file), arg2]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    for line in out.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[len("WRKJSON ") :])
    raise RuntimeError(f"wrk printed no result:\n{out}")


def ab(url: str, body_file: Path, count: int) -> int:
    """Send exactly ``count`` requests at 10 connections (ApacheBench, keep-alive); raise on any error.

    Count-bound, unlike wrk, whose ``-d`` duration bounds a run: the memory phase needs a
    number of requests, not a time."""
    cmd = ["ab", "-q", "-k", "-c", str(CONNECTIONS), "-n", str(count), "-s", "10"]
    cmd += ["-p", str(body_file), "-T", "application/json", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout
    complete = failed = non2xx = 0
    for line in out.splitlines():
        if line.startswith("Complete requests:"):
            complete = int(line.split()[-1])
        elif line.startswith("Failed requests:"):
            failed = int(line.split()[-1])
        elif line.startswith("Non-2xx responses:"):
            non2xx = int(line.split()[-1])
    if complete != count or failed or non2xx:
        raise RuntimeError(f"ab: {complete} of {count} complete, {failed} failed, {non2xx} non-2xx")
    return complete


def run_soak(server: Gunicorn, body_file: Path, workdir: Path, capacity: float, seconds: float) -> dict[str, Any]:
    """``seconds`` of paced load at about 80 % of ``capacity`` (req/s), in chunks of 30 s.

    wrk has no rate option; its ``delay`` hook pauses each connection before each request.
    A connection's cycle is pause + latency, so after each chunk the pause is set again from
    the latency just seen: the rate stays near the target as the service warms or slows.
    RSS of each worker is read after every chunk."""
    target = 0.8 * capacity
    lua = workdir / "soak.lua"
    lua.write_text(SOAK_LUA)
    url = server.url + bodies.SERVICE_PATH
    chunk = 30.0
    cycle = CONNECTIONS / target  # seconds per request per connection at the target rate
    pause_ms = max(0.0, cycle * 1000 * 0.7)
    total = Load()
    chunks: list[dict[str, Any]] = []
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        length = min(chunk, seconds - (time.monotonic() - started))
        if length < 1:
            break
        result = wrk_paced(url, body_file, lua, seconds=length, pause_ms=pause_ms)
        load = Load()
        load.add(result)
        total.add(result)
        rss = [kb / 1024 for kb in server.memory_kb("VmRSS")]
        after = time.monotonic() - started
        chunks.append(
            {"after": after, "rps": load.rps, "p99": load.percentile_ms(99), "errors": load.errors, "rss": rss}
        )
        print(
            f"soak {after:5.0f} s: {load.rps:.0f} req/s (target {target:.0f}), "
            f"p99 {load.percentile_ms(99):.1f} ms, errors {load.errors}, RSS "
            + " / ".join(f"{m:.1f}" for m in rss)
            + " MB",
            flush=True,
        )
        if load.rps > 0:
            latency = CONNECTIONS / load.rps - pause_ms / 1000  # per-request time a connection waited for
            pause_ms = max(0.0, (cycle - latency) * 1000)
    return {"target": target, "capacity": capacity, "seconds": seconds, "total": total, "chunks": chunks}


def check_answer(name: str, status: int, answer: dict[str, Any]) -> str:
    expect_cards = name != "pass-through"
    if status != 200 or not isinstance(answer.get("cards"), list) or bool(answer["cards"]) != expect_cards:
        raise RuntimeError(f"{name}: unexpected answer {status} {str(answer)[:300]}")
    if not expect_cards:
        return "no cards"
    codes = [c.get("extension", {}).get("lenalidomide-cds.finding", {}).get("code") for c in answer["cards"]]
    return ", ".join(str(c) for c in codes)


@contextlib.contextmanager
def running(*servers: Gunicorn) -> Iterator[None]:
    try:
        yield
    finally:
        for server in servers:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4, help="length of one load round (default 4)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="alternating rounds per request (default 4: this VM's speed drifts over minutes, and short "
        "alternating rounds keep the ratio fair)",
    )
    parser.add_argument("--max-requests", type=int, default=100_000, help="request cap of one round (default 100000)")
    parser.add_argument("--memory-requests", type=int, default=10_000, help="requests of the memory run")
    parser.add_argument("--soak-seconds", type=float, default=300, help="soak run length, 0 to skip (default 300)")
    parser.add_argument("--fhir-delay-ms", type=float, default=10, help="the FHIR stub's delay per read")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/performance.md")
    args = parser.parse_args()

    missing = [tool for tool in ("wrk", "ab") if shutil.which(tool) is None]
    if missing:
        print(
            f"{' and '.join(missing)} (HTTP load generators) not installed. "
            "On Debian/Ubuntu: sudo apt-get install -y wrk apache2-utils",
            file=sys.stderr,
        )
        return 2
    if not (PROJECT / ".venv" / "bin" / "gunicorn").exists():
        print("No .venv: python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'", file=sys.stderr)
        return 2

    started = time.monotonic()
    info = machine()
    info["load"] = " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    workdir = make_workdir()
    lua = workdir / "post.lua"
    lua.write_text(LUA)
    service_env = {"CDS_AUTH": "disabled", "CDS_FEEDBACK_DB": str(workdir / "feedback.sqlite3")}
    info["fsync"] = fsync_probe(workdir)
    print(f"audit disk: {info['fsync']}", flush=True)

    stub_data = bodies.typical_request()["prefetch"]
    with FhirStub(stub_data, delay_s=args.fhir_delay_ms / 1000) as stub:
        fallback_body, _ = bodies.fallback_request(stub.base_url)
        service_env["CDS_FHIR_SERVERS"] = stub.base_url  # no FHIR server is read unless allowed
        requests_ = {
            "pass-through": bodies.passthrough_request(),
            "captured": bodies.captured_request(),
            "typical": bodies.typical_request(),
            "heavy": bodies.heavy_request(),
            "fallback": fallback_body,
        }
        files: dict[str, Path] = {}
        for name, body in requests_.items():
            files[name] = workdir / f"{name}.json"
            files[name].write_bytes(json.dumps(body).encode())

        service = Gunicorn("cds_service.wsgi:app", workdir, "service", service_env)
        baseline = Gunicorn("baseline_app:app", workdir, "baseline", {}, pythonpath="benchmarks")
        reference = Gunicorn(
            "reference_app:app", workdir, "reference", {}, pythonpath="benchmarks", project_config=False
        )
        rows: list[dict[str, Any]] = []
        with running(service, baseline, reference):
            service_url = service.url + bodies.SERVICE_PATH
            baseline_url = baseline.url + bodies.SERVICE_PATH
            reference_url = reference.url + bodies.SERVICE_PATH
            servers = (("reference", reference_url), ("baseline", baseline_url), ("service", service_url))
            findings = {}
            for name, path in files.items():
                findings[name] = check_answer(name, *post(service_url, path.read_bytes()))
                post(baseline_url, path.read_bytes())
                post(reference_url, path.read_bytes())

            # Fallback, one request at a time: the reads of one request overlap.
            stub.reset_counters()
            single = one_at_a_time_ms(service_url, files["fallback"], 30)
            reads_per_request = stub.reads / 30
            max_overlap = stub.max_in_flight
            same_with_prefetch = one_at_a_time_ms(service_url, files["typical"], 30)
            print(
                f"fallback, one at a time: p50 {statistics.median(single):.1f} ms, {reads_per_request:.0f} reads "
                f"per request of {args.fhir_delay_ms:.0f} ms each, at most {max_overlap} in flight"
            )

            for name, path in files.items():
                loads = {label: Load() for label, _ in servers}
                peaks_ok = service.reset_peak() and baseline.reset_peak()
                for _, url in servers:
                    wrk(url, path, lua, seconds=1, max_requests=200)  # warm-up, not counted
                for _ in range(args.rounds):
                    for label, url in servers:
                        loads[label].add(wrk(url, path, lua, seconds=args.seconds, max_requests=args.max_requests))
                # One client, one request at a time: the latency without queueing.
                alone = {
                    label: Load().add(wrk(url, path, lua, seconds=args.seconds, max_requests=100_000, connections=1))
                    for label, url in (("baseline", baseline_url), ("service", service_url))
                }
                svc, base, ref = loads["service"], loads["baseline"], loads["reference"]
                row = {
                    "alone": alone,
                    "request": name,
                    "bytes": path.stat().st_size,
                    "resources": bodies.resource_counts(requests_[name]),
                    "findings": findings[name],
                    "service": svc,
                    "baseline": base,
                    "ratio": svc.rps / base.rps if base.rps else float("nan"),
                    "reference": ref,
                    "ratio_reference": svc.rps / ref.rps if ref.rps else float("nan"),
                    "hwm_mb": [kb / 1024 for kb in service.memory_kb("VmHWM")],
                    "peak_reset": peaks_ok,
                }
                rows.append(row)
                print(format_row(row), flush=True)

        # Memory: a fresh service, the MEMORY_MIX in blocks, RSS of each worker after every block.
        memory_service = Gunicorn("cds_service.wsgi:app", workdir, "service-memory", service_env)
        rss_points: list[tuple[int, list[float]]] = []
        with running(memory_service):
            url = memory_service.url + bodies.SERVICE_PATH
            sent = 0
            while sent < args.memory_requests:
                for name, share in MEMORY_MIX:
                    sent += ab(url, files[name], share)
                rss_points.append((sent, [kb / 1024 for kb in memory_service.memory_kb("VmRSS")]))
            memory_hwm = [kb / 1024 for kb in memory_service.memory_kb("VmHWM")]

        # Soak: a fresh service at about 80 % of the typical request's measured capacity.
        soak: dict[str, Any] | None = None
        if args.soak_seconds > 0:
            capacity = next(row["service"].rps for row in rows if row["request"] == "typical")
            soak_service = Gunicorn("cds_service.wsgi:app", workdir, "service-soak", service_env)
            with running(soak_service):
                soak = run_soak(soak_service, files["typical"], workdir, capacity, args.soak_seconds)

    fallback = {
        "single_p50": statistics.median(single),
        "single_max": max(single),
        "prefetched_p50": statistics.median(same_with_prefetch),
        "reads": reads_per_request,
        "overlap": max_overlap,
        "delay": args.fhir_delay_ms,
    }
    elapsed = time.monotonic() - started
    table = render(info, rows, fallback, rss_points, memory_hwm, soak, elapsed, args)
    print()
    print(table)
    if not args.no_write:
        write_doc(table)
        print(f"\nwritten to {DOC.relative_to(PROJECT)}")
    return 0


def format_row(row: dict[str, Any]) -> str:
    svc, base = row["service"], row["baseline"]
    return (
        f"{row['request']}: service {svc.rps:.0f} req/s p50/p95/p99 {svc.percentile_ms(50):.1f}/"
        f"{svc.percentile_ms(95):.1f}/{svc.percentile_ms(99):.1f} ms; baseline {base.rps:.0f} req/s "
        f"p99 {base.percentile_ms(99):.1f} ms; ratio {row['ratio']:.2f}; reference {row['reference'].rps:.0f} req/s "
        f"p99 {row['reference'].percentile_ms(99):.1f} ms; ratio {row['ratio_reference']:.2f}; "
        f"errors {svc.errors}+{base.errors}+{row['reference'].errors}"
    )


def target_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The targets of issue 16 with what this run measured, and whether each is met."""
    by_name = {row["request"]: row for row in rows}
    lines = [
        "| request | target | measured | met |",
        "|---|---|---|---|",
    ]
    for name, least_ratio, most_p99 in TARGETS:
        row = by_name.get(name)
        if row is None:
            continue
        wanted, measured, met = [], [], True
        if least_ratio is not None:
            wanted.append(f"throughput >= {least_ratio} x reference")
            rates = f"{row['service'].rps:.0f} / {row['reference'].rps:.0f} req/s"
            measured.append(f"{row['ratio_reference']:.2f} x ({rates})")
            met = met and row["ratio_reference"] >= least_ratio
        if most_p99 is not None:
            p99 = row["service"].percentile_ms(99)
            wanted.append(f"p99 <= {most_p99:.0f} ms")
            measured.append(f"p99 {p99:.1f} ms (reference {row['reference'].percentile_ms(99):.1f} ms)")
            met = met and p99 <= most_p99
        lines.append(f"| {name} | {'; '.join(wanted)} | {'; '.join(measured)} | {'yes' if met else '**no**'} |")
    return lines


def render(
    info: dict[str, str],
    rows: list[dict[str, Any]],
    fallback: dict[str, Any],
    rss_points: list[tuple[int, list[float]]],
    memory_hwm: list[float],
    soak: dict[str, Any] | None,
    elapsed: float,
    args: argparse.Namespace,
) -> str:
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    conf = (PROJECT / "gunicorn.conf.py").read_text()
    worker_class = re.search(r'^worker_class = "([^"]+)"', conf, re.MULTILINE)
    worker_class_name = worker_class.group(1).rsplit(".", 1)[-1] if worker_class else "?"
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{COMMAND}` ({elapsed:.0f} s).",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, Linux {info['kernel']}, "
        f"Python {info['python']}. gunicorn `gunicorn.conf.py`: {workers} workers, `{worker_class_name}`, "
        f"bound to 127.0.0.1; load: wrk, {CONNECTIONS} connections, {WRK_THREADS} threads, "
        f"{args.rounds} alternating rounds of <= {args.seconds:.0f} s / <= {args.max_requests} requests per server "
        "and request, after a warm-up. The load generator runs on the same machine. "
        f"Load average (1/5/15 min) at the start: {info['load']}. The audit file's disk (SQLite, WAL, "
        f"`synchronous=FULL`, in a temporary directory): {info['fsync']}.",
        "",
        "The targets (issue 16; the reference is `benchmarks/reference_app.py`: the standard library's json, "
        "gunicorn's default sync worker, the same number of workers, loaded in the same alternating rounds):",
        "",
        *target_lines(rows),
        "",
        "| request | body | prefetch resources | service req/s | p50 ms | p95 ms | p99 ms | baseline req/s "
        "| baseline p99 ms | service / baseline | reference req/s | reference p99 ms | service / reference "
        "| peak RSS per worker (MB) | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        svc, base = row["service"], row["baseline"]
        res = row["resources"]
        resources = ", ".join(f"{n} {k}" for k, n in sorted(res.items(), key=lambda kv: -kv[1])) or "none"
        hwm = " / ".join(f"{m:.0f}" for m in row["hwm_mb"]) + ("" if row["peak_reset"] else " (cumulative)")
        lines.append(
            f"| {row['request']} | {row['bytes'] / 1024:.0f} KB | {resources} | {svc.rps:.0f} "
            f"| {svc.percentile_ms(50):.1f} | {svc.percentile_ms(95):.1f} | {svc.percentile_ms(99):.1f} "
            f"| {base.rps:.0f} | {base.percentile_ms(99):.1f} | {row['ratio']:.2f} "
            f"| {row['reference'].rps:.0f} | {row['reference'].percentile_ms(99):.1f} | {row['ratio_reference']:.2f} "
            f"| {hwm} | {svc.errors + base.errors + row['reference'].errors} "
            f"+ {sum(load.errors for load in row['alone'].values())} |"
        )
    lines += [
        "",
        f"One client sending one request at a time (wrk, 1 connection, {args.seconds:.0f} s): the time a prescriber "
        "waits when the service is not saturated, without the queueing of the 10-connection load above.",
        "",
        "| request | service p50 ms | service p99 ms | baseline p50 ms | baseline p99 ms |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        svc, base = row["alone"]["service"], row["alone"]["baseline"]
        lines.append(
            f"| {row['request']} | {svc.percentile_ms(50):.1f} | {svc.percentile_ms(99):.1f} "
            f"| {base.percentile_ms(50):.1f} | {base.percentile_ms(99):.1f} |"
        )
    lines += [
        "",
        "Cards answered: "
        + "; ".join(f"{row['request']}: {row['findings']}" for row in rows)
        + ". Baseline: one constant card. Peak RSS = `VmHWM` of each service worker, reset before each request's "
        "rounds.",
        "",
        f"Prefetch fallback (no prefetch; {fallback['reads']:.0f} keys read from a FHIR server on 127.0.0.1 that "
        f"answers each read after {fallback['delay']:.0f} ms), one request at a time: p50 "
        f"{fallback['single_p50']:.1f} ms, max {fallback['single_max']:.1f} ms; at most {fallback['overlap']} reads "
        f"in flight at once. The same record sent as prefetch: p50 {fallback['prefetched_p50']:.1f} ms. So the "
        f"fallback costs about one read ({fallback['single_p50'] - fallback['prefetched_p50']:.1f} ms more), where "
        f"reading the keys one after another would cost >= {fallback['reads'] * fallback['delay']:.0f} ms.",
        "",
    ]
    first, last = rss_points[0], rss_points[-1]
    growth = [b - a for a, b in zip(first[1], last[1], strict=False)]
    lines += [
        f"Memory: a fresh service, {last[0]:,} requests in blocks of about 1,000 ("
        + ", ".join(f"{n} {name}" for name, n in MEMORY_MIX)
        + "; ab, 10 connections, keep-alive). RSS (`VmRSS`) per worker after each block, MB:",
        "",
        "| after requests | " + " | ".join(f"worker {i + 1}" for i in range(len(first[1]))) + " |",
        "|---|" + "---|" * len(first[1]),
    ]
    for sent, rss in rss_points:
        lines.append(f"| {sent:,} | " + " | ".join(f"{m:.1f}" for m in rss) + " |")
    lines += [
        "",
        f"Growth from the first thousand to the last: {', '.join(f'{g:+.1f} MB' for g in growth)}; "
        f"peak RSS (VmHWM) after the run: {', '.join(f'{m:.1f} MB' for m in memory_hwm)}.",
    ]
    if soak is not None:
        lines += ["", *render_soak(soak)]
    return "\n".join(lines)


def render_soak(soak: dict[str, Any]) -> list[str]:
    total: Load = soak["total"]
    chunks = soak["chunks"]
    first, last = chunks[0]["rss"], chunks[-1]["rss"]
    growth = ", ".join(f"{b - a:+.1f} MB" for a, b in zip(first, last, strict=False))
    lines = [
        f"Soak: a fresh service, typical request, {soak['seconds']:.0f} s paced at about 80 % of the capacity "
        f"measured above ({soak['capacity']:.0f} req/s, target {soak['target']:.0f} req/s; wrk's `delay` hook, "
        f"re-paced every 30 s): {total.requests:,} requests, {total.rps:.0f} req/s, p50 / p99 "
        f"{total.percentile_ms(50):.1f} / {total.percentile_ms(99):.1f} ms, **{total.errors} errors** "
        "(socket errors, timeouts and non-2xx answers).",
        "",
        "| after s | req/s | p99 ms | errors | RSS per worker (MB) |",
        "|---|---|---|---|---|",
    ]
    for chunk in chunks:
        rss = " / ".join(f"{m:.1f}" for m in chunk["rss"])
        lines.append(f"| {chunk['after']:.0f} | {chunk['rps']:.0f} | {chunk['p99']:.1f} | {chunk['errors']} | {rss} |")
    lines += ["", f"RSS growth from the first 30 s to the last: {growth}."]
    return lines


def write_doc(table: str) -> None:
    block = f"{BEGIN}\n{table}\n{END}"
    if DOC.exists():
        current = DOC.read_text(encoding="utf-8")
        if BEGIN in current and END in current:
            head, _, rest = current.partition(BEGIN)
            _, _, tail = rest.partition(END)
            DOC.write_text(head + block + tail, encoding="utf-8")
            return
        DOC.write_text(current.rstrip() + "\n\n" + block + "\n", encoding="utf-8")
        return
    DOC.write_text(f"# Performance\n\n{block}\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
