"""Helpers shared by the emulator tests: token minting and error-document checks."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt

from pulumi_appstoreconnect.emulator import Emulator

BASE_URL = "https://api.appstoreconnect.apple.com"


def mint_token(emulator: Emulator, *, headers: dict[str, Any] | None = None, key: str | None = None, **claims: Any) -> str:
    """A token for ``emulator``'s key; ``claims``/``headers`` override (None removes a claim)."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": emulator.issuer_id,
        "iat": now - 60,  # backdated for clock skew, as the real client does
        "exp": now + 19 * 60,
        "aud": "appstoreconnect-v1",
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    header = {"kid": emulator.key_id, "typ": "JWT", **(headers or {})}
    return jwt.encode(payload, key or emulator.private_key_pem, algorithm="ES256", headers=header)


def error(response: httpx.Response) -> dict[str, Any]:
    """The first error item of an error document (checking the document's invariants)."""
    body = response.json()
    assert set(body) == {"errors"}, body
    for item in body["errors"]:
        assert isinstance(item["status"], str) and item["status"] == str(response.status_code)
        assert {"id", "status", "code", "title", "detail"} <= set(item)
    return body["errors"][0]


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
