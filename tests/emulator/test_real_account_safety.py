"""Issue 8: what a real account must never suffer, scenario by scenario, through the provider
and the real client against the emulator.

Each test is named for its scenario and failed on the code before the fix (see the commits).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from pulumi_appstoreconnect.readcache import READS
from pulumi_appstoreconnect import AccountMismatch, CreateOnlyDrift, ProviderError
from pulumi_appstoreconnect.client import ConflictError
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.reconciler import SpecProvider

from ..providers import connect, stored

Provider = Callable[[str], SpecProvider]

BUNDLE = {"identifier": "com.example.safe", "platform": "IOS", "name": "Safe", "seed_id": None}
UDID = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"


@pytest.fixture
def provider(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Provider:
    # No real sleeping: retries of GETs wait on a fake clock.
    return connect(emulator, monkeypatch, sleep=lambda _s: None)


def objects(admin: httpx.Client, rest_type: str) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in admin.get(f"/_emulator/objects/{rest_type}").json()["data"]}


def writes(admin: httpx.Client) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in admin.get("/_emulator/requests").json()["data"] if r["method"] != "GET"]


def inject(admin: httpx.Client, *rules: dict[str, Any]) -> None:
    response = admin.post("/_emulator/faults", json={"rules": list(rules)})
    assert response.status_code in (200, 201), response.text


def refreshed(provider: SpecProvider, id_: str, outs: dict[str, Any]) -> dict[str, Any]:
    """What `pulumi refresh` stores: the read's outputs, as the engine keeps them. A refresh is
    its own provider process: it reads Apple afresh, not the listings of the run before."""
    READS.forget()
    result = provider.read(id_, stored(outs))
    assert result.id == id_
    return stored(result.outs)


# -- 1. renewal with the user's own CSR ------------------------------------------------------


@pytest.mark.parametrize("fault", ["drop_after_commit", "503"])
def test_renewal_with_own_csr_never_adopts_the_certificate_it_renews(
    fault: str, provider: Provider, admin: httpx.Client, csr: str
) -> None:
    certificates = provider("certificates")
    props = {"certificate_type": "IOS_DEVELOPMENT", "csr_content": csr, "renew_before_days": 30}
    old = certificates.create(dict(props))
    soon = (datetime.now(timezone.utc) + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    admin.patch(f"/_emulator/objects/certificates/{old.id}", json={"attributes": {"expirationDate": soon}})
    state = refreshed(certificates, old.id, old.outs)
    assert certificates.diff(old.id, state, dict(props)).replaces == ["expiration_date"]

    # The renewal's POST fails ambiguously: committed then dropped, or a 503 that did nothing.
    inject(admin, {"kind": fault, "methods": ["POST"], "path": "/v1/certificates", "times": 1})
    new = certificates.create(dict(props))
    assert new.id != old.id, "the renewal adopted the certificate it renews"
    certificates.delete(old.id, state)  # the engine revokes the old one after the new exists

    remaining = objects(admin, "certificates")
    assert set(remaining) == {new.id}  # the one the state holds is valid; no duplicate either
    assert new.outs["serial_number"] == remaining[new.id]["attributes"]["serialNumber"]


# -- 2. replacements caused by refresh, not by the program -----------------------------------


def test_refresh_read_create_only_drift_is_reported_not_replaced(provider: Provider, admin: httpx.Client) -> None:
    bundle_ids = provider("bundleIds")
    created = bundle_ids.create(dict(BUNDLE))
    admin.patch(f"/_emulator/objects/bundleIds/{created.id}", json={"attributes": {"identifier": "com.Example.Safe"}})
    state = refreshed(bundle_ids, created.id, created.outs)

    diff = bundle_ids.diff(created.id, state, dict(BUNDLE))
    assert diff.changes is True and diff.replaces == [] and not diff.delete_before_replace
    admin.delete("/_emulator/requests")
    with pytest.raises(CreateOnlyDrift) as caught:
        bundle_ids.update(created.id, state, dict(BUNDLE))
    message = str(caught.value)
    assert "identifier: App Store Connect has 'com.Example.Safe', the program says 'com.example.safe'" in message
    assert "set identifier='com.Example.Safe' in the program" in message and "pulumi up --replace" in message
    assert writes(admin) == []  # nothing deleted, nothing patched
    assert created.id in objects(admin, "bundleIds")

    # Accepting Apple's value converges; a real change in the program still replaces.
    accepted = {**BUNDLE, "identifier": "com.Example.Safe"}
    assert bundle_ids.diff(created.id, state, accepted).changes is False
    moved = {**BUNDLE, "identifier": "com.example.moved"}
    assert bundle_ids.diff(created.id, state, moved).replaces == ["identifier"]


def test_refresh_read_universal_app_id_satisfies_ios(provider: Provider, admin: httpx.Client) -> None:
    # Apple has answered UNIVERSAL to an IOS create (codemagic-ci-cd/cli-tools#45) and makes
    # App IDs UNIVERSAL in the web UI (Tinder/sign-here#19): nothing to fix, nothing to report.
    bundle_ids = provider("bundleIds")
    created = bundle_ids.create(dict(BUNDLE))
    admin.patch(f"/_emulator/objects/bundleIds/{created.id}", json={"attributes": {"platform": "UNIVERSAL"}})
    state = refreshed(bundle_ids, created.id, created.outs)
    assert state["platform"] == "UNIVERSAL"
    diff = bundle_ids.diff(created.id, state, dict(BUNDLE))
    assert diff.changes is False and diff.replaces == []


def test_refresh_read_device_platform_drift_is_reported_not_replaced(provider: Provider, admin: httpx.Client) -> None:
    devices = provider("devices")
    props = {"udid": UDID, "platform": "IOS", "name": "QA iPad", "status": "ENABLED"}
    created = devices.create(dict(props))
    admin.patch(f"/_emulator/objects/devices/{created.id}", json={"attributes": {"platform": "MAC_OS"}})
    state = refreshed(devices, created.id, created.outs)
    diff = devices.diff(created.id, state, dict(props))
    assert diff.replaces == [] and diff.changes is True
    with pytest.raises(CreateOnlyDrift, match="platform: App Store Connect has 'MAC_OS', the program says 'IOS'"):
        devices.update(created.id, state, dict(props))


def test_state_from_before_the_bookkeeping_is_never_replaced_on_a_guess(provider: Provider, admin: httpx.Client) -> None:
    # A state written before `_provenance` existed cannot tell drift from a program change:
    # the safe reading is drift (a replacement needs `--replace`).
    bundle_ids = provider("bundleIds")
    created = bundle_ids.create(dict(BUNDLE))
    legacy = {k: v for k, v in created.outs.items() if k != "_provenance"}
    diff = bundle_ids.diff(created.id, {**legacy, "platform": "MAC_OS"}, dict(BUNDLE))
    assert diff.replaces == [] and diff.changes is True


# -- 3. a 409 after an ambiguous POST ---------------------------------------------------------


def test_409_after_ambiguous_post_adopts_the_object_the_first_post_made(provider: Provider, admin: httpx.Client) -> None:
    bundle_ids = provider("bundleIds")
    # The first POST lands but its answer is lost, and the look-up after it fails too (every
    # GET attempt of it answers 503): the retry's 409 must be recognised as our own object.
    inject(
        admin,
        {"kind": "drop_after_commit", "methods": ["POST"], "path": "/v1/bundleIds", "times": 1},
        {"kind": "503", "methods": ["GET"], "path": "/v1/bundleIds", "times": 4},
    )
    created = bundle_ids.create(dict(BUNDLE))
    remote = objects(admin, "bundleIds")
    assert list(remote) == [created.id]  # one object, and the state holds it
    posts = [w for w in writes(admin) if w[0] == "POST"]
    assert posts == [("POST", "/v1/bundleIds")] * 2  # the retry answered 409


def test_409_on_an_object_that_does_not_match_names_both_values(provider: Provider, admin: httpx.Client) -> None:
    existing = admin.post(
        "/_emulator/objects/bundleIds",
        json={"attributes": {"identifier": BUNDLE["identifier"], "platform": "MAC_OS", "name": "By hand"}},
    ).json()["data"]
    inject(admin, {"kind": "drop_after_commit", "methods": ["POST"], "path": "/v1/bundleIds", "times": 1})
    with pytest.raises(ConflictError) as caught:
        provider("bundleIds").create(dict(BUNDLE))
    message = str(caught.value)
    assert existing["id"] in message and "platform 'MAC_OS' (the program says 'IOS')" in message
    assert "not managed by this stack" in message
    assert list(objects(admin, "bundleIds")) == [existing["id"]]


def test_capability_apple_already_enabled_converges(provider: Provider, admin: httpx.Client) -> None:
    bundle = provider("bundleIds").create(dict(BUNDLE))
    # Enabled out of band with other settings (as Apple enables some on every new App ID).
    admin.post(
        "/_emulator/objects/bundleIdCapabilities",
        json={
            "attributes": {"capabilityType": "ICLOUD", "settings": [
                {"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_5", "enabled": True}]}]},
            "relationships": {"bundleId": {"data": {"type": "bundleIds", "id": bundle.id}}},
        },
    )
    admin.delete("/_emulator/requests")
    wanted = [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6", "enabled": True}]}]
    capabilities = provider("bundleIdCapabilities")
    created = capabilities.create({"bundle_id": bundle.id, "capability_type": "ICLOUD", "settings": wanted})
    assert created.id == f"{bundle.id}_ICLOUD"
    assert created.outs["settings"] == wanted
    assert writes(admin) == [("POST", "/v1/bundleIdCapabilities"), ("PATCH", f"/v1/bundleIdCapabilities/{created.id}")]
    stored = objects(admin, "bundleIdCapabilities")[created.id]["attributes"]["settings"]
    assert [o["key"] for o in stored[0]["options"] if o.get("enabled", True)] == ["XCODE_6"]


# -- 4. wrong team ------------------------------------------------------------------------------


@pytest.fixture
def other_team(tmp_path: Path) -> Iterator[Emulator]:
    emu = Emulator(tmp_path / "other-team")
    yield emu
    emu.close()


def test_refresh_with_another_teams_key_fails_and_keeps_state(
    emulator: Emulator, other_team: Emulator, monkeypatch: pytest.MonkeyPatch, admin: httpx.Client
) -> None:
    assert other_team.issuer_id != emulator.issuer_id
    ours = connect(emulator, monkeypatch)("bundleIds")
    created = ours.create(dict(BUNDLE))
    theirs = connect(other_team, monkeypatch)("bundleIds")  # the stack now holds the other team's key

    with pytest.raises(AccountMismatch) as caught:
        theirs.read(created.id, created.outs)
    message = str(caught.value)
    assert emulator.issuer_id in message and other_team.issuer_id in message and created.id in message
    assert "nothing was removed from the state" in message
    with pytest.raises(AccountMismatch):
        theirs.delete(created.id, created.outs)
    with pytest.raises(AccountMismatch):
        theirs.update(created.id, created.outs, {**BUNDLE, "name": "Renamed"})
    assert created.id in objects(admin, "bundleIds")


def test_object_gone_with_the_same_account_is_still_gone(provider: Provider, admin: httpx.Client) -> None:
    bundle_ids = provider("bundleIds")
    created = bundle_ids.create(dict(BUNDLE))
    admin.delete(f"/_emulator/objects/bundleIds/{created.id}")
    gone = bundle_ids.read(created.id, created.outs)
    assert gone.id is None and gone.outs == {}


# -- 5. devices -------------------------------------------------------------------------------


def test_device_platform_change_fails_at_preview(provider: Provider) -> None:
    devices = provider("devices")
    olds = {"udid": UDID, "platform": "IOS", "name": "QA iPad", "status": "ENABLED"}
    news = {**olds, "udid": UDID.upper(), "platform": "MAC_OS"}
    result = devices.check(olds, news)
    reasons = {f.property: f.reason for f in result.failures}
    assert "registered as IOS" in reasons["platform"] and "platform='IOS'" in reasons["platform"]
    # A new UDID is a new device: its platform is free.
    assert devices.check(olds, {**news, "udid": "00008030-001A35E11A88802E"}).failures == []


def test_udid_letter_case_converges_without_replacement(provider: Provider, admin: httpx.Client) -> None:
    devices = provider("devices")
    props = {"udid": UDID.upper(), "platform": "IOS", "name": "QA iPad", "status": "ENABLED"}
    created = devices.create(dict(props))
    apple_form = objects(admin, "devices")[created.id]["attributes"]["udid"]
    assert created.outs["udid"] == apple_form  # the state keeps Apple's spelling
    for spelling in (UDID, UDID.upper()):
        assert devices.diff(created.id, refreshed(devices, created.id, created.outs), {**props, "udid": spelling}).changes is False


def test_disabled_device_on_another_platform_is_not_enabled_as_something_else(provider: Provider, admin: httpx.Client) -> None:
    admin.post("/_emulator/objects/devices", json={"attributes": {
        "udid": UDID, "platform": "IOS", "name": "Old iPad", "status": "DISABLED"}})
    admin.delete("/_emulator/requests")
    with pytest.raises(ProviderError, match="registered .* as IOS"):
        provider("devices").create({"udid": UDID, "platform": "MAC_OS", "name": "A Mac", "status": "ENABLED"})
    assert writes(admin) == []


# -- 8. validation gaps and hints ---------------------------------------------------------------


def test_seed_id_is_sent_on_create(provider: Provider, admin: httpx.Client) -> None:
    created = provider("bundleIds").create({**BUNDLE, "seed_id": "LEGACY0001"})
    assert objects(admin, "bundleIds")[created.id]["attributes"]["seedId"] == "LEGACY0001"
    assert created.outs["seed_id"] == "LEGACY0001"


def test_device_conflict_hint_never_suggests_deleting_it(provider: Provider, admin: httpx.Client) -> None:
    existing = admin.post("/_emulator/objects/devices", json={"attributes": {
        "udid": UDID, "platform": "IOS", "name": "Registered by hand", "status": "ENABLED"}}).json()["data"]
    with pytest.raises(ConflictError) as caught:
        provider("devices").create({"udid": UDID, "platform": "IOS", "name": "QA iPad", "status": "ENABLED"})
    message = str(caught.value)
    assert existing["id"] in message and "Delete it" not in message
    assert "Apple cannot delete these" in message and "set adopt=True" in message


def test_destroying_a_device_already_gone_counts_as_done(provider: Provider, admin: httpx.Client) -> None:
    devices = provider("devices")
    created = devices.create({"udid": UDID, "platform": "IOS", "name": "QA iPad", "status": "ENABLED"})
    admin.delete(f"/_emulator/objects/devices/{created.id}")  # gone, as far as the API can tell
    devices.delete(created.id, created.outs)
    assert created.id not in objects(admin, "devices")


# -- 6. certificates: a renewal at Apple's per-type limit ------------------------------------------


def test_renewal_at_the_certificate_limit_says_why_it_cannot_succeed(provider: Provider, admin: httpx.Client) -> None:
    certificates = provider("certificates")
    props = {"certificate_type": "IOS_DISTRIBUTION", "renew_before_days": 30}
    ours = certificates.create(dict(props))
    for _ in range(2):  # the team's other distribution certificates fill Apple's limit (3)
        certificates.create(dict(props))
    soon = (datetime.now(timezone.utc) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    admin.patch(f"/_emulator/objects/certificates/{ours.id}", json={"attributes": {"expirationDate": soon}})
    state = refreshed(certificates, ours.id, ours.outs)
    assert certificates.diff(ours.id, state, dict(props)).replaces == ["expiration_date"]

    with pytest.raises(ConflictError) as caught:
        certificates.create(dict(props))
    message = str(caught.value)
    assert "You already have a current" in message  # Apple's own detail stays first
    assert f"This create renews {ours.id}" in message and "delete_before_replace=True" in message
    assert len(objects(admin, "certificates")) == 3  # nothing revoked, nothing added


# -- 7. profiles regenerate after a capability change in the same run -------------------------------


def test_profile_regenerates_after_a_capability_change_in_the_same_up(provider: Provider, admin: httpx.Client) -> None:
    from pulumi_appstoreconnect.reconciler import _MEMORY

    bundle = provider("bundleIds").create(dict(BUNDLE))
    device = provider("devices").create({"udid": UDID, "platform": "IOS", "name": "QA iPad", "status": "ENABLED"})
    certificate = provider("certificates").create({"certificate_type": "IOS_DEVELOPMENT", "renew_before_days": 30})
    icloud = {"bundle_id": bundle.id, "capability_type": "ICLOUD",
              "settings": [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_5", "enabled": True}]}]}
    capability = provider("bundleIdCapabilities").create(dict(icloud))
    profile_props = {"name": "Safe development", "profile_type": "IOS_APP_DEVELOPMENT", "bundle_id": bundle.id,
                     "certificates": [certificate.id], "devices": [device.id]}
    profile = provider("profiles").create(dict(profile_props))
    assert objects(admin, "profiles")[profile.id]["attributes"]["profileState"] == "ACTIVE"

    # The next `up`, a new provider process: nothing changed yet, so the profile stays.
    _MEMORY.forget()
    profiles = provider("profiles")
    assert profiles.diff(profile.id, profile.outs, dict(profile_props)).changes is False

    # The program moves iCloud to Xcode 6; the engine updates the capability (the profile
    # depends on it), then diffs the profile: Apple has just invalidated it.
    capabilities = provider("bundleIdCapabilities")
    reconfigured = {**icloud, "settings": [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6", "enabled": True}]}]}
    assert capabilities.diff(capability.id, capability.outs, reconfigured).changes is True
    capabilities.update(capability.id, capability.outs, reconfigured)
    assert objects(admin, "profiles")[profile.id]["attributes"]["profileState"] == "INVALID"
    diff = profiles.diff(profile.id, profile.outs, dict(profile_props))
    assert diff.replaces == ["profile_state"] and diff.delete_before_replace is True
    profiles.delete(profile.id, profile.outs)
    regenerated = profiles.create(dict(profile_props))
    assert objects(admin, "profiles")[regenerated.id]["attributes"]["profileState"] == "ACTIVE"


def test_profile_regenerates_after_a_capability_is_enabled_in_the_same_up(provider: Provider, admin: httpx.Client) -> None:
    from pulumi_appstoreconnect.reconciler import _MEMORY

    bundle = provider("bundleIds").create(dict(BUNDLE))
    certificate = provider("certificates").create({"certificate_type": "IOS_DISTRIBUTION", "renew_before_days": 30})
    props = {"name": "Safe store", "profile_type": "IOS_APP_STORE", "bundle_id": bundle.id, "certificates": [certificate.id]}
    profile = provider("profiles").create(dict(props))
    _MEMORY.forget()
    # Preview of the next up: a new capability is checked (a create), then the profile diffed.
    capabilities = provider("bundleIdCapabilities")
    push = {"bundle_id": bundle.id, "capability_type": "PUSH_NOTIFICATIONS", "settings": None}
    assert capabilities.check({}, dict(push)).failures == []
    assert provider("profiles").diff(profile.id, profile.outs, dict(props)).replaces == ["profile_state"]
    # A capability on another App ID does not touch this profile.
    _MEMORY.forget()
    capabilities.check({}, {**push, "bundle_id": "SOMEOTHER1"})
    assert provider("profiles").diff(profile.id, profile.outs, dict(props)).changes is False


def test_program_change_from_an_unset_value_replaces_after_the_engine_stored_the_state(
    provider: Provider, csr: str
) -> None:
    # The engine drops None values, also inside the bookkeeping: an unset create-only value the
    # program later sets is a change in the program, not drift.
    certificates = provider("certificates")
    props = {"certificate_type": "IOS_DEVELOPMENT", "renew_before_days": 30}
    created = certificates.create(dict(props))
    state = stored(created.outs)
    assert "csr_content" not in state["_provenance"]["declared"]
    assert certificates.diff(created.id, state, dict(props)).changes is False
    assert certificates.diff(created.id, state, {**props, "csr_content": csr}).replaces == ["csr_content"]


def test_a_mac_shaped_udid_on_another_platform_fails_at_preview(provider: Provider, admin: httpx.Client) -> None:
    # Found once the emulator stopped copying the provider's specs (issue 10): Apple refuses an
    # 8-4-4-4-12 UDID (an Intel Mac's, or a simulator's) registered as an iOS device.
    devices = provider("devices")
    mac_udid = "3D7FADF5-D61B-5F6B-A254-0123456789AB"
    reasons = {f.property: f.reason for f in devices.check({}, {"udid": mac_udid, "platform": "IOS", "name": "A Mac"}).failures}
    assert "platform" in reasons and "MAC_OS" in reasons["platform"]
    assert devices.check({}, {"udid": mac_udid, "platform": "MAC_OS", "name": "A Mac"}).failures == []
    assert admin.get("/_emulator/requests").json()["data"] == []
