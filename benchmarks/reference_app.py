"""The fixed reference of the performance targets (issue 16): a Flask app that parses the hook
request's body with the standard library's ``json`` and answers one constant card, run under
gunicorn's default (sync) worker with the same number of workers.

It stays as it is whatever the service's own serving model becomes, so that the targets' ratios
keep one meaning across releases; ``baseline_app.py`` (orjson, the service's gunicorn settings)
is the second baseline, for what the service's own work costs on top of the same stack.
"""

from __future__ import annotations

import json

from flask import Flask, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider

app = Flask(__name__)
json_provider = DefaultJSONProvider(app)
json_provider.sort_keys = False
app.json = json_provider

_CARD = {
    "uuid": "00000000-0000-4000-8000-000000000000",
    "summary": "Prior authorization: likely approved under CP.PHAR.71",
    "indicator": "info",
    "source": {"label": "Reference"},
    "detail": "A constant card.",
}


@app.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    body = json.loads(request.get_data(cache=True))
    if not isinstance(body, dict):
        return Response(status=400)
    return jsonify({"cards": [_CARD]})


@app.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})
