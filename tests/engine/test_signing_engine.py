"""examples/signing through the real engine: devices, capabilities, certificate, profile.

The tests share one stack (see :class:`SharedStack`); each names the state it starts from, so
any of them runs alone or in any order. The bad-input cases share one preview-only stack.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from .conftest import EMPTY, EmulatorHandle, SharedStack, Stack, make_stack, refused_at_preview


def up(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.run("up", "--yes")


def up_then_destroy(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.run("up", "--yes")
    stack.run("destroy", "--yes")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorHandle, engine_bin: Path) -> SharedStack:
    stack = make_stack("signing", tmp_path_factory.mktemp("signing"), emulator, engine_bin)
    return SharedStack(stack, emulator, {"deployed": up, "destroyed": up_then_destroy})


def writes(emulator: EmulatorHandle) -> list[tuple[str, str]]:
    return sorted((r["method"], r["path"].rsplit("/", 1)[0] if r["method"] != "POST" else r["path"])
                  for r in emulator.requests() if r["method"] != "GET")


def enabled_devices(emulator: EmulatorHandle) -> set[str]:
    return {d["id"] for d in emulator.objects("devices") if d["attributes"]["status"] == "ENABLED"}


def only(emulator: EmulatorHandle, rest_type: str) -> dict[str, Any]:
    objects = emulator.objects(rest_type)
    assert len(objects) == 1, objects
    return objects[0]


@pytest.mark.stack_state(EMPTY, changes=True)
def test_up_registers_everything(stack: Stack, shared: SharedStack, emulator: EmulatorHandle) -> None:
    stack.run("up", "--yes")
    bundle_id = only(emulator, "bundleIds")
    capabilities = emulator.admin("GET", "/objects/bundleIdCapabilities")["data"]
    # The program's two, and the two Apple enables on every new App ID.
    assert sorted(c["id"] for c in capabilities) == sorted(
        f"{bundle_id['id']}_{t}" for t in ("ICLOUD", "PUSH_NOTIFICATIONS", "GAME_CENTER", "IN_APP_PURCHASE")
    )
    assert len(enabled_devices(emulator)) == 3
    certificate = only(emulator, "certificates")
    profile = only(emulator, "profiles")
    assert profile["attributes"]["profileState"] == "ACTIVE"
    outputs = stack.outputs()
    assert sorted(outputs["profile_devices"]) == sorted(enabled_devices(emulator))
    assert outputs["certificate_id"] == certificate["id"]
    assert outputs["p12_password"] == "[secret]"
    shared.reached("deployed")  # what the "deployed" recipe does


@pytest.mark.stack_state("deployed", changes=False)
def test_noop_preview_shows_no_changes(stack: Stack, emulator: EmulatorHandle) -> None:
    emulator.clear_requests()
    proc = stack.run("preview", "--expect-no-changes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert writes(emulator) == []


@pytest.mark.stack_state("deployed", changes=False)
def test_refresh_reads_each_type_once_and_noop_up_sends_only_the_selector(stack: Stack, emulator: EmulatorHandle) -> None:
    """The read cache (issue 14) through the engine: eight resources refreshed with one listing
    per type (the capabilities come included with their App ID), none read on its own, in each
    of the command's two passes (`refresh` previews, then refreshes: two provider processes). A
    no-op up sends one request per pass, the profile's AllEnabledDevices selector resolved at
    check (it must see devices registered outside the program), and writes nothing."""
    emulator.clear_requests()
    stack.run("refresh", "--yes")
    listings = ["/v1/bundleIds", "/v1/certificates", "/v1/devices", "/v1/profiles"]
    assert sorted(r["path"] for r in emulator.requests()) == sorted(listings * 2)
    emulator.clear_requests()
    stack.run("up", "--yes")
    assert [(r["method"], r["path"], r["query"]) for r in emulator.requests()] == [
        ("GET", "/v1/devices", "limit=200")
    ] * 2  # the preview's check and the update's, each answered from one device listing


@pytest.mark.stack_state("deployed", changes=False)
def test_state_holds_no_plaintext_key_material(stack: Stack) -> None:
    secrets = json.loads(stack.run("stack", "output", "--json", "--show-secrets").stdout)
    exported = stack.export()
    assert "PRIVATE KEY" not in exported
    assert secrets["p12_password"] and secrets["p12_password"] not in exported
    assert secrets["p12"][:64] not in exported


@pytest.mark.stack_state("deployed", changes=True)
def test_adding_a_device_regenerates_only_the_profile(stack: Stack, emulator: EmulatorHandle) -> None:
    before = only(emulator, "profiles")
    untouched = {t: {o["id"] for o in emulator.objects(t)} for t in ("bundleIds", "certificates")}
    stack.config("deviceCount", "4")
    emulator.clear_requests()
    stack.run("up", "--yes")
    after = only(emulator, "profiles")
    assert after["id"] != before["id"] and after["attributes"]["uuid"] != before["attributes"]["uuid"]
    assert len(enabled_devices(emulator)) == 4
    assert sorted(stack.outputs()["profile_devices"]) == sorted(enabled_devices(emulator))
    assert writes(emulator) == [("DELETE", "/v1/profiles"), ("POST", "/v1/devices"), ("POST", "/v1/profiles")]
    assert {t: {o["id"] for o in emulator.objects(t)} for t in untouched} == untouched


@pytest.mark.stack_state("deployed", changes=True)
def test_certificate_revoked_out_of_band_is_drift_and_is_recreated(stack: Stack, emulator: EmulatorHandle) -> None:
    revoked = only(emulator, "certificates")
    emulator.admin("DELETE", f"/objects/certificates/{revoked['id']}")
    assert only(emulator, "profiles")["attributes"]["profileState"] == "INVALID"
    drift = stack.run("preview", "--refresh", "--expect-no-changes", check=False)
    assert drift.returncode != 0, drift.stdout + drift.stderr
    stack.run("up", "--refresh", "--yes")
    renewed = only(emulator, "certificates")
    assert renewed["id"] != revoked["id"]
    profile = only(emulator, "profiles")
    assert profile["attributes"]["profileState"] == "ACTIVE"
    assert stack.outputs()["certificate_id"] == renewed["id"]
    proc = stack.run("preview", "--refresh", "--expect-no-changes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.stack_state("deployed", changes=True)
def test_certificate_inside_renewal_window_is_renewed(stack: Stack, emulator: EmulatorHandle) -> None:
    old = only(emulator, "certificates")
    soon = (datetime.now(timezone.utc) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    emulator.admin("PATCH", f"/objects/certificates/{old['id']}", json={"attributes": {"expirationDate": soon}})
    emulator.clear_requests()
    stack.run("up", "--refresh", "--yes")
    new = only(emulator, "certificates")  # the old one was revoked after its successor existed
    assert new["id"] != old["id"]
    posts = [r["path"] for r in emulator.requests() if r["method"] == "POST"]
    deletes = [r["path"] for r in emulator.requests() if r["method"] == "DELETE"]
    assert posts.index("/v1/certificates") < deletes.index(f"/v1/certificates/{old['id']}")
    assert only(emulator, "profiles")["attributes"]["profileState"] == "ACTIVE"


@pytest.mark.stack_state("deployed", changes=True)
def test_destroy_disables_devices_and_removes_the_rest(stack: Stack, shared: SharedStack, emulator: EmulatorHandle) -> None:
    registered = enabled_devices(emulator)
    assert len(registered) == 3
    stack.run("destroy", "--yes")
    devices = emulator.objects("devices")
    assert {d["id"] for d in devices} == registered  # still there: Apple has no device delete
    assert {d["attributes"]["status"] for d in devices} == {"DISABLED"}
    for rest_type in ("certificates", "profiles", "bundleIds", "bundleIdCapabilities"):
        assert emulator.objects(rest_type) == [], rest_type
    shared.reached("destroyed")  # what the "destroyed" recipe does


@pytest.mark.stack_state("destroyed", changes=True)
def test_redeclared_devices_are_re_enabled_not_registered_again(stack: Stack, emulator: EmulatorHandle) -> None:
    disabled = {d["id"] for d in emulator.objects("devices")}
    assert len(disabled) == 3 and enabled_devices(emulator) == set()
    emulator.clear_requests()
    stack.run("up", "--yes")
    assert enabled_devices(emulator) == disabled  # the same three devices, enabled again
    assert not [r for r in emulator.requests() if r["method"] == "POST" and r["path"] == "/v1/devices"]
    stack.run("destroy", "--yes")


@pytest.mark.parametrize(
    ("case", "field", "words"),
    [
        ("bad_udid", "udid", "is not a device UDID"),
        ("unknown_capability", "capability_type", "must be one of"),
        ("unsupported_assignment", "app_groups", "cannot be set through the App Store Connect API"),
        ("setting_of_another_capability", "settings", "does not apply to ICLOUD"),
        ("unknown_profile_type", "profile_type", "must be one of"),
        ("not_a_csr", "csr_content", "is not a certificate signing request"),
    ],
)
def test_bad_input_fails_preview_naming_the_field_without_a_request(
    case: str, field: str, words: str, badinput: Stack, emulator: EmulatorHandle
) -> None:
    refused_at_preview(badinput, emulator, case, field, words)
