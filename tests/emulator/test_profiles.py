"""profiles: signed .mobileprovision payloads, Apple's relationship rules, unique names, no
PATCH, the related endpoints, and INVALID after a certificate is revoked."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from .signing_support import ca_certificate, create, created, der_certificate, linkage, read_profile
from .support import BASE_URL, error

CreateBundleId = Callable[..., dict[str, Any]]
CreateDevice = Callable[..., dict[str, Any]]
CreateCertificate = Callable[..., dict[str, Any]]

APPLE_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%f%z"


def _when(stamp: str) -> datetime:
    return datetime.strptime(stamp, APPLE_TIMESTAMP)


def post_profile(
    api: httpx.Client,
    name: str,
    profile_type: str,
    bundle_id: str | None,
    certificates: list[str] | None,
    devices: list[str] | None = None,
) -> httpx.Response:
    relationships: dict[str, Any] = {}
    if bundle_id is not None:
        relationships["bundleId"] = linkage("bundleIds", bundle_id)
    if certificates is not None:
        relationships["certificates"] = linkage("certificates", certificates)
    if devices is not None:
        relationships["devices"] = linkage("devices", devices)
    return create(api, "profiles", {"name": name, "profileType": profile_type}, relationships)


@pytest.fixture
def setup(
    create_bundle_id: CreateBundleId, create_device: CreateDevice, create_certificate: CreateCertificate
) -> dict[str, Any]:
    return {
        "bundle": create_bundle_id("com.example.app", name="Example App"),
        "devices": [create_device(), create_device(udid="a1b2c3d4e5f60718293a4b5c6d7e8f9012345678")],
        "development": create_certificate("IOS_DEVELOPMENT"),
        "distribution": create_certificate("IOS_DISTRIBUTION"),
    }


@pytest.fixture
def development_profile(api: httpx.Client, setup: dict[str, Any]) -> dict[str, Any]:
    return created(post_profile(
        api, "Example Development", "IOS_APP_DEVELOPMENT", setup["bundle"]["id"],
        [setup["development"]["id"]], [d["id"] for d in setup["devices"]],
    ))


def test_a_profile_is_created_with_apples_computed_attributes(
    api: httpx.Client, setup: dict[str, Any], development_profile: dict[str, Any]
) -> None:
    profile = development_profile
    attributes = profile["attributes"]
    assert list(attributes) == [  # in the order of Apple's Profile schema
        "name", "platform", "profileType", "profileState", "profileContent", "uuid", "createdDate", "expirationDate",
    ]
    assert (attributes["name"], attributes["profileType"]) == ("Example Development", "IOS_APP_DEVELOPMENT")
    assert attributes["platform"] == "IOS"  # the bundle ID's
    assert attributes["profileState"] == "ACTIVE"
    assert str(uuid.UUID(attributes["uuid"])) == attributes["uuid"]  # lowercase, hyphenated
    assert uuid.UUID(attributes["uuid"]).version == 4
    created_at, expires = _when(attributes["createdDate"]), _when(attributes["expirationDate"])
    assert abs(created_at - datetime.now(timezone.utc)) < timedelta(minutes=5)
    assert timedelta(days=364) < expires - created_at <= timedelta(days=365)
    assert expires <= _when(setup["development"]["attributes"]["expirationDate"])
    self_url = f"{BASE_URL}/v1/profiles/{profile['id']}"
    relationships = profile["relationships"]
    assert relationships["bundleId"] == {
        "links": {"self": f"{self_url}/relationships/bundleId", "related": f"{self_url}/bundleId"},
        "data": {"type": "bundleIds", "id": setup["bundle"]["id"]},
    }
    assert relationships["certificates"]["data"] == [{"type": "certificates", "id": setup["development"]["id"]}]
    assert relationships["devices"]["data"] == [{"type": "devices", "id": d["id"]} for d in setup["devices"]]
    assert relationships["devices"]["meta"] == {"paging": {"total": 0, "limit": 2147483647}}  # Apple quirk
    assert api.get(f"/v1/profiles/{profile['id']}").json()["data"] == profile


def test_the_payload_is_a_signed_mobileprovision_matching_the_attributes(
    api: httpx.Client, admin: httpx.Client, setup: dict[str, Any], development_profile: dict[str, Any]
) -> None:
    ca = ca_certificate(admin)
    attributes = development_profile["attributes"]
    signed = read_profile(attributes["profileContent"], ca)  # raises unless signed by the CA
    assert ca in signed.certificates
    plist = signed.plist
    team_id = admin.get("/_emulator/health").json()["team_id"]
    seed_id = setup["bundle"]["attributes"]["seedId"]
    assert plist["UUID"] == attributes["uuid"]
    assert plist["Name"] == "Example Development"
    assert plist["AppIDName"] == "Example App"
    assert plist["ApplicationIdentifierPrefix"] == [seed_id]
    assert plist["TeamIdentifier"] == [team_id]
    assert plist["TeamName"] == "Emulator"
    assert plist["Platform"] == ["iOS"]
    assert plist["Version"] == 1
    assert plist["ProvisionedDevices"] == [d["attributes"]["udid"] for d in setup["devices"]]
    assert plist["DeveloperCertificates"] == [der_certificate(setup["development"]).public_bytes(Encoding.DER)]
    entitlements = plist["Entitlements"]
    assert entitlements["application-identifier"] == f"{seed_id}.com.example.app"
    assert entitlements["com.apple.developer.team-identifier"] == team_id
    assert entitlements["get-task-allow"] is True
    expires = _when(attributes["expirationDate"]).replace(microsecond=0, tzinfo=None)
    assert plist["ExpirationDate"] == expires
    assert plist["CreationDate"] == _when(attributes["createdDate"]).replace(microsecond=0, tzinfo=None)
    assert plist["TimeToLive"] == 365


def test_a_store_profile_provisions_no_devices(api: httpx.Client, admin: httpx.Client, setup: dict[str, Any]) -> None:
    profile = created(post_profile(api, "Store", "IOS_APP_STORE", setup["bundle"]["id"], [setup["distribution"]["id"]]))
    assert profile["relationships"]["devices"]["data"] == []
    plist = read_profile(profile["attributes"]["profileContent"], ca_certificate(admin)).plist
    assert "ProvisionedDevices" not in plist
    assert plist["Entitlements"]["get-task-allow"] is False


def test_devices_on_a_store_profile_are_refused(api: httpx.Client, setup: dict[str, Any]) -> None:
    response = post_profile(
        api, "Store", "IOS_APP_STORE", setup["bundle"]["id"], [setup["distribution"]["id"]], [setup["devices"][0]["id"]]
    )
    assert response.status_code == 409
    # Apple's code and words (codemagic cli-tools PR #26 logged the live answer).
    assert (error(response)["code"], error(response)["source"]) == (
        "ENTITY_ERROR.RELATIONSHIP.NOT_ALLOWED", {"pointer": "/data/relationships/devices"}
    )
    assert error(response)["detail"] == "No devices can be associated to Provisioning Profiles for the App Store."


def test_a_mac_profile_speaks_macos(
    api: httpx.Client, admin: httpx.Client, create_bundle_id: CreateBundleId, create_certificate: CreateCertificate
) -> None:
    bundle = create_bundle_id("com.example.mac", platform="MAC_OS")
    certificate = create_certificate("MAC_APP_DISTRIBUTION")
    profile = created(post_profile(api, "Mac Store", "MAC_APP_STORE", bundle["id"], [certificate["id"]]))
    assert profile["attributes"]["platform"] == "MAC_OS"
    plist = read_profile(profile["attributes"]["profileContent"], ca_certificate(admin)).plist
    assert plist["Platform"] == ["OSX"]
    assert plist["Entitlements"]["com.apple.application-identifier"] == f"{bundle['attributes']['seedId']}.com.example.mac"


@pytest.mark.parametrize(
    ("case", "code", "pointer"),
    [
        ("no_bundle_id", "ENTITY_ERROR.RELATIONSHIP.REQUIRED", "/data/relationships/bundleId"),
        ("no_certificates", "ENTITY_ERROR.RELATIONSHIP.REQUIRED", "/data/relationships/certificates"),
        ("empty_certificates", "ENTITY_ERROR.RELATIONSHIP.REQUIRED", "/data/relationships/certificates"),
        ("unknown_bundle_id", "ENTITY_ERROR.RELATIONSHIP.INVALID", "/data/relationships/bundleId"),
        ("unknown_certificate", "ENTITY_ERROR.RELATIONSHIP.INVALID", "/data/relationships/certificates"),
        ("unknown_device", "ENTITY_ERROR.RELATIONSHIP.INVALID", "/data/relationships/devices"),
        ("no_devices", "ENTITY_ERROR.RELATIONSHIP.REQUIRED", "/data/relationships/devices"),
        ("wrong_certificate_type", "ENTITY_ERROR.RELATIONSHIP.INVALID", "/data/relationships/certificates"),
        ("disabled_device", "ENTITY_ERROR.RELATIONSHIP.INVALID", "/data/relationships/devices"),
        ("no_name", "ENTITY_ERROR.ATTRIBUTE.REQUIRED", "/data/attributes/name"),
    ],
)
def test_what_a_profile_post_must_carry(api: httpx.Client, setup: dict[str, Any], case: str, code: str, pointer: str) -> None:
    bundle, development = setup["bundle"]["id"], [setup["development"]["id"]]
    devices = [d["id"] for d in setup["devices"]]
    if case == "disabled_device":
        device = setup["devices"][1]["id"]
        api.patch(f"/v1/devices/{device}", json={"data": {"type": "devices", "id": device, "attributes": {"status": "DISABLED"}}})
    arguments = {
        "no_bundle_id": (None, development, devices),
        "no_certificates": (bundle, None, devices),
        "empty_certificates": (bundle, [], devices),
        "unknown_bundle_id": ("NOSUCHID01", development, devices),
        "unknown_certificate": (bundle, ["NOSUCHCERT"], devices),
        "unknown_device": (bundle, development, ["NOSUCHDEV1"]),
        "no_devices": (bundle, development, None),
        "wrong_certificate_type": (bundle, [setup["distribution"]["id"]], devices),
        "disabled_device": (bundle, development, devices),
        "no_name": (bundle, development, devices),
    }[case]
    if case == "no_name":
        response = create(api, "profiles", {"profileType": "IOS_APP_DEVELOPMENT"}, {
            "bundleId": linkage("bundleIds", bundle), "certificates": linkage("certificates", development),
            "devices": linkage("devices", devices),
        })
    else:
        response = post_profile(api, "P", "IOS_APP_DEVELOPMENT", *arguments)
    assert response.status_code == 409, response.text
    assert any((e["code"], e.get("source")) == (code, {"pointer": pointer}) for e in response.json()["errors"]), response.text
    assert api.get("/v1/profiles").json()["data"] == []


def test_profile_names_are_unique(api: httpx.Client, setup: dict[str, Any], development_profile: dict[str, Any]) -> None:
    response = post_profile(api, "Example Development", "IOS_APP_STORE", setup["bundle"]["id"], [setup["distribution"]["id"]])
    assert response.status_code == 409
    item = error(response)
    assert (item["code"], item["source"]) == ("ENTITY_ERROR", {"pointer": "/data/attributes/name"})
    assert "Multiple profiles found with the name 'Example Development'" in item["detail"]
    # Once the first is deleted the name is free again (how a profile is replaced).
    assert api.delete(f"/v1/profiles/{development_profile['id']}").status_code == 204
    created(post_profile(api, "Example Development", "IOS_APP_STORE", setup["bundle"]["id"], [setup["distribution"]["id"]]))


def test_profiles_cannot_be_patched(api: httpx.Client, development_profile: dict[str, Any]) -> None:
    profile_id = development_profile["id"]
    response = api.patch(f"/v1/profiles/{profile_id}", json={"data": {"type": "profiles", "id": profile_id, "attributes": {"name": "X"}}})
    assert response.status_code == 405
    assert error(response)["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET, DELETE"
    assert api.get(f"/v1/profiles/{profile_id}").json()["data"]["attributes"]["name"] == "Example Development"


def test_delete_removes_the_profile(api: httpx.Client, setup: dict[str, Any], development_profile: dict[str, Any]) -> None:
    assert api.delete(f"/v1/profiles/{development_profile['id']}").status_code == 204
    assert api.get(f"/v1/profiles/{development_profile['id']}").status_code == 404
    assert api.get(f"/v1/bundleIds/{setup['bundle']['id']}/profiles").json()["data"] == []


def test_the_related_endpoints(api: httpx.Client, setup: dict[str, Any], development_profile: dict[str, Any]) -> None:
    url = f"/v1/profiles/{development_profile['id']}"
    bundle = api.get(f"{url}/bundleId").json()
    assert bundle["data"]["id"] == setup["bundle"]["id"]
    assert bundle["data"]["attributes"]["identifier"] == "com.example.app"
    assert api.get(f"{url}/relationships/bundleId").json()["data"] == {"type": "bundleIds", "id": setup["bundle"]["id"]}
    certificates = api.get(f"{url}/certificates").json()
    assert [c["id"] for c in certificates["data"]] == [setup["development"]["id"]]
    assert certificates["data"][0]["attributes"]["certificateContent"] == setup["development"]["attributes"]["certificateContent"]
    assert api.get(f"{url}/relationships/certificates").json()["data"] == [{"type": "certificates", "id": setup["development"]["id"]}]
    devices = api.get(f"{url}/devices", params={"limit": "1"}).json()
    assert [d["id"] for d in devices["data"]] == [setup["devices"][0]["id"]]
    assert devices["meta"]["paging"] == {"total": 2, "limit": 1} and "next" in devices["links"]
    assert api.get(f"{url}/relationships/devices").json()["data"] == [{"type": "devices", "id": d["id"]} for d in setup["devices"]]
    by_bundle = api.get(f"/v1/bundleIds/{setup['bundle']['id']}/profiles").json()["data"]
    assert [p["id"] for p in by_bundle] == [development_profile["id"]]
    included = api.get(url, params={"include": "devices,certificates", "limit[devices]": "1"}).json()
    assert {(o["type"], o["id"]) for o in included["included"]} == {
        ("devices", setup["devices"][0]["id"]), ("certificates", setup["development"]["id"]),
    }
    assert included["data"]["relationships"]["devices"]["meta"]["paging"] == {"total": 2, "limit": 1}


def test_revoking_a_certificate_invalidates_every_profile_using_it(
    api: httpx.Client, admin: httpx.Client, setup: dict[str, Any], development_profile: dict[str, Any],
    create_certificate: CreateCertificate,
) -> None:
    bundle = setup["bundle"]["id"]
    devices = [d["id"] for d in setup["devices"]]
    second = created(post_profile(api, "Second", "IOS_APP_ADHOC", bundle, [setup["distribution"]["id"]], devices))
    other_cert = create_certificate("DEVELOPMENT")
    both = created(post_profile(api, "Both", "IOS_APP_DEVELOPMENT", bundle, [setup["development"]["id"], other_cert["id"]], devices))
    unrelated = created(post_profile(api, "Unrelated", "IOS_APP_DEVELOPMENT", bundle, [other_cert["id"]], devices))

    assert api.delete(f"/v1/certificates/{setup['development']['id']}").status_code == 204

    def state(profile: dict[str, Any]) -> str:
        return api.get(f"/v1/profiles/{profile['id']}").json()["data"]["attributes"]["profileState"]

    assert [state(p) for p in (development_profile, both, second, unrelated)] == ["INVALID", "INVALID", "ACTIVE", "ACTIVE"]
    invalid = api.get("/v1/profiles", params={"filter[profileState]": "INVALID"}).json()["data"]
    assert sorted(p["id"] for p in invalid) == sorted([development_profile["id"], both["id"]])
    # The content stays; the revoked certificate no longer shows among the profile's certificates.
    assert invalid[0]["attributes"]["profileContent"]
    assert api.get(f"/v1/profiles/{both['id']}/relationships/certificates").json()["data"] == [
        {"type": "certificates", "id": other_cert["id"]}
    ]
    # The admin API's revocation goes through the same rule.
    revoked = admin.post(f"/_emulator/certificates/{setup['distribution']['id']}/revoke").json()
    assert revoked["invalidatedProfiles"] == [second["id"]]
    assert state(second) == "INVALID"
    admin.delete(f"/_emulator/objects/certificates/{other_cert['id']}")
    assert state(unrelated) == "INVALID"


def test_the_expiry_never_outlives_a_certificate(
    api: httpx.Client, admin: httpx.Client, setup: dict[str, Any]
) -> None:
    soon = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)
    stamp = soon.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    certificate = setup["development"]["id"]
    admin.patch(f"/_emulator/objects/certificates/{certificate}", json={"attributes": {"expirationDate": stamp}})
    profile = created(post_profile(
        api, "Short", "IOS_APP_DEVELOPMENT", setup["bundle"]["id"], [certificate], [setup["devices"][0]["id"]]
    ))
    assert profile["attributes"]["expirationDate"] == stamp
    plist = read_profile(profile["attributes"]["profileContent"], ca_certificate(admin)).plist
    assert plist["ExpirationDate"] == soon.replace(tzinfo=None)
    assert plist["TimeToLive"] == 30


def test_an_expired_certificate_cannot_sign_a_new_profile(api: httpx.Client, admin: httpx.Client, setup: dict[str, Any]) -> None:
    past = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    certificate = setup["development"]["id"]
    admin.patch(f"/_emulator/objects/certificates/{certificate}", json={"attributes": {"expirationDate": past}})
    response = post_profile(api, "Late", "IOS_APP_DEVELOPMENT", setup["bundle"]["id"], [certificate], [setup["devices"][0]["id"]])
    assert response.status_code == 409
    assert re.search("expired", error(response)["detail"])


def test_deleting_the_bundle_id_deletes_its_profiles(
    api: httpx.Client, admin: httpx.Client, setup: dict[str, Any], development_profile: dict[str, Any]
) -> None:
    assert api.delete(f"/v1/bundleIds/{setup['bundle']['id']}").status_code == 204
    assert api.get(f"/v1/profiles/{development_profile['id']}").status_code == 404
    assert admin.get("/_emulator/objects/profiles").json()["data"] == []
    # Certificates and devices are the team's, not the bundle ID's.
    assert api.get(f"/v1/certificates/{setup['development']['id']}").status_code == 200
