"""JWT minting, caching and the retry-once-on-401 auth flow."""

from __future__ import annotations

import threading

import jwt
import pytest
from asc_client_support import (
    BASE_URL,
    ISSUER_ID,
    KEY_ID,
    FakeClock,
    Recorder,
    ec_pem,
    fixture,
    make_settings,
    p384_pem,
    pem_body,
    respond,
    rsa_pem,
)
from cryptography.hazmat.primitives.asymmetric import ec

from pulumi_appstoreconnect.client import (
    AppStoreConnectClient,
    AppStoreConnectError,
    AuthenticationError,
    KeyFormatError,
    TokenProvider,
    load_private_key,
)


def decode(token: str, provider: TokenProvider) -> dict:
    return jwt.decode(
        token, provider.public_key, algorithms=["ES256"], audience="appstoreconnect-v1", options={"verify_exp": False}
    )


def test_team_key_token_header_and_claims() -> None:
    clock = FakeClock()
    provider = TokenProvider(KEY_ID, ISSUER_ID, ec_pem(), clock=clock)
    token = provider.token()

    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}
    claims = decode(token, provider)
    now = int(clock.now)
    assert claims == {"iss": ISSUER_ID, "iat": now - 60, "exp": now + 15 * 60, "aud": "appstoreconnect-v1"}
    assert claims["exp"] - now <= 20 * 60


def test_individual_key_uses_sub_user_and_no_iss() -> None:
    provider = TokenProvider(KEY_ID, None, ec_pem(), clock=FakeClock())
    claims = decode(provider.token(), provider)
    assert claims["sub"] == "user"
    assert "iss" not in claims


def test_token_is_signed_by_the_configured_key_only() -> None:
    provider = TokenProvider(KEY_ID, ISSUER_ID, ec_pem(), clock=FakeClock())
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(provider.token(), other, algorithms=["ES256"], audience="appstoreconnect-v1", options={"verify_exp": False})


def test_lifetime_over_20_minutes_is_rejected() -> None:
    with pytest.raises(ValueError, match="20 minutes"):
        TokenProvider(KEY_ID, ISSUER_ID, ec_pem(), lifetime=20 * 60 + 1)


def test_maximum_lifetime_keeps_exp_minus_iat_within_20_minutes() -> None:
    clock = FakeClock()
    provider = TokenProvider(KEY_ID, ISSUER_ID, ec_pem(), lifetime=20 * 60, clock=clock)
    claims = decode(provider.token(), provider)
    assert claims["exp"] - claims["iat"] <= 20 * 60
    assert claims["exp"] - int(clock.now) == 20 * 60


def test_token_is_cached_and_reminted_shortly_before_expiry() -> None:
    clock = FakeClock()
    provider = TokenProvider(KEY_ID, ISSUER_ID, ec_pem(), clock=clock)
    first = provider.token()
    clock.advance(15 * 60 - 61)  # 61 s left: still good
    assert provider.token() == first
    assert provider.mint_count == 1

    clock.advance(2)  # 59 s left: re-mint
    second = provider.token()
    assert second != first
    assert provider.mint_count == 2
    assert decode(second, provider)["exp"] == int(clock.now) + 15 * 60


def test_concurrent_callers_share_one_token() -> None:
    provider = TokenProvider(KEY_ID, ISSUER_ID, ec_pem(), clock=FakeClock())
    tokens: list[str] = []
    barrier = threading.Barrier(16)

    def work() -> None:
        barrier.wait()
        tokens.append(provider.token())

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert provider.mint_count == 1
    assert len(set(tokens)) == 1


def test_invalidate_keeps_a_newer_token() -> None:
    provider = TokenProvider(KEY_ID, ISSUER_ID, ec_pem(), clock=FakeClock())
    stale = provider.token()
    provider.invalidate(stale)
    fresh = provider.token()
    provider.invalidate(stale)  # another thread that saw the same 401
    assert provider.token() == fresh
    assert provider.mint_count == 2


def test_repr_never_shows_the_key() -> None:
    provider = TokenProvider(KEY_ID, ISSUER_ID, ec_pem())
    assert pem_body(ec_pem()) not in repr(provider)
    assert provider.token() not in repr(provider)


def test_one_token_for_many_requests_and_user_agent() -> None:
    recorder = Recorder(lambda r: respond(200, {"data": {"type": "bundleIds", "id": "X"}}))
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        for _ in range(25):
            client.get("/v1/bundleIds/X")
        assert client.tokens.mint_count == 1
    assert len(recorder.requests) == 25
    assert len(set(recorder.tokens())) == 1
    assert recorder.requests[0].headers["User-Agent"].startswith("pulumi-appstoreconnect/")
    assert str(recorder.requests[0].url) == f"{BASE_URL}/v1/bundleIds/X"


def test_401_is_retried_once_with_a_fresh_token() -> None:
    answers = iter([respond(401, fixture("not_authorized.json")), respond(200, {"data": {"type": "apps", "id": "1"}})])
    recorder = Recorder(lambda r: next(answers))
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        assert client.get_object("/v1/apps/1") == {"type": "apps", "id": "1"}
        assert client.tokens.mint_count == 2
    first, second = recorder.tokens()
    assert first != second


def test_second_401_raises_authentication_error_after_exactly_two_requests() -> None:
    recorder = Recorder(lambda r: respond(401, fixture("not_authorized.json")))
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.get("/v1/bundleIds", {"filter[identifier]": "com.example"})
    assert len(recorder.requests) == 2
    error = caught.value
    assert error.status == 401 and error.code == "NOT_AUTHORIZED"
    assert error.url == "/v1/bundleIds"
    message = str(error)
    assert message.startswith("GET /v1/bundleIds failed: 401 NOT_AUTHORIZED: Provide a properly configured")
    for hint in ("key id", "issuer id", "revoked", "clock", "20 minutes", "pulumi-appstoreconnect doctor"):
        assert hint in message
    for token in recorder.tokens():
        assert token not in message and token not in repr(error)
        assert token.split(".")[2] not in message
    assert "Bearer" not in message


def test_post_body_is_resent_on_the_401_retry() -> None:
    answers = iter([respond(401, fixture("not_authorized.json")), respond(201, {"data": {"type": "devices", "id": "D"}})])
    recorder = Recorder(lambda r: next(answers))
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        client.create("devices", {"name": "iPhone", "udid": "abc", "platform": "IOS"})
    assert [r.method for r in recorder.requests] == ["POST", "POST"]
    assert recorder.bodies()[0] == recorder.bodies()[1]


@pytest.mark.parametrize(
    ("pem", "expected"),
    [
        (lambda: rsa_pem(), "wrong key type: RSA"),
        (lambda: p384_pem(), "P-256"),
        (lambda: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "certificate"),
        (lambda: b"\x30\x82\x0a\x01\x02\x01\x03\x30\x82\x09\xc7\x06", ".p12"),
        (lambda: "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n", "not a readable private key"),
    ],
)
def test_wrong_keys_are_explained(pem, expected: str) -> None:
    with pytest.raises(KeyFormatError, match=expected):
        load_private_key(pem())


def test_sec1_ec_private_key_is_accepted() -> None:
    from cryptography.hazmat.primitives import serialization

    key = load_private_key(ec_pem())
    sec1 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    assert isinstance(load_private_key(sec1), ec.EllipticCurvePrivateKey)


def test_requests_never_follow_redirects_with_the_token() -> None:
    recorder = Recorder(lambda r: respond(302, b"", {"Location": "http://elsewhere.test/x"}))
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        with pytest.raises(AppStoreConnectError) as caught:
            client.get("/v1/apps")
    assert caught.value.status == 302
    assert [r.url.host for r in recorder.requests] == ["asc.test"]


def test_clients_do_not_share_tokens_across_keys() -> None:
    # httpx.Auth subclasses are per client: the token of one key is never sent with another.
    a = Recorder(lambda r: respond(200, {"data": []}))
    b = Recorder(lambda r: respond(200, {"data": []}))
    with AppStoreConnectClient(make_settings(), transport=a.transport) as one, AppStoreConnectClient(
        make_settings(key_id="OTHERKEY99"), transport=b.transport
    ) as two:
        one.get("/v1/apps")
        two.get("/v1/apps")
    assert jwt.get_unverified_header(a.tokens()[0])["kid"] == KEY_ID
    assert jwt.get_unverified_header(b.tokens()[0])["kid"] == "OTHERKEY99"
