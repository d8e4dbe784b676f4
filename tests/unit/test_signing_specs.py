"""The signing resources' hooks: validation, renewal, profile state, key material."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from pulumi_appstoreconnect.client.errors import ApiError, ConflictError
from pulumi_appstoreconnect.reconciler import SpecProvider
from pulumi_appstoreconnect.resources.capability import settings_as_declared
from pulumi_appstoreconnect.resources.certificate import (
    certificate_files,
    generate_key_and_csr,
    load_csr,
    renew_when_expiring,
)
from pulumi_appstoreconnect.resources.profile import replace_unusable

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
EXCERPT = (
    Path(__file__).resolve().parents[2] / "provider" / "pulumi_appstoreconnect" / "emulator" / "openapi"
    / "appstoreconnect-openapi-4.4.1-excerpt.json"
)


def reasons(rest_type: str, news: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in SpecProvider(rest_type).check({}, news).failures}


# -- devices -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("udid", "platform"),
    [
        ("00008030-001A35E11A88802E", "IOS"),
        ("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "IOS"),
        ("A1B2C3D4-E5F6-0718-293A-4B5C6D7E8F90", "MAC_OS"),  # an Intel Mac's: MAC_OS only
    ],
)
def test_device_udid_formats_accepted(udid: str, platform: str) -> None:
    assert reasons("devices", {"udid": udid, "platform": platform, "name": "Phone"}) == {}


@pytest.mark.parametrize(
    "udid",
    ["", "1234", "00008030001A35E11A88802E", "g1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "00008030-001A35E11A88802"],
)
def test_device_udid_formats_rejected(udid: str) -> None:
    assert "udid" in reasons("devices", {"udid": udid, "platform": "IOS", "name": "Phone"})


def test_device_status_defaults_to_enabled_and_is_validated() -> None:
    checked = SpecProvider("devices").check({}, {"udid": "00008030-001A35E11A88802E", "platform": "IOS", "name": "P"})
    assert checked.inputs["status"] == "ENABLED"
    assert "status" in reasons("devices", {"udid": "00008030-001A35E11A88802E", "platform": "IOS", "name": "P", "status": "LOST"})


# -- capabilities ----------------------------------------------------------------------------

def test_capability_settings_are_normalized_with_defaults() -> None:
    checked = SpecProvider("bundleIdCapabilities").check(
        {}, {"bundle_id": "B1", "capability_type": "ICLOUD", "settings": [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6"}]}]}
    )
    assert checked.failures == []
    assert checked.inputs["settings"] == [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6", "enabled": True}]}]


@pytest.mark.parametrize("name", ["app_groups", "icloud_containers", "merchant_ids", "associated_domains"])
def test_assignments_the_api_cannot_make_are_rejected_with_the_reason(name: str) -> None:
    got = reasons("bundleIdCapabilities", {"bundle_id": "B1", "capability_type": "APP_GROUPS", name: ["x"]})
    assert list(got) == [name]
    assert "App Store Connect API" in got[name] or "entitlements" in got[name]


def test_settings_read_back_keep_only_what_a_program_declares() -> None:
    apple = [{
        "key": "ICLOUD_VERSION", "name": "iCloud", "description": "...", "enabledByDefault": True,
        "options": [{"key": "XCODE_6", "name": "Xcode 6", "enabled": True, "supportsWildcard": False},
                    {"key": "XCODE_5", "enabled": False}],
    }]
    # Apple lists the options not chosen too, disabled: only the enabled ones are the program's.
    assert settings_as_declared(apple) == [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6", "enabled": True}]}]
    assert settings_as_declared(None) is None and settings_as_declared([]) is None


def test_settings_with_the_same_enabled_options_are_the_same() -> None:
    from pulumi_appstoreconnect.resources.capability import same_enabled_options

    program = [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6", "enabled": True}, {"key": "XCODE_5", "enabled": False}]}]
    apple = [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_5", "enabled": False}, {"key": "XCODE_6", "enabled": True}]}]
    assert same_enabled_options(apple, program)
    assert not same_enabled_options(apple, [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_5"}]}])


# -- certificates ----------------------------------------------------------------------------

def test_generated_key_and_csr_belong_together() -> None:
    attributes, local = generate_key_and_csr({"certificate_type": "IOS_DEVELOPMENT", "csr_content": None})
    csr = load_csr(attributes["csrContent"])
    key = serialization.load_pem_private_key(local["private_key_pem"].encode(), password=None)
    assert csr.is_signature_valid
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    assert key.key_size == 2048  # type: ignore[union-attr]


def test_a_user_csr_means_no_key_is_generated() -> None:
    assert generate_key_and_csr({"csr_content": "-----BEGIN CERTIFICATE REQUEST-----..."}) == ({}, {})


def _issue(public_key: Any) -> x509.Certificate:
    ca = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Apple Development: Test")])
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public_key)
        .serial_number(x509.random_serial_number()).not_valid_before(NOW).not_valid_after(NOW + timedelta(days=365))
        .sign(ca, hashes.SHA256())
    )


def test_p12_opens_with_its_password_and_holds_key_and_certificate() -> None:
    _, local = generate_key_and_csr({"csr_content": None})
    key = serialization.load_pem_private_key(local["private_key_pem"].encode(), password=None)
    certificate = _issue(key.public_key())
    content = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
    derived = certificate_files({"certificate_content": content, "name": "Apple Development: Test", **local})
    assert derived["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    opened_key, opened_cert, _ = pkcs12.load_key_and_certificates(
        base64.b64decode(derived["p12"]), derived["p12_password"].encode()
    )
    assert opened_cert == certificate
    assert opened_key.private_numbers() == key.private_numbers()  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(base64.b64decode(derived["p12"]), b"wrong")
    # Re-deriving (a refresh) keeps the existing .p12 and password: no spurious diff.
    again = certificate_files({"certificate_content": content, **local, **derived})
    assert "p12" not in again and again["certificate_pem"] == derived["certificate_pem"]


@pytest.mark.parametrize(
    ("days_left", "renew_before_days", "renews"),
    [(365, 30, False), (31, 30, False), (30, 30, True), (5, 30, True), (5, 0, False), (-1, 0, True), (100, None, False)],
)
def test_renewal_window(days_left: int, renew_before_days: int | None, renews: bool) -> None:
    expiry = (NOW + timedelta(days=days_left)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    olds = {"expiration_date": expiry, "renew_before_days": renew_before_days}
    assert renew_when_expiring(olds, NOW) == (["expiration_date"] if renews else [])


def test_renewal_shows_in_diff_and_creates_before_revoking() -> None:
    olds = {"certificate_type": "IOS_DEVELOPMENT", "csr_content": None, "renew_before_days": 30,
            "expiration_date": (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()}
    news = {"certificate_type": "IOS_DEVELOPMENT", "csr_content": None, "renew_before_days": 30}
    result = SpecProvider("certificates").diff("C1", olds, news)
    assert result.changes is True and result.replaces == ["expiration_date"]
    assert not result.delete_before_replace


def test_changing_only_renew_before_days_is_an_update_without_a_request() -> None:
    olds = {"certificate_type": "IOS_DEVELOPMENT", "csr_content": None, "renew_before_days": 30,
            "expiration_date": "2099-01-01T00:00:00.000+0000", "serial_number": "AB",
            "_provenance": {"account": "issuer:T", "declared": {"certificate_type": "IOS_DEVELOPMENT", "csr_content": None}}}
    news = {"certificate_type": "IOS_DEVELOPMENT", "csr_content": None, "renew_before_days": 60}
    provider = SpecProvider("certificates")
    diff = provider.diff("C1", olds, news)
    assert diff.changes is True and diff.replaces == []
    result = provider.update("C1", olds, news)  # no client configured: would raise if it sent a request
    assert result.outs["renew_before_days"] == 60 and result.outs["serial_number"] == "AB"



# Apple's published lifetimes, as the tests know them (not read from the code under test):
# development and distribution certificates live one year (a certificate Apple issued through
# the API, recorded in codemagic's profile fixture, runs 2019-11-29 to 2020-11-28: 365 days);
# Developer ID certificates five years (developer.apple.com/support/developer-id).
ONE_YEAR_TYPES = ["IOS_DEVELOPMENT", "IOS_DISTRIBUTION", "DEVELOPMENT", "DISTRIBUTION",
                  "MAC_APP_DEVELOPMENT", "MAC_APP_DISTRIBUTION", "MAC_INSTALLER_DISTRIBUTION"]


@pytest.mark.parametrize("certificate_type", ONE_YEAR_TYPES)
def test_renew_before_days_beyond_lifetime_fails_at_preview(certificate_type: str) -> None:
    got = reasons("certificates", {"certificate_type": certificate_type, "renew_before_days": 365})
    assert list(got) == ["renew_before_days"]
    reason = got["renew_before_days"]
    assert "renew_before_days" in reason and "365" in reason and certificate_type in reason
    assert "one year" in reason  # the type's lifetime, in Apple's terms
    # A day less leaves a fresh certificate outside its window: accepted.
    assert reasons("certificates", {"certificate_type": certificate_type, "renew_before_days": 364}) == {}


@pytest.mark.parametrize("certificate_type", ["DEVELOPER_ID_APPLICATION", "DEVELOPER_ID_APPLICATION_G2"])
def test_renew_before_days_of_a_year_is_fine_for_five_year_developer_id_certificates(certificate_type: str) -> None:
    assert reasons("certificates", {"certificate_type": certificate_type, "renew_before_days": 365}) == {}


def _create_request_relationships() -> dict[str, str]:
    """CertificateCreateRequest's relationships in Apple's spec: name -> related JSON:API type."""
    excerpt = json.loads(EXCERPT.read_text())
    relationships = excerpt["components"]["schemas"]["CertificateCreateRequest"]["properties"]["data"]["properties"]["relationships"]
    return {name: rel["properties"]["data"]["properties"]["type"]["enum"][0] for name, rel in relationships["properties"].items()}


@pytest.mark.parametrize(
    ("certificate_type", "related_type"),
    [("PASS_TYPE_ID", "passTypeIds"), ("PASS_TYPE_ID_WITH_NFC", "passTypeIds"), ("APPLE_PAY", "merchantIds"),
     ("APPLE_PAY_MERCHANT_IDENTITY", "merchantIds"), ("APPLE_PAY_PSP_IDENTITY", "merchantIds"), ("APPLE_PAY_RSA", "merchantIds")],
)
def test_pass_type_and_apple_pay_certificates_fail_at_preview_naming_the_missing_relationship(
    certificate_type: str, related_type: str
) -> None:
    got = reasons("certificates", {"certificate_type": certificate_type})
    assert list(got) == ["certificate_type"]
    relationship = next(name for name, target in _create_request_relationships().items() if target == related_type)
    assert certificate_type in got["certificate_type"]
    assert f"relationships.{relationship}" in got["certificate_type"] and related_type in got["certificate_type"]



class RefusingApple:
    """A team holding three IOS_DISTRIBUTION certificates whose certificate POST answers ``error``."""

    def __init__(self, error: ConflictError) -> None:
        self.error = error
        self.listed = [
            {"type": "certificates", "id": f"CERT{n}", "attributes": {
                "certificateType": "IOS_DISTRIBUTION", "serialNumber": f"5E{n}", "expirationDate": f"2027-01-0{n}T00:00:00.000+0000"}}
            for n in (1, 2, 3)
        ]

    def create(self, rest_type: str, attributes: dict[str, Any], relationships: Any = None, *, path: str) -> dict[str, Any]:
        raise self.error

    def list_all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return list(self.listed)


def conflict(code: str, title: str, detail: str) -> ConflictError:
    return ConflictError(409, [ApiError(status="409", code=code, title=title, detail=detail)], method="POST", url="/v1/certificates")


def refused_create(monkeypatch: pytest.MonkeyPatch, error: ConflictError) -> ConflictError:
    monkeypatch.setattr(SpecProvider, "client", property(lambda self: RefusingApple(error)))
    with pytest.raises(ConflictError) as caught:
        SpecProvider("certificates").create({"certificate_type": "IOS_DISTRIBUTION", "renew_before_days": 30})
    return caught.value


def test_a_409_that_is_not_the_limit_keeps_apples_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Apple's answer to a malformed create, as quoted in fastlane issue #17384 (2020).
    error = conflict("ENTITY_ERROR.ATTRIBUTE.TYPE", "An attribute in the provided entity has the wrong type",
                     "Unexpected token (START_OBJECT), expected VALUE_STRING: Value is not string")
    raised = refused_create(monkeypatch, error)
    assert raised is error  # Apple's code and detail, no guessed explanation
    assert "limit" not in str(raised) and "CERT1" not in str(raised)


def test_a_409_with_apples_limit_detail_explains_the_limit_and_lists_the_certificates(monkeypatch: pytest.MonkeyPatch) -> None:
    # Apple's limit answer, as quoted in fastlane issue #19349 (2021).
    error = conflict("ENTITY_ERROR", "There is a problem with the request entity",
                     "You already have a current Developer ID Application certificate or a pending certificate request.")
    message = str(refused_create(monkeypatch, error))
    assert "You already have a current Developer ID Application certificate" in message  # Apple's words kept
    assert "limits how many IOS_DISTRIBUTION certificates" in message
    for n in (1, 2, 3):
        assert f"CERT{n}" in message and f"2027-01-0{n}" in message


# -- profiles --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("state", "expires_in", "reason"),
    [("ACTIVE", 100, []), ("INVALID", 100, ["profile_state"]), ("ACTIVE", -1, ["expiration_date"])],
)
def test_unusable_profiles_are_replaced(state: str, expires_in: int, reason: list[str]) -> None:
    olds = {"profile_state": state, "expiration_date": (NOW + timedelta(days=expires_in)).isoformat()}
    assert replace_unusable(olds, NOW) == reason


def test_profile_replacement_deletes_first_because_names_are_unique() -> None:
    base = {"name": "P", "profile_type": "IOS_APP_DEVELOPMENT", "bundle_id": "B", "certificates": ["C1"], "devices": ["D1"]}
    created = {**base, "profile_state": "ACTIVE", "_provenance": {"account": "issuer:T", "declared": base}}
    result = SpecProvider("profiles").diff("P1", created, {**base, "devices": ["D1", "D2"]})
    assert result.replaces == ["devices"] and result.delete_before_replace is True
    same_order = SpecProvider("profiles").diff("P1", {**base, "devices": ["D2", "D1"]}, {**base, "devices": ["D1", "D2"]})
    assert same_order.changes is False



# Apple provisions listed devices only in development and ad hoc profiles; App Store, in-house
# (Enterprise) and Developer ID ("direct") profiles run on any device, and Apple refuses a
# device list for them ("No devices can be associated to Provisioning Profiles for the App
# Store.", logged from the live API in codemagic cli-tools PR #26).
NO_DEVICE_PROFILE_TYPES = ["IOS_APP_STORE", "IOS_APP_INHOUSE", "MAC_APP_STORE", "MAC_APP_DIRECT", "TVOS_APP_STORE",
                           "TVOS_APP_INHOUSE", "MAC_CATALYST_APP_STORE", "MAC_CATALYST_APP_DIRECT"]
DEVICE_PROFILE_TYPES = ["IOS_APP_DEVELOPMENT", "IOS_APP_ADHOC", "MAC_APP_DEVELOPMENT", "TVOS_APP_DEVELOPMENT",
                        "TVOS_APP_ADHOC", "MAC_CATALYST_APP_DEVELOPMENT"]
PROFILE = {"name": "P", "bundle_id": "B1", "certificates": ["C1"]}


@pytest.mark.parametrize("devices", [["D1"], {"kind": "allEnabledDevices", "platform": "IOS"}], ids=["ids", "selector"])
@pytest.mark.parametrize("profile_type", NO_DEVICE_PROFILE_TYPES)
def test_devices_on_store_inhouse_and_direct_profiles_fail_at_preview(profile_type: str, devices: Any) -> None:
    got = reasons("profiles", {**PROFILE, "profile_type": profile_type, "devices": devices})
    assert list(got) == ["devices"]
    assert got["devices"].startswith("devices") and profile_type in got["devices"]


@pytest.mark.parametrize("profile_type", NO_DEVICE_PROFILE_TYPES)
def test_store_inhouse_and_direct_profiles_without_devices_pass(profile_type: str) -> None:
    assert reasons("profiles", {**PROFILE, "profile_type": profile_type}) == {}
    assert reasons("profiles", {**PROFILE, "profile_type": profile_type, "devices": []}) == {}


@pytest.mark.parametrize("profile_type", DEVICE_PROFILE_TYPES)
def test_development_and_ad_hoc_profiles_take_devices(profile_type: str) -> None:
    assert reasons("profiles", {**PROFILE, "profile_type": profile_type, "devices": ["D1"]}) == {}
