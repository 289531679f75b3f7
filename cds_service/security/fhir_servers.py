"""Which FHIR servers a hook call may read from (``CDS_FHIR_SERVERS`` and each issuer's ``fhirServers``).

The caller names ``fhirServer``; left unchecked that is a request forgery: the service would fetch from
any host it names (loopback, private and link-local metadata addresses, its own ports), with the caller's
bearer token. So a call reads only from a server listed by the operator, and is refused outright when the
URL carries what no FHIR base has (userinfo, a query, a fragment).

Comparison (CONTRACT.md, Process): scheme, host and port case-insensitively with the default port filled
in, the path exactly, a trailing ``/`` ignored. A host is compared as written, so ``2130706433`` or
``0x7f.1`` never matches a listed ``127.0.0.1``. A match reads from the *listed* URL, not from the
caller's text, so no difference between URL parsers can lead a read anywhere else. Plain ``http`` may be
listed only for loopback hosts (tests, a sidecar): no bearer token crosses plain http off the machine.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True)
class ServerKey:
    """A FHIR base URL as the allow-list compares it."""

    scheme: str
    host: str
    port: int
    path: str
    url: str = field(default="", compare=False)  # as written (trailing / dropped), for requests and logs

    def on_this_server(self, url: str) -> str | None:
        """``url`` (a ``next`` link) rebuilt on this server's own origin when it lies under its base
        path, else None: the link's text never chooses where the read goes."""
        key = server_key(url)
        if key is None or "@" in urlsplit(url).netloc:
            return None
        if (key.scheme, key.host, key.port) != (self.scheme, self.host, self.port):
            return None
        if key.path != self.path and not key.path.startswith(self.path + "/"):
            return None
        mine = urlsplit(self.url)
        return urlunsplit((mine.scheme, mine.netloc, key.path, urlsplit(url).query, ""))


def server_key(url: str) -> ServerKey | None:
    """The comparable form of an http(s) URL, or None when it is not one (or is malformed)."""
    if not isinstance(url, str) or any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    path = parts.path.rstrip("/")
    return ServerKey(scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme], path, url.rstrip("/"))


def request_refusal(url: str) -> str | None:
    """Why a caller's ``fhirServer`` is refused outright (HTTP 400), or None. Never echoes the URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a URL"
    if "@" in parts.netloc:
        return "must not carry userinfo (user:password@)"
    if "?" in url:
        return "must not carry a query"
    if "#" in url:
        return "must not carry a fragment"
    return None


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configured_server(url: str) -> ServerKey:
    """A base URL an operator lists; ValueError with a one-line reason (naming the URL) when unusable."""
    refusal = request_refusal(url)
    key = server_key(url.strip())
    if refusal or key is None:
        raise ValueError(f"{without_query(url)} {refusal or 'is not an http(s) URL'}")
    if key.scheme == "http" and not is_loopback(key.host):
        raise ValueError(f"{without_query(url)} uses plain http off this machine (https required but on loopback)")
    return key


class FhirServerAllowList:
    """The servers every call may read from, and those only one issuer's calls may read from."""

    def __init__(self, everyone: Iterable[str] = (), by_issuer: Mapping[str, Iterable[str]] | None = None) -> None:
        # Each server by itself: equal keys compare without the text, so a lookup returns the listed text.
        self._everyone = _by_key(everyone)
        self._by_issuer = {iss: _by_key(urls) for iss, urls in (by_issuer or {}).items()}

    def match(self, url: str, issuer: str | None) -> ServerKey | None:
        """The listed server ``url`` names, for a call verified as ``issuer`` (None: auth disabled)."""
        key = server_key(url)
        if key is None:
            return None
        listed = self._everyone.get(key)
        if listed is None and issuer is not None:
            listed = self._by_issuer.get(issuer, {}).get(key)
        return listed


def _by_key(urls: Iterable[str]) -> dict[ServerKey, ServerKey]:
    return {key: key for key in map(configured_server, urls)}


def without_query(url: str) -> str:
    """A URL safe to log: no userinfo, query or fragment."""
    key = server_key(url)
    if key is None:
        return "(not an http(s) URL)"
    return urlunsplit((key.scheme, urlsplit(key.url).netloc.rpartition("@")[2], key.path, "", ""))
