"""The signing resources' create/read/update/delete: reconciler and real client against the emulator."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from pulumi_appstoreconnect.readcache import READS
from pulumi_appstoreconnect.client import ConflictError
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.reconciler import SpecProvider

from ..providers import connect

Provider = Callable[[str], SpecProvider]
UDID = "00008030-001A35E11A88802E"


@pytest.fixture
def provider(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Provider:
    return connect(emulator, monkeypatch)


def create(provider: Provider, rest_type: str, news: dict[str, Any]) -> Any:
    p = provider(rest_type)
    checked = p.check({}, news)
    assert checked.failures == [], checked.failures
    return p.create(checked.inputs)


def objects(admin: httpx.Client, rest_type: str) -> list[dict[str, Any]]:
    return admin.get(f"/_emulator/objects/{rest_type}").json()["data"]


def test_capability_lifecycle_through_its_bundle_id(provider: Provider, admin: httpx.Client) -> None:
    bundle = create(provider, "bundleIds", {"identifier": "com.example.cap", "platform": "IOS", "name": "Cap"})
    cap = create(provider, "bundleIdCapabilities", {
        "bundle_id": bundle.id, "capability_type": "ICLOUD",
        "settings": [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_5"}]}]})
    assert cap.id == f"{bundle.id}_ICLOUD"
    caps = provider("bundleIdCapabilities")
    read = caps.read(cap.id, cap.outs)
    assert read.id == cap.id and caps.diff(cap.id, read.outs, cap.outs).changes is False
    new_settings = caps.check({}, {**read.inputs, "settings": [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6"}]}]}).inputs
    assert caps.diff(cap.id, read.outs, new_settings).replaces == []
    updated = caps.update(cap.id, read.outs, new_settings)
    assert caps.read(cap.id, updated.outs).outs["settings"][0]["options"][0]["key"] == "XCODE_6"
    # Disabled in the web UI: Apple no longer lists it, so the next refresh (a new provider
    # process, with nothing listed yet) finds it gone.
    admin.patch(f"/_emulator/objects/bundleIdCapabilities/{cap.id}", json={"attributes": {"enabled": False}})
    READS.forget()
    assert caps.read(cap.id, updated.outs).id is None
    # The bundle ID deleted: the listing 404s, and the capability is gone with it.
    provider("bundleIds").delete(bundle.id, bundle.outs)
    assert caps.read(cap.id, updated.outs).id is None


def test_device_destroy_disables_and_redeclaring_re_enables(provider: Provider, admin: httpx.Client) -> None:
    device = create(provider, "devices", {"udid": UDID, "platform": "IOS", "name": "Phone"})
    assert device.outs["status"] == "ENABLED" and device.outs["device_class"]
    provider("devices").delete(device.id, device.outs)
    assert [d["attributes"]["status"] for d in objects(admin, "devices")] == ["DISABLED"]
    admin.delete("/_emulator/requests")
    again = create(provider, "devices", {"udid": UDID.lower(), "platform": "IOS", "name": "Phone (again)"})
    assert again.id == device.id and again.outs["status"] == "ENABLED"
    writes = [(r["method"], r["path"]) for r in admin.get("/_emulator/requests").json()["data"] if r["method"] != "GET"]
    assert writes == [("PATCH", f"/v1/devices/{device.id}")]
    assert objects(admin, "devices")[0]["attributes"]["name"] == "Phone (again)"


def test_device_declared_disabled_is_posted_then_patched(provider: Provider, admin: httpx.Client) -> None:
    device = create(provider, "devices", {"udid": UDID, "platform": "IOS", "name": "Spare", "status": "DISABLED"})
    assert device.outs["status"] == "DISABLED"
    assert objects(admin, "devices")[0]["attributes"]["status"] == "DISABLED"


def test_enabled_device_registered_elsewhere_is_named(provider: Provider, admin: httpx.Client) -> None:
    existing = admin.post("/_emulator/objects/devices", json={"attributes": {"udid": UDID, "platform": "IOS", "name": "Theirs"}}).json()["data"]
    with pytest.raises(ConflictError) as caught:
        create(provider, "devices", {"udid": UDID, "platform": "IOS", "name": "Mine"})
    assert existing["id"] in str(caught.value)


def test_generated_certificate_p12_and_revocation(provider: Provider, admin: httpx.Client) -> None:
    cert = create(provider, "certificates", {"certificate_type": "IOS_DEVELOPMENT"})
    outs = cert.outs
    issued = x509.load_pem_x509_certificate(outs["certificate_pem"].encode())
    key = serialization.load_pem_private_key(outs["private_key_pem"].encode(), password=None)
    assert issued.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    _, p12_cert, _ = pkcs12.load_key_and_certificates(base64.b64decode(outs["p12"]), outs["p12_password"].encode())
    assert p12_cert == issued
    certs = provider("certificates")
    read = certs.read(cert.id, outs)
    assert read.outs["p12"] == outs["p12"] and certs.diff(cert.id, read.outs, outs).changes is False
    assert certs.find_existing({**outs}) is None  # the generated CSR is not an input: nothing to match
    certs.delete(cert.id, outs)
    assert objects(admin, "certificates") == [] and certs.read(cert.id, outs).id is None


def test_distribution_certificate_limit_lists_the_existing_ones(provider: Provider) -> None:
    made = [create(provider, "certificates", {"certificate_type": "IOS_DISTRIBUTION"}) for _ in range(3)]
    with pytest.raises(ConflictError) as caught:
        create(provider, "certificates", {"certificate_type": "IOS_DISTRIBUTION"})
    message = str(caught.value)
    assert "limits how many IOS_DISTRIBUTION certificates" in message
    for cert in made:
        assert cert.id in message and cert.outs["expiration_date"] in message
    assert create(provider, "certificates", {"certificate_type": "IOS_DEVELOPMENT"}).id


def test_profile_follows_a_device_selector_and_turns_invalid_on_revocation(provider: Provider, admin: httpx.Client) -> None:
    bundle = create(provider, "bundleIds", {"identifier": "com.example.prof", "platform": "IOS", "name": "Prof"})
    cert = create(provider, "certificates", {"certificate_type": "IOS_DEVELOPMENT"})
    phones = [create(provider, "devices", {"udid": f"00008030-{i:016X}", "platform": "IOS", "name": f"P{i}"}) for i in range(2)]
    create(provider, "devices", {"udid": "A1B2C3D4-E5F6-0718-293A-4B5C6D7E8F90", "platform": "MAC_OS", "name": "Mac"})
    news = {"name": "Dev", "profile_type": "IOS_APP_DEVELOPMENT", "bundle_id": bundle.id,
            "certificates": [cert.id], "devices": {"kind": "allEnabledDevices", "platform": "IOS"}}
    profiles = provider("profiles")
    checked = profiles.check({}, news).inputs
    assert checked["devices"] == sorted(p.id for p in phones)  # the Mac is not selected
    profile = profiles.create(checked)
    assert profile.outs["profile_state"] == "ACTIVE" and profile.outs["uuid"]
    # A third phone: the selector now resolves differently, which replaces the profile.
    create(provider, "devices", {"udid": "00008030-00000000000000FF", "platform": "IOS", "name": "P3"})
    assert profiles.diff(profile.id, profile.outs, profiles.check({}, news).inputs).replaces == ["devices"]
    # Revoking the certificate out of band: the refreshed profile is INVALID, which replaces it.
    admin.post(f"/_emulator/certificates/{cert.id}/revoke")
    refreshed = profiles.read(profile.id, profile.outs)
    assert refreshed.outs["profile_state"] == "INVALID"
    assert "profile_state" in profiles.diff(profile.id, refreshed.outs, checked).replaces


def test_all_valid_certificates_skips_certificates_inside_their_renewal_window(provider: Provider, admin: httpx.Client) -> None:
    def seeded(days_left: int) -> str:
        expiry = (datetime.now(timezone.utc) + timedelta(days=days_left)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        made = admin.post("/_emulator/objects/certificates",
                          json={"attributes": {"certificateType": "IOS_DEVELOPMENT", "expirationDate": expiry}})
        assert made.status_code == 201, made.text
        return str(made.json()["data"]["id"])

    # 10 days left: inside a Certificate's default 30-day window, so its renewal will revoke it
    # (and make every profile holding it INVALID). 200 days left: safe to build on.
    renewing, lasting = seeded(10), seeded(200)
    selector = {"kind": "allValidCertificates", "certificate_types": ["IOS_DEVELOPMENT"]}
    news = {"name": "Dev", "profile_type": "IOS_APP_DEVELOPMENT", "bundle_id": "B1", "devices": ["D1"], "certificates": selector}
    profiles = provider("profiles")
    checked = profiles.check({}, news)
    assert checked.failures == [] and checked.inputs["certificates"] == [lasting]
    # The window follows the team's Certificate resources: with 5 days both are usable.
    narrow = profiles.check({}, {**news, "certificates": {**selector, "renew_before_days": 5}})
    assert narrow.failures == [] and narrow.inputs["certificates"] == sorted([renewing, lasting])
