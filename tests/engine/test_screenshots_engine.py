"""examples/app-metadata's screenshots and app preview through the real engine against the
emulator's demo account: two screenshot sets (iPhone 6.7", iPad 13") and a preview set, from
the stand-in files the example writes on its first run. What each up sends is read from the
emulator's request log, upload PUTs included. The tests share one stack (:class:`SharedStack`);
each names the state it starts from, so any of them runs alone or in any order."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import pytest

from pulumi_appstoreconnect.emulator.seeding import load_seed
from tests.media_support import IPHONE, png

from .conftest import EmulatorHandle, SharedStack, Stack, make_stack, refused_at_preview

SEEDED = "seeded"  # the demo account, nothing deployed
DEPLOYED = "deployed"
PART = 8192  # each ~15 kB stand-in travels in two parts
SECOND = "media/iphone-2-streak.png"


def seeded(stack: Stack, emulator: EmulatorHandle) -> None:
    load_seed(emulator.emulator, "demo")
    emulator.admin("PUT", "/media", json={"partSize": PART, "processingSeconds": 0.5})


def deployed(stack: Stack, emulator: EmulatorHandle) -> None:
    seeded(stack, emulator)
    stack.run("up", "--yes")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorHandle, engine_bin: Any) -> SharedStack:
    stack = make_stack("app-metadata", tmp_path_factory.mktemp("screenshots"), emulator, engine_bin)
    return SharedStack(stack, emulator, {SEEDED: seeded, DEPLOYED: deployed})


def sent(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    """The requests since the last look (the log is cleared)."""
    requests = emulator.requests()
    emulator.clear_requests()
    return requests


def count(requests: list[dict[str, Any]], method: str, prefix: str) -> int:
    return sum(1 for r in requests if r["method"] == method and r["path"].startswith(prefix))


def uploads(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in requests if r["path"].startswith("/_uploads/")]


def screenshots(emulator: EmulatorHandle, display: str = "APP_IPHONE_67") -> list[dict[str, Any]]:
    """The set's screenshots in Apple's order."""
    media_set = next(s for s in emulator.objects("appScreenshotSets") if s["attributes"]["screenshotDisplayType"] == display)
    by_id = {o["id"]: o for o in emulator.objects("appScreenshots")}
    stored = emulator.emulator.store.get("appScreenshotSets", media_set["id"])
    assert stored is not None
    return [by_id[i] for i in stored.relationships["appScreenshots"]]  # type: ignore[union-attr]


def md5(stack: Stack, path: str) -> str:
    return hashlib.md5((stack.program / path).read_bytes()).hexdigest()


def replace_second(stack: Stack, colour: tuple[int, int, int]) -> str:
    """Write another image over the second iPhone screenshot; its MD5."""
    (stack.program / SECOND).write_bytes(png(*IPHONE, colour))
    return md5(stack, SECOND)


@pytest.mark.stack_state(SEEDED, changes=True)
def test_the_first_up_uploads_every_file(stack: Stack, shared: SharedStack, emulator: EmulatorHandle) -> None:
    sent(emulator)
    stack.run("up", "--yes")
    requests = sent(emulator)
    files = sorted((stack.program / "media").iterdir())
    assert len(files) == 6  # written by the example's placeholders.py: 3 iPhone, 2 iPad, 1 preview
    assert count(requests, "POST", "/v1/appScreenshots") == 5 and count(requests, "POST", "/v1/appPreviews") == 1
    assert count(requests, "PATCH", "/v1/appScreenshots/") == 5  # one commit each
    puts = uploads(requests)
    assert len(puts) == sum(-(-f.stat().st_size // PART) for f in files) > len(files)  # in parts
    assert sum(r["bytes"] for r in puts) == sum(f.stat().st_size for f in files)
    iphone = screenshots(emulator)
    assert [s["attributes"]["sourceFileChecksum"] for s in iphone] == [
        md5(stack, f"media/{name}") for name in ("iphone-1-today.png", "iphone-2-streak.png", "iphone-3-share.png")
    ]
    assert {s["attributes"]["assetDeliveryState"]["state"] for s in emulator.objects("appScreenshots")} == {"COMPLETE"}
    preview = emulator.objects("appPreviews")[0]["attributes"]
    assert preview["videoDeliveryState"]["state"] == "COMPLETE" and preview["previewFrameTimeCode"] == "00:00:02:00"
    print(f"screenshots first up: {len(requests)} requests, {len(puts)} upload PUTs, {sum(r['bytes'] for r in puts)} bytes")
    shared.reached(DEPLOYED)


@pytest.mark.stack_state(DEPLOYED, changes=False)
def test_a_no_op_up_uploads_nothing(stack: Stack, emulator: EmulatorHandle) -> None:
    sent(emulator)
    stack.run("up", "--yes")
    requests = sent(emulator)
    assert uploads(requests) == [] and [r for r in requests if r["method"] != "GET"] == []
    stack.run("preview", "--refresh", "--expect-no-changes")
    assert uploads(sent(emulator)) == []


@pytest.mark.stack_state(DEPLOYED, changes=True)
def test_changing_one_image_replaces_exactly_that_one(stack: Stack, emulator: EmulatorHandle) -> None:
    before = [s["id"] for s in screenshots(emulator)]
    checksum = replace_second(stack, (250, 20, 120))
    sent(emulator)
    stack.run("up", "--yes")
    requests = sent(emulator)
    after = screenshots(emulator)
    assert count(requests, "POST", "/v1/appScreenshots") == 1 and count(requests, "POST", "/v1/appPreviews") == 0
    assert [r["path"] for r in requests if r["method"] == "DELETE"] == [f"/v1/appScreenshots/{before[1]}"]
    assert {r["path"].split("/")[3] for r in uploads(requests)} == {after[1]["id"]}  # only the new one's parts
    assert [s["id"] for s in after][::2] == before[::2] and after[1]["attributes"]["sourceFileChecksum"] == checksum
    stack.run("preview", "--refresh", "--expect-no-changes")


@pytest.mark.stack_state(DEPLOYED, changes=True)
def test_reordering_uploads_nothing(stack: Stack, emulator: EmulatorHandle) -> None:
    before = [s["id"] for s in screenshots(emulator)]
    stack.config("iphoneOrder", "3,1,2")
    sent(emulator)
    stack.run("up", "--yes")
    requests = sent(emulator)
    iphone_set = next(s["id"] for s in emulator.objects("appScreenshotSets") if s["attributes"]["screenshotDisplayType"] == "APP_IPHONE_67")
    assert [(r["method"], r["path"]) for r in requests if r["method"] != "GET"] == [
        ("PATCH", f"/v1/appScreenshotSets/{iphone_set}/relationships/appScreenshots")
    ]
    assert uploads(requests) == [] and [s["id"] for s in screenshots(emulator)] == [before[2], before[0], before[1]]


@pytest.mark.stack_state(DEPLOYED, changes=True)
def test_a_processing_failure_fails_the_up_naming_the_file_and_the_fixed_file_converges(stack: Stack, emulator: EmulatorHandle) -> None:
    broken = replace_second(stack, (1, 2, 3))
    emulator.admin("POST", "/media/failures", json={"sourceFileChecksum": broken, "code": "IMAGE_TOOL_FAILURE", "description": "Unreadable image"})
    failed = stack.run("up", "--yes", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert f"{SECOND} (appScreenshots " in output and "IMAGE_TOOL_FAILURE - Unreadable image" in output
    assert broken not in [s["attributes"]["sourceFileChecksum"] for s in screenshots(emulator)]  # the failed upload is gone
    fixed = replace_second(stack, (3, 2, 1))
    stack.run("up", "--yes")
    assert [s["attributes"]["sourceFileChecksum"] for s in screenshots(emulator)][1] == fixed
    stack.run("preview", "--refresh", "--expect-no-changes")


@pytest.mark.stack_state(DEPLOYED, changes=True)
def test_an_interrupted_upload_converges_on_the_next_up_with_no_duplicate(stack: Stack, emulator: EmulatorHandle) -> None:
    checksum = replace_second(stack, (90, 90, 9))
    # Between the reservation and the commit: the first part never arrives, and the clean-up
    # DELETE fails too, so the reservation is left awaiting upload, as a killed run leaves it.
    emulator.admin("POST", "/faults", json=[
        {"kind": "drop_before_commit", "methods": ["PUT"], "path": "/_uploads/appScreenshots/*/1"},
        {"kind": "503", "methods": ["DELETE"], "path": "/v1/appScreenshots/*", "times": 4},
    ])
    failed = stack.run("up", "--yes", check=False)
    assert failed.returncode != 0 and "part 1 of iphone-2-streak.png" in failed.stdout + failed.stderr
    states = Counter(s["attributes"]["assetDeliveryState"]["state"] for s in screenshots(emulator))
    assert states == {"COMPLETE": 3, "AWAITING_UPLOAD": 1}
    emulator.admin("DELETE", "/faults")
    sent(emulator)
    stack.run("up", "--yes")
    requests = sent(emulator)
    assert count(requests, "POST", "/v1/appScreenshots") == 0  # the left reservation is completed, not made again
    after = screenshots(emulator)
    assert len(after) == 3 and after[1]["attributes"]["sourceFileChecksum"] == checksum
    assert {s["attributes"]["assetDeliveryState"]["state"] for s in after} == {"COMPLETE"}
    stack.run("preview", "--refresh", "--expect-no-changes")


@pytest.mark.stack_state(DEPLOYED, changes=True)
def test_a_screenshot_deleted_in_the_web_ui_is_drift_and_converges(stack: Stack, emulator: EmulatorHandle) -> None:
    first = screenshots(emulator, "APP_IPAD_PRO_3GEN_129")[0]
    emulator.admin("DELETE", f"/objects/appScreenshots/{first['id']}")
    drift = stack.run("preview", "--refresh", "--expect-no-changes", "--diff", check=False)
    assert drift.returncode != 0 and "screenshots" in drift.stdout
    stack.run("up", "--refresh", "--yes")
    assert [s["attributes"]["sourceFileChecksum"] for s in screenshots(emulator, "APP_IPAD_PRO_3GEN_129")] == [
        md5(stack, "media/ipad-1-today.png"), md5(stack, "media/ipad-2-streak.png")
    ]


@pytest.mark.stack_state(DEPLOYED, changes=True)
def test_destroy_deletes_the_sets_and_their_files(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.run("destroy", "--yes")
    for rest_type in ("appScreenshotSets", "appScreenshots", "appPreviewSets", "appPreviews"):
        assert emulator.objects(rest_type) == [], rest_type


@pytest.mark.parametrize(("case", "words"), [
    ("missing_screenshot", "'media/missing.png' does not exist"),
    ("screenshot_of_another_size", "is 1x1 pixels; APP_IPHONE_67 takes 1290x2796"),
])
def test_a_file_apple_would_refuse_fails_the_preview_before_any_request(
    badinput: Stack, emulator: EmulatorHandle, case: str, words: str
) -> None:
    refused_at_preview(badinput, emulator, case, "screenshots", words)
