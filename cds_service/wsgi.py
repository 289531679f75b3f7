"""gunicorn entry point: build the app once, or refuse to start with a one-line reason."""

from __future__ import annotations

import sys

from .app import create_app
from .config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as exc:
    sys.stderr.write(f"lenalidomide-cds refuses to start: {exc}\n")
    sys.exit(1)
