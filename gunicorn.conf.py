"""gunicorn settings shared by the Procfile and the benchmark."""

# gevent first: the standard library is patched before gunicorn's master loads the application
# (preload_app), so the locks, threads and sockets the application makes are cooperative. Patching
# later, as the gevent worker does on its own, would leave real locks made at import time.
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent: an idle or slow connection costs a greenlet, not a thread (cds_service/web/serving.py,
# docs/performance.md). A greenlet computes until it waits on I/O, so one call computes at a time.
worker_class = "cds_service.web.serving.ReadDeadlineGeventWorker"
# Connections per worker: the contract's 500 slow or idle ones per instance, even if all land on one
# worker, and room for the rest. Beyond it a worker stops accepting until one closes; none waits
# long, since a request's head must arrive within `keepalive` seconds and its body within
# CDS_BODY_READ_SECONDS.
worker_connections = 1000
timeout = 30
graceful_timeout = 10
keepalive = 5
preload_app = True
accesslog = None
errorlog = "-"

# gunicorn 25+ opens a control socket for `gunicornc` at one fixed path ($XDG_RUNTIME_DIR or
# ~/.gunicorn/gunicorn.ctl), shared by every gunicorn the user runs on the host. Off unless
# GUNICORN_CONTROL_SOCKET names a path of this instance's own.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")

# --- JSON logs and Prometheus metrics (cds_service/web/gunicorn_logging.py, metrics.py) -------------
# gunicorn's own lines (error log; access log when enabled) in the service's JSON format.
logger_class = "cds_service.web.gunicorn_logging.JsonLogger"

# Every worker writes its metric values to files in PROMETHEUS_MULTIPROC_DIR; /metrics adds them up.
# It must be set before the app (and prometheus-client) is imported: here. An operator's own
# directory is emptied of a previous run's files; one made here is removed at exit.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and os.environ.get("_CDS_METRICS_DIR_OWNED") != "1":
    _metrics_dir, _metrics_dir_owned = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]), False
    _metrics_dir.mkdir(parents=True, exist_ok=True)
    for _stale in _metrics_dir.glob("*.db"):
        _stale.unlink()
elif os.environ.get("_CDS_METRICS_DIR_OWNED") == "1":  # this file read again (a reload): keep the counts
    _metrics_dir, _metrics_dir_owned = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]), True
else:
    _metrics_dir, _metrics_dir_owned = Path(tempfile.mkdtemp(prefix="lenalidomide-cds-metrics-")), True
    os.environ.update(PROMETHEUS_MULTIPROC_DIR=str(_metrics_dir), _CDS_METRICS_DIR_OWNED="1")


def child_exit(server, worker):
    """A worker is gone: its counts stay in the totals; its live-gauge files (none today) go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir_owned:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
