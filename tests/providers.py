"""Providers wired to an in-process emulator through the real client (shared by test tiers)."""

from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_appstoreconnect import reconciler
from pulumi_appstoreconnect.client import AppStoreConnectClient
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.reconciler import SpecProvider


def connect(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, **client_options: object) -> Callable[[str], SpecProvider]:
    """A factory of configured providers whose one shared client reaches ``emulator``."""
    transport = httpx.WSGITransport(app=emulator.app)
    monkeypatch.setattr(
        reconciler,
        "_CLIENTS",
        reconciler._ClientCache(lambda s: AppStoreConnectClient(s, transport=transport, **client_options)),  # type: ignore[arg-type]
    )
    config = Config(
        {
            "appstoreconnect:keyId": emulator.key_id,
            "appstoreconnect:issuerId": emulator.issuer_id,
            "appstoreconnect:privateKey": emulator.private_key_pem,
            "appstoreconnect:baseUrl": "https://api.appstoreconnect.apple.com",
        },
        project_name="tests",
    )

    def provider(rest_type: str) -> SpecProvider:
        made = SpecProvider(rest_type)
        made.configure(ConfigureRequest(config))
        return made

    return provider


def stored(props: dict[str, Any]) -> dict[str, Any]:
    """``props`` as the engine stores them and hands them back to the provider: serialized by
    the SDK (which drops None values, nested ones included) and deserialized."""
    import asyncio

    from pulumi.runtime import rpc

    loop = asyncio.new_event_loop()
    try:
        struct = loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()
    return dict(rpc.deserialize_properties(struct))
