"""Test-time signing keys and CDS Client JWTs.

Keys are generated in memory when a test runs; no private key is ever written to the repository.
Typical use::

    key = generate_key("ES384")
    issuers = parse_trusted_issuers(json.dumps({ISSUER: jwks(key)}))
    header = bearer(key.sign(make_claims(ISSUER, "http://localhost/cds-services/x", now=time.time())))
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://ehr.example.org"
_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}

# Pass as a claim value to leave that claim out of the token.
OMIT: Any = object()


@dataclass
class SigningKey:
    """A private key of a pretend CDS Client, with the kid and alg it signs under."""

    kid: str
    alg: str
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

    def public_jwk(self, *, include_alg: bool = True) -> dict[str, Any]:
        """The public half as a JWK (what the client publishes in its JWK Set)."""
        algorithm = ECAlgorithm if self.alg.startswith("ES") else RSAAlgorithm
        jwk_dict: dict[str, Any] = algorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        jwk_dict.update({"kid": self.kid, "use": "sig"})
        if include_alg:
            jwk_dict["alg"] = self.alg
        return jwk_dict

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], *, kid: str | None = None, **headers: Any) -> str:
        """A compact JWS of ``claims``; ``kid`` overrides the key's own (for same-kid forgeries)."""
        return jwt.encode(
            claims,
            self.private_key,
            algorithm=self.alg,
            headers={"kid": kid or self.kid, "typ": "JWT", **headers},
        )


def generate_key(alg: str = "ES384", kid: str | None = None) -> SigningKey:
    """A fresh key for ``alg`` (ES256/384/512 or RS*/PS*; RSA keys are 2048 bits)."""
    if alg in _CURVES:
        private_key: Any = ec.generate_private_key(_CURVES[alg]())
    else:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(kid=kid or str(uuid.uuid4()), alg=alg, private_key=private_key)


def jwks(*keys: SigningKey) -> dict[str, Any]:
    """A JWK Set publishing the public halves of ``keys``."""
    return {"keys": [key.public_jwk() for key in keys]}


def make_claims(iss: str, aud: Any, *, now: float, lifetime: int = 300, **overrides: Any) -> dict[str, Any]:
    """CDS Hooks client claims (iss, aud, exp, iat, jti), as the sandbox builds them.

    ``overrides`` replace or add claims; a value of :data:`OMIT` removes the claim.
    """
    claims: dict[str, Any] = {"iat": int(now), "exp": int(now) + lifetime, "jti": str(uuid.uuid4())}
    for name, value in {"iss": iss, "aud": aud, **overrides}.items():
        if value is OMIT:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def bearer(token: str) -> str:
    return f"Bearer {token}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned_parts(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """``base64url(header).base64url(claims)``, for hand-built hostile tokens."""
    return (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
