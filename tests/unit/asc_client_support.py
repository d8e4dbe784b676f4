"""Shared helpers for the client, settings and doctor unit tests (keys, clock, responses)."""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import Any, Callable

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pulumi_appstoreconnect.client import AppStoreConnectClient
from pulumi_appstoreconnect.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "asc_errors"
KEY_ID = "TESTKEY123"
ISSUER_ID = "57246542-96fe-1a63-e053-0824d011072a"
BASE_URL = "http://asc.test"
# The fake clocks' start: 2025-06-15 15:06:40 UTC.
START = 1_750_000_000.0


def _pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@functools.lru_cache(maxsize=None)
def ec_pem() -> str:
    """A P-256 key generated once per test session."""
    return _pem(ec.generate_private_key(ec.SECP256R1()))


@functools.lru_cache(maxsize=None)
def rsa_pem() -> str:
    return _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@functools.lru_cache(maxsize=None)
def p384_pem() -> str:
    return _pem(ec.generate_private_key(ec.SECP384R1()))


def pem_body(pem: str) -> str:
    """The base64 middle line of a PEM, to assert it never leaks."""
    return pem.splitlines()[1]


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        issuer_id=ISSUER_ID, key_id=KEY_ID, private_key_pem=ec_pem(), base_url=BASE_URL, sources={}
    )
    values.update(overrides)
    return Settings(**values)


class FakeClock:
    """A settable Unix clock."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    """A response with a JSON body (dict/list), raw bytes, or no body."""
    if isinstance(body, (dict, list)):
        return httpx.Response(status, json=body, headers=headers)
    return httpx.Response(status, content=body or b"", headers=headers)


class Recorder:
    """A MockTransport handler that records requests and answers from a function."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        # A snapshot: the auth flow re-sends the same Request object with a new header.
        self.requests.append(
            httpx.Request(request.method, request.url, headers=request.headers.copy(), content=request.read())
        )
        return self.answer(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def tokens(self) -> list[str]:
        return [r.headers["Authorization"].removeprefix("Bearer ") for r in self.requests]

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


# -- retries and rate limits: a fake clock and sleep, scripted answers -----------------


class FakeTime:
    """A clock and a sleep for one client: sleeping advances the clock (thread-safe)."""

    def __init__(self, *, advance: bool = True) -> None:
        self.now = START
        self.advance = advance
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if self.advance:
                self.now += seconds


def make_client(
    answer: Callable[[httpx.Request], httpx.Response],
    *,
    fake: FakeTime | None = None,
    rand: Callable[[], float] = lambda: 0.5,
    **kwargs: Any,
) -> tuple[AppStoreConnectClient, Recorder, FakeTime]:
    fake = fake or FakeTime()
    recorder = Recorder(answer)
    client = AppStoreConnectClient(
        make_settings(), transport=recorder.transport, clock=fake.clock, sleep=fake.sleep, rand=rand, **kwargs
    )
    return client, recorder, fake


def sequence(*answers: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    """Answer with each item in turn (an exception is raised), repeating the last one."""
    items = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        item = items.pop(0) if len(items) > 1 else items[0]
        if isinstance(item, Exception):
            raise item
        return item

    return answer


def limited(retry_after: str | None = None, remaining: int = 0) -> httpx.Response:
    headers = {"X-Rate-Limit": f"user-hour-lim:3600;user-hour-rem:{remaining};"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return respond(429, fixture("rate_limit_exceeded.json"), headers)
