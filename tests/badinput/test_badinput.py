"""Bad inputs for every resource fail at check (preview), naming the property, and write nothing.

Two halves: a table of realistic mistakes per resource input, and property-based cases
(hypothesis) for every input field of every spec: wrong types, values outside enums,
identifiers and UDIDs with characters Apple refuses, unknown property names. Each case runs
the real provider's ``check`` with its client wired to the emulator, then asserts the emulator
saw no write (selector resolution may read; nothing may be created, changed or deleted).
"""

from __future__ import annotations

import string
from collections import Counter
from typing import Any, Callable, Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.emulator.seeding import load_seed
from pulumi_appstoreconnect.reconciler import SpecProvider
from pulumi_appstoreconnect.resources import SPECS_BY_TYPE as SPECS

from ..providers import connect
from . import media_cases, metadata_cases

TALLY: Counter[str] = Counter()  # reported at the end of the run (conftest.py)

VALID: dict[str, dict[str, Any]] = {
    "bundleIds": {"identifier": "com.example.app", "platform": "IOS", "name": "App"},
    "bundleIdCapabilities": {"bundle_id": "ABCDE12345", "capability_type": "ICLOUD",
                             "settings": [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6"}]}]},
    "devices": {"udid": "00008030-001A35E11A88802E", "platform": "IOS", "name": "Phone"},
    "certificates": {"certificate_type": "IOS_DEVELOPMENT"},
    "profiles": {"name": "Dev", "profile_type": "IOS_APP_DEVELOPMENT", "bundle_id": "ABCDE12345",
                 "certificates": ["CERT123456"], "devices": ["DEV1234567"]},
    "betaGroups": {"app": "6450000001", "name": "Friends", "public_link_enabled": True, "public_link_limit": 100,
                   "builds": ["BUILD1"], "testers": ["TESTER1"]},
    "betaTesters": {"email": "ada@example.com", "first_name": "Ada", "groups": ["GROUP1"]},
    "betaAppLocalizations": {"app": "6450000001", "locale": "en-US", "description": "Try it",
                             "feedback_email": "beta@example.com", "marketing_url": "https://example.com",
                             "privacy_policy_url": "https://example.com/privacy"},
    "betaBuildLocalizations": {"build": "BUILD1", "locale": "fr-FR", "whats_new": "Tout"},
    # One per app, made by Apple: check looks the app's up (the module's emulator has the app).
    "betaAppReviewDetails": {"app": "6450000001", "contact_email": "review@example.com", "demo_account_password": "pw"},
    "betaLicenseAgreements": {"app": "6450000001", "agreement_text": "Be kind."},
}

# (resource, property, bad value, words the reason must contain)
TABLE: list[tuple[str, str, Any, str]] = [
    ("bundleIds", "identifier", "com.example.my_app", "not a valid bundle identifier"),
    ("bundleIds", "identifier", "com.*.app", "wildcard"),
    ("bundleIds", "identifier", "com.example.", "not a valid bundle identifier"),
    ("bundleIds", "identifier", "com.exämple.app", "not a valid bundle identifier"),
    ("bundleIds", "identifier", None, "required"),
    ("bundleIds", "identifier", "com.example.app\n", "not a valid bundle identifier"),  # found by hypothesis
    ("bundleIds", "platform", "SERVICES", "must be one of"),
    ("bundleIds", "platform", "ios", "must be one of"),
    ("bundleIds", "name", "", "must not be empty"),
    ("bundleIds", "name", 42, "valid string"),
    ("bundleIds", "seed_id", "abcde12345", "is not an App ID prefix"),
    ("bundleIdCapabilities", "capability_type", "GAME_CENTRE", "must be one of"),
    ("bundleIdCapabilities", "bundle_id", None, "required"),
    ("bundleIdCapabilities", "settings", [{"key": "ICLOUD_VERSION"}], "options"),
    ("bundleIdCapabilities", "settings", [{"key": "ICLOUD_VERSION", "options": [{"key": "COMPLETE_PROTECTION"}]}], "not valid for ICLOUD_VERSION"),
    ("bundleIdCapabilities", "settings", [{"key": "DATA_PROTECTION_PERMISSION_LEVEL", "options": []}], "does not apply to ICLOUD"),
    ("bundleIdCapabilities", "app_groups", ["group.com.example"], "cannot be set through the App Store Connect API"),
    ("bundleIdCapabilities", "icloud_containers", ["iCloud.com.example"], "cannot be set through the App Store Connect API"),
    ("bundleIdCapabilities", "merchant_ids", ["merchant.com.example"], "cannot be set through the App Store Connect API"),
    ("bundleIdCapabilities", "associated_domains", ["applinks:example.com"], "entitlements"),
    ("devices", "udid", "00008030001A35E11A88802E", "is not a device UDID"),
    ("devices", "udid", "zz008030-001A35E11A88802E", "is not a device UDID"),
    ("devices", "udid", "a1b2c3d4e5f60718293a4b5c6d7e8f901234567", "is not a device UDID"),
    ("devices", "udid", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678\n", "is not a device UDID"),
    ("devices", "platform", "TV_OS", "must be one of"),
    ("devices", "name", "x" * 51, "at most 50"),
    ("devices", "status", "LOST", "must be one of"),
    ("devices", "device_class", "IPHONE", "set by Apple"),
    ("devices", "platform", "UNIVERSAL", "must be one of IOS, MAC_OS"),
    ("certificates", "certificate_type", "APPLE_DEVELOPMENT", "must be one of"),
    ("certificates", "csr_content", "hello", "not a certificate signing request"),
    ("certificates", "csr_content", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----", "not a certificate signing request"),
    ("certificates", "renew_before_days", -1, "between 0 and 365"),
    ("certificates", "renew_before_days", "soon", "valid integer"),
    ("certificates", "renew_before_days", 365, "one year"),
    ("bundleIds", "adopt", "", "must be true"),
    ("bundleIds", "adopt", 3.5, "adopt"),
    ("bundleIdCapabilities", "adopt", " ID1 ", "must be true"),
    ("devices", "adopt", [], "adopt"),
    ("certificates", "adopt", {}, "adopt"),
    ("profiles", "adopt", "", "must be true"),
    ("certificates", "certificate_type", "PASS_TYPE_ID", "relationships.passTypeId"),
    ("certificates", "certificate_type", "APPLE_PAY", "relationships.merchantId"),
    ("certificates", "p12_password", "hunter2", "made by the provider"),
    ("profiles", "profile_type", "IOS_APP_SIDELOAD", "must be one of"),
    ("profiles", "name", "   ", "must not be empty"),
    ("profiles", "certificates", "CERT123456", "valid list"),
    ("profiles", "certificates", {"kind": "allValidCertificates", "certificate_types": []}, "at least 1 item"),
    ("profiles", "certificates", {"kind": "allValidCertificates", "certificate_types": ["IOS_DEVELOPMENT"], "renew_before_days": 400}, "renew_before_days"),
    ("profiles", "devices", {"kind": "allEnabledDevices", "platform": "WATCH_OS"}, "platform"),
    ("profiles", "devices", {"kind": "allEnabledDevices", "platform": "UNIVERSAL"}, "platform"),
    ("profiles", "devices", {"kind": "allEnabledDevices", "platform": "IOS", "device_classes": ["TOASTER"]}, "device_classes"),
    ("profiles", "uuid", "1234", "set by Apple"),
    ("profiles", "bundle_id", None, "required"),
    ("profiles", "bundle_id", ["ABCDE12345"], "valid string"),
    # TestFlight (issue 11): bad e-mails, unknown locales, limits above Apple's maximum.
    ("betaGroups", "app", None, "required"),
    ("betaGroups", "name", " ", "must not be empty"),
    ("betaGroups", "public_link_limit", 10_001, "1 to 10,000"),
    ("betaGroups", "public_link_limit", 0, "1 to 10,000"),
    ("betaGroups", "has_access_to_all_builds", True, "internal groups only"),
    ("betaGroups", "builds", "BUILD1", "valid list"),
    ("betaGroups", "is_internal_group", "yes", "valid boolean"),
    ("betaGroups", "adopt", "", "must be true"),
    ("betaTesters", "email", "ada.example.com", "is not an e-mail address"),
    ("betaTesters", "email", "ada@example", "is not an e-mail address"),
    ("betaTesters", "email", "ada @example.com", "is not an e-mail address"),
    ("betaTesters", "groups", [1, 2], "valid string"),
    ("betaTesters", "adopt", "", "must be true"),
    ("betaTesters", "state", "INVITED", "set by Apple"),
    ("betaAppLocalizations", "app", None, "required"),
    ("betaAppLocalizations", "locale", "en-XX", "is not a locale App Store Connect takes"),
    ("betaAppLocalizations", "locale", "en_us", "spelt 'en-US'"),
    ("betaAppLocalizations", "locale", "klingon", "is not a locale"),
    ("betaAppLocalizations", "feedback_email", "beta@", "is not an e-mail address"),
    ("betaAppLocalizations", "marketing_url", "example.com", "is not a web address"),
    ("betaAppLocalizations", "privacy_policy_url", "ftp://example.com/privacy", "is not a web address"),
    ("betaAppLocalizations", "adopt", "", "must be true"),
    ("betaBuildLocalizations", "build", None, "required"),
    ("betaBuildLocalizations", "locale", "fr", "for this language Apple takes fr-FR, fr-CA"),
    ("betaBuildLocalizations", "adopt", "", "must be true"),
    ("betaAppReviewDetails", "app", None, "required"),
    ("betaAppReviewDetails", "contact_email", "review at example.com", "is not an e-mail address"),
    ("betaLicenseAgreements", "app", None, "required"),
]

# Rules across fields: (resource, inputs over the valid ones, the field named, words).
CROSS_FIELD: list[tuple[str, dict[str, Any], str, str]] = [
    ("betaGroups", {"is_internal_group": True, "public_link_enabled": True, "builds": None}, "public_link_enabled", "public links are for external groups"),
    ("betaGroups", {"is_internal_group": True, "public_link_enabled": None, "public_link_limit": 50, "builds": None}, "public_link_limit", "public links are for external groups"),
    ("betaGroups", {"is_internal_group": True, "has_access_to_all_builds": True, "public_link_enabled": None, "public_link_limit": None}, "builds", "refuses assigning it builds"),
    ("betaTesters", {"groups": None, "delete_on_destroy": True}, "delete_on_destroy", "give groups"),
]
TABLE += metadata_cases.TABLE + media_cases.TABLE
VALID.update(metadata_cases.VALID)
VALID.update(media_cases.VALID)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = Emulator(tmp_path_factory.mktemp("badinput"))
    load_seed(emu, "demo")  # the apps (and their beta review details, versions) the resources adopt
    for rest_type, objects in media_cases.SEED.items():  # a localization the media sets hang off
        with httpx.Client(transport=httpx.WSGITransport(app=emu.app), base_url="http://emulator") as admin:
            assert admin.post(f"/_emulator/objects/{rest_type}", json=objects).status_code == 201
    yield emu
    emu.close()


@pytest.fixture(scope="module")
def provider(emulator: Emulator) -> Iterator[Callable[[str], SpecProvider]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield connect(emulator, monkeypatch)


def writes(emulator: Emulator) -> list[str]:
    with httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url="http://emulator") as admin:
        log = admin.get("/_emulator/requests").json()["data"]
    return [f"{r['method']} {r['path']}" for r in log if r["method"] != "GET"]


def assert_rejected(provider: Callable[[str], SpecProvider], emulator: Emulator, rest_type: str,
                    news: dict[str, Any], field: str, words: str = "") -> None:
    TALLY["tried"] += 1
    result = provider(rest_type).check({}, {"__provider": "pickled", **news})
    reasons = {f.property: f.reason for f in result.failures}
    assert field in reasons, f"{rest_type}.{field}={news.get(field)!r} was accepted: {reasons}"
    assert words in reasons[field], reasons[field]
    assert writes(emulator) == []
    TALLY["rejected"] += 1


@pytest.mark.parametrize(("rest_type", "field", "value", "words"), TABLE, ids=[f"{t}.{f}={v!r}"[:60] for t, f, v, _ in TABLE])
def test_table_of_realistic_mistakes(provider, emulator, rest_type: str, field: str, value: Any, words: str) -> None:  # type: ignore[no-untyped-def]
    assert_rejected(provider, emulator, rest_type, {**VALID[rest_type], field: value}, field, words)


@pytest.mark.parametrize(("rest_type", "change", "field", "words"), CROSS_FIELD, ids=[f"{t}.{f}" for t, _, f, _ in CROSS_FIELD])
def test_rules_across_fields_name_the_field(provider, emulator, rest_type: str, change: dict[str, Any], field: str, words: str) -> None:  # type: ignore[no-untyped-def]
    assert_rejected(provider, emulator, rest_type, {**VALID[rest_type], **change}, field, words)


def test_every_spec_and_every_input_field_is_covered_by_the_table() -> None:
    covered = {(t, f) for t, f, _, _ in TABLE}
    missing = [
        f"{rest_type}.{f.name}"
        for rest_type, spec in SPECS.items()
        for f in spec.fields
        if f.is_input and (f.checks or f.enum_values or f.required) and (rest_type, f.name) not in covered
    ]
    assert missing == [], f"add bad-input cases for {missing}"


def test_the_valid_baselines_pass(provider) -> None:  # type: ignore[no-untyped-def]
    for rest_type, news in VALID.items():
        assert provider(rest_type).check({}, dict(news)).failures == [], rest_type


# -- property-based -------------------------------------------------------------------------

INPUT_FIELDS = [(t, f) for t, spec in SPECS.items() for f in spec.fields if f.is_input]
ENUM_FIELDS = [(t, f) for t, f in INPUT_FIELDS if f.enum_values]
COMPUTED_FIELDS = [(t, f) for t, spec in SPECS.items() for f in spec.fields if not f.is_input]
# What the provider makes itself when it generates a certificate's key (not Apple).
PROVIDER_MADE = {"certificate_pem", "private_key_pem", "p12", "p12_password"}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
GARBAGE = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.booleans(),
    st.dictionaries(st.text(max_size=5), st.integers(), min_size=1, max_size=3),
    st.lists(st.integers(), min_size=1, max_size=3),
)


@pytest.mark.parametrize(("rest_type", "field"), ENUM_FIELDS, ids=[f"{t}.{f.name}" for t, f in ENUM_FIELDS])
@SETTINGS
@given(data=st.data())
def test_values_outside_an_enum_are_rejected(provider, emulator, rest_type, field, data) -> None:  # type: ignore[no-untyped-def]
    value = data.draw(st.text(max_size=30).filter(lambda s: s not in field.enum_values))
    assert_rejected(provider, emulator, rest_type, {**VALID[rest_type], field.name: value}, field.name, "must be one of")


@pytest.mark.parametrize(("rest_type", "field"), INPUT_FIELDS, ids=[f"{t}.{f.name}" for t, f in INPUT_FIELDS])
@SETTINGS
@given(value=GARBAGE)
def test_wrong_types_are_rejected_naming_the_field(provider, emulator, rest_type, field, value) -> None:  # type: ignore[no-untyped-def]
    if field.name == "renew_before_days" and isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 365 and value == int(value):
        return  # a whole number of days in range is a valid value
    if field.name == "public_link_limit" and isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= 10_000 and value == int(value):
        return  # a whole number of testers in range is a valid value
    if field.name == "processing_timeout" and isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= 86_400 and value == int(value):
        return  # a whole number of seconds is a valid bound
    if isinstance(value, bool) and _takes_booleans(field):
        return  # adopt=True/False is the option itself; a boolean field takes booleans
    assert_rejected(provider, emulator, rest_type, {**VALID[rest_type], field.name: value}, field.name)


def _takes_booleans(field: Any) -> bool:
    try:
        TypeAdapter(field.annotation).validate_python(True)
    except ValidationError:
        return False
    return True


@SETTINGS
@given(identifier=st.text(min_size=1, max_size=40).filter(lambda s: set(s) - set(string.ascii_letters + string.digits + ".-*")))
def test_identifiers_with_characters_apple_refuses(provider, emulator, identifier: str) -> None:  # type: ignore[no-untyped-def]
    assert_rejected(provider, emulator, "bundleIds", {**VALID["bundleIds"], "identifier": identifier}, "identifier")


@SETTINGS
@given(udid=st.one_of(
    st.text(alphabet="0123456789abcdef", min_size=1, max_size=60).filter(lambda s: len(s) != 40),
    st.text(min_size=40, max_size=40).filter(lambda s: set(s.lower()) - set("0123456789abcdef")),
))
def test_udids_of_the_wrong_shape(provider, emulator, udid: str) -> None:  # type: ignore[no-untyped-def]
    assert_rejected(provider, emulator, "devices", {**VALID["devices"], "udid": udid}, "udid", "is not a device UDID")


@pytest.mark.parametrize("rest_type", sorted(SPECS))
@SETTINGS
@given(name=st.from_regex(r"\A[a-z][a-z_]{2,20}\Z"))
def test_unknown_property_names_are_reported(provider, emulator, rest_type: str, name: str) -> None:  # type: ignore[no-untyped-def]
    if name in {f.name for f in SPECS[rest_type].fields}:
        return
    assert_rejected(provider, emulator, rest_type, {**VALID[rest_type], name: "x"}, name)


@pytest.mark.parametrize(("rest_type", "field"), COMPUTED_FIELDS, ids=[f"{t}.{f.name}" for t, f in COMPUTED_FIELDS])
def test_outputs_cannot_be_given_as_inputs(provider, emulator, rest_type, field) -> None:  # type: ignore[no-untyped-def]
    words = "made by the provider" if field.name in PROVIDER_MADE else "set by Apple"
    assert_rejected(provider, emulator, rest_type, {**VALID[rest_type], field.name: "x"}, field.name, words)
