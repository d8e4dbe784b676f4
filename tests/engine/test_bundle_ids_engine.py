"""The bundle-ids example through the real engine: up, no-op, update, replace, drift, destroy.

The steps share one stack and run in file order, as a user's pull requests would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import EmulatorHandle, Stack, make_stack

PREFIX = "com.example.skeleton"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorHandle, engine_bin: Path) -> Stack:
    emulator.admin("POST", "/reset")
    return make_stack("bundle-ids", tmp_path_factory.mktemp("bundle-ids"), emulator, engine_bin)


def by_identifier(emulator: EmulatorHandle) -> dict[str, dict[str, Any]]:
    return {o["attributes"]["identifier"]: o for o in emulator.objects("bundleIds")}


def writes(emulator: EmulatorHandle) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emulator.requests() if r["method"] != "GET"]


def test_up_creates_both_bundle_ids(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.run("up", "--yes")
    remote = by_identifier(emulator)
    assert set(remote) == {f"{PREFIX}.app", f"{PREFIX}.app.widget"}
    assert remote[f"{PREFIX}.app"]["attributes"]["name"] == "Skeleton App"
    outputs = stack.outputs()
    assert outputs["app_id"] == remote[f"{PREFIX}.app"]["id"]
    assert outputs["app_seed_id"] == emulator.emulator.team_id


def test_immediate_preview_has_no_changes(stack: Stack, emulator: EmulatorHandle) -> None:
    emulator.clear_requests()
    proc = stack.run("preview", "--expect-no-changes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert writes(emulator) == []


def test_rename_in_code_patches_in_place(stack: Stack, emulator: EmulatorHandle) -> None:
    before = by_identifier(emulator)[f"{PREFIX}.app"]["id"]
    stack.config("appName", "Skeleton App (renamed)")
    emulator.clear_requests()
    stack.run("up", "--yes")
    after = by_identifier(emulator)[f"{PREFIX}.app"]
    assert after["id"] == before
    assert after["attributes"]["name"] == "Skeleton App (renamed)"
    assert writes(emulator) == [("PATCH", f"/v1/bundleIds/{before}")]


def test_identifier_change_replaces(stack: Stack, emulator: EmulatorHandle) -> None:
    old_ids = {o["id"] for o in emulator.objects("bundleIds")}
    stack.config("identifierPrefix", "com.example.moved")
    emulator.clear_requests()
    stack.run("up", "--yes")
    remote = by_identifier(emulator)
    assert set(remote) == {"com.example.moved.app", "com.example.moved.app.widget"}
    assert not old_ids & {o["id"] for o in remote.values()}
    methods = sorted(method for method, _ in writes(emulator))
    assert methods == ["DELETE", "DELETE", "POST", "POST"]


def test_out_of_band_rename_is_drift_naming_the_field(stack: Stack, emulator: EmulatorHandle) -> None:
    target = by_identifier(emulator)["com.example.moved.app.widget"]
    emulator.admin("PATCH", f"/objects/bundleIds/{target['id']}", json={"attributes": {"name": "Clicked in the web UI"}})
    proc = stack.run(
        "preview", "--refresh", "--expect-no-changes", "--diff", check=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "name" in output and "Clicked in the web UI" in output, output


def test_refresh_then_up_converges(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.run("refresh", "--yes")
    stack.run("up", "--yes")
    remote = by_identifier(emulator)["com.example.moved.app.widget"]
    assert remote["attributes"]["name"] == "Skeleton Widget"
    proc = stack.run("preview", "--refresh", "--expect-no-changes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_secret_key_is_not_in_plaintext_state(stack: Stack, emulator: EmulatorHandle) -> None:
    exported = stack.export()
    assert "BEGIN PRIVATE KEY" not in exported
    assert emulator.emulator.private_key_pem.splitlines()[1] not in exported


def test_destroy_leaves_no_bundle_id(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.run("destroy", "--yes")
    assert emulator.objects("bundleIds") == []


def test_invalid_identifier_fails_preview_without_a_request(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.config("identifierPrefix", "com.example.bad_underscore")
    emulator.clear_requests()
    proc = stack.run("preview", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "identifier" in output and "not a valid bundle identifier" in output, output
    assert emulator.requests() == []
