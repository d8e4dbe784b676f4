"""Fixtures for the emulator tests.

``api`` is the one place that decides how tests talk to the emulator's ``/v1`` API: the real
client's HTTP stack over ``WSGITransport``. Tokens for the JWT rejection tests are minted by hand
(:func:`mint_token`), since the real client never makes bad ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from pulumi_appstoreconnect.client import AppStoreConnectClient
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.settings import Settings

from .support import BASE_URL, mint_token


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    emu = Emulator(tmp_path / "state")
    yield emu
    emu.close()


@pytest.fixture
def mint(emulator: Emulator) -> Callable[..., str]:
    return lambda **kw: mint_token(emulator, **kw)


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    """/v1 through the real client's HTTP stack (its token provider, auth flow and transport).

    The raw ``httpx.Client`` underneath ``AppStoreConnectClient`` is used so the tests can
    assert on Apple-shaped error documents, which the client itself turns into exceptions.
    """
    settings = Settings(
        issuer_id=emulator.issuer_id,
        key_id=emulator.key_id,
        private_key_pem=emulator.private_key_pem,
        base_url=BASE_URL,
    )
    with AppStoreConnectClient(settings, transport=httpx.WSGITransport(app=emulator.app)) as client:
        yield client._http


@pytest.fixture
def anonymous(emulator: Emulator) -> Iterator[httpx.Client]:
    """No Authorization header: for auth tests and the admin API."""
    with httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def admin(anonymous: httpx.Client) -> httpx.Client:
    return anonymous


@pytest.fixture
def create_bundle_id(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    """POST a bundle ID through the API and return its resource object."""

    def create(identifier: str, name: str = "App", platform: str = "IOS") -> dict[str, Any]:
        response = api.post(
            "/v1/bundleIds",
            json={"data": {"type": "bundleIds", "attributes": {"identifier": identifier, "name": name, "platform": platform}}},
        )
        assert response.status_code == 201, response.text
        return response.json()["data"]

    return create


# -- signing types ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def signing_key() -> Any:
    """One RSA 2048 key for the session's CSRs (generating one takes a while)."""
    from .signing_support import new_rsa_key

    return new_rsa_key()


@pytest.fixture(scope="session")
def csr(signing_key: Any) -> str:
    from .signing_support import csr_for, pem

    return pem(csr_for(signing_key))


@pytest.fixture
def create_device(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    """POST a device and return its resource object."""
    from .signing_support import create, created

    counter = iter(range(1, 10_000))

    def make(udid: str | None = None, platform: str = "IOS", name: str | None = None) -> dict[str, Any]:
        n = next(counter)
        return created(create(api, "devices", {
            "udid": udid or f"00008030-{n:016X}",
            "platform": platform,
            "name": name or f"Device {n}",
        }))

    return make


@pytest.fixture
def create_certificate(api: httpx.Client, csr: str) -> Callable[..., dict[str, Any]]:
    """POST a certificate from the session CSR and return its resource object."""
    from .signing_support import create, created

    def make(certificate_type: str = "IOS_DEVELOPMENT") -> dict[str, Any]:
        return created(create(api, "certificates", {"certificateType": certificate_type, "csrContent": csr}))

    return make
