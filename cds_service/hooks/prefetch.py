"""Resolve the prefetch a hook needs: use what the client sent, read what it left out.

CDS Hooks 2.0 semantics: a key sent as ``null`` means "no data"; an OperationOutcome
under a key means the client's own read failed (taken as a failed read: unavailable);
a key left out is read from ``fhirServer`` with ``fhirAuthorization``'s bearer token, when
that server is allowed (``security/fhir_servers.py``; a server that is not is never
contacted, and its keys are unavailable, exactly as if it had not answered). Missing keys
are read in parallel, each with a timeout, following ``next`` links under the same allowed
base. Every value pasted into a template is percent-encoded. Without a Patient nothing can
be decided: that is a 412.
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from ..security.fhir_servers import FhirServerAllowList, ServerKey, without_query
from ..web import json_text, metrics
from ..web.request_body import nests_deeper

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")
_READ = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")
_USER_TOKENS = {
    "Practitioner": "userPractitionerId",
    "PractitionerRole": "userPractitionerRoleId",
    "Patient": "userPatientId",
    "RelatedPerson": "userRelatedPersonId",
}
REQUIRED_KEYS = ("patient",)
# A FHIR server's answer nesting deeper than this is a failed read (the default request limit,
# CDS_MAX_JSON_DEPTH, is the same: a searchset Bundle of resources with contained ones needs ~12).
ANSWER_MAX_DEPTH = 64


class ResponseTooLarge(requests.RequestException):
    """The FHIR server sent more than the configured limit; the read counts as failed."""


class PrefetchError(Exception):
    """Data the service cannot decide without is absent and cannot be read (HTTP 412)."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("Cannot read " + ", ".join(missing))
        self.missing = missing


@dataclass
class ResolvedPrefetch:
    data: dict[str, Any] = field(default_factory=dict)
    unavailable: set[str] = field(default_factory=set)
    read_from_server: list[str] = field(default_factory=list)
    # Keys neither sent nor readable because no allowed server was named.
    not_read: set[str] = field(default_factory=set)


def token_values(context: Mapping[str, Any]) -> dict[str, str]:
    """The values prefetch tokens may use: first-level primitive context fields and user ids,
    each percent-encoded (of a ``Type/id`` reference, the id part), so that no value can add
    a path segment, a query or a fragment to the URL it is pasted into."""
    values = {
        f"context.{name}": quote(str(value), safe="")
        for name, value in context.items()
        if isinstance(value, str | int | float) and not isinstance(value, bool)
    }
    user = context.get("userId")
    if isinstance(user, str) and "/" in user:
        kind, _, ident = user.partition("/")
        values["context.userId"] = f"{quote(kind, safe='')}/{quote(ident, safe='')}"
        token = _USER_TOKENS.get(kind)
        if token and ident:
            values[token] = quote(ident, safe="")
    return values


def allowed_server(body: Mapping[str, Any], allow: FhirServerAllowList, issuer: str | None) -> ServerKey | None:
    """The listed server this call's ``fhirServer`` names, or None (see :func:`log_not_allowed`)."""
    named = body.get("fhirServer")
    if not isinstance(named, str):
        return None
    return allow.match(named, issuer)


def log_not_allowed(body: Mapping[str, Any], resolved: ResolvedPrefetch, issuer: str | None) -> None:
    """Say that a named ``fhirServer`` was not read because it is not allowed, when that left keys
    unread; a call whose prefetch was complete would otherwise log a warning every time."""
    named = body.get("fhirServer")
    if isinstance(named, str) and resolved.not_read:
        log.warning(
            "fhirServer not allowed: not read",
            extra={
                "event": "fhir_server_not_allowed",
                "fhirServer": without_query(named),
                "iss": issuer,
                "keys": sorted(resolved.not_read),
            },
        )


def render(template: str, values: Mapping[str, str]) -> str | None:
    """Fill a prefetch template; ``None`` when a token has no value (the key is skipped)."""
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        value = values.get(match.group(1))
        if value is None:
            missing = True
            return ""
        return value

    rendered = _TOKEN.sub(fill, template)
    return None if missing else rendered


def is_operation_outcome(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"


class FhirReader:
    """Reads from one hook call's ``fhirServer``; never from another origin."""

    _local = threading.local()

    def __init__(
        self,
        server: ServerKey,
        access_token: str | None,
        *,
        timeout: float,
        max_pages: int,
        max_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.server = server
        self.base_url = server.url
        self.timeout = timeout
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self.headers = {"Accept": "application/fhir+json, application/json"}
        if access_token:
            self.headers["Authorization"] = f"Bearer {access_token}"

    @classmethod
    def _session(cls) -> requests.Session:
        session = getattr(cls._local, "session", None)
        if session is None:
            session = requests.Session()
            cls._local.session = session
        return session

    def _get(self, url: str) -> tuple[int, Any]:
        """GET one URL: no redirects followed (a 3xx is a failed read), at most ``max_bytes`` read."""
        with self._session().get(
            url, headers=self.headers, timeout=self.timeout, allow_redirects=False, stream=True
        ) as response:
            if response.status_code != 200:
                return response.status_code, None
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > self.max_bytes:
                    raise ResponseTooLarge(f"response over {self.max_bytes} bytes")
                chunks.append(chunk)
        raw = b"".join(chunks)
        try:
            body = json_text.loads(raw)
        except ValueError:
            return 200, None
        # Nesting no FHIR resource needs is a failed read: nothing downstream walks it.
        return 200, None if nests_deeper(raw, body, ANSWER_MAX_DEPTH) else body

    def read(self, query: str) -> tuple[bool, Any]:
        """(ok, value): ``ok`` False means the read failed; a 404 on a read is "no data"."""
        url = f"{self.base_url}/{query.lstrip('/')}"
        try:
            status, body = self._get(url)
        except requests.RequestException as exc:
            log.warning("fhir read failed", extra={"event": "fhir_read_failed", "error_type": type(exc).__name__})
            return False, None
        if status == 404 and _READ.match(query):
            return True, None
        if status != 200 or not isinstance(body, dict) or is_operation_outcome(body):
            log.warning("fhir read failed", extra={"event": "fhir_read_failed", "status": status})
            return False, None
        return True, self.follow_pages(body)

    def follow_pages(self, body: dict) -> dict:
        """Merge the ``next`` pages of a searchset Bundle into one Bundle."""
        if body.get("resourceType") != "Bundle":
            return body
        entries = list(body.get("entry") or [])
        page, pages = body, 1
        while pages < self.max_pages:
            link = _next_link(page)
            next_url = self.server.on_this_server(link) if link is not None else None
            if next_url is None:
                break
            try:
                status, page = self._get(next_url)
            except requests.RequestException:
                break
            if status != 200 or not isinstance(page, dict) or page.get("resourceType") != "Bundle":
                break
            entries.extend(page.get("entry") or [])
            pages += 1
        if pages == 1:
            return body
        merged = {key: value for key, value in body.items() if key != "link"}
        merged["entry"] = entries
        return merged


def _next_link(bundle: dict) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


def _submit(executor: ThreadPoolExecutor, fn: Any, *args: Any) -> Future:
    """Run ``fn`` on the executor in a copy of the caller's context, so that its log lines carry the
    call's request id (web/request_id.py)."""
    return executor.submit(contextvars.copy_context().run, fn, *args)


def _timed_read(reader: FhirReader, query: str, give_up_at: float | None) -> tuple[bool, Any]:
    """``reader.read``, counted by outcome with its time (``cds_fhir_read_duration_seconds``): ``ok``,
    ``failed``, or ``late`` when it ended after the hook had given up on it."""
    started = time.perf_counter()
    ok, value = reader.read(query)
    ended = time.perf_counter()
    outcome = "late" if give_up_at is not None and ended > give_up_at else "ok" if ok else "failed"
    metrics.FHIR_READS.labels(outcome).observe(ended - started)
    return ok, value


def resolve(
    body: Mapping[str, Any],
    templates: Mapping[str, str],
    *,
    server: ServerKey | None,
    executor: ThreadPoolExecutor,
    timeout: float,
    max_pages: int,
    deadline: float | None = None,
    max_bytes: int = 10 * 1024 * 1024,
) -> ResolvedPrefetch:
    """Resolve every key of ``templates``, reading what is missing from ``server`` (the allowed
    server the call named, see :func:`allowed_server`; None reads nothing). Reads still running
    after ``deadline`` seconds are given up on (their keys become unavailable), so a hung FHIR
    server cannot hold the hook."""
    sent = body.get("prefetch") or {}
    resolved = ResolvedPrefetch()
    reader = None
    if server is not None:
        token = (body.get("fhirAuthorization") or {}).get("access_token")
        reader = FhirReader(server, token, timeout=timeout, max_pages=max_pages, max_bytes=max_bytes)

    values = token_values(body.get("context") or {})
    to_read: dict[str, str] = {}
    for key, template in templates.items():
        if key in sent:
            value = sent[key]
            if is_operation_outcome(value):
                resolved.unavailable.add(key)
            elif isinstance(value, dict) and reader is not None and _next_link(value):
                to_read[key] = ""  # a paginated Bundle the client sent: fetch its other pages
            else:
                resolved.data[key] = value if isinstance(value, dict) else None
            continue
        query = render(template, values)
        if query is None:
            resolved.data[key] = None  # e.g. no user Practitioner id to search roles by
        elif reader is None:
            resolved.unavailable.add(key)
            resolved.not_read.add(key)
        else:
            to_read[key] = query

    if to_read and reader is not None:
        give_up_at = time.perf_counter() + deadline if deadline is not None else None
        futures: dict[str, Future] = {
            key: _submit(executor, reader.follow_pages, sent[key])
            if query == ""
            else _submit(executor, _timed_read, reader, query, give_up_at)
            for key, query in to_read.items()
        }
        wait(futures.values(), timeout=deadline)
        for key, future in futures.items():
            client_page = to_read[key] == ""
            if not future.done():
                if future.cancel() and not client_page:  # never started: counted here, not by _timed_read
                    metrics.FHIR_READS.labels("late").observe(deadline or 0)
                log.warning("fhir read past the hook deadline", extra={"event": "fhir_read_deadline"})
                if client_page:
                    resolved.data[key] = sent[key]
                else:
                    resolved.read_from_server.append(key)
                    resolved.unavailable.add(key)
                continue
            if client_page:
                resolved.data[key] = future.result()
                continue
            ok, value = future.result()
            resolved.read_from_server.append(key)
            if ok:
                resolved.data[key] = value
            else:
                resolved.unavailable.add(key)

    missing = [key for key in REQUIRED_KEYS if not isinstance(resolved.data.get(key), dict)]
    if missing:
        raise PrefetchError(missing)
    return resolved
