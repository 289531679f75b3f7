"""Read the request body as a JSON object, whatever Content-Type the client claims."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from .errors import ServiceError


def json_object() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ServiceError(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ServiceError(400, "The request body must be a JSON object")
    return body
