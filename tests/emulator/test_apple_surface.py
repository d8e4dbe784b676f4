"""Issue 10: the emulator serves Apple's surface from Apple's spec, in its own words, and
reproduces the Apple behaviours the provider must survive.

The emulator imports nothing of the provider (an import-graph test below); these tests drive it
through the real client, and the provider where the point is that the provider copes.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from pulumi_appstoreconnect.client import AppStoreConnectClient
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.emulator.routes import Registry
from pulumi_appstoreconnect.emulator.surface import EXCERPT, build_surfaces, load_surfaces
from pulumi_appstoreconnect.reconciler import SpecProvider
from pulumi_appstoreconnect.settings import Settings

from ..providers import connect, stored
from .support import BASE_URL, FakeTime

EMULATOR = Path(__file__).resolve().parents[2] / "provider" / "pulumi_appstoreconnect" / "emulator"
PROVIDER_MODULES = ("spec", "resources", "reconciler", "importer", "schema", "errors", "settings", "cli")


# -- 1. independence ------------------------------------------------------------------------


def _imports(path: Path) -> list[tuple[int, str]]:
    """(level, module) of every import in a file: level 0 absolute, 1 ``.x``, 2 ``..x``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def test_the_emulator_imports_nothing_of_the_provider() -> None:
    offending = []
    for path in sorted(EMULATOR.rglob("*.py")):
        depth = len(path.relative_to(EMULATOR).parts)  # 1: a module of the emulator package
        for level, module in _imports(path):
            outside = level > depth or (level == 0 and module.split(".")[0] in ("pulumi", "pulumi_appstoreconnect"))
            if outside:
                offending.append(f"{path.relative_to(EMULATOR)}: {'.' * level}{module}")
    assert offending == [], "the emulator must stand on Apple's spec and its own rules: " + ", ".join(offending)
    assert set(PROVIDER_MODULES).isdisjoint(p.stem for p in EMULATOR.glob("*.py"))


def test_the_surface_is_apples_spec() -> None:
    # Read from the excerpt of Apple's spec the package ships, not from the provider's specs:
    # spot-check facts the spec states and a provider spec would not (or states differently).
    surfaces = load_surfaces()
    assert json.loads(EXCERPT.read_text())["info"]["x-excerpt"]["sourceVersion"] == "4.4.1"
    assert "delete" not in surfaces["devices"].operations  # Apple has no DELETE for devices
    assert "update" not in surfaces["profiles"].operations  # nor PATCH for profiles
    assert "list" not in surfaces["bundleIdCapabilities"].operations  # nor a collection GET
    assert surfaces["certificates"].update is not None and list(surfaces["certificates"].update.attributes) == ["activated"]
    assert set(surfaces["certificates"].create.relationships) == {"merchantId", "passTypeId"}  # type: ignore[union-attr]
    assert surfaces["bundleIdCapabilities"].update.attributes.keys() == {"capabilityType", "settings"}  # type: ignore[union-attr]
    assert surfaces["devices"].create.attributes["platform"].enum == ("IOS", "MAC_OS", "UNIVERSAL")  # type: ignore[union-attr]


# -- 4. Apple behaviours the provider must survive -------------------------------------------


@pytest.fixture
def provider(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], SpecProvider]:
    return connect(emulator, monkeypatch, sleep=lambda _s: None)


def test_capability_settings_as_apple_returns_them_read_back_without_drift(
    provider: Callable[[str], SpecProvider], admin: httpx.Client
) -> None:
    bundle = provider("bundleIds").create({"identifier": "com.example.settings", "platform": "IOS", "name": "Settings"})
    capabilities = provider("bundleIdCapabilities")
    props = {"bundle_id": bundle.id, "capability_type": "DATA_PROTECTION",
             "settings": [{"key": "DATA_PROTECTION_PERMISSION_LEVEL", "options": [{"key": "COMPLETE_PROTECTION", "enabled": True}]}]}
    created = capabilities.create(dict(props))
    remote = admin.get(f"/_emulator/objects/bundleIdCapabilities/{created.id}").json()["data"]["attributes"]["settings"]
    assert len(remote[0]["options"]) == 3  # Apple lists the options not chosen too, disabled
    state = stored(capabilities.read(created.id, stored(created.outs)).outs)
    assert capabilities.diff(created.id, state, dict(props)).changes is False
    # A program that spells out a disabled option is the same program.
    spelled = {**props, "settings": [{"key": "DATA_PROTECTION_PERMISSION_LEVEL", "options": [
        {"key": "COMPLETE_PROTECTION", "enabled": True}, {"key": "PROTECTED_UNLESS_OPEN", "enabled": False}]}]}
    assert capabilities.diff(created.id, state, spelled).changes is False


def test_adopt_after_an_ambiguous_post_survives_listings_that_lag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeTime()  # shared by the emulator and the client: the client's waits move time on
    emulator = Emulator(tmp_path / "lagging", clock=clock.clock)
    admin = httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL)
    assert admin.put("/_emulator/listing-lag", json={"seconds": 5}).json() == {"seconds": 5.0}
    # The POST lands but its answer is lost; the look-up after it does not list the object
    # yet, so the POST is sent again, and Apple's 409 says it exists: wait for the listing.
    admin.post("/_emulator/faults", json={"rules": [{"kind": "drop_after_commit", "methods": ["POST"], "path": "/v1/bundleIds", "times": 1}]})
    bundle_ids = connect(emulator, monkeypatch, sleep=clock.sleep)("bundleIds")
    created = bundle_ids.create({"identifier": "com.example.lag", "platform": "IOS", "name": "Lag"})
    objects = admin.get("/_emulator/objects/bundleIds").json()["data"]
    assert [o["id"] for o in objects] == [created.id]
    assert sum(clock.sleeps) >= 5  # the listing lag was waited out, within LISTING_LAG_WAITS
    posts = [r for r in admin.get("/_emulator/requests").json()["data"] if r["method"] == "POST"]
    assert len(posts) == 2
    emulator.close()


def test_listing_lag_hides_new_objects_from_listings_not_from_a_get(tmp_path: Path) -> None:
    clock = FakeTime()
    emulator = Emulator(tmp_path / "lag", clock=clock.clock)
    admin = httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL)
    admin.put("/_emulator/listing-lag", json={"seconds": 2})
    settings = Settings(issuer_id=emulator.issuer_id, key_id=emulator.key_id, private_key_pem=emulator.private_key_pem, base_url=BASE_URL)
    with AppStoreConnectClient(settings, transport=httpx.WSGITransport(app=emulator.app), clock=clock.clock, sleep=clock.sleep) as client:
        made = client.create("bundleIds", {"identifier": "com.example.new", "platform": "IOS", "name": "New"})
        assert client.get_object(f"/v1/bundleIds/{made['id']}") is not None
        assert client.list_all("/v1/bundleIds") == []
        clock.sleep(2)
        assert [b["id"] for b in client.list_all("/v1/bundleIds")] == [made["id"]]
    emulator.close()


# Relationship writes and 202 deletes: none of the five signing types has them in Apple's spec,
# so the generic machinery is driven by a small spec of the same shape as Apple's betaGroups
# (POST/DELETE …/relationships/betaTesters answer 204) and betaTesters (DELETE answers 202).
_LINKAGES = {"type": "object", "properties": {"data": {"type": "array", "items": {"type": "object", "properties": {
    "type": {"type": "string", "enum": ["gadgets"]}, "id": {"type": "string"}}, "required": ["id", "type"]}}}, "required": ["data"]}
_SPEC: dict[str, Any] = {
    "openapi": "3.0.1",
    "paths": {
        "/v1/widgets": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/WidgetCreateRequest"}}}},
                                 "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/WidgetResponse"}}}}}}},
        "/v1/widgets/{id}": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/WidgetResponse"}}}}}},
                             "delete": {"responses": {"202": {"description": "accepted"}}}},
        "/v1/widgets/{id}/relationships/gadgets": {
            "get": {"responses": {"200": {"description": "linkages"}}},
            "post": {"requestBody": {"content": {"application/json": {"schema": _LINKAGES}}}, "responses": {"204": {"description": "added"}}},
            "delete": {"requestBody": {"content": {"application/json": {"schema": _LINKAGES}}}, "responses": {"204": {"description": "removed"}}},
        },
        "/v1/gadgets": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/GadgetCreateRequest"}}}},
                                 "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/GadgetResponse"}}}}}}},
    },
    "components": {"schemas": {
        "Widget": {"type": "object", "properties": {
            "type": {"type": "string", "enum": ["widgets"]}, "id": {"type": "string"},
            "attributes": {"type": "object", "properties": {"name": {"type": "string"}}},
            "relationships": {"type": "object", "properties": {"gadgets": {"type": "object", "properties": {"data": {
                "type": "array", "items": {"type": "object", "properties": {"type": {"type": "string", "enum": ["gadgets"]}, "id": {"type": "string"}}}}}}}}}},
        "WidgetResponse": {"type": "object", "properties": {"data": {"$ref": "#/components/schemas/Widget"}}},
        "WidgetCreateRequest": {"type": "object", "properties": {"data": {"type": "object", "properties": {
            "type": {"type": "string", "enum": ["widgets"]},
            "attributes": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}}},
        "Gadget": {"type": "object", "properties": {"type": {"type": "string", "enum": ["gadgets"]}, "id": {"type": "string"},
                                                    "attributes": {"type": "object", "properties": {"name": {"type": "string"}}}}},
        "GadgetResponse": {"type": "object", "properties": {"data": {"$ref": "#/components/schemas/Gadget"}}},
        "GadgetCreateRequest": {"type": "object", "properties": {"data": {"type": "object", "properties": {
            "type": {"type": "string", "enum": ["gadgets"]},
            "attributes": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}}},
    }},
}


@pytest.mark.synthetic_surface
def test_relationship_writes_answer_204_without_a_body_and_deletes_the_status_apple_declares(tmp_path: Path) -> None:
    emulator = Emulator(tmp_path / "widgets")
    emulator.app.api.registry = Registry(build_surfaces(_SPEC))
    settings = Settings(issuer_id=emulator.issuer_id, key_id=emulator.key_id, private_key_pem=emulator.private_key_pem, base_url=BASE_URL)
    with AppStoreConnectClient(settings, transport=httpx.WSGITransport(app=emulator.app)) as client:
        widget = client.create("widgets", {"name": "W"})
        gadgets = [client.create("gadgets", {"name": f"G{n}"})["id"] for n in (1, 2)]
        linkages = {"data": [{"type": "gadgets", "id": g} for g in gadgets]}
        added = client.send("POST", f"/v1/widgets/{widget['id']}/relationships/gadgets", json=linkages)
        assert (added.status_code, added.content, added.headers.get("content-type")) == (204, b"", None)
        listed = client.get(f"/v1/widgets/{widget['id']}/relationships/gadgets")["data"]
        assert [i["id"] for i in listed] == gadgets
        removed = client.send("DELETE", f"/v1/widgets/{widget['id']}/relationships/gadgets",
                              json={"data": [{"type": "gadgets", "id": gadgets[0]}]})
        assert removed.status_code == 204 and removed.content == b""
        assert [i["id"] for i in client.get(f"/v1/widgets/{widget['id']}/relationships/gadgets")["data"]] == gadgets[1:]
        gone = client.send("DELETE", f"/v1/widgets/{widget['id']}")
        assert (gone.status_code, gone.content) == (202, b"")
        assert client.get_object(f"/v1/widgets/{widget['id']}") is None
    emulator.close()
