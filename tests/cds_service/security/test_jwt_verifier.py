"""The CDS Client JWT check (CDS Hooks 2.0 §"Trusting CDS Clients"), with no network and no sleeps.

Keys are generated per test module; JWKS URLs are mocked with ``responses``; time comes from an
injected clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
import responses

from cds_service.security.jwt_verifier import (
    AuthError,
    ConfigError,
    JwksSource,
    JwtVerifier,
    parse_trusted_issuers,
)
from tests.cds_service.security.jwt_helpers import (
    ISSUER,
    OMIT,
    SigningKey,
    b64url,
    bearer,
    generate_key,
    jwks,
    make_claims,
    unsigned_parts,
)
from tests.conftest import FIXTURES, fixture_files

AUD = "https://cds.example.org/cds-services/lenalidomide-order-sign"
T0 = 1_800_000_000.0
JWKS_URL = "https://ehr.example.org/.well-known/jwks.json"

CAPTURED_DIR = FIXTURES / "sandbox-captured"
CAPTURED = fixture_files(CAPTURED_DIR, "capture-*.json")
SANDBOX_JWKS = CAPTURED_DIR / "sandbox-public-jwks.json"
SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class Clock:
    """A settable clock for ``JwtVerifier(clock=...)``."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def es_key() -> SigningKey:
    return generate_key("ES384")


@pytest.fixture(scope="module")
def rs_key() -> SigningKey:
    return generate_key("RS384")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(es_key: SigningKey, rs_key: SigningKey, clock: Clock) -> JwtVerifier:
    """Trusts ISSUER with an inline JWKS holding one ES384 and one RS384 key."""
    return JwtVerifier({ISSUER: JwksSource.from_jwks(jwks(es_key, rs_key))}, clock=clock)


def token(key: SigningKey, *, now: float = T0, iss: str = ISSUER, aud: Any = AUD, **claims: Any) -> str:
    return key.sign(make_claims(iss, aud, now=now, **claims))


def rejected(verifier: JwtVerifier, header: str | None, match: str, audience: str = AUD) -> AuthError:
    with pytest.raises(AuthError, match=match) as info:
        verifier.verify(header, audience)
    assert info.value.reason == str(info.value)
    return info.value


# ------------------------------------------------------------------------------------------------
# Accepted tokens


@pytest.mark.parametrize("key_name", ["es_key", "rs_key"])
def test_es384_and_rs384_tokens_verify(verifier, key_name, request):
    key: SigningKey = request.getfixturevalue(key_name)
    jwt_ = token(key)
    claims = verifier.verify(bearer(jwt_), AUD)
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUD
    assert jwt.get_unverified_header(jwt_)["alg"] == key.alg


def test_bearer_scheme_is_case_insensitive(verifier, es_key):
    assert verifier.verify("bearer " + token(es_key), AUD)["iss"] == ISSUER
    assert verifier.verify("BEARER  " + token(es_key), AUD)["iss"] == ISSUER


def test_unknown_and_vendor_claims_are_tolerated(verifier, rs_key):
    # Epic-style: sub (not a CDS Hooks claim), nbf slightly in the future (within leeway), tenant.
    jwt_ = token(rs_key, sub="epic-client-id", nbf=int(T0) + 30, tenant="org-1", extra={"x": 1})
    claims = verifier.verify(bearer(jwt_), AUD)
    assert claims["tenant"] == "org-1"
    assert claims["sub"] == "epic-client-id"


def test_aud_list_containing_the_endpoint_is_accepted(verifier, es_key):
    jwt_ = token(es_key, aud=["https://other.example.org/cds-services", AUD])
    assert verifier.verify(bearer(jwt_), AUD)["aud"][1] == AUD


def test_expiry_and_iat_are_judged_with_the_leeway(verifier, es_key):
    # exp 59 s ago and iat 59 s ahead are both inside the default 60 s leeway.
    assert verifier.verify(bearer(token(es_key, exp=int(T0) - 59)), AUD)
    assert verifier.verify(bearer(token(es_key, iat=int(T0) + 59)), AUD)


def test_es256_is_refused_by_default_and_allowed_by_configuration(clock):
    key = generate_key("ES256")
    issuers = {ISSUER: JwksSource.from_jwks(jwks(key))}
    rejected(JwtVerifier(issuers, clock=clock), bearer(token(key)), "alg 'ES256' not allowed")
    allowing = JwtVerifier(issuers, clock=clock, algorithms=("ES256", "ES384", "RS384"))
    assert allowing.verify(bearer(token(key)), AUD)["iss"] == ISSUER


# ------------------------------------------------------------------------------------------------
# Rejected: one test per attack


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_authorization_header_is_rejected(verifier, header):
    rejected(verifier, header, "no Authorization header")


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT", ""])
def test_non_bearer_scheme_is_rejected(verifier, es_key, scheme):
    rejected(verifier, f"{scheme} {token(es_key)}".strip(), "not Bearer")


@pytest.mark.parametrize(
    "value",
    ["Bearer", "Bearer    ", "Bearer abc", "Bearer a.b", "Bearer a.b.c.d", "Bearer a b.c.d", "Bearer é.é.é"],
)
def test_malformed_bearer_token_is_rejected(verifier, value):
    rejected(verifier, value, "not a signed compact JWT")


@pytest.mark.parametrize("value", ["Bearer abc.def.ghi", "Bearer e30.e30.AAAA", "Bearer W10.e30.AAAA"])
def test_garbage_that_looks_like_a_jwt_is_rejected(verifier, value):
    rejected(verifier, value, "malformed JWT|alg None not allowed")


def test_oversized_token_is_rejected(verifier):
    rejected(verifier, "Bearer " + "a" * 20_000 + ".b.c", "too long")


def test_alg_none_is_rejected(verifier, es_key):
    claims = make_claims(ISSUER, AUD, now=T0)
    parts = unsigned_parts({"alg": "none", "typ": "JWT", "kid": es_key.kid}, claims)
    rejected(verifier, bearer(parts + "."), "not a signed compact JWT")  # RFC 7519 unsecured form
    rejected(verifier, bearer(parts + ".AAAA"), "alg 'none' not allowed")


def test_hs256_signed_with_the_public_key_is_rejected(verifier, rs_key):
    # The classic key-confusion attack: an HMAC whose secret is the issuer's public key PEM.
    parts = unsigned_parts({"alg": "HS256", "typ": "JWT", "kid": rs_key.kid}, make_claims(ISSUER, AUD, now=T0))
    signature = hmac.new(rs_key.public_pem(), parts.encode(), hashlib.sha256).digest()
    rejected(verifier, bearer(f"{parts}.{b64url(signature)}"), "alg 'HS256' not allowed")


@pytest.mark.parametrize("alg", ["HS256", "HS384", "none", "RS1", ""])
def test_symmetric_or_unknown_algorithms_cannot_be_configured(es_key, alg):
    with pytest.raises(ConfigError, match="not allowed"):
        JwtVerifier({ISSUER: JwksSource.from_jwks(jwks(es_key))}, algorithms=("ES384", alg))


def test_unknown_kid_is_rejected(verifier, es_key):
    jwt_ = es_key.sign(make_claims(ISSUER, AUD, now=T0), kid="not-published")
    rejected(verifier, bearer(jwt_), "unknown kid 'not-published'")


def test_missing_kid_is_rejected(verifier, es_key):
    jwt_ = jwt.encode(make_claims(ISSUER, AUD, now=T0), es_key.private_key, algorithm="ES384")
    rejected(verifier, bearer(jwt_), "no kid")


def test_bad_signature_from_another_key_with_the_same_kid_is_rejected(verifier, es_key):
    impostor = generate_key("ES384", kid=es_key.kid)
    rejected(verifier, bearer(token(impostor)), "bad signature")


def test_tampered_payload_is_rejected(verifier, es_key):
    header, _, signature = token(es_key).split(".")
    forged = b64url(json.dumps(make_claims(ISSUER, AUD, now=T0, tenant="someone-else")).encode())
    rejected(verifier, bearer(f"{header}.{forged}.{signature}"), "bad signature")


def test_token_alg_not_matching_the_key_type_is_rejected(es_key, rs_key, clock):
    # An RS384 token naming the kid of the EC key (and the reverse), the JWKs not pinning an alg.
    unpinned = {"keys": [es_key.public_jwk(include_alg=False), rs_key.public_jwk(include_alg=False)]}
    verifier = JwtVerifier({ISSUER: JwksSource.from_jwks(unpinned)}, clock=clock)
    other_rsa = generate_key("RS384", kid=es_key.kid)
    rejected(verifier, bearer(token(other_rsa)), "not an RSA key")
    other_ec = generate_key("ES384", kid=rs_key.kid)
    rejected(verifier, bearer(token(other_ec)), "not an EC key")


def test_token_alg_not_matching_the_jwk_alg_is_rejected(clock):
    key = generate_key("RS384")
    jwk = key.public_jwk()
    jwk["alg"] = "RS256"  # published for RS256 only
    verifier = JwtVerifier({ISSUER: JwksSource.from_jwks({"keys": [jwk]})}, clock=clock, algorithms=("RS256", "RS384"))
    rejected(verifier, bearer(token(key)), "does not match the key's alg RS256")


def test_unknown_iss_is_rejected(verifier, es_key):
    rejected(verifier, bearer(token(es_key, iss="https://evil.example.org")), "unknown iss")


@pytest.mark.parametrize(
    "aud",
    [
        "https://cds.example.org/cds-services/lenalidomide-order-select",
        AUD + "/",
        "https://cds.example.org/cds-services",
        "http://cds.example.org/cds-services/lenalidomide-order-sign",
        ["https://cds.example.org/cds-services"],
    ],
)
def test_aud_other_than_this_endpoint_is_rejected(verifier, es_key, aud):
    rejected(verifier, bearer(token(es_key, aud=aud)), "aud is not this endpoint")


def test_expired_token_is_rejected(verifier, es_key):
    rejected(verifier, bearer(token(es_key, now=T0 - 400)), "expired")  # exp = T0 - 100
    rejected(verifier, bearer(token(es_key, exp=int(T0) - 60)), "expired")  # exactly at the leeway


def test_iat_in_the_future_beyond_leeway_is_rejected(verifier, es_key):
    rejected(verifier, bearer(token(es_key, now=T0 + 61)), "iat in the future")


@pytest.mark.parametrize("lifetime", [3601, 10 * 365 * 24 * 3600])
def test_lifetime_over_one_hour_is_rejected(verifier, es_key, lifetime):
    rejected(verifier, bearer(token(es_key, lifetime=lifetime)), "lifetime")


def test_lifetime_of_exactly_one_hour_is_accepted(verifier, es_key):
    assert verifier.verify(bearer(token(es_key, lifetime=3600)), AUD)["iss"] == ISSUER


def test_nbf_in_the_future_beyond_leeway_is_rejected(verifier, es_key):
    rejected(verifier, bearer(token(es_key, nbf=int(T0) + 120)), "nbf in the future")


def test_leeway_is_configurable(es_key, clock):
    strict = JwtVerifier({ISSUER: JwksSource.from_jwks(jwks(es_key))}, clock=clock, leeway_seconds=0)
    rejected(strict, bearer(token(es_key, iat=int(T0) + 5)), "iat in the future")


@pytest.mark.parametrize("value", ["1800000300", None, True, [1], float("inf")])
def test_non_numeric_exp_is_rejected(verifier, es_key, value):
    # inf cannot be serialised by strict JSON, so send a huge number for that case instead.
    exp = 10**400 if value == float("inf") else value
    reason = "missing claim exp" if value is None else "claim exp is (not a number|out of range)"
    jwt_ = es_key.sign({**make_claims(ISSUER, AUD, now=T0), "exp": exp})
    rejected(verifier, bearer(jwt_), reason)


def test_replayed_jti_is_rejected(verifier, es_key):
    header = bearer(token(es_key))
    verifier.verify(header, AUD)
    rejected(verifier, header, "replayed jti")


def test_replay_is_per_issuer_and_jti(es_key, clock):
    # The same jti under two issuers is two different tokens.
    other_iss = "https://other-ehr.example.org"
    verifier = JwtVerifier(
        {ISSUER: JwksSource.from_jwks(jwks(es_key)), other_iss: JwksSource.from_jwks(jwks(es_key))},
        clock=clock,
    )
    verifier.verify(bearer(token(es_key, jti="same")), AUD)
    verifier.verify(bearer(token(es_key, iss=other_iss, jti="same")), AUD)
    rejected(verifier, bearer(token(es_key, jti="same")), "replayed jti")


def test_rejected_token_does_not_consume_its_jti(verifier, es_key):
    rejected(verifier, bearer(token(es_key, jti="j1", aud="https://elsewhere/")), "aud")
    assert verifier.verify(bearer(token(es_key, jti="j1")), AUD)["jti"] == "j1"


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "iat", "jti"])
def test_missing_required_claim_is_rejected(verifier, es_key, claim):
    rejected(verifier, bearer(token(es_key, **{claim: OMIT})), f"missing claim {claim}")


@pytest.mark.parametrize("jti", ["", 42])
def test_jti_must_be_a_non_empty_string(verifier, es_key, jti):
    rejected(verifier, bearer(token(es_key, jti=jti)), "jti is not a (non-empty )?string")


def test_typ_other_than_jwt_is_rejected(verifier, es_key):
    rejected(verifier, bearer(es_key.sign(make_claims(ISSUER, AUD, now=T0), typ="at+jwt")), "typ")


def test_crit_header_is_rejected(verifier, es_key):
    jwt_ = es_key.sign(make_claims(ISSUER, AUD, now=T0), crit=["exp"], exp=1)
    rejected(verifier, bearer(jwt_), "crit|malformed|invalid JWT")


def test_unexpected_internal_error_becomes_auth_error(es_key):
    def broken_clock() -> float:
        raise RuntimeError("clock failure")

    verifier = JwtVerifier({ISSUER: JwksSource.from_jwks(jwks(es_key))}, clock=broken_clock)
    rejected(verifier, bearer(token(es_key)), r"verification failed \(RuntimeError\)")


def test_the_token_never_appears_in_errors_or_logs(verifier, es_key, caplog):
    caplog.set_level(logging.DEBUG)
    attempts = [
        token(es_key, aud="https://elsewhere/"),
        token(es_key, iss="https://evil.example.org"),
        token(generate_key("ES384", kid=es_key.kid)),
        token(es_key, now=T0 - 1000),
    ]
    for jwt_ in attempts:
        error = rejected(verifier, bearer(jwt_), ".")
        for part in jwt_.split("."):
            assert part not in error.reason
            assert part not in caplog.text


# ------------------------------------------------------------------------------------------------
# Replay cache


def test_replay_entries_expire_with_the_token(verifier, es_key, clock):
    verifier.verify(bearer(token(es_key)), AUD)
    assert len(verifier._replay) == 1
    clock.now = T0 + 300 + 60  # exp + leeway: the token itself is now refused as expired
    verifier.verify(bearer(token(es_key, now=clock.now)), AUD)
    assert len(verifier._replay) == 1


def test_replay_cache_is_bounded(es_key, clock):
    verifier = JwtVerifier({ISSUER: JwksSource.from_jwks(jwks(es_key))}, clock=clock, replay_cache_size=2)
    short, long_a, long_b = (bearer(token(es_key, lifetime=n)) for n in (100, 300, 300))
    for header in (short, long_a, long_b):
        verifier.verify(header, AUD)
    assert len(verifier._replay) == 2
    # The entry expiring soonest made room; the others still catch replays.
    rejected(verifier, long_a, "replayed")
    rejected(verifier, long_b, "replayed")


def test_concurrent_replays_let_exactly_one_through(verifier, es_key):
    header = bearer(token(es_key))
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            verifier.verify(header, AUD)
            result = "ok"
        except AuthError as exc:
            result = exc.reason
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1
    assert all(o.startswith("replayed jti") for o in outcomes if o != "ok")


# ------------------------------------------------------------------------------------------------
# Tokens captured from the CDS Hooks sandbox


def _captured(path: Path) -> tuple[str, dict[str, Any]]:
    header = load_json(path)["authorization_header"]
    claims = jwt.decode(header.split(" ", 1)[1], options={"verify_signature": False})
    return header, claims


def _sandbox_source(kind: str) -> JwksSource:
    raw = {
        "file": json.dumps({SANDBOX_ISS: str(SANDBOX_JWKS)}),
        "inline": json.dumps({SANDBOX_ISS: load_json(SANDBOX_JWKS)}),
    }[kind]
    return parse_trusted_issuers(raw)[SANDBOX_ISS]


def test_captured_fixtures_are_present():
    assert len(CAPTURED) == 3


@pytest.mark.parametrize("kind", ["file", "inline"])
@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: p.stem)
def test_captured_sandbox_token_verifies_then_is_a_replay(path, kind):
    header, claims = _captured(path)
    verifier = JwtVerifier({SANDBOX_ISS: _sandbox_source(kind)}, clock=lambda: claims["iat"] + 10)
    verified = verifier.verify(header, claims["aud"])
    assert verified == claims
    assert verified["iss"] == SANDBOX_ISS
    rejected(verifier, header, "replayed jti", audience=claims["aud"])


@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: p.stem)
def test_captured_sandbox_token_is_expired_after_exp_plus_leeway(path):
    header, claims = _captured(path)
    verifier = JwtVerifier({SANDBOX_ISS: _sandbox_source("file")}, clock=lambda: claims["exp"] + 120)
    rejected(verifier, header, "expired", audience=claims["aud"])


@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: p.stem)
def test_captured_sandbox_token_is_bound_to_its_endpoint(path):
    header, claims = _captured(path)
    verifier = JwtVerifier({SANDBOX_ISS: _sandbox_source("inline")}, clock=lambda: claims["iat"] + 10)
    rejected(verifier, header, "aud is not this endpoint", audience="http://127.0.0.1:3300/cds-services")


def test_captured_sandbox_token_with_a_forged_payload_fails():
    header, claims = _captured(CAPTURED[0])
    head, _, signature = header.split(" ", 1)[1].split(".")
    forged = b64url(json.dumps({**claims, "aud": "https://cds.example.org/x"}).encode())
    verifier = JwtVerifier({SANDBOX_ISS: _sandbox_source("file")}, clock=lambda: claims["iat"] + 10)
    rejected(
        verifier,
        bearer(f"{head}.{forged}.{signature}"),
        "bad signature",
        audience="https://cds.example.org/x",
    )


@responses.activate
def test_captured_sandbox_token_verifies_against_its_jku_url():
    responses.get(SANDBOX_JKU, json=load_json(SANDBOX_JWKS))
    header, claims = _captured(CAPTURED[-1])
    issuers = parse_trusted_issuers(json.dumps({SANDBOX_ISS: SANDBOX_JKU}))
    verifier = JwtVerifier(issuers, clock=lambda: claims["iat"] + 10)
    assert verifier.verify(header, claims["aud"])["jti"] == claims["jti"]


@responses.activate
def test_jku_not_matching_the_registered_url_is_rejected():
    responses.get(JWKS_URL, json=load_json(SANDBOX_JWKS))
    header, claims = _captured(CAPTURED[0])  # its jku is the sandbox's own URL
    verifier = JwtVerifier(parse_trusted_issuers(json.dumps({SANDBOX_ISS: JWKS_URL})), clock=lambda: claims["iat"] + 10)
    rejected(verifier, header, "jku .* is not the JWKS URL registered", audience=claims["aud"])
    assert len(responses.calls) == 0  # refused before any key was needed; a jku is never fetched


def test_jku_is_ignored_for_out_of_band_keys(verifier, es_key):
    jwt_ = es_key.sign(make_claims(ISSUER, AUD, now=T0), jku="https://attacker.example.org/jwks.json")
    assert verifier.verify(bearer(jwt_), AUD)["iss"] == ISSUER


# ------------------------------------------------------------------------------------------------
# JWKS from a URL


def url_verifier(clock: Clock, url: str = JWKS_URL, *, fetch_at_start: bool = True, **kwargs: Any) -> JwtVerifier:
    """A verifier of one issuer with a JWKS URL, which fetches it at start as the service does."""
    verifier = JwtVerifier(parse_trusted_issuers(json.dumps({ISSUER: url})), clock=clock, **kwargs)
    if fetch_at_start:
        verifier.fetch_keys()
    return verifier


@responses.activate
def test_jwks_url_is_fetched_once_and_cached(es_key, rs_key, clock):
    responses.get(JWKS_URL, json=jwks(es_key, rs_key))
    verifier = url_verifier(clock, http_timeout=2.5)
    for key in (es_key, rs_key, es_key):
        clock.now += 10
        verifier.verify(bearer(token(key, now=clock.now)), AUD)
    assert len(responses.calls) == 1
    assert responses.calls[0].request.req_kwargs["timeout"] == 2.5


@responses.activate
def test_jku_equal_to_the_registered_url_is_accepted(es_key, clock):
    responses.get(JWKS_URL, json=jwks(es_key))
    jwt_ = es_key.sign(make_claims(ISSUER, AUD, now=T0), jku=JWKS_URL)
    assert url_verifier(clock).verify(bearer(jwt_), AUD)["iss"] == ISSUER


@responses.activate
def test_unknown_kid_refetches_once_a_minute_and_finds_a_rotated_key(es_key, clock):
    rotated = generate_key("ES384")
    gate = threading.Event()

    def rotated_set(_request):
        gate.wait(5)  # the key host answers only when the test lets it
        return 200, {}, json.dumps(jwks(es_key, rotated))

    responses.get(JWKS_URL, json=jwks(es_key))
    responses.add_callback(responses.GET, JWKS_URL, callback=rotated_set)  # from the second call on
    verifier = url_verifier(clock)
    verifier.verify(bearer(token(es_key)), AUD)
    assert len(responses.calls) == 1

    clock.now += 61
    # Keys are cached: while the refetch waits on the key host, the unknown kid is refused at
    # once and the known key keeps verifying ...
    rejected(verifier, bearer(token(rotated, now=clock.now)), "unknown kid")
    verifier.verify(bearer(token(es_key, now=clock.now)), AUD)
    assert not verifier.wait_for_key_fetches(0.1)
    gate.set()
    assert verifier.wait_for_key_fetches(5)
    assert len(responses.calls) == 2
    # ... and the rotated key is trusted once it has been fetched.
    assert verifier.verify(bearer(token(rotated, now=clock.now)), AUD)["iss"] == ISSUER

    # Another unknown kid within the minute: refused from the cache, no third fetch.
    clock.now += 30
    unknown = generate_key("ES384")
    rejected(verifier, bearer(token(unknown, now=clock.now)), "unknown kid")
    rejected(verifier, bearer(token(generate_key("ES384"), now=clock.now)), "unknown kid")
    assert len(responses.calls) == 2
    # Known keys keep verifying from the cache meanwhile.
    verifier.verify(bearer(token(rotated, now=clock.now)), AUD)
    assert len(responses.calls) == 2


@responses.activate
def test_unknown_kid_right_after_a_fetch_does_not_refetch(es_key, clock):
    responses.get(JWKS_URL, json=jwks(es_key))
    verifier = url_verifier(clock)
    verifier.verify(bearer(token(es_key)), AUD)
    clock.now += 59
    rejected(verifier, bearer(token(generate_key("ES384"), now=clock.now)), "unknown kid")
    assert verifier.wait_for_key_fetches(5)
    assert len(responses.calls) == 1
    clock.now += 1
    rejected(verifier, bearer(token(generate_key("ES384"), now=clock.now)), "unknown kid")
    assert verifier.wait_for_key_fetches(5)
    assert len(responses.calls) == 2


@responses.activate
def test_jwks_cache_is_refreshed_after_an_hour(es_key, clock):
    responses.get(JWKS_URL, json=jwks(es_key))
    verifier = url_verifier(clock)
    verifier.verify(bearer(token(es_key)), AUD)
    clock.now += 3599
    verifier.verify(bearer(token(es_key, now=clock.now)), AUD)
    assert len(responses.calls) == 1
    clock.now += 1
    verifier.verify(bearer(token(es_key, now=clock.now)), AUD)
    assert verifier.wait_for_key_fetches(5)
    assert len(responses.calls) == 2


@responses.activate
def test_key_removed_from_the_jwks_is_no_longer_trusted_after_refresh(es_key, clock):
    revoked = generate_key("ES384")
    responses.get(JWKS_URL, json=jwks(es_key, revoked))
    responses.get(JWKS_URL, json=jwks(es_key))
    verifier = url_verifier(clock)
    verifier.verify(bearer(token(revoked)), AUD)
    clock.now += 3600
    verifier.verify(bearer(token(revoked, now=clock.now)), AUD)  # stale keys serve while the refetch runs
    assert verifier.wait_for_key_fetches(5)
    rejected(verifier, bearer(token(revoked, now=clock.now)), "unknown kid")


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 500, "body": "oops"},
        {"status": 404, "json": {"error": "not found"}},
        {"body": requests.ConnectionError("refused")},
        {"body": requests.Timeout("slow")},
        {"body": "<html>not json</html>"},
        {"json": {"not": "a jwks"}},
        {"json": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x"}]}},
        {"body": b"\xff\xfe\x00"},
    ],
    ids=["500", "404", "connection", "timeout", "not-json", "not-jwks", "symmetric-only", "binary"],
)
@responses.activate
def test_failing_jwks_url_gives_auth_error(es_key, clock, failure):
    responses.get(JWKS_URL, **failure)
    verifier = url_verifier(clock)
    rejected(verifier, bearer(token(es_key)), f"JWKS {JWKS_URL} unavailable")
    # Retried at most once a minute.
    clock.now += 10
    rejected(verifier, bearer(token(es_key, now=clock.now)), "unavailable")
    assert len(responses.calls) == 1


@responses.activate
def test_with_no_key_yet_a_call_waits_briefly_for_the_first_fetch(es_key, clock):
    responses.get(JWKS_URL, json=jwks(es_key))
    verifier = url_verifier(clock, fetch_at_start=False)
    assert verifier.verify(bearer(token(es_key)), AUD)["iss"] == ISSUER
    assert len(responses.calls) == 1


@responses.activate
def test_with_no_key_yet_a_call_waits_for_a_slow_first_fetch_only_so_long(es_key, clock):
    gate = threading.Event()

    def slow(_request):
        gate.wait(10)
        return 200, {}, json.dumps(jwks(es_key))

    responses.add_callback(responses.GET, JWKS_URL, callback=slow)
    verifier = url_verifier(clock, fetch_at_start=False)
    started = time.monotonic()
    rejected(verifier, bearer(token(es_key)), "unavailable")
    waited = time.monotonic() - started
    gate.set()
    assert verifier.wait_for_key_fetches(5)
    assert waited < 10  # bounded by the first-fetch wait (JWKS_FIRST_FETCH_WAIT_SECONDS), not by the host
    assert verifier.verify(bearer(token(es_key, now=clock.now)), AUD)["iss"] == ISSUER


@responses.activate
def test_oversized_jwks_is_refused(es_key, clock):
    responses.get(JWKS_URL, json={**jwks(es_key), "padding": "x" * 1_000_000})
    rejected(url_verifier(clock), bearer(token(es_key)), "unavailable")


@pytest.mark.parametrize("target", ["http://keys.example.org/jwks.json", "https://keys.example.org/jwks.json"])
@responses.activate
def test_jwks_redirects_are_not_followed(es_key, clock, target):
    responses.get(JWKS_URL, status=302, headers={"Location": target})
    responses.get(target, json=jwks(es_key))
    rejected(url_verifier(clock), bearer(token(es_key)), "unavailable")
    assert len(responses.calls) == 1


@responses.activate
def test_failing_refresh_keeps_serving_cached_keys(es_key, clock):
    responses.get(JWKS_URL, json=jwks(es_key))
    responses.get(JWKS_URL, status=503)
    verifier = url_verifier(clock)
    verifier.verify(bearer(token(es_key)), AUD)
    clock.now += 3600
    verifier.verify(bearer(token(es_key, now=clock.now)), AUD)
    assert verifier.wait_for_key_fetches(5)
    verifier.verify(bearer(token(es_key, now=clock.now)), AUD)
    assert len(responses.calls) == 2


@responses.activate
def test_loopback_http_jwks_url_works(es_key, clock):
    url = "http://127.0.0.1:8765/jwks.json"
    responses.get(url, json=jwks(es_key))
    assert url_verifier(clock, url).verify(bearer(token(es_key)), AUD)["iss"] == ISSUER


# ------------------------------------------------------------------------------------------------
# parse_trusted_issuers


def config_error(raw: Any, match: str) -> ConfigError:
    with pytest.raises(ConfigError, match=match) as info:
        parse_trusted_issuers(raw)
    assert "\n" not in str(info.value)
    return info.value


def test_parse_url_source():
    source = parse_trusted_issuers(json.dumps({ISSUER: JWKS_URL}))[ISSUER]
    assert (source.kind, source.location) == ("url", JWKS_URL)


def test_parse_file_source():
    source = parse_trusted_issuers(json.dumps({SANDBOX_ISS: str(SANDBOX_JWKS)}))[SANDBOX_ISS]
    assert source.kind == "file"
    assert set(source.keys) == {"44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"}


def test_parse_inline_source(es_key, rs_key):
    issuers = parse_trusted_issuers(json.dumps({ISSUER: jwks(es_key, rs_key), SANDBOX_ISS: JWKS_URL}))
    assert issuers[ISSUER].kind == "inline"
    assert set(issuers[ISSUER].keys) == {es_key.kid, rs_key.kid}
    assert issuers[SANDBOX_ISS].kind == "url"


def test_parse_accepts_an_already_decoded_mapping(es_key):
    assert parse_trusted_issuers({ISSUER: jwks(es_key)})[ISSUER].kind == "inline"


def test_parse_skips_unusable_keys_but_keeps_the_good_ones(es_key):
    data = {
        "keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {**es_key.public_jwk(), "kid": "enc", "use": "enc"},
            {k: v for k, v in es_key.public_jwk().items() if k != "kid"},
            {"kty": "EC", "crv": "P-384", "x": "AAAA", "y": "AAAA", "kid": "broken"},
            {**generate_key("RS384").public_jwk(), "kid": "hs", "alg": "HS256"},
            es_key.public_jwk(),
        ]
    }
    assert set(parse_trusted_issuers({ISSUER: data})[ISSUER].keys) == {es_key.kid}


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_parse_unset(raw):
    config_error(raw, "CDS_TRUSTED_ISSUERS is not set")


def test_parse_bad_json():
    config_error('{"https://ehr.example.org": ', "is not valid JSON")


@pytest.mark.parametrize("raw", ['["https://x"]', '"https://x"', "42"])
def test_parse_not_an_object(raw):
    config_error(raw, "must be a JSON object")


def test_parse_empty_object():
    config_error("{}", "names no trusted issuer")


@pytest.mark.parametrize(
    "url",
    ["http://ehr.example.org/jwks.json", "http://10.0.0.1/jwks.json", "http://127.0.0.1.evil.example/jwks"],
)
def test_parse_refuses_plain_http_to_non_loopback_hosts(url):
    config_error(json.dumps({ISSUER: url}), "must use https")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:3300/jwks.json", "http://localhost/jwks.json", "http://[::1]:8080/jwks"]
)
def test_parse_allows_plain_http_to_loopback_hosts(url):
    assert parse_trusted_issuers(json.dumps({ISSUER: url}))[ISSUER].kind == "url"


@pytest.mark.parametrize("url", ["ftp://ehr.example.org/jwks.json", "file:///etc/jwks.json", "https:///nohost"])
def test_parse_refuses_other_urls(url):
    config_error(json.dumps({ISSUER: url}), "must use https|has no host")


def test_parse_nonexistent_file(tmp_path):
    error = config_error(json.dumps({ISSUER: str(tmp_path / "missing.json")}), "cannot be read")
    assert ISSUER in str(error)


def test_parse_file_that_is_not_json(tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text("-----BEGIN PUBLIC KEY-----\nMHY...\n-----END PUBLIC KEY-----\n")
    config_error(json.dumps({ISSUER: str(path)}), "is not valid JSON")


@pytest.mark.parametrize(
    ("source", "match"),
    [
        (42, "must be a URL, a file path or a JWK Set object"),
        ("", "must be a URL, a file path or a JWK Set object"),
        ({"kty": "EC"}, "is not a JWK Set"),
        ({"keys": []}, "has no usable EC or RSA signing key"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x"}]}, "has no usable EC or RSA signing key"),
    ],
)
def test_parse_bad_sources(source, match):
    config_error(json.dumps({ISSUER: source}), match)


def test_parse_empty_issuer_name(es_key):
    config_error(json.dumps({"": jwks(es_key)}), "empty issuer name")


def test_a_shared_replay_cache_catches_a_replay_sent_to_another_worker():
    """Two verifiers (two gunicorn workers) sharing one replay cache: the second use of a
    token is refused even though the other worker never saw it."""
    from cds_service.security.jwt_verifier import _ReplayCache

    key = generate_key("ES384")
    issuers = parse_trusted_issuers(json.dumps({ISSUER: jwks(key)}))
    shared = _ReplayCache(100)
    first, second = (JwtVerifier(issuers, replay_cache=shared, clock=lambda: T0) for _ in range(2))
    header = bearer(key.sign(make_claims(ISSUER, AUD, now=T0)))
    first.verify(header, AUD)
    with pytest.raises(AuthError):
        second.verify(header, AUD)
    assert len(shared) == 1
