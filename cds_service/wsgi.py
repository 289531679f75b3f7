"""gunicorn entry point: build the app once, or refuse to start with a one-line reason."""

from __future__ import annotations

import gc
import sys

from .app import create_app
from .web.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as exc:
    sys.stderr.write(f"lenalidomide-cds refuses to start: {exc}\n")
    sys.exit(1)

# What was built at start (modules, schemas, the policy, code sets: about 90,000 objects)
# lives as long as the process. Freezing it takes it out of the cyclic collector's reach:
# otherwise every full collection, which a large record's parse triggers every few requests,
# walks all of it again (about 20 % of a heavy request's CPU time, docs/performance.md).
# gunicorn builds the app before forking its workers (preload_app), so this also keeps the
# collector from writing into pages the workers share with the master (the practice the
# ``gc.freeze`` documentation gives for servers that fork).
gc.freeze()
