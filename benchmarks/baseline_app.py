"""The benchmark's baseline: the least a CDS service can do under the same gunicorn settings.

It reads the hook request's JSON body the way the service does (``orjson.loads`` of the raw
body, as ``cds_service/web/json_text.py``) and answers one constant card, so the ratio of the
service's throughput to this one's is what the service's own work costs on top of HTTP,
Flask and JSON.
"""

from __future__ import annotations

import orjson
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
    "source": {"label": "Baseline"},
    "detail": "A constant card.",
}


@app.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    body = orjson.loads(request.get_data(cache=True))
    if not isinstance(body, dict):
        return Response(status=400)
    return jsonify({"cards": [_CARD]})


@app.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})
