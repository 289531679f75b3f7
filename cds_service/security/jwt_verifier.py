"""Verify the JWT a CDS Client sends (CDS Hooks 2.0 "Trusting CDS Clients").

The client signs each call with its private key; we check the token against the JWK Set of an
allow-listed issuer (``CDS_TRUSTED_ISSUERS``). PyJWT does the cryptography and the ``aud`` and
required-claim checks; time checks are done here against an injectable clock (PyJWT reads the system
clock), and replayed ``jti`` are refused through a replay cache.

Any failure raises :class:`AuthError`; the HTTP layer answers 401 with no details and logs
``AuthError.reason``. Reasons never contain the token; they may name ``iss``, ``kid`` and ``jti``
(safe to log per the CDS Hooks best practices), shown with ``repr`` and truncated so a hostile
value cannot forge log lines.

Limits worth knowing:

* The service passes the database's replay cache (``Store.add_if_new``), shared by every worker and
  instance: a token replayed to another worker or instance is refused. Without one the verifier
  keeps an in-process cache; when that is full of unexpired entries the one expiring soonest is
  evicted (logged), so the bound cannot turn into a denial of service; only trusted issuers can
  fill it.
* A token may live at most an hour (``exp`` - ``iat``, MAX_LIFETIME_SECONDS): CDS Hooks clients mint
  one per call with a lifetime of minutes, and a long-lived token is a stolen one's best friend.
* A JWKS URL that fails to refresh keeps serving the keys it served last (logged), so an outage
  of the client's key host does not become ours.
* A JWKS URL is fetched at start, then again in the background (after an hour, or for an unknown
  ``kid``, at most once a minute), with a total deadline and no redirects. No call ever waits for a
  refetch while keys are cached: a ``kid`` still unknown is a 401 at once. Only while no key was
  ever fetched does a call wait for the fetch, at most ``JWKS_FIRST_FETCH_WAIT_SECONDS``. A host
  that trickles its answer therefore costs one background fetch, cut off at its deadline.
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import gevent
import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.ec import (
    EllipticCurvePrivateKey,
    EllipticCurvePublicKey,
)
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from jwt import exceptions as jwt_errors
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from ..web.cooperative import cooperative
from .fhir_servers import configured_server, is_loopback

log = logging.getLogger(__name__)

DEFAULT_ALGORITHMS: tuple[str, ...] = ("ES384", "RS384")
# Asymmetric algorithms a deployment may opt into. "none" and HS* can never be enabled: a
# symmetric check would treat the client's *public* key as the shared secret.
SUPPORTED_ALGORITHMS: frozenset[str] = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)
REQUIRED_CLAIMS: tuple[str, ...] = ("iss", "aud", "exp", "iat", "jti")

JWKS_MAX_AGE_SECONDS = 3600.0
JWKS_MIN_REFETCH_SECONDS = 60.0
JWKS_MAX_BYTES = 1_000_000
JWKS_FETCH_DEADLINE_SECONDS = 5.0  # the whole fetch: connect, headers, body
JWKS_FIRST_FETCH_WAIT_SECONDS = 2.0  # how long a call may wait while no key was ever fetched
MAX_TOKEN_CHARS = 16_384
REPLAY_CACHE_SIZE = 100_000
MIN_RSA_BITS = 2048
MAX_LIFETIME_SECONDS = 3600.0

_EC_CURVE_FOR_ALG = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

PublicKey = EllipticCurvePublicKey | RSAPublicKey


class AuthError(Exception):
    """The call is not authenticated. Answer 401 with no details; log ``reason`` (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConfigError(Exception):
    """The trusted-issuer configuration is unusable; the message is a one-line reason to refuse to start."""


# --------------------------------------------------------------------------------------------------
# Keys and key sources


@dataclass(frozen=True)
class VerificationKey:
    """One public signing key from a JWK Set."""

    kid: str
    public_key: PublicKey = field(repr=False)
    alg: str | None = None  # the JWK's own "alg", when it pins one

    def accepts(self, alg: str) -> str | None:
        """Why this key cannot verify an ``alg`` token, or None when it can.

        Checked before PyJWT sees the key: PyJWT would raise TypeError (not a PyJWTError) for an
        RSA key under ES384, and a JWK that pins its ``alg`` must not be used under another one.
        """
        if self.alg is not None and self.alg != alg:
            return f"token alg {alg} does not match the key's alg {self.alg}"
        if alg.startswith("ES"):
            if not isinstance(self.public_key, EllipticCurvePublicKey):
                return f"token alg {alg} but the key is not an EC key"
            if self.public_key.curve.name != _EC_CURVE_FOR_ALG.get(alg):
                return f"token alg {alg} does not match the key's curve {self.public_key.curve.name}"
            return None
        if not isinstance(self.public_key, RSAPublicKey):
            return f"token alg {alg} but the key is not an RSA key"
        return None


@dataclass(frozen=True)
class JwksSource:
    """Where an issuer's JWK Set comes from.

    ``url`` sources are fetched lazily by :class:`JwtVerifier` (and re-fetched); ``file`` and
    ``inline`` sources are parsed once, here, and carry their keys.
    """

    kind: Literal["url", "file", "inline"]
    location: str  # the URL, the file path, or "inline"
    keys: Mapping[str, VerificationKey] = field(default_factory=dict, repr=False)
    # The FHIR base URLs this issuer's calls may read from (its entry's "fhirServers"; fhir_servers.py).
    fhir_servers: tuple[str, ...] = ()

    @classmethod
    def from_url(cls, url: str) -> JwksSource:
        reason = _url_refusal(url)
        if reason:
            raise ConfigError(reason)
        return cls("url", url)

    @classmethod
    def from_file(cls, path: str | Path) -> JwksSource:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise ConfigError(f"JWKS file {str(path)!r} cannot be read: {detail}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"JWKS file {str(path)!r} is not valid JSON: {_one_line(exc)}") from None
        return cls("file", str(path), _static_keys(data, f"JWKS file {str(path)!r}"))

    @classmethod
    def from_jwks(cls, jwks: Any) -> JwksSource:
        return cls("inline", "inline", _static_keys(jwks, "inline JWKS"))


def parse_trusted_issuers(raw: str | Mapping[str, Any] | None) -> dict[str, JwksSource]:
    """Read ``CDS_TRUSTED_ISSUERS``: a JSON object mapping each ``iss`` to its JWKS source, or to
    ``{"jwks": <source>, "fhirServers": [<FHIR base URL>, ...]}``.

    A source is an ``https://`` URL (``http://`` only for loopback hosts, for tests), a file path
    (read now), or an inline JWK Set object. An already-decoded mapping is accepted too.
    Raises :class:`ConfigError` with a one-line reason.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ConfigError("CDS_TRUSTED_ISSUERS is not set")
    if isinstance(raw, str):
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"CDS_TRUSTED_ISSUERS is not valid JSON: {_one_line(exc)}") from None
    else:
        data = raw
    if not isinstance(data, Mapping):
        raise ConfigError("CDS_TRUSTED_ISSUERS must be a JSON object mapping iss to a JWKS source")
    if not data:
        raise ConfigError("CDS_TRUSTED_ISSUERS names no trusted issuer")

    issuers: dict[str, JwksSource] = {}
    for iss, source in data.items():
        if not isinstance(iss, str) or not iss.strip():
            raise ConfigError("CDS_TRUSTED_ISSUERS has an empty issuer name")
        try:
            issuers[iss] = _parse_source(source)
        except ConfigError as exc:
            raise ConfigError(f"CDS_TRUSTED_ISSUERS[{_show(iss)}]: {exc}") from None
    return issuers


def _parse_source(source: Any) -> JwksSource:
    if isinstance(source, Mapping) and "jwks" in source:
        unknown = set(source) - {"jwks", "fhirServers"}
        if unknown:
            raise ConfigError(f"unknown field(s) {', '.join(map(_show, sorted(unknown)))}")
        servers = source.get("fhirServers", [])
        if not isinstance(servers, list) or not all(isinstance(url, str) for url in servers):
            raise ConfigError("fhirServers must be an array of FHIR base URLs")
        for url in servers:
            try:
                configured_server(url)
            except ValueError as exc:
                raise ConfigError(f"fhirServers: {exc}") from None
        return replace(parse_jwks_source(source["jwks"]), fhir_servers=tuple(servers))
    return parse_jwks_source(source)


def parse_jwks_source(source: Any) -> JwksSource:
    """A JWKS source as the settings give one: an ``https://`` URL, a file path (read now) or a JWK Set."""
    if isinstance(source, Mapping):
        return JwksSource.from_jwks(source)
    if not isinstance(source, str) or not source.strip():
        raise ConfigError("the JWKS source must be a URL, a file path or a JWK Set object")
    source = source.strip()
    if "://" in source:
        return JwksSource.from_url(source)
    return JwksSource.from_file(source)


def _url_refusal(url: str) -> str | None:
    """Why ``url`` may not serve a JWKS, or None. Plain http only for loopback (tests)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return f"JWKS URL {_show(url)} is not a valid URL"
    if not host:
        return f"JWKS URL {_show(url)} has no host"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http":
        if is_loopback(host):
            return None
        return f"JWKS URL {_show(url)} must use https (plain http is allowed only for loopback hosts)"
    return f"JWKS URL {_show(url)} must use https"


def parse_jwks(data: Any, origin: str) -> dict[str, VerificationKey]:
    """The usable signing keys of a JWK Set, by ``kid``.

    Keys that cannot sign with an asymmetric algorithm we support (``oct``, ``OKP``, ``use: enc``,
    no ``kid``, RSA under 2048 bits, malformed) are skipped with a warning rather than failing the
    whole set. Raises ValueError when ``data`` is not a JWK Set.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
        raise ValueError(f"{origin} is not a JWK Set (an object with a 'keys' array)")
    keys: dict[str, VerificationKey] = {}
    for index, jwk in enumerate(data["keys"]):
        problem, key = _load_jwk(jwk)
        if key is None:
            log.warning("%s: key #%d skipped: %s", origin, index, problem)
            continue
        if key.kid in keys:
            log.warning("%s: duplicate kid %s skipped", origin, _show(key.kid))
            continue
        keys[key.kid] = key
    return keys


def _load_jwk(jwk: Any) -> tuple[str, VerificationKey | None]:
    if not isinstance(jwk, Mapping):
        return "not an object", None
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        return "no kid", None
    if jwk.get("use", "sig") != "sig":
        return f"kid {_show(kid)} is not a signing key (use {_show(jwk.get('use'))})", None
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        return f"kid {_show(kid)} key_ops does not allow verify", None
    alg = jwk.get("alg")
    if alg is not None and alg not in SUPPORTED_ALGORITHMS:
        return f"kid {_show(kid)} alg {_show(alg)} is not an asymmetric signing algorithm we support", None
    kty = jwk.get("kty")
    loaded: EllipticCurvePrivateKey | EllipticCurvePublicKey | RSAPrivateKey | RSAPublicKey
    try:
        if kty == "EC":
            loaded = ECAlgorithm.from_jwk(dict(jwk))
        elif kty == "RSA":
            loaded = RSAAlgorithm.from_jwk(dict(jwk))
        else:
            return f"kid {_show(kid)} kty {_show(kty)} is not EC or RSA", None
    except (jwt_errors.PyJWTError, ValueError, TypeError, KeyError) as exc:
        return f"kid {_show(kid)} is not a valid {kty} key ({type(exc).__name__})", None
    # A JWKS should never hold private parts; if one does, keep only the public half.
    if isinstance(loaded, EllipticCurvePrivateKey | RSAPrivateKey):
        loaded = loaded.public_key()
    if isinstance(loaded, RSAPublicKey) and loaded.key_size < MIN_RSA_BITS:
        return f"kid {_show(kid)} RSA key has {loaded.key_size} bits (< {MIN_RSA_BITS})", None
    return "", VerificationKey(kid=kid, public_key=loaded, alg=alg)


def _static_keys(data: Any, origin: str) -> Mapping[str, VerificationKey]:
    try:
        keys = parse_jwks(data, origin)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if not keys:
        raise ConfigError(f"{origin} has no usable EC or RSA signing key with a kid")
    return MappingProxyType(keys)


class _StaticKeyStore:
    """Keys exchanged out of band (file or inline): fixed for the life of the process."""

    def __init__(self, source: JwksSource) -> None:
        self._keys = source.keys

    def get(self, kid: str) -> VerificationKey:
        key = self._keys.get(kid)
        if key is None:
            raise AuthError(f"unknown kid {_show(kid)}")
        return key


class _FetchError(Exception):
    pass


_URL_STORES: weakref.WeakSet[_UrlKeyStore] = weakref.WeakSet()


def _forget_fetches_after_fork() -> None:
    """A forked worker has no fetch under way, whatever its parent was doing (gunicorn preload)."""
    for store in list(_URL_STORES):
        store._lock = threading.Lock()
        store._fetching = None


os.register_at_fork(after_in_child=_forget_fetches_after_fork)


class _UrlKeyStore:
    """A JWKS URL: fetched at start, cached, refetched in the background after ``max_age`` or for
    an unknown kid (module docstring: no call waits on a refetch while keys are cached).

    Every network fetch (success or failure) is at most once per ``min_interval`` seconds, so tokens
    with random ``kid`` values cannot make us hammer the client's key host; one at a time.
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float],
        timeout: float,
        deadline: float = JWKS_FETCH_DEADLINE_SECONDS,
        first_wait: float = JWKS_FIRST_FETCH_WAIT_SECONDS,
        max_age: float = JWKS_MAX_AGE_SECONDS,
        min_interval: float = JWKS_MIN_REFETCH_SECONDS,
    ) -> None:
        self.url = url
        self._clock = clock
        self._timeout = min(timeout, deadline)
        self._deadline = deadline
        self._first_wait = first_wait
        self._max_age = max_age
        self._min_interval = min_interval
        self._keys: Mapping[str, VerificationKey] = MappingProxyType({})
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch, successful or not
        self._lock = threading.Lock()
        self._fetching: threading.Event | None = None  # set when the fetch under way ends
        _URL_STORES.add(self)

    def get(self, kid: str) -> VerificationKey:
        key = self._keys.get(kid)  # no lock: self._keys is replaced, never mutated
        now = self._clock()
        if key is not None and self._fresh(now):
            return key
        fetching = self._fetch_in_background(now)
        if key is not None:
            return key  # cached, if stale: answered now, while the refetch runs
        if self._fetched_at is None and fetching is not None:
            fetching.wait(self._first_wait)  # no key at all yet: wait briefly for the first fetch
        key = self._keys.get(kid)  # the fetch may have ended meanwhile
        if key is not None:
            return key
        if self._fetched_at is None:
            raise AuthError(f"JWKS {self.url} unavailable")
        raise AuthError(f"unknown kid {_show(kid)}")

    def fetch_now(self) -> threading.Event | None:
        """Start a fetch (at start: whatever the last attempt); the event is set when it ends."""
        with self._lock:
            self._attempted_at = None
        return self._fetch_in_background(self._clock())

    def idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the fetch under way, if any, to end."""
        fetching = self._fetching
        return fetching is None or fetching.wait(timeout)

    def _fetch_in_background(self, now: float) -> threading.Event | None:
        """The fetch under way, or a new one when one may start now; None when none may."""
        with self._lock:
            if self._fetching is not None:
                return self._fetching
            if not self._may_fetch(now):
                return None
            self._attempted_at = now
            fetching = self._fetching = threading.Event()
        threading.Thread(target=self._background_fetch, args=(fetching,), name="jwks-fetch", daemon=True).start()
        return fetching

    def _background_fetch(self, fetching: threading.Event) -> None:
        try:
            self._refresh()
        finally:
            with self._lock:
                self._fetching = None
            fetching.set()

    def _fresh(self, now: float) -> bool:
        return self._fetched_at is not None and 0 <= now - self._fetched_at < self._max_age

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or not (0 <= now - self._attempted_at < self._min_interval)

    def _refresh(self) -> None:
        try:
            keys = self._fetch_within_deadline()
        except _FetchError as exc:
            if self._fetched_at is None:
                log.warning("JWKS %s could not be fetched: %s", self.url, exc)
            else:
                log.warning("JWKS %s could not be refreshed, keeping the cached keys: %s", self.url, exc)
            return
        self._keys = MappingProxyType(keys)
        self._fetched_at = self._clock()
        log.info("JWKS %s fetched: %d key(s)", self.url, len(keys))

    def _fetch_within_deadline(self) -> dict[str, VerificationKey]:
        """The fetch, cut off after ``deadline`` seconds in all. Under the gevent worker a
        ``gevent.Timeout`` ends it wherever it waits (a host trickling its headers or body one byte
        at a time never trips a per-read timeout); elsewhere (tests, the console) the per-read
        timeout bounds each wait, and no caller waits longer than ``first_wait`` anyway."""
        if not cooperative():
            return self._fetch()
        with gevent.Timeout(self._deadline, _FetchError(f"no complete answer within {self._deadline:g} s")):
            return self._fetch()

    def _fetch(self) -> dict[str, VerificationKey]:
        try:
            with requests.get(
                self.url,
                timeout=self._timeout,
                headers={"Accept": "application/json"},
                stream=True,
                allow_redirects=False,
            ) as response:
                if response.is_redirect:
                    raise _FetchError(f"HTTP {response.status_code}: redirects are not followed")
                if response.status_code != 200:
                    raise _FetchError(f"HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_content(chunk_size=65536):
                    body.extend(chunk)
                    if len(body) > JWKS_MAX_BYTES:
                        raise _FetchError(f"body larger than {JWKS_MAX_BYTES} bytes")
        except requests.RequestException as exc:
            raise _FetchError(type(exc).__name__) from None
        try:
            data = json.loads(bytes(body))
            keys = parse_jwks(data, f"JWKS {self.url}")
        except ValueError as exc:  # includes JSONDecodeError and UnicodeDecodeError
            raise _FetchError(_one_line(exc)) from None
        if not keys:
            # Most likely a broken endpoint; keep what we had rather than drop every key.
            raise _FetchError("no usable signing key")
        return keys


KeyStore = _StaticKeyStore | _UrlKeyStore


def key_store(
    source: JwksSource,
    *,
    clock: Callable[[], float],
    timeout: float,
    min_interval: float = JWKS_MIN_REFETCH_SECONDS,
) -> KeyStore:
    """Where to look up a source's keys by ``kid`` (``get`` raises :class:`AuthError` for an unknown one)."""
    if source.kind == "url":
        return _UrlKeyStore(source.location, clock=clock, timeout=timeout, min_interval=min_interval)
    return _StaticKeyStore(source)


# --------------------------------------------------------------------------------------------------
# Replay cache


class ReplayCache(Protocol):
    """Where seen ``(iss, jti)`` pairs are remembered. The default lives in one process; a
    deployment with several workers or instances passes a shared one (the database's)."""

    def add_if_new(self, key: tuple[str, str], keep_until: float, now: float) -> bool: ...


class _ReplayCache:
    """Seen ``(iss, jti)`` pairs, each kept until its token can no longer be accepted (exp + leeway)."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._keep_until: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, tuple[str, str]]] = []  # exactly one entry per dict key
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keep_until)

    def add_if_new(self, key: tuple[str, str], keep_until: float, now: float) -> bool:
        """Record ``key``; False if it was already there (a replay). Atomic."""
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                _, expired = heapq.heappop(self._heap)
                del self._keep_until[expired]
            if key in self._keep_until:
                return False
            if len(self._keep_until) >= self._max_entries:
                _, evicted = heapq.heappop(self._heap)
                del self._keep_until[evicted]
                log.warning(
                    "JWT replay cache full (%d entries): evicted jti %s of %s before it expired",
                    self._max_entries,
                    _show(evicted[1]),
                    _show(evicted[0]),
                )
            self._keep_until[key] = keep_until
            heapq.heappush(self._heap, (keep_until, key))
            return True


# --------------------------------------------------------------------------------------------------
# The verifier


class JwtVerifier:
    """Checks ``Authorization: Bearer <JWT>`` headers against the trusted issuers.

    Thread-safe; one instance per process (it holds the JWKS and replay caches).
    """

    def __init__(
        self,
        issuers: Mapping[str, JwksSource],
        *,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        leeway_seconds: float = 60,
        clock: Callable[[], float] = time.time,
        http_timeout: float = 5.0,
        replay_cache_size: int = REPLAY_CACHE_SIZE,
        replay_cache: ReplayCache | None = None,
        jwks_min_refetch_seconds: float = JWKS_MIN_REFETCH_SECONDS,
    ) -> None:
        if not issuers:
            raise ConfigError("no trusted issuer")
        algorithms = tuple(algorithms)
        if not algorithms:
            raise ConfigError("no JWT algorithm allowed")
        refused = [alg for alg in algorithms if alg not in SUPPORTED_ALGORITHMS]
        if refused:
            raise ConfigError(
                f"JWT algorithm(s) {', '.join(map(_show, refused))} not allowed; "
                f"choose among {', '.join(sorted(SUPPORTED_ALGORITHMS))}"
            )
        if not (isinstance(leeway_seconds, int | float) and 0 <= leeway_seconds < math.inf):
            raise ConfigError(f"JWT leeway must be a number of seconds >= 0, not {leeway_seconds!r}")
        if replay_cache_size < 1:
            raise ConfigError("the JWT replay cache needs room for at least one entry")

        self._algorithms = algorithms
        self._leeway = float(leeway_seconds)
        self._clock = clock
        self._sources = dict(issuers)
        self._stores = {
            iss: key_store(source, clock=clock, timeout=http_timeout, min_interval=jwks_min_refetch_seconds)
            for iss, source in self._sources.items()
        }
        self._replay: ReplayCache = replay_cache if replay_cache is not None else _ReplayCache(replay_cache_size)

    @property
    def algorithms(self) -> tuple[str, ...]:
        return self._algorithms

    def fetch_keys(self, wait: float = JWKS_FETCH_DEADLINE_SECONDS + 1) -> None:
        """Fetch every JWKS URL now (at start), waiting up to ``wait`` seconds in all. A URL that
        fails is logged and retried in the background when a call needs it: never fatal."""
        for store in self._url_stores():
            store.fetch_now()
        self.wait_for_key_fetches(wait)

    def wait_for_key_fetches(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds in all for the JWKS fetches under way; whether all ended."""
        until = time.monotonic() + timeout
        return all(store.idle(max(0.0, until - time.monotonic())) for store in self._url_stores())

    def _url_stores(self) -> list[_UrlKeyStore]:
        return [store for store in self._stores.values() if isinstance(store, _UrlKeyStore)]

    def verify(self, authorization_header: str | None, audience: str) -> dict[str, Any]:
        """The verified claims of the bearer JWT, or :class:`AuthError`.

        ``audience`` is the exact URL of the endpoint being called; the token's ``aud`` (a string,
        or an array) must contain it.
        """
        try:
            return self._verify(authorization_header, audience)
        except AuthError:
            raise
        except jwt_errors.PyJWTError as exc:
            raise AuthError(_jwt_reason(exc)) from None
        except Exception as exc:  # no client input may turn into a 500
            log.error("unexpected %s while verifying a JWT", type(exc).__name__, exc_info=True)
            raise AuthError(f"verification failed ({type(exc).__name__})") from None

    def _verify(self, authorization_header: str | None, audience: str) -> dict[str, Any]:
        if not isinstance(audience, str) or not audience:
            raise AuthError("no audience to check the token against")
        token = _bearer_token(authorization_header)
        now = self._clock()

        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        if alg not in self._algorithms:
            raise AuthError(f"alg {_show(alg)} not allowed")
        typ = header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
            raise AuthError(f"typ {_show(typ)} is not JWT")
        if "crit" in header:
            raise AuthError("crit header not supported")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("no kid in the JWT header")

        # Read iss without verifying to choose the key; the signature check below covers it.
        unverified = jwt.decode(token, options={"verify_signature": False})
        iss = unverified.get("iss")
        if iss is None:
            raise AuthError("missing claim iss")
        if not isinstance(iss, str) or iss not in self._sources:
            raise AuthError(f"unknown iss {_show(iss)}")
        source = self._sources[iss]
        if "jku" in header and source.kind == "url" and header["jku"] != source.location:
            # File/inline keys were exchanged out of band: jku is ignored then. We never fetch a jku.
            raise AuthError(f"jku {_show(header['jku'])} is not the JWKS URL registered for {_show(iss)}")

        key = self._stores[iss].get(kid)
        mismatch = key.accepts(alg)
        if mismatch:
            raise AuthError(f"kid {_show(kid)}: {mismatch}")

        claims = jwt.decode(
            token,
            key=key.public_key,
            algorithms=list(self._algorithms),
            audience=audience,
            options={
                "require": list(REQUIRED_CLAIMS),
                "verify_exp": False,  # checked below against the injectable clock
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": True,
                "verify_sub": False,  # "sub" is not a CDS Hooks claim; some vendors send it anyway
                "verify_jti": True,
                "enforce_minimum_key_length": True,
            },
        )

        exp = _numeric_date(claims, "exp")
        iat = _numeric_date(claims, "iat")
        if exp <= now - self._leeway:
            raise AuthError(f"expired (jti {_show(claims.get('jti'))})")
        if iat > now + self._leeway:
            raise AuthError(f"iat in the future (jti {_show(claims.get('jti'))})")
        if exp - iat > MAX_LIFETIME_SECONDS:
            raise AuthError(f"lifetime (exp - iat) over one hour (jti {_show(claims.get('jti'))})")
        if "nbf" in claims and _numeric_date(claims, "nbf") > now + self._leeway:
            raise AuthError(f"nbf in the future (jti {_show(claims.get('jti'))})")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise AuthError("jti is not a non-empty string")

        # Only a fully verified token may take a place in the replay cache.
        if not self._replay.add_if_new((iss, jti), exp + self._leeway, now):
            raise AuthError(f"replayed jti {_show(jti)} from {_show(iss)}")
        return claims


def _bearer_token(authorization_header: str | None) -> str:
    if authorization_header is None or not authorization_header.strip():
        raise AuthError("no Authorization header")
    scheme, _, token = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthError("Authorization scheme is not Bearer")
    token = token.strip()
    if len(token) > MAX_TOKEN_CHARS:
        raise AuthError("bearer token too long")
    if not _COMPACT_JWS.fullmatch(token):
        raise AuthError("bearer token is not a signed compact JWT")
    return token


def _numeric_date(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AuthError(f"claim {name} is not a number")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        raise AuthError(f"claim {name} is out of range") from None
    if not math.isfinite(number):
        raise AuthError(f"claim {name} is out of range")
    return number


def _jwt_reason(exc: jwt_errors.PyJWTError) -> str:
    if isinstance(exc, jwt_errors.MissingRequiredClaimError):
        return f"missing claim {exc.claim}"
    if isinstance(exc, jwt_errors.InvalidSignatureError):
        return "bad signature"
    if isinstance(exc, jwt_errors.InvalidAudienceError):
        return "aud is not this endpoint"
    if isinstance(exc, jwt_errors.InvalidJTIError):
        return "jti is not a string"
    if isinstance(exc, jwt_errors.InvalidAlgorithmError):
        return "alg not allowed"
    if isinstance(exc, jwt_errors.InvalidKeyError):
        return "key unusable for this token"
    if isinstance(exc, jwt_errors.DecodeError):
        return "malformed JWT"
    return f"invalid JWT ({type(exc).__name__})"


def _show(value: Any, limit: int = 80) -> str:
    """A log-safe rendering of a client-supplied value: repr (escapes newlines), truncated."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
