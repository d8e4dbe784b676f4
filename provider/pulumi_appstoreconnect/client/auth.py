"""App Store Connect API keys and the ES256 JWTs signed with them.

An API key is an EC P-256 private key in a PKCS#8 PEM file (``AuthKey_<KEYID>.p8``). Each
request carries ``Authorization: Bearer <JWT>`` with header ``{alg: ES256, kid, typ: JWT}`` and
claims ``iss`` (team keys; individual keys send ``sub: "user"`` instead), ``iat``, ``exp`` (at
most 20 minutes ahead) and ``aud: "appstoreconnect-v1"``. One token is minted per lifetime and
shared by every request and thread of the process.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Generator

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

__all__ = [
    "AUDIENCE",
    "BearerAuth",
    "DEFAULT_TOKEN_LIFETIME",
    "KeyFormatError",
    "MAX_TOKEN_LIFETIME",
    "TokenProvider",
    "load_private_key",
]

AUDIENCE = "appstoreconnect-v1"
MAX_TOKEN_LIFETIME = 20 * 60  # Apple rejects tokens expiring more than 20 minutes ahead
DEFAULT_TOKEN_LIFETIME = 15 * 60
CLOCK_SKEW_BACKDATE = 60  # iat is backdated so a server clock slightly behind still accepts it
REMINT_MARGIN = 60  # mint a new token when less than this is left


class KeyFormatError(ValueError):
    """The private key is not an unencrypted EC P-256 private key in PEM form."""


def _describe_pem_label(text: str) -> str | None:
    """Why a PEM block is the wrong kind of file, judged from its label alone."""
    if "-----BEGIN CERTIFICATE-----" in text:
        return "wrong key type: this is a certificate (.cer/.pem), not the API key's .p8 private key"
    if "-----BEGIN CERTIFICATE REQUEST-----" in text:
        return "wrong key type: this is a certificate signing request, not the API key's .p8 private key"
    if "-----BEGIN PUBLIC KEY-----" in text:
        return "wrong key type: this is a public key; the .p8 private key is needed"
    if "-----BEGIN ENCRYPTED PRIVATE KEY-----" in text:
        return "the private key is encrypted; use the unencrypted .p8 downloaded from App Store Connect"
    if "-----BEGIN RSA PRIVATE KEY-----" in text:
        return "wrong key type: RSA private key; App Store Connect API keys are EC P-256 (.p8)"
    return None


def load_private_key(pem: str | bytes) -> ec.EllipticCurvePrivateKey:
    """Load and check an App Store Connect API private key; :class:`KeyFormatError` explains
    what the data is instead (RSA key, certificate, .p12, not PEM at all)."""
    data = pem.encode() if isinstance(pem, str) else pem
    if b"-----BEGIN" not in data:
        binary = any(b < 9 or 13 < b < 32 for b in data[:64])
        kind = "binary data (a .p12 or DER .cer by mistake?)" if binary else "text without a PEM block"
        raise KeyFormatError(f"not a PEM private key: {kind}; expected the .p8 file's -----BEGIN PRIVATE KEY----- block")
    problem = _describe_pem_label(data.decode("ascii", "replace"))
    if problem:
        raise KeyFormatError(problem)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFormatError("the private key is password protected; use the unencrypted .p8") from None
    except Exception as exc:  # cryptography raises ValueError or UnsupportedAlgorithm
        raise KeyFormatError(f"the PEM block is not a readable private key ({type(exc).__name__})") from None
    if isinstance(key, rsa.RSAPrivateKey):
        raise KeyFormatError("wrong key type: RSA private key; App Store Connect API keys are EC P-256 (.p8)")
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyFormatError(f"wrong key type: {type(key).__name__.lstrip('_')}; App Store Connect API keys are EC P-256")
    if not isinstance(key.curve, ec.SECP256R1):
        raise KeyFormatError(f"wrong key type: EC key on curve {key.curve.name}; App Store Connect needs P-256 (prime256v1)")
    return key


class TokenProvider:
    """Mints and caches the bearer token of one API key (thread-safe).

    ``lifetime`` is seconds from now to ``exp`` (at most 20 minutes). ``clock`` returns the
    current Unix time; tests pass a fake one. :attr:`mint_count` counts signatures made.
    """

    def __init__(
        self,
        key_id: str,
        issuer_id: str | None,
        private_key_pem: str | bytes,
        *,
        lifetime: float = DEFAULT_TOKEN_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not key_id:
            raise ValueError("key_id is required")
        if lifetime > MAX_TOKEN_LIFETIME:
            raise ValueError(f"token lifetime {lifetime:g} s exceeds Apple's maximum of {MAX_TOKEN_LIFETIME} s (20 minutes)")
        if lifetime <= 2 * REMINT_MARGIN:
            raise ValueError(f"token lifetime {lifetime:g} s is too short (minimum {2 * REMINT_MARGIN + 1} s)")
        self.key_id = key_id
        self.issuer_id = issuer_id or None
        self.lifetime = int(lifetime)
        self._key = load_private_key(private_key_pem)
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0
        self.mint_count = 0

    def __repr__(self) -> str:
        return f"TokenProvider(key_id={self.key_id!r}, issuer_id={self.issuer_id!r}, lifetime={self.lifetime})"

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The key's public half (to verify tokens in tests and `doctor`)."""
        return self._key.public_key()

    def header_and_claims(self, now: float | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """The JWT header and claims a token minted at ``now`` carries."""
        issued = int(self._clock() if now is None else now)
        # Backdate iat, but never so far that exp - iat exceeds 20 minutes.
        backdate = min(CLOCK_SKEW_BACKDATE, MAX_TOKEN_LIFETIME - self.lifetime)
        claims: dict[str, Any] = {}
        if self.issuer_id:
            claims["iss"] = self.issuer_id
        else:
            claims["sub"] = "user"
        claims.update(iat=issued - backdate, exp=issued + self.lifetime, aud=AUDIENCE)
        return {"alg": "ES256", "kid": self.key_id, "typ": "JWT"}, claims

    def _mint(self) -> tuple[str, int]:
        header, claims = self.header_and_claims()
        token = jwt.encode(claims, self._key, algorithm="ES256", headers=header)
        self.mint_count += 1
        return token, claims["exp"]

    def token(self) -> str:
        """The cached token, minted anew when less than a minute of it is left."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - REMINT_MARGIN:
                self._token, self._expires_at = self._mint()
            return self._token

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (only if it is still ``token``, when given), so that
        threads that all saw the same 401 do not throw away each other's fresh token."""
        with self._lock:
            if token is None or token == self._token:
                self._token = None


class BearerAuth(httpx.Auth):
    """Adds the bearer token; on a 401, mints a fresh token and retries the request once."""

    def __init__(self, tokens: TokenProvider, on_refresh: Callable[[], None] | None = None) -> None:
        self.tokens = tokens
        self._on_refresh = on_refresh

    def __repr__(self) -> str:
        return f"BearerAuth({self.tokens!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.tokens.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self.tokens.invalidate(token)
            if self._on_refresh is not None:
                self._on_refresh()
            request.headers["Authorization"] = f"Bearer {self.tokens.token()}"
            yield request
