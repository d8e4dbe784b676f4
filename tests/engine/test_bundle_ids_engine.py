"""The bundle-ids example through the real engine: up, no-op, update, replace, drift, destroy.

The tests share one stack (see :class:`SharedStack`); each names the state it starts from, so
any of them runs alone or in any order. In file order only two resets are needed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import EMPTY, EmulatorHandle, SharedStack, Stack, make_stack

PREFIX = "com.example.skeleton"
OUT_OF_BAND_NAME = "Clicked in the web UI"
# The engine stops at the first check failure; which of the two resources that is, varies.
INVALID_IDENTIFIER = re.compile(
    r"error: pulumi-python:dynamic/appstoreconnect:BundleId resource '(?:app|widget)': property identifier "
    r"value \{(com\.example\.bad_underscore\.app(?:\.widget)?)\} has a problem: identifier '\1' is not a valid "
    r"bundle identifier: "
)


def by_identifier(emulator: EmulatorHandle) -> dict[str, dict[str, Any]]:
    return {o["attributes"]["identifier"]: o for o in emulator.objects("bundleIds")}


def writes(emulator: EmulatorHandle) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emulator.requests() if r["method"] != "GET"]


def rename_widget_out_of_band(stack: Stack, emulator: EmulatorHandle) -> None:
    target = by_identifier(emulator)[f"{PREFIX}.app.widget"]
    emulator.admin("PATCH", f"/objects/bundleIds/{target['id']}", json={"attributes": {"name": OUT_OF_BAND_NAME}})


def up(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.run("up", "--yes")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorHandle, engine_bin: Path) -> SharedStack:
    stack = make_stack("bundle-ids", tmp_path_factory.mktemp("bundle-ids"), emulator, engine_bin)
    recipes = {
        "deployed": up,
        "drifted": lambda stack, emulator: (up(stack, emulator), rename_widget_out_of_band(stack, emulator)),
    }
    return SharedStack(stack, emulator, recipes)


@pytest.mark.stack_state(EMPTY, changes=True)
def test_up_creates_both_bundle_ids(stack: Stack, shared: SharedStack, emulator: EmulatorHandle) -> None:
    stack.run("up", "--yes")
    remote = by_identifier(emulator)
    assert set(remote) == {f"{PREFIX}.app", f"{PREFIX}.app.widget"}
    assert remote[f"{PREFIX}.app"]["attributes"]["name"] == "Skeleton App"
    assert remote[f"{PREFIX}.app.widget"]["attributes"]["name"] == "Skeleton Widget"
    outputs = stack.outputs()
    assert outputs == {
        "app_id": remote[f"{PREFIX}.app"]["id"],
        "app_seed_id": emulator.emulator.team_id,
        "widget_id": remote[f"{PREFIX}.app.widget"]["id"],
    }
    shared.reached("deployed")  # what the "deployed" recipe does


@pytest.mark.stack_state("deployed", changes=False)
def test_immediate_preview_has_no_changes(stack: Stack, emulator: EmulatorHandle) -> None:
    emulator.clear_requests()
    proc = stack.run("preview", "--expect-no-changes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert writes(emulator) == []


@pytest.mark.stack_state("deployed", changes=False)
def test_secret_key_is_not_in_plaintext_state(stack: Stack, emulator: EmulatorHandle) -> None:
    exported = stack.export()
    assert "BEGIN PRIVATE KEY" not in exported
    assert emulator.emulator.private_key_pem.splitlines()[1] not in exported


@pytest.mark.stack_state("deployed", changes=True)
def test_rename_in_code_patches_in_place(stack: Stack, emulator: EmulatorHandle) -> None:
    before = by_identifier(emulator)[f"{PREFIX}.app"]["id"]
    stack.config("appName", "Skeleton App (renamed)")
    emulator.clear_requests()
    stack.run("up", "--yes")
    after = by_identifier(emulator)[f"{PREFIX}.app"]
    assert after["id"] == before
    assert after["attributes"]["name"] == "Skeleton App (renamed)"
    assert writes(emulator) == [("PATCH", f"/v1/bundleIds/{before}")]


@pytest.mark.stack_state("deployed", changes=True)
def test_identifier_change_replaces(stack: Stack, emulator: EmulatorHandle) -> None:
    old_ids = sorted(o["id"] for o in emulator.objects("bundleIds"))
    stack.config("identifierPrefix", "com.example.moved")
    emulator.clear_requests()
    stack.run("up", "--yes")
    remote = by_identifier(emulator)
    assert set(remote) == {"com.example.moved.app", "com.example.moved.app.widget"}
    assert not set(old_ids) & {o["id"] for o in remote.values()}
    assert sorted(writes(emulator)) == [
        *(("DELETE", f"/v1/bundleIds/{old}") for old in old_ids),
        ("POST", "/v1/bundleIds"),
        ("POST", "/v1/bundleIds"),
    ]


@pytest.mark.stack_state("drifted", changes=False)
def test_out_of_band_rename_is_drift_naming_the_field(stack: Stack) -> None:
    proc = stack.run("preview", "--refresh", "--expect-no-changes", "--diff", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    lines = [" ".join(line.split()) for line in output.splitlines()]
    # The refresh reads the new name; the update would put the program's back. Nothing else changes.
    assert [line for line in lines if line.startswith("~ ") and ":" in line and "(" not in line] == [
        f'~ name : "Skeleton Widget" => "{OUT_OF_BAND_NAME}"',
        f'~ name : "{OUT_OF_BAND_NAME}" => "Skeleton Widget"',
    ], output
    assert "~ 1 to update" in lines and "2 unchanged" in lines, output
    assert "error: no changes were expected for preview but changes were proposed" in lines, output


@pytest.mark.stack_state("drifted", changes=True)
def test_refresh_then_up_converges(stack: Stack, shared: SharedStack, emulator: EmulatorHandle) -> None:
    stack.run("refresh", "--yes")
    stack.run("up", "--yes")
    remote = by_identifier(emulator)[f"{PREFIX}.app.widget"]
    assert remote["attributes"]["name"] == "Skeleton Widget"
    proc = stack.run("preview", "--refresh", "--expect-no-changes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shared.reached("deployed")  # deployed and in sync, as the recipe leaves it


@pytest.mark.stack_state("deployed", changes=True)
def test_destroy_leaves_no_bundle_id(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.run("destroy", "--yes")
    assert emulator.objects("bundleIds") == []
    assert stack.outputs() == {}


@pytest.mark.stack_state(EMPTY, changes=True)
def test_invalid_identifier_fails_preview_without_a_request(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.config("identifierPrefix", "com.example.bad_underscore")
    emulator.clear_requests()
    proc = stack.run("preview", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert INVALID_IDENTIFIER.search(output), output
    assert "1 errored" in output, output
    assert emulator.requests() == []
