"""JWT verification and the issued API key."""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pulumi_appstoreconnect.emulator import Emulator

from .support import error, mint_token

APPLE_401_DETAIL = (
    "Provide a properly configured and signed bearer token, and make sure that it has not expired. "
    "Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens"
)


def _other_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _get(client: httpx.Client, token: str | None, path: str = "/v1/bundleIds") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(path, headers=headers)


def _assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json"
    item = error(response)
    assert item["code"] == "NOT_AUTHORIZED"
    assert item["status"] == "401"
    assert item["title"] == "Authentication credentials are missing or invalid."
    assert item["detail"] == APPLE_401_DETAIL


def test_valid_token_is_accepted(anonymous: httpx.Client, mint: Callable[..., str]) -> None:
    response = _get(anonymous, mint())
    assert response.status_code == 200
    assert response.json()["data"] == []


def test_individual_key_form_is_accepted(anonymous: httpx.Client, mint: Callable[..., str]) -> None:
    # Individual keys: sub "user" and no iss.
    assert _get(anonymous, mint(iss=None, sub="user")).status_code == 200


@pytest.mark.parametrize(
    "case",
    [
        "missing header",
        "not bearer",
        "garbage",
        "bad signature",
        "wrong kid",
        "no kid",
        "wrong aud",
        "wrong iss",
        "no iss and no sub user",
        "expired",
        "exp more than 20 minutes ahead",
        "exp missing",
        "iat in the future",
        "hs256",
        "scope does not cover request",
    ],
)
def test_rejected_tokens(case: str, emulator: Emulator, anonymous: httpx.Client) -> None:
    now = int(time.time())
    tokens: dict[str, Any] = {
        "missing header": None,
        "garbage": "not.a.jwt",
        "bad signature": mint_token(emulator, key=_other_key_pem()),
        "wrong kid": mint_token(emulator, headers={"kid": "ABCDEFGHIJ"}),
        "wrong aud": mint_token(emulator, aud="appstoreconnect-v2"),
        "wrong iss": mint_token(emulator, iss="00000000-0000-0000-0000-000000000000"),
        "no iss and no sub user": mint_token(emulator, iss=None, sub="someone"),
        "expired": mint_token(emulator, iat=now - 1300, exp=now - 100),
        "exp more than 20 minutes ahead": mint_token(emulator, iat=now, exp=now + 21 * 60),
        "exp missing": mint_token(emulator, exp=None),
        "iat in the future": mint_token(emulator, iat=now + 600, exp=now + 900),
        "scope does not cover request": mint_token(emulator, scope=["GET /v1/apps"]),
    }
    if case == "no kid":
        import jwt

        token = jwt.encode(
            {"iss": emulator.issuer_id, "iat": now, "exp": now + 600, "aud": "appstoreconnect-v1"},
            emulator.private_key_pem,
            algorithm="ES256",
        )
        response = _get(anonymous, token)
    elif case == "not bearer":
        response = anonymous.get("/v1/bundleIds", headers={"Authorization": f"Basic {mint_token(emulator)}"})
    elif case == "hs256":
        import jwt

        token = jwt.encode(
            {"iss": emulator.issuer_id, "iat": now, "exp": now + 600, "aud": "appstoreconnect-v1"},
            "a-shared-secret-that-is-long-enough-for-hs256",
            algorithm="HS256",
            headers={"kid": emulator.key_id},
        )
        response = _get(anonymous, token)
    else:
        response = _get(anonymous, tokens[case])
    _assert_401(response)
    assert response.headers["x-emulator-auth-error"]  # the reason, for humans


def test_a_token_without_iat_is_accepted_as_apple_does(anonymous: httpx.Client, mint: Callable[..., str]) -> None:
    # Apple's docs list iat, but the live API takes tokens without it, and widely used clients
    # omit it (issue 10, §2); exp, aud, kid and the signature are still checked.
    now = int(time.time())
    assert _get(anonymous, mint(iat=None, exp=now + 600)).status_code == 200
    _assert_401(_get(anonymous, mint(iat=None, exp=now + 21 * 60)))


def test_exactly_twenty_minutes_is_accepted(anonymous: httpx.Client, mint: Callable[..., str]) -> None:
    now = int(time.time())
    assert _get(anonymous, mint(iat=now, exp=now + 20 * 60)).status_code == 200


def test_scope_covering_the_request_is_accepted(anonymous: httpx.Client, mint: Callable[..., str]) -> None:
    token = mint(scope=["GET /v1/bundleIds?filter[platform]=IOS"])
    assert anonymous.get("/v1/bundleIds?filter[platform]=IOS", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert _get(anonymous, token).status_code == 401  # a different query is outside the scope


def test_auth_comes_before_routing(anonymous: httpx.Client) -> None:
    # Apple answers 401 before it looks at the path.
    _assert_401(anonymous.get("/v1/noSuchThing"))


def test_rejected_requests_are_logged_without_tokens(anonymous: httpx.Client, mint: Callable[..., str]) -> None:
    token = mint(aud="wrong")
    _get(anonymous, token)
    log = anonymous.get("/_emulator/requests").json()["data"]
    assert [(e["method"], e["path"], e["status"]) for e in log] == [("GET", "/v1/bundleIds", 401)]
    assert token not in str(log)


def test_issued_key_files(emulator: Emulator) -> None:
    assert re.fullmatch(r"[A-Z0-9]{10}", emulator.key_id)
    assert re.fullmatch(r"[A-Z0-9]{10}", emulator.team_id)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", emulator.issuer_id)
    path = emulator.private_key_path
    assert path.name == f"AuthKey_{emulator.key_id}.p8"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert text == emulator.private_key_pem
    assert text.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, like Apple's .p8
    key = serialization.load_pem_private_key(text.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


def test_key_is_reused_by_the_next_emulator_on_the_same_state_dir(tmp_path: Path) -> None:
    first = Emulator(tmp_path / "s")
    ids = (first.key_id, first.issuer_id, first.team_id, first.private_key_pem)
    token = mint_token(first)
    first.close()
    first.private_key_path.unlink()  # a lost .p8 is rewritten from the state
    second = Emulator(tmp_path / "s")
    try:
        assert (second.key_id, second.issuer_id, second.team_id, second.private_key_pem) == ids
        assert second.private_key_path.read_text() == ids[3]
        with httpx.Client(transport=httpx.WSGITransport(app=second.app), base_url="http://x") as client:
            assert _get(client, token).status_code == 200
    finally:
        second.close()


def test_a_fresh_state_dir_gets_a_different_key(tmp_path: Path, emulator: Emulator) -> None:
    other = Emulator(tmp_path / "elsewhere")
    try:
        assert other.key_id != emulator.key_id
        with httpx.Client(transport=httpx.WSGITransport(app=other.app), base_url="http://x") as client:
            _assert_401(_get(client, mint_token(emulator)))
    finally:
        other.close()
