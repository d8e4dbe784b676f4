"""Issue 9: taking over what the account already has (``adopt``), through the provider and the
real client against the emulator, for every resource type; and the adopt-only / release modes
the TestFlight and metadata types need.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable

import httpx
import pytest

from pulumi_appstoreconnect import ProviderError
from pulumi_appstoreconnect.client import ConflictError
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.reconciler import SpecProvider
from pulumi_appstoreconnect.resources import SPECS
from pulumi_appstoreconnect.spec import (
    ADOPT_ONLY,
    CREATE_ONLY,
    RELEASE,
    UPDATABLE,
    NaturalKey,
    ResourceSpec,
    SpecModel,
)

from ..providers import connect

Provider = Callable[[str], SpecProvider]
UDID = "00008030-001A35E11A88802E"


@pytest.fixture
def provider(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Provider:
    return connect(emulator, monkeypatch, sleep=lambda _s: None)


def made_by_hand(admin: httpx.Client, rest_type: str, attributes: dict[str, Any], relationships: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object created out of band (the web UI, fastlane), as a team's account holds it."""
    body: dict[str, Any] = {"attributes": attributes}
    if relationships:
        body["relationships"] = relationships
    response = admin.post(f"/_emulator/objects/{rest_type}", json=body)
    assert response.status_code == 201, response.text
    admin.delete("/_emulator/requests")
    return response.json()["data"]


def writes(admin: httpx.Client) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in admin.get("/_emulator/requests").json()["data"] if r["method"] != "GET"]


def checked(provider: SpecProvider, news: dict[str, Any]) -> dict[str, Any]:
    """`check` as the engine calls it for a new resource; fails the test on a failure."""
    result = provider.check({}, dict(news))
    assert result.failures == [], [(f.property, f.reason) for f in result.failures]
    return dict(result.inputs)


def failures(provider: SpecProvider, news: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in provider.check({}, dict(news)).failures}


# -- bundle IDs --------------------------------------------------------------------------------


def test_adopt_bundle_id_takes_it_over_without_a_post(provider: Provider, admin: httpx.Client) -> None:
    existing = made_by_hand(admin, "bundleIds", {"identifier": "com.team.app", "platform": "IOS", "name": "Made by hand"})
    made_by_hand(admin, "bundleIds", {"identifier": "com.team.app.widget", "platform": "IOS", "name": "Prefix match"})
    bundle_ids = provider("bundleIds")
    inputs = checked(bundle_ids, {"identifier": "com.team.app", "platform": "IOS", "name": "Team App", "adopt": True})
    created = bundle_ids.create(inputs)
    assert created.id == existing["id"]
    assert writes(admin) == [("PATCH", f"/v1/bundleIds/{existing['id']}")]  # the name; no POST
    assert created.outs["name"] == "Team App" and created.outs["seed_id"] == existing["attributes"]["seedId"]


def test_adopt_bundle_id_with_other_create_only_values_fails_at_preview_naming_both(provider: Provider, admin: httpx.Client) -> None:
    existing = made_by_hand(admin, "bundleIds", {"identifier": "com.team.app", "platform": "MAC_OS", "name": "Mac app"})
    news = {"identifier": "com.team.app", "platform": "IOS", "name": "Team App", "adopt": True}
    reasons = failures(provider("bundleIds"), news)
    assert list(reasons) == ["platform"]
    assert f"bundleIds object {existing['id']}" in reasons["platform"]
    assert "platform: App Store Connect has 'MAC_OS', the program says 'IOS'" in reasons["platform"]
    with pytest.raises(ProviderError, match="the program says 'IOS'"):
        provider("bundleIds").create(news)  # create checks again: the account may have changed
    assert writes(admin) == []


def test_collision_without_adopt_names_the_object_and_the_option(provider: Provider, admin: httpx.Client) -> None:
    existing = made_by_hand(admin, "bundleIds", {"identifier": "com.team.app", "platform": "IOS", "name": "Made by hand"})
    with pytest.raises(ConflictError) as caught:
        provider("bundleIds").create({"identifier": "com.team.app", "platform": "IOS", "name": "Team App"})
    message = str(caught.value)
    assert existing["id"] in message and "Set adopt=True on this resource to take it over" in message


def test_adopt_true_creates_what_does_not_exist(provider: Provider, admin: httpx.Client) -> None:
    bundle_ids = provider("bundleIds")
    inputs = checked(bundle_ids, {"identifier": "com.team.new", "platform": "IOS", "name": "New", "adopt": True})
    created = bundle_ids.create(inputs)
    assert writes(admin) == [("POST", "/v1/bundleIds")]
    assert created.outs["identifier"] == "com.team.new"


def test_adopt_by_id_must_name_an_existing_object(provider: Provider, admin: httpx.Client) -> None:
    existing = made_by_hand(admin, "bundleIds", {"identifier": "com.team.app", "platform": "IOS", "name": "By hand"})
    bundle_ids = provider("bundleIds")
    news = {"identifier": "com.team.app", "platform": "IOS", "name": "By hand"}
    assert bundle_ids.create(checked(bundle_ids, {**news, "adopt": existing["id"]})).id == existing["id"]
    reasons = failures(provider("bundleIds"), {**news, "adopt": "NOSUCHID01"})
    assert "no bundleIds object with id 'NOSUCHID01'" in reasons["adopt"]


def test_a_renewal_of_an_adopted_certificate_creates_its_successor(provider: Provider, admin: httpx.Client, csr: str) -> None:
    from datetime import datetime, timedelta, timezone

    soon = (datetime.now(timezone.utc) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    existing = admin.post("/_emulator/objects/certificates", json={"attributes": {
        "certificateType": "IOS_DEVELOPMENT", "csrContent": csr, "expirationDate": soon}}).json()["data"]
    certificates = provider("certificates")
    news = checked(certificates, {"certificate_type": "IOS_DEVELOPMENT", "adopt": existing["id"]})
    adopted = certificates.create(news)
    assert adopted.id == existing["id"]
    # The next up: inside the renewal window, the engine diffs (replace), then creates anew with
    # the same program, adopt id included: the certificate being renewed is not taken again.
    assert certificates.diff(adopted.id, adopted.outs, news).replaces == ["expiration_date"]
    assert certificates.check({}, dict(news)).failures == []
    renewed = certificates.create(news)
    assert renewed.id != existing["id"]
    assert ("POST", "/v1/certificates") in writes(admin)


# -- devices --------------------------------------------------------------------------------


def test_adopt_device_enables_and_renames_it(provider: Provider, admin: httpx.Client) -> None:
    existing = made_by_hand(admin, "devices", {"udid": UDID.lower(), "platform": "IOS", "name": "Old", "status": "DISABLED"})
    devices = provider("devices")
    inputs = checked(devices, {"udid": UDID, "platform": "IOS", "name": "Alice's iPhone", "adopt": True})
    created = devices.create(inputs)
    assert created.id == existing["id"] and created.outs["udid"] == UDID.lower()  # Apple's spelling
    assert writes(admin) == [("PATCH", f"/v1/devices/{existing['id']}")]
    attributes = admin.get(f"/_emulator/objects/devices/{existing['id']}").json()["data"]["attributes"]
    assert (attributes["name"], attributes["status"]) == ("Alice's iPhone", "ENABLED")


def test_adopt_device_on_another_platform_fails_at_preview(provider: Provider, admin: httpx.Client) -> None:
    made_by_hand(admin, "devices", {"udid": UDID, "platform": "MAC_OS", "name": "A Mac"})
    reasons = failures(provider("devices"), {"udid": UDID, "platform": "IOS", "name": "Phone", "adopt": True})
    assert "platform: App Store Connect has 'MAC_OS', the program says 'IOS'" in reasons["platform"]


# -- certificates -----------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["id", "serial"])
def test_adopt_certificate_by_id_or_serial_holds_no_private_key(by: str, provider: Provider, admin: httpx.Client, csr: str) -> None:
    made = admin.post("/_emulator/objects/certificates", json={"attributes": {"certificateType": "IOS_DISTRIBUTION", "csrContent": csr}})
    assert made.status_code == 201, made.text
    existing = made.json()["data"]
    admin.delete("/_emulator/requests")
    reference = existing["id"] if by == "id" else existing["attributes"]["serialNumber"]
    certificates = provider("certificates")
    inputs = checked(certificates, {"certificate_type": "IOS_DISTRIBUTION", "adopt": reference})
    created = certificates.create(inputs)
    assert created.id == existing["id"] and writes(admin) == []
    outs = created.outs
    assert outs["serial_number"] == existing["attributes"]["serialNumber"]
    assert outs["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert outs["private_key_pem"] is None and outs["p12"] is None and outs["p12_password"] is None


def test_adopt_certificate_of_another_type_fails_at_preview(provider: Provider, admin: httpx.Client, csr: str) -> None:
    existing = admin.post("/_emulator/objects/certificates", json={"attributes": {"certificateType": "IOS_DEVELOPMENT", "csrContent": csr}}).json()["data"]
    reasons = failures(provider("certificates"), {"certificate_type": "IOS_DISTRIBUTION", "adopt": existing["id"]})
    assert "certificate_type: App Store Connect has 'IOS_DEVELOPMENT', the program says 'IOS_DISTRIBUTION'" in reasons["certificate_type"]


# -- profiles and capabilities ------------------------------------------------------------------


def test_adopt_profile_compares_its_devices(provider: Provider, admin: httpx.Client, csr: str) -> None:
    bundle = made_by_hand(admin, "bundleIds", {"identifier": "com.team.app", "platform": "IOS", "name": "App"})
    device = made_by_hand(admin, "devices", {"udid": UDID, "platform": "IOS", "name": "Phone"})
    other = made_by_hand(admin, "devices", {"udid": "00008030-0000000000000002", "platform": "IOS", "name": "Other"})
    certificate = admin.post("/_emulator/objects/certificates", json={"attributes": {"certificateType": "IOS_DEVELOPMENT", "csrContent": csr}}).json()["data"]
    profile = made_by_hand(admin, "profiles", {"name": "Team dev", "profileType": "IOS_APP_DEVELOPMENT"}, {
        "bundleId": bundle["id"], "certificates": [certificate["id"]], "devices": [device["id"]]})
    news = {"name": "Team dev", "profile_type": "IOS_APP_DEVELOPMENT", "bundle_id": bundle["id"],
            "certificates": [certificate["id"]], "devices": [device["id"]], "adopt": True}
    profiles = provider("profiles")
    assert profiles.create(checked(profiles, news)).id == profile["id"]
    assert writes(admin) == []
    from pulumi_appstoreconnect.reconciler import _MEMORY

    _MEMORY.forget()  # another run, where the program lists one more device
    reasons = failures(provider("profiles"), {**news, "devices": [device["id"], other["id"]]})
    assert list(reasons) == ["devices"]
    assert f"App Store Connect has ['{device['id']}']" in reasons["devices"]


def test_adopt_capability_patches_its_settings(provider: Provider, admin: httpx.Client) -> None:
    bundle = made_by_hand(admin, "bundleIds", {"identifier": "com.team.app", "platform": "IOS", "name": "App"})
    capabilities = provider("bundleIdCapabilities")
    settings = [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6", "enabled": True}]}]
    made_by_hand(admin, "bundleIdCapabilities", {"capabilityType": "ICLOUD", "settings": [
        {"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_5", "enabled": True}]}]}, {"bundleId": bundle["id"]})
    created = capabilities.create(checked(capabilities, {
        "bundle_id": bundle["id"], "capability_type": "ICLOUD", "settings": settings, "adopt": True}))
    assert created.id == f"{bundle['id']}_ICLOUD"
    assert writes(admin) == [("PATCH", f"/v1/bundleIdCapabilities/{created.id}")]


# -- the vocabulary for types Apple's API cannot create -----------------------------------------


class _ListedAppIdInputs(SpecModel):
    identifier: Annotated[str, CREATE_ONLY, NaturalKey()]
    name: Annotated[str | None, UPDATABLE] = None


_LISTED_APP_IDS = ResourceSpec(rest_type="bundleIds", inputs=_ListedAppIdInputs, create=ADOPT_ONLY, delete=RELEASE)


@pytest.fixture
def adopt_only(provider: Provider, monkeypatch: pytest.MonkeyPatch) -> SpecProvider:
    """A second resource class over bundleIds, adopt-only and released on destroy (the shape of
    the App and AppInfo resources to come), registered under its own token."""
    monkeypatch.setitem(SPECS, "ListedAppId", _LISTED_APP_IDS)
    return provider("ListedAppId")


def test_adopt_only_type_takes_over_and_is_released_on_destroy(adopt_only: SpecProvider, admin: httpx.Client) -> None:
    existing = made_by_hand(admin, "bundleIds", {"identifier": "com.team.app", "platform": "IOS", "name": "App"})
    created = adopt_only.create(checked(adopt_only, {"identifier": "com.team.app", "name": "Renamed"}))
    assert created.id == existing["id"]
    adopt_only.delete(created.id, created.outs)
    assert writes(admin) == [("PATCH", f"/v1/bundleIds/{existing['id']}")]  # no POST, no DELETE
    assert admin.get(f"/_emulator/objects/bundleIds/{existing['id']}").status_code == 200


def test_adopt_only_type_that_does_not_exist_fails_at_preview(adopt_only: SpecProvider, admin: httpx.Client) -> None:
    reasons = failures(adopt_only, {"identifier": "com.team.missing"})
    assert "its API cannot create one" in reasons["adopt"] and "com.team.missing" in reasons["adopt"]
    with pytest.raises(ProviderError, match="cannot create one"):
        adopt_only.create({"identifier": "com.team.missing"})
    assert writes(admin) == []


def test_adopt_capability_whose_settings_apple_describes_sends_no_patch(provider: Provider, admin: httpx.Client) -> None:
    """Apple answers settings with names, descriptions and flags a program never writes
    (``CapabilitySetting``/``CapabilityOption`` in its spec): settings equal to the program's
    once read back are not a difference, so adopting sends nothing."""
    bundle = made_by_hand(admin, "bundleIds", {"identifier": "com.team.app", "platform": "IOS", "name": "App"})
    made_by_hand(admin, "bundleIdCapabilities", {"capabilityType": "ICLOUD", "settings": [{
        "key": "ICLOUD_VERSION", "name": "iCloud", "description": "iCloud version", "enabledByDefault": True,
        "visible": True, "options": [{"key": "XCODE_6", "name": "Xcode 6", "enabled": True, "supportsWildcard": False}],
    }]}, {"bundleId": bundle["id"]})
    capabilities = provider("bundleIdCapabilities")
    settings = [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6", "enabled": True}]}]
    created = capabilities.create(checked(capabilities, {
        "bundle_id": bundle["id"], "capability_type": "ICLOUD", "settings": settings, "adopt": True}))
    assert created.id == f"{bundle['id']}_ICLOUD"
    assert writes(admin) == []
