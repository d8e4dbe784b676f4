"""bundleIdCapabilities: deterministic ids, no GETs of their own, listing through the bundle ID
(enabled ones only), settings PATCH, delete, and the bundle ID's cascade."""

from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest

from .signing_support import create, created, linkage
from .support import BASE_URL, error

CreateBundleId = Callable[..., dict[str, Any]]

ICLOUD_SETTINGS = [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6", "enabled": True}]}]


def enable(api: httpx.Client, bundle_id: str, capability_type: str, settings: Any = None) -> httpx.Response:
    attributes: dict[str, Any] = {"capabilityType": capability_type}
    if settings is not None:
        attributes["settings"] = settings
    return create(api, "bundleIdCapabilities", attributes, {"bundleId": linkage("bundleIds", bundle_id)})


def listed(api: httpx.Client, bundle_id: str) -> list[str]:
    response = api.get(f"/v1/bundleIds/{bundle_id}/bundleIdCapabilities")
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["data"]]


# Apple enables these on every new explicit App ID (fastlane #12853, 2018; #21488, 2023).
APPLE_DEFAULTS = ("GAME_CENTER", "IN_APP_PURCHASE")


@pytest.fixture
def bundle(api: httpx.Client, create_bundle_id: CreateBundleId) -> dict[str, Any]:
    """A new App ID with Apple's default capabilities disabled, so each test starts empty."""
    made = create_bundle_id("com.example.app")
    for capability_type in APPLE_DEFAULTS:
        assert api.delete(f"/v1/bundleIdCapabilities/{made['id']}_{capability_type}").status_code == 204
    return made


def test_new_app_ids_come_with_apples_default_capabilities(api: httpx.Client, create_bundle_id: CreateBundleId) -> None:
    explicit = create_bundle_id("com.example.defaults")
    assert sorted(listed(api, explicit["id"])) == sorted(f"{explicit['id']}_{t}" for t in APPLE_DEFAULTS)
    # Wildcard App IDs cannot hold Game Center or In-App Purchase.
    assert listed(api, create_bundle_id("com.example.wild.*")["id"]) == []
    # Enabling a default again is a 409, as for any capability already enabled.
    assert enable(api, explicit["id"], "GAME_CENTER").status_code == 409


def test_the_id_is_the_bundle_id_and_the_type(api: httpx.Client, bundle: dict[str, Any]) -> None:
    response = enable(api, bundle["id"], "ICLOUD", ICLOUD_SETTINGS)
    data = created(response)
    assert data["id"] == f"{bundle['id']}_ICLOUD"
    assert set(data["attributes"]) == {"capabilityType", "settings"}  # no hidden flag
    assert {o["key"]: o["enabled"] for o in data["attributes"]["settings"][0]["options"]} == {"XCODE_5": False, "XCODE_6": True}
    # Apple's live shape (codemagic's recorded bundle_id_capability.json): links, no data.
    base = f"{BASE_URL}/v1/bundleIdCapabilities/{data['id']}"
    assert data["relationships"] == {"bundleId": {"links": {"self": f"{base}/relationships/bundleId", "related": f"{base}/bundleId"}}}
    assert response.json()["links"] == {"self": f"{BASE_URL}/v1/bundleIdCapabilities/{data['id']}"}


def test_the_bundle_id_relationship_is_required_and_must_exist(api: httpx.Client) -> None:
    missing = create(api, "bundleIdCapabilities", {"capabilityType": "MAPS"})
    assert missing.status_code == 409
    assert (error(missing)["code"], error(missing)["source"]) == (
        "ENTITY_ERROR.RELATIONSHIP.REQUIRED", {"pointer": "/data/relationships/bundleId"}
    )
    unknown = enable(api, "NOSUCHID01", "MAPS")
    assert unknown.status_code == 409
    item = error(unknown)
    assert item["code"] == "ENTITY_ERROR.RELATIONSHIP.INVALID"
    assert item["source"] == {"pointer": "/data/relationships/bundleId"}
    assert "NOSUCHID01" in item["detail"]


def test_the_same_capability_twice_is_a_conflict(api: httpx.Client, bundle: dict[str, Any], create_bundle_id: CreateBundleId) -> None:
    created(enable(api, bundle["id"], "PUSH_NOTIFICATIONS"))
    again = enable(api, bundle["id"], "PUSH_NOTIFICATIONS")
    assert again.status_code == 409
    item = error(again)
    assert item["code"] == "ENTITY_ERROR"
    assert item["source"] == {"pointer": "/data/attributes/capabilityType"}
    assert "PUSH_NOTIFICATIONS" in item["detail"]
    # Another type on the same bundle ID, and the same type on another bundle ID, are fine.
    created(enable(api, bundle["id"], "GAME_CENTER"))
    other = create_bundle_id("com.example.other")
    assert created(enable(api, other["id"], "PUSH_NOTIFICATIONS"))["id"] == f"{other['id']}_PUSH_NOTIFICATIONS"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/v1/bundleIdCapabilities", "POST"),
        ("GET", "/v1/bundleIdCapabilities/{id}", "PATCH, DELETE"),
    ],
)
def test_there_is_no_get_of_their_own(api: httpx.Client, bundle: dict[str, Any], method: str, path: str, allowed: str) -> None:
    capability = created(enable(api, bundle["id"], "MAPS"))
    response = api.request(method, path.format(id=capability["id"]))
    assert response.status_code == 405
    assert error(response)["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == allowed


def test_there_are_no_relationship_endpoints(api: httpx.Client, bundle: dict[str, Any]) -> None:
    capability = created(enable(api, bundle["id"], "MAPS"))
    for path in (f"/v1/bundleIdCapabilities/{capability['id']}/bundleId",
                 f"/v1/bundleIdCapabilities/{capability['id']}/relationships/bundleId"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert error(response)["code"] == "NOT_FOUND"


def test_settings_are_patched_and_listed(api: httpx.Client, bundle: dict[str, Any]) -> None:
    capability = created(enable(api, bundle["id"], "DATA_PROTECTION"))
    assert capability["attributes"]["settings"] is None
    settings = [{"key": "DATA_PROTECTION_PERMISSION_LEVEL", "options": [{"key": "COMPLETE_PROTECTION", "enabled": True}]}]
    patched = api.patch(
        f"/v1/bundleIdCapabilities/{capability['id']}",
        json={"data": {"type": "bundleIdCapabilities", "id": capability["id"], "attributes": {"settings": settings}}},
    )
    assert patched.status_code == 200, patched.text
    shown = patched.json()["data"]["attributes"]["settings"]
    # Apple's answer lists every option of the setting, the ones not chosen disabled, with the
    # members of its CapabilitySetting / CapabilityOption schemas (issue 10, §4).
    assert [s["key"] for s in shown] == ["DATA_PROTECTION_PERMISSION_LEVEL"]
    assert {o["key"]: o["enabled"] for o in shown[0]["options"]} == {
        "COMPLETE_PROTECTION": True, "PROTECTED_UNLESS_OPEN": False, "PROTECTED_UNTIL_FIRST_USER_AUTH": False,
    }
    assert {"name", "description", "enabledByDefault", "visible"} <= set(shown[0])
    assert all({"name", "enabledByDefault", "supportsWildcard"} <= set(o) for o in shown[0]["options"])
    listing = api.get(f"/v1/bundleIds/{bundle['id']}/bundleIdCapabilities").json()["data"]
    assert [c["attributes"]["settings"] for c in listing] == [shown]


def test_settings_must_have_apples_shape(api: httpx.Client, bundle: dict[str, Any]) -> None:
    response = enable(api, bundle["id"], "ICLOUD", [{"key": "ICLOUD_VERSION", "options": "XCODE_6"}])
    assert response.status_code == 409
    assert error(response)["source"] == {"pointer": "/data/attributes/settings"}


def test_a_patch_repeating_the_capability_type_is_accepted_but_it_cannot_change(api: httpx.Client, bundle: dict[str, Any]) -> None:
    # Apple's BundleIdCapabilityUpdateRequest carries capabilityType (issue 10, §2).
    capability = created(enable(api, bundle["id"], "MAPS"))
    url = f"/v1/bundleIdCapabilities/{capability['id']}"

    def patch(capability_type: str) -> httpx.Response:
        return api.patch(url, json={"data": {"type": "bundleIdCapabilities", "id": capability["id"],
                                             "attributes": {"capabilityType": capability_type, "settings": None}}})

    repeated = patch("MAPS")
    assert repeated.status_code == 200, repeated.text
    assert repeated.json()["data"]["attributes"]["capabilityType"] == "MAPS"
    changed = patch("WALLET")
    assert changed.status_code == 409
    assert (error(changed)["code"], error(changed)["source"]) == (
        "ENTITY_ERROR.ATTRIBUTE.INVALID", {"pointer": "/data/attributes/capabilityType"})


def test_delete_disables_the_capability(api: httpx.Client, bundle: dict[str, Any]) -> None:
    capability = created(enable(api, bundle["id"], "MAPS"))
    assert api.delete(f"/v1/bundleIdCapabilities/{capability['id']}").status_code == 204
    assert listed(api, bundle["id"]) == []
    again = api.delete(f"/v1/bundleIdCapabilities/{capability['id']}")
    assert again.status_code == 404
    assert error(again)["code"] == "NOT_FOUND"


def test_listing_linkage_and_include_show_the_bundle_ids_capabilities(
    api: httpx.Client, bundle: dict[str, Any], create_bundle_id: CreateBundleId
) -> None:
    mine = [created(enable(api, bundle["id"], t))["id"] for t in ("MAPS", "WALLET")]
    other = create_bundle_id("com.example.other")
    created(enable(api, other["id"], "HEALTHKIT"))
    assert listed(api, bundle["id"]) == mine
    linkages = api.get(f"/v1/bundleIds/{bundle['id']}/relationships/bundleIdCapabilities").json()["data"]
    assert linkages == [{"type": "bundleIdCapabilities", "id": i} for i in mine]
    included = api.get(f"/v1/bundleIds/{bundle['id']}", params={"include": "bundleIdCapabilities"}).json()
    assert sorted(o["id"] for o in included["included"]) == sorted(mine)


def test_a_capability_disabled_out_of_band_vanishes_from_the_api(
    api: httpx.Client, admin: httpx.Client, bundle: dict[str, Any]
) -> None:
    maps = created(enable(api, bundle["id"], "MAPS"))
    wallet = created(enable(api, bundle["id"], "WALLET"))

    switched = admin.patch(f"/_emulator/objects/bundleIdCapabilities/{maps['id']}", json={"attributes": {"enabled": False}})
    assert switched.status_code == 200, switched.text
    assert switched.json()["data"]["attributes"]["enabled"] is False  # the admin API shows the flag

    assert listed(api, bundle["id"]) == [wallet["id"]]
    linkages = api.get(f"/v1/bundleIds/{bundle['id']}/relationships/bundleIdCapabilities").json()
    assert linkages["data"] == [{"type": "bundleIdCapabilities", "id": wallet["id"]}]
    assert linkages["meta"]["paging"]["total"] == 1
    included = api.get(f"/v1/bundleIds/{bundle['id']}", params={"include": "bundleIdCapabilities"}).json()
    assert [o["id"] for o in included["included"]] == [wallet["id"]]
    # To the API a disabled capability does not exist...
    patch = api.patch(
        f"/v1/bundleIdCapabilities/{maps['id']}",
        json={"data": {"type": "bundleIdCapabilities", "id": maps["id"], "attributes": {"settings": None}}},
    )
    assert patch.status_code == 404
    # ...and enabling it again is a plain POST, which answers the same id.
    again = created(enable(api, bundle["id"], "MAPS"))
    assert again["id"] == maps["id"]
    assert listed(api, bundle["id"]) == [wallet["id"], maps["id"]]
    assert admin.get(f"/_emulator/objects/bundleIdCapabilities/{maps['id']}").json()["data"]["attributes"]["enabled"] is True


def test_deleting_the_bundle_id_removes_enabled_and_disabled_capabilities(
    api: httpx.Client, admin: httpx.Client, bundle: dict[str, Any]
) -> None:
    maps = created(enable(api, bundle["id"], "MAPS"))
    created(enable(api, bundle["id"], "WALLET"))
    admin.patch(f"/_emulator/objects/bundleIdCapabilities/{maps['id']}", json={"attributes": {"enabled": False}})
    assert api.delete(f"/v1/bundleIds/{bundle['id']}").status_code == 204
    assert admin.get("/_emulator/objects/bundleIdCapabilities").json()["data"] == []
    assert api.get(f"/v1/bundleIds/{bundle['id']}/bundleIdCapabilities").status_code == 404


# -- profiles follow their App ID -------------------------------------------------------------
# Apple's Technical Q&A QA1878 ("Resolving the Provisioning Profile Invalid Status"): "Any time
# an App ID or certificate changes, all profiles that are associated to it are marked Invalid",
# e.g. when "a target capability was turned on or off". Settings changes are App ID changes too.


def profile_on(api: httpx.Client, bundle_id: str, certificate: dict[str, Any], device: dict[str, Any], name: str) -> dict[str, Any]:
    return created(create(api, "profiles", {"name": name, "profileType": "IOS_APP_DEVELOPMENT"}, {
        "bundleId": linkage("bundleIds", bundle_id),
        "certificates": linkage("certificates", [certificate["id"]]),
        "devices": linkage("devices", [device["id"]]),
    }))


def profile_state(api: httpx.Client, profile: dict[str, Any]) -> str:
    return str(api.get(f"/v1/profiles/{profile['id']}").json()["data"]["attributes"]["profileState"])


def _enable(api: httpx.Client, admin: httpx.Client, capability: dict[str, Any]) -> httpx.Response:
    bundle_id = capability["id"].split("_", 1)[0]  # ids are <bundleIdId>_<TYPE>
    return enable(api, bundle_id, "ICLOUD", ICLOUD_SETTINGS)


def _change_settings(api: httpx.Client, admin: httpx.Client, capability: dict[str, Any]) -> httpx.Response:
    settings = [{"key": "DATA_PROTECTION_PERMISSION_LEVEL", "options": [{"key": "COMPLETE_PROTECTION", "enabled": True}]}]
    return api.patch(f"/v1/bundleIdCapabilities/{capability['id']}", json={
        "data": {"type": "bundleIdCapabilities", "id": capability["id"], "attributes": {"settings": settings}}})


def _disable(api: httpx.Client, admin: httpx.Client, capability: dict[str, Any]) -> httpx.Response:
    return api.delete(f"/v1/bundleIdCapabilities/{capability['id']}")


def _disable_in_the_web_ui(api: httpx.Client, admin: httpx.Client, capability: dict[str, Any]) -> httpx.Response:
    return admin.patch(f"/_emulator/objects/bundleIdCapabilities/{capability['id']}", json={"attributes": {"enabled": False}})


@pytest.mark.parametrize("change", [_enable, _change_settings, _disable, _disable_in_the_web_ui],
                         ids=["enable", "change-settings", "disable", "disable-in-web-ui"])
def test_capability_change_invalidates_profiles(
    api: httpx.Client, admin: httpx.Client, bundle: dict[str, Any], create_bundle_id: CreateBundleId,
    create_certificate: Callable[..., dict[str, Any]], create_device: Callable[..., dict[str, Any]],
    change: Callable[[httpx.Client, httpx.Client, dict[str, Any]], httpx.Response],
) -> None:
    capability = created(enable(api, bundle["id"], "DATA_PROTECTION"))  # present before the profiles
    certificate, device = create_certificate(), create_device()
    mine = [profile_on(api, bundle["id"], certificate, device, f"Mine {n}") for n in (1, 2)]
    other_bundle = create_bundle_id("com.example.other")
    theirs = profile_on(api, other_bundle["id"], certificate, device, "Theirs")
    assert [profile_state(api, p) for p in (*mine, theirs)] == ["ACTIVE"] * 3

    response = change(api, admin, capability)
    assert response.status_code in (200, 201, 204), response.text

    assert [profile_state(api, p) for p in (*mine, theirs)] == ["INVALID", "INVALID", "ACTIVE"]
    invalid = api.get("/v1/profiles", params={"filter[profileState]": "INVALID"}).json()["data"]
    assert sorted(p["id"] for p in invalid) == sorted(p["id"] for p in mine)


def test_a_profile_made_after_the_change_stays_active(
    api: httpx.Client, bundle: dict[str, Any], create_certificate: Callable[..., dict[str, Any]],
    create_device: Callable[..., dict[str, Any]],
) -> None:
    created(enable(api, bundle["id"], "MAPS"))
    regenerated = profile_on(api, bundle["id"], create_certificate(), create_device(), "After")
    assert profile_state(api, regenerated) == "ACTIVE"
