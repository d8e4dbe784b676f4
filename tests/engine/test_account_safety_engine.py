"""Issue 8 through the real engine: what a refresh reads never replaces anything, another team's
key loses no state, and a capability change regenerates its profile in the same `up`.

Each test makes its own stack (they all change it), so each runs alone and in any order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from .conftest import EmulatorHandle, Stack, make_stack, serving


def by_identifier(emulator: EmulatorHandle) -> dict[str, dict[str, Any]]:
    return {o["attributes"]["identifier"]: o for o in emulator.objects("bundleIds")}


def writes(emulator: EmulatorHandle) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emulator.requests() if r["method"] != "GET"]


def resources(stack: Stack) -> dict[str, str]:
    """urn -> id of every App Store Connect resource in the stack's state."""
    deployment = json.loads(stack.export())["deployment"]
    return {r["urn"]: r["id"] for r in deployment.get("resources", []) if "appstoreconnect" in r["type"]}


@pytest.fixture
def bundle_ids(tmp_path: Path, emulator: EmulatorHandle, engine_bin: Path) -> Stack:
    emulator.admin("POST", "/reset")
    stack = make_stack("bundle-ids", tmp_path, emulator, engine_bin)
    stack.run("up", "--yes")
    return stack


def test_refresh_read_create_only_drift_is_reported_and_up_replaces_nothing(
    bundle_ids: Stack, emulator: EmulatorHandle
) -> None:
    widget = by_identifier(emulator)["com.example.skeleton.app.widget"]
    emulator.admin("PATCH", f"/objects/bundleIds/{widget['id']}", json={"attributes": {"platform": "MAC_OS"}})

    preview = bundle_ids.run("preview", "--refresh", "--expect-no-changes", "--diff", check=False)
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0, output
    assert re.search(r'~ platform\s*: "MAC_OS" => "IOS"', output), output
    assert f"warning: bundleIds {widget['id']} differs from the program" in output
    assert "platform: App Store Connect has 'MAC_OS', the program says 'IOS'" in output
    assert "replace" not in re.sub(r"(?s)warning:.*", "", output).lower()  # no step replaces anything

    emulator.clear_requests()
    up = bundle_ids.run("up", "--refresh", "--yes", check=False)
    assert up.returncode != 0
    assert "set platform='MAC_OS' in the program" in up.stdout + up.stderr
    assert writes(emulator) == []  # nothing deleted, created or patched
    assert by_identifier(emulator)["com.example.skeleton.app.widget"]["id"] == widget["id"]


def test_universal_app_id_read_by_refresh_is_no_change(bundle_ids: Stack, emulator: EmulatorHandle) -> None:
    widget = by_identifier(emulator)["com.example.skeleton.app.widget"]
    emulator.admin("PATCH", f"/objects/bundleIds/{widget['id']}", json={"attributes": {"platform": "UNIVERSAL"}})
    preview = bundle_ids.run("preview", "--refresh", "--expect-no-changes", check=False)
    assert preview.returncode == 0, preview.stdout + preview.stderr


@pytest.fixture
def other_team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    with serving(tmp_path_factory.mktemp("other-team")) as handle:
        yield handle


def use_key_from_environment(stack: Stack, emulator: EmulatorHandle) -> None:
    """Credentials from the job's environment, as CI often gives them (not stack config)."""
    emu = emulator.emulator
    stack.env.update(
        ASC_BASE_URL=emulator.base_url, ASC_KEY_ID=emu.key_id, ASC_ISSUER_ID=emu.issuer_id,
        ASC_PRIVATE_KEY=emu.private_key_pem,
    )


def test_refresh_with_another_teams_key_fails_and_keeps_every_resource(
    tmp_path: Path, emulator: EmulatorHandle, other_team: EmulatorHandle, engine_bin: Path
) -> None:
    emulator.admin("POST", "/reset")
    stack = make_stack("bundle-ids", tmp_path, emulator, engine_bin)
    for key in ("baseUrl", "keyId", "issuerId", "privateKey"):
        stack.run("config", "rm", f"appstoreconnect:{key}")
    use_key_from_environment(stack, emulator)
    stack.run("up", "--yes")
    before = resources(stack)
    assert len(before) == 2

    # The job runs with another team's key: every object answers 404 there.
    use_key_from_environment(stack, other_team)
    for command in (["refresh", "--yes"], ["up", "--refresh", "--yes"], ["destroy", "--yes"]):
        proc = stack.run(*command, check=False)
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0, (command, output)
        assert emulator.emulator.issuer_id in output and other_team.emulator.issuer_id in output, output
        assert "nothing was removed from the state" in output
        assert resources(stack) == before, command
    assert other_team.objects("bundleIds") == []  # nothing was made in the wrong team
    assert {o["id"] for o in emulator.objects("bundleIds")} == set(before.values())

    # Back on the right key, everything is where it was.
    use_key_from_environment(stack, emulator)
    proc = stack.run("preview", "--refresh", "--expect-no-changes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_capability_change_regenerates_the_profile_in_the_same_up(
    tmp_path: Path, emulator: EmulatorHandle, engine_bin: Path
) -> None:
    emulator.admin("POST", "/reset")
    stack = make_stack("signing", tmp_path, emulator, engine_bin)
    stack.run("up", "--yes")
    (before,) = emulator.objects("profiles")
    assert before["attributes"]["profileState"] == "ACTIVE"

    stack.config("icloudVersion", "XCODE_5")
    preview = stack.run("preview", "--diff", check=False)
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert re.search(r"\+-\s*pulumi-python:dynamic/appstoreconnect:Profile: \(replace\)", preview.stdout), preview.stdout

    stack.run("up", "--yes")
    (after,) = emulator.objects("profiles")
    assert after["id"] != before["id"] and after["attributes"]["profileState"] == "ACTIVE"
    proc = stack.run("preview", "--refresh", "--expect-no-changes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stack.run("destroy", "--yes")
