"""gunicorn settings shared by the Procfile and the benchmark."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads let a worker answer while another call waits on the EHR's FHIR server or on the
# audit commit; the computing itself runs one call at a time per worker (compute_slot.py).
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 10
keepalive = 5
preload_app = True
accesslog = None
errorlog = "-"
