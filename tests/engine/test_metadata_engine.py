"""examples/app-metadata through the real engine against the emulator's demo account: an
adopted app with categories, age rating, names and texts in two locales, a build, review
details. The tests share one stack (:class:`SharedStack`); each names the state it starts from,
so any of them runs alone or in any order."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_appstoreconnect.emulator.seeding import load_seed

from .conftest import EmulatorHandle, SharedStack, Stack, make_stack

SEEDED = "seeded"  # the demo account, nothing deployed
DEPLOYED = "deployed"
MEDIA = ("/v1/appScreenshot", "/v1/appPreview")  # the example's screenshots and preview


def seeded(stack: Stack, emulator: EmulatorHandle) -> None:
    load_seed(emulator.emulator, "demo")


def deployed(stack: Stack, emulator: EmulatorHandle) -> None:
    seeded(stack, emulator)
    stack.run("up", "--yes")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorHandle, engine_bin: Any) -> SharedStack:
    stack = make_stack("app-metadata", tmp_path_factory.mktemp("app-metadata"), emulator, engine_bin)
    return SharedStack(stack, emulator, {SEEDED: seeded, DEPLOYED: deployed})


def writes(emulator: EmulatorHandle) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emulator.requests() if r["method"] != "GET"]


def texts(emulator: EmulatorHandle, locale: str) -> list[dict[str, Any]]:
    return [o for o in emulator.objects("appStoreVersionLocalizations") if o["attributes"]["locale"] == locale]


@pytest.mark.stack_state(SEEDED, changes=True)
def test_up_adopts_the_app_and_writes_the_listing(stack: Stack, shared: SharedStack, emulator: EmulatorHandle) -> None:
    emulator.clear_requests()
    stack.run("up", "--yes")
    made = writes(emulator)
    # Apple's own objects are adopted (no POST for them); only the German texts and name and
    # the review detail are created (the screenshots and preview: test_screenshots_engine.py).
    posts = sorted(path for method, path in made if method == "POST" and not path.startswith(MEDIA))
    assert posts == ["/v1/appInfoLocalizations", "/v1/appStoreReviewDetails", "/v1/appStoreVersionLocalizations"]
    assert ("PATCH", "/v1/appStoreVersions/DEMOVERSION0001/relationships/build") in made
    info = [i for i in emulator.objects("appInfos") if i["attributes"]["state"] == "PREPARE_FOR_SUBMISSION"][0]
    stored = emulator.emulator.store.get("appInfos", info["id"])
    assert stored is not None and stored.relationships["primarySubcategoryOne"] == "GAMES_PUZZLE"
    assert texts(emulator, "de-DE")[0]["attributes"]["description"] == "Kleine Rätsel, eines pro Tag."
    print(f"app-metadata first up: {len(emulator.requests())} requests, {len(made)} writes")
    shared.reached(DEPLOYED)


@pytest.mark.stack_state(DEPLOYED, changes=False)
def test_a_no_op_preview_shows_no_changes(stack: Stack, emulator: EmulatorHandle) -> None:
    emulator.clear_requests()
    stack.run("preview", "--refresh", "--expect-no-changes")
    assert writes(emulator) == []
    print(f"app-metadata no-op preview --refresh: {len(emulator.requests())} requests")


@pytest.mark.stack_state(DEPLOYED, changes=True)
def test_editing_a_description_patches_only_that_localization(stack: Stack, emulator: EmulatorHandle) -> None:
    english = texts(emulator, "en-US")[0]
    stack.config("description", "Bigger puzzles, one a day.")
    emulator.clear_requests()
    stack.run("up", "--yes")
    assert writes(emulator) == [("PATCH", f"/v1/appStoreVersionLocalizations/{english['id']}")]


@pytest.mark.stack_state(DEPLOYED, changes=True)
def test_an_out_of_band_text_edit_is_drift_and_converges(stack: Stack, emulator: EmulatorHandle) -> None:
    german = texts(emulator, "de-DE")[0]
    emulator.admin("PATCH", f"/objects/appStoreVersionLocalizations/{german['id']}", json={"attributes": {"description": "Edited in the web UI"}})
    drift = stack.run("preview", "--refresh", "--expect-no-changes", "--diff", check=False)
    assert drift.returncode != 0 and "description" in drift.stdout
    stack.run("up", "--refresh", "--yes")
    assert texts(emulator, "de-DE")[0]["attributes"]["description"] == "Kleine Rätsel, eines pro Tag."
    stack.run("preview", "--refresh", "--expect-no-changes")


@pytest.mark.stack_state(DEPLOYED, changes=True)
def test_a_version_in_review_makes_the_next_change_fail_naming_the_state(stack: Stack, emulator: EmulatorHandle) -> None:
    emulator.admin("POST", "/appStoreVersions/DEMOVERSION0001/state", json={"state": "IN_REVIEW"})
    stack.config("description", "Too late for this version.")
    failed = stack.run("up", "--yes", check=False)
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert "STATE_ERROR" in output and "state IN_REVIEW" in output and "create the next AppStoreVersion" in output


@pytest.mark.stack_state(DEPLOYED, changes=True)
def test_adding_a_locale_creates_it_and_removing_it_deletes_it(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.config("extraLocale", "fr-FR")
    stack.run("up", "--yes")
    assert len(texts(emulator, "fr-FR")) == 1
    stack.run("config", "rm", "extraLocale")
    emulator.clear_requests()
    stack.run("up", "--yes")
    assert texts(emulator, "fr-FR") == []
    assert [m for m, _ in writes(emulator)] == ["DELETE"]


@pytest.mark.stack_state(DEPLOYED, changes=True)
def test_destroy_releases_what_apple_made_and_deletes_what_the_stack_made(stack: Stack, emulator: EmulatorHandle) -> None:
    emulator.clear_requests()
    stack.run("destroy", "--yes")
    deleted = sorted(path.rsplit("/", 1)[0] for method, path in writes(emulator) if method == "DELETE")
    # The German name and texts go, and the screenshot and preview sets (with their files); the
    # app, its app info, age rating, version, review detail and the primary locale's name and
    # texts are released (docs/metadata.md).
    assert deleted == ["/v1/appInfoLocalizations", "/v1/appPreviewSets", "/v1/appScreenshotSets", "/v1/appScreenshotSets",
                       "/v1/appStoreVersionLocalizations"]
    assert {m for m, _ in writes(emulator)} == {"DELETE"}
    assert len(texts(emulator, "en-US")) == 1 and texts(emulator, "de-DE") == []
    assert len(emulator.objects("appStoreVersions")) == 1 and len(emulator.objects("appStoreReviewDetails")) == 1
