"""AppScreenshotSet and AppPreviewSet through the real reconciler and client against the
emulator: what is uploaded when (identity by checksum, order by one PATCH), interrupted and
ambiguous uploads, processing that fails or takes too long, Apple's 409 explained, refresh.

The emulator and the client share one fake clock (:class:`FakeTime`): the provider's waits for
processing move the emulator's time, so a 30-second processing takes no real time."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from pulumi_appstoreconnect import reconciler
from pulumi_appstoreconnect.client import AppStoreConnectClient, ConflictError, UploadFailed
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.errors import ProviderError
from pulumi_appstoreconnect.readcache import READS
from pulumi_appstoreconnect.reconciler import SpecProvider
from tests.media_support import IPHONE, LOCALIZATION, PREVIEW, VERSION, iphone_shots, media_account, mp4, png, write
from tests.providers import connect, stored

from .support import BASE_URL, FakeTime

PART = 6000  # the emulator's part size here: each 15 kB screenshot travels in 3 parts


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def emulator(tmp_path: Path, time_: FakeTime) -> Iterator[Emulator]:
    emu = media_account(tmp_path / "state", time_.clock, part_size=PART, processing_seconds=3)
    yield emu
    emu.close()


@pytest.fixture
def make(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, time_: FakeTime) -> Callable[[str], SpecProvider]:
    return connect(emulator, monkeypatch, sleep=time_.sleep, clock=time_.clock)


@pytest.fixture
def sets(make: Callable[[str], SpecProvider]) -> SpecProvider:
    return make("AppScreenshotSet")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "media"


def checked(provider: SpecProvider, props: dict[str, Any], olds: dict[str, Any] | None = None) -> dict[str, Any]:
    result = provider.check(olds or {}, props)
    assert not result.failures, [(f.property, f.reason) for f in result.failures]
    return dict(result.inputs)


def wanted(files: list[str], **more: Any) -> dict[str, Any]:
    return {"app_store_version_localization": LOCALIZATION, "screenshot_display_type": "APP_IPHONE_67", "screenshots": files, **more}


def log(emulator: Emulator) -> list[dict[str, Any]]:
    requests = emulator.store.requests()
    emulator.store.clear_requests()
    return requests


def calls(requests: list[dict[str, Any]], method: str, prefix: str) -> list[dict[str, Any]]:
    return [r for r in requests if r["method"] == method and r["path"].startswith(prefix)]


def remote(emulator: Emulator, rest_type: str = "appScreenshots") -> list[dict[str, Any]]:
    return [{"id": o.id, **o.attributes} for o in emulator.store.all_of(rest_type)]


def test_the_first_create_uploads_every_file_in_parts_and_waits_for_processing(
    sets: SpecProvider, emulator: Emulator, folder: Path, time_: FakeTime
) -> None:
    files = iphone_shots(folder, 3)
    made = sets.create(checked(sets, wanted(files)))
    requests = log(emulator)
    puts = calls(requests, "PUT", "/_uploads/appScreenshots/")
    sizes = [Path(f).stat().st_size for f in files]
    assert len(calls(requests, "POST", "/v1/appScreenshots")) == 3 and len(calls(requests, "PATCH", "/v1/appScreenshots/")) == 3
    assert len(puts) == sum(-(-size // PART) for size in sizes) and sum(r["bytes"] for r in puts) == sum(sizes)
    assert all(r["status"] == 200 for r in puts)  # the emulator refuses a part that carries the bearer token
    assert [(i["file"], i["state"]) for i in made.outs["screenshots"]] == [(f, "COMPLETE") for f in files]
    assert time_.sleeps and sum(time_.sleeps) >= 3  # it waited on the clock for processing
    assert [(r["id"], r["sourceFileChecksum"]) for r in remote(emulator)] == [(i["id"], i["checksum"]) for i in made.outs["screenshots"]]


def test_an_unchanged_set_is_no_change_and_a_new_order_is_one_patch(sets: SpecProvider, emulator: Emulator, folder: Path) -> None:
    files = iphone_shots(folder, 3)
    made = sets.create(checked(sets, wanted(files)))
    assert sets.diff(made.id, made.outs, checked(sets, wanted(files), made.outs)).changes is False
    moved = checked(sets, wanted([files[2], files[0], files[1]]), made.outs)
    assert sets.diff(made.id, made.outs, moved).changes is True
    log(emulator)
    outs = sets.update(made.id, made.outs, moved).outs
    writes = [(r["method"], r["path"]) for r in log(emulator) if r["method"] != "GET"]
    assert writes == [("PATCH", f"/v1/appScreenshotSets/{made.id}/relationships/appScreenshots")]
    assert [i["file"] for i in outs["screenshots"]] == [files[2], files[0], files[1]]
    assert [i["file"] for i in sets.read(made.id, outs).outs["screenshots"]] == [files[2], files[0], files[1]]


def test_changing_one_file_uploads_exactly_it_and_deletes_what_it_replaces(sets: SpecProvider, emulator: Emulator, folder: Path) -> None:
    files = iphone_shots(folder, 3)
    made = sets.create(checked(sets, wanted(files)))
    old = made.outs["screenshots"][1]["id"]
    write(folder, Path(files[1]).name, png(*IPHONE, (255, 0, 255)))  # same path, new content
    log(emulator)
    outs = sets.update(made.id, made.outs, checked(sets, wanted(files), made.outs)).outs
    requests = log(emulator)
    assert len(calls(requests, "POST", "/v1/appScreenshots")) == 1
    assert {r["path"].split("/")[3] for r in calls(requests, "PUT", "/_uploads/")} == {outs["screenshots"][1]["id"]}
    assert [r["path"] for r in calls(requests, "DELETE", "/v1/")] == [f"/v1/appScreenshots/{old}"]
    assert [i["id"] for i in outs["screenshots"]][::2] == [i["id"] for i in made.outs["screenshots"]][::2]


def test_a_full_set_makes_room_before_it_uploads(sets: SpecProvider, emulator: Emulator, folder: Path) -> None:
    files = iphone_shots(folder, 10)
    made = sets.create(checked(sets, wanted(files)))
    replacement = iphone_shots(folder, 1, shade=99)[0]
    log(emulator)
    outs = sets.update(made.id, made.outs, checked(sets, wanted([replacement, *files[1:]]), made.outs)).outs
    writes = [r["method"] + " " + r["path"].split("/")[2] for r in log(emulator) if r["method"] in ("POST", "DELETE")]
    assert writes == ["DELETE appScreenshots", "POST appScreenshots"]  # Apple keeps at most 10 per set
    assert [i["file"] for i in outs["screenshots"]] == [replacement, *files[1:]]


def test_an_upload_that_cannot_finish_leaves_nothing_half_done_and_the_next_run_converges(
    sets: SpecProvider, emulator: Emulator, folder: Path
) -> None:
    files = iphone_shots(folder, 3)
    news = checked(sets, wanted(files))
    emulator.faults.add({"kind": "drop_before_commit", "methods": ["PUT"], "path": "/_uploads/*/1", "times": 4})
    with pytest.raises(UploadFailed, match="part 1 of iphone-0-0.png"):
        sets.create(news)
    assert remote(emulator) == []  # the reservation it could not complete is deleted
    log(emulator)
    made = sets.create(news)  # the next `up`: the set is taken over, nothing duplicated
    assert not calls(log(emulator), "POST", "/v1/appScreenshotSets")
    assert [r["id"] for r in remote(emulator)] == [i["id"] for i in made.outs["screenshots"]]
    assert [i["state"] for i in made.outs["screenshots"]] == ["COMPLETE"] * 3


def _reservation_of_a_killed_run(sets: SpecProvider, set_id: str, path: str) -> dict[str, Any]:
    """What a run killed between the reservation and the commit leaves: a reservation whose
    first part arrived."""
    data = Path(path).read_bytes()
    relation = {"appScreenshotSet": {"data": {"type": "appScreenshotSets", "id": set_id}}}
    reserved = sets.client.create("appScreenshots", {"fileName": Path(path).name, "fileSize": len(data)}, relation)
    sets.client.uploads.upload(Path(path), reserved["attributes"]["uploadOperations"][:1])
    return reserved


def test_a_reservation_left_by_a_killed_run_is_completed_not_duplicated(sets: SpecProvider, emulator: Emulator, folder: Path) -> None:
    files = iphone_shots(folder, 2)
    made = sets.create(checked(sets, wanted(files[:1])))
    leftover = _reservation_of_a_killed_run(sets, made.id, files[1])
    log(emulator)
    outs = sets.update(made.id, made.outs, checked(sets, wanted(files), made.outs)).outs
    requests = log(emulator)
    assert not calls(requests, "POST", "/v1/appScreenshots")  # completed, not reserved again
    assert calls(requests, "PATCH", f"/v1/appScreenshots/{leftover['id']}")
    assert [i["id"] for i in outs["screenshots"]] == [made.outs["screenshots"][0]["id"], leftover["id"]]
    assert len(remote(emulator)) == 2


def test_a_refresh_finds_a_leftover_reservation_and_the_next_up_deletes_it(sets: SpecProvider, emulator: Emulator, folder: Path) -> None:
    files = iphone_shots(folder, 2)
    news = checked(sets, wanted(files))
    made = sets.create(news)
    _reservation_of_a_killed_run(sets, made.id, iphone_shots(folder, 1, shade=7)[0])  # a file the program dropped
    read = sets.read(made.id, made.outs)
    assert [i["state"] for i in read.outs["screenshots"]] == ["COMPLETE", "COMPLETE", "AWAITING_UPLOAD"]
    assert sets.diff(made.id, read.outs, news).changes is True
    outs = sets.update(made.id, read.outs, news).outs
    assert [r["id"] for r in remote(emulator)] == [i["id"] for i in outs["screenshots"]]


def test_a_reservation_whose_answer_was_lost_is_found_not_made_twice(sets: SpecProvider, emulator: Emulator, folder: Path) -> None:
    files = iphone_shots(folder, 2)
    emulator.faults.add({"kind": "drop_after_commit", "methods": ["POST"], "path": "/v1/appScreenshots", "times": 1})
    made = sets.create(checked(sets, wanted(files)))
    assert len(calls(log(emulator), "POST", "/v1/appScreenshots")) == 2  # one per file: the lost answer was looked up
    assert len(remote(emulator)) == 2 and [i["state"] for i in made.outs["screenshots"]] == ["COMPLETE", "COMPLETE"]


def test_a_processing_failure_names_the_file_and_the_next_run_after_the_fix_converges(
    sets: SpecProvider, emulator: Emulator, folder: Path
) -> None:
    files = iphone_shots(folder, 2)
    news = checked(sets, wanted(files))
    with httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL) as admin:
        admin.post("/_emulator/media/failures", json={"sourceFileChecksum": news["screenshots"][1]["checksum"],
                                                      "code": "IMAGE_TOOL_FAILURE", "description": "Unreadable"})
    with pytest.raises(ProviderError, match=rf"{files[1]} \(appScreenshots [-\w]+\): IMAGE_TOOL_FAILURE - Unreadable"):
        sets.create(news)
    assert len(remote(emulator)) == 1  # Apple's FAILED is final: the failed upload is gone
    write(folder, Path(files[1]).name, png(*IPHONE, (0, 255, 0)))  # the fix
    made = sets.create(checked(sets, wanted(files)))
    assert [i["state"] for i in made.outs["screenshots"]] == ["COMPLETE", "COMPLETE"] and len(remote(emulator)) == 2


def test_slow_processing_is_waited_for_within_a_bound_reported_and_not_uploaded_again(
    sets: SpecProvider, emulator: Emulator, folder: Path, time_: FakeTime, capsys: pytest.CaptureFixture[str]
) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL) as admin:
        admin.put("/_emulator/media", json={"processingSeconds": 120})
    files = iphone_shots(folder, 2)
    started = time_.now
    with pytest.raises(ProviderError, match=r"still processing .*iphone-0-0.png \(UPLOAD_COMPLETE\).* after 60 s.*will not be sent again"):
        sets.create(checked(sets, wanted(files, processing_timeout=60)))
    assert 60 <= time_.now - started < 70
    progress = capsys.readouterr().err
    assert re.search(r"appScreenshotSets [-\w]+: App Store Connect has processed 0 of 2 files \(\d+ s waited, at most 60 s\)", progress)
    log(emulator)
    made = sets.create(checked(sets, wanted(files)))  # the next up: waits for the same uploads
    requests = log(emulator)
    assert not calls(requests, "POST", "/v1/appScreenshots") and not calls(requests, "PUT", "/_uploads/")
    assert [i["state"] for i in made.outs["screenshots"]] == ["COMPLETE", "COMPLETE"]


def test_a_reservation_refused_for_the_versions_state_is_explained(sets: SpecProvider, emulator: Emulator, folder: Path) -> None:
    files = iphone_shots(folder, 2)
    made = sets.create(checked(sets, wanted(files[:1])))
    with httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL) as admin:
        admin.post(f"/_emulator/appStoreVersions/{VERSION}/state", json={"state": "WAITING_FOR_REVIEW"})
    with pytest.raises(ConflictError, match="STATE_ERROR") as refused:
        sets.update(made.id, made.outs, checked(sets, wanted(files), made.outs))
    assert "Create the next AppStoreVersion" in str(refused.value) and "Nothing was uploaded" in str(refused.value)


def test_refresh_reads_apples_screenshots_and_drift_converges(sets: SpecProvider, emulator: Emulator, folder: Path) -> None:
    files = iphone_shots(folder, 3)
    news = checked(sets, wanted(files))
    made = sets.create(news)
    with httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL) as admin:
        admin.delete(f"/_emulator/objects/appScreenshots/{made.outs['screenshots'][0]['id']}")  # deleted in the web UI
    READS.forget()  # the refresh is the next operation: a new provider process, nothing listed yet
    read = sets.read(made.id, made.outs)
    assert [i["file"] for i in read.outs["screenshots"]] == files[1:]
    assert sets.diff(made.id, read.outs, news).changes is True
    outs = sets.update(made.id, read.outs, news).outs
    assert [i["file"] for i in sets.read(made.id, outs).outs["screenshots"]] == files


def test_a_file_changed_after_the_preview_is_not_uploaded(sets: SpecProvider, emulator: Emulator, folder: Path) -> None:
    files = iphone_shots(folder, 1)
    news = checked(sets, wanted(files))
    write(folder, Path(files[0]).name, png(*IPHONE, (9, 9, 9)))
    with pytest.raises(ProviderError, match="changed since `pulumi preview` read it"):
        sets.create(news)
    assert not calls(log(emulator), "POST", "/v1/appScreenshots")


def test_relative_paths_resolve_against_the_program_directory(
    sets: SpecProvider, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    iphone_shots(folder, 1)
    monkeypatch.chdir(folder.parent)  # the engine starts the provider in the project directory
    made = sets.create(checked(sets, wanted([f"{folder.name}/iphone-0-0.png"])))
    assert made.outs["screenshots"][0]["file"] == "media/iphone-0-0.png" and made.outs["screenshots"][0]["state"] == "COMPLETE"


def test_a_poster_frame_changes_in_place_and_destroy_deletes_the_set(
    make: Callable[[str], SpecProvider], emulator: Emulator, folder: Path
) -> None:
    previews = make("AppPreviewSet")
    movie = write(folder, "preview.mp4", mp4(*PREVIEW, 20.0))
    props = {"app_store_version_localization": LOCALIZATION, "preview_type": "IPHONE_67",
             "previews": [{"file": movie, "preview_frame_time_code": "00:00:02:00"}]}
    made = previews.create(checked(previews, props))
    assert made.outs["previews"][0]["preview_frame_time_code"] == "00:00:02:00"
    log(emulator)
    poster = checked(previews, {**props, "previews": [{"file": movie, "preview_frame_time_code": "00:00:07:12"}]}, made.outs)
    outs = previews.update(made.id, made.outs, poster).outs
    writes = [(r["method"], r["path"]) for r in log(emulator) if r["method"] != "GET"]
    assert writes == [("PATCH", f"/v1/appPreviews/{made.outs['previews'][0]['id']}")]
    assert outs["previews"][0]["preview_frame_time_code"] == "00:00:07:12"
    previews.delete(made.id, outs)
    assert remote(emulator, "appPreviews") == [] and emulator.store.all_of("appPreviewSets") == []


def test_the_bearer_token_never_reaches_an_upload_url(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, folder: Path, time_: FakeTime
) -> None:
    seen: list[tuple[str, bool]] = []

    class Spy(httpx.WSGITransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append((request.url.path, "authorization" in request.headers))
            return super().handle_request(request)

    make = connect(emulator, monkeypatch)
    spied = reconciler._ClientCache(lambda s: AppStoreConnectClient(s, transport=Spy(app=emulator.app), sleep=time_.sleep, clock=time_.clock))
    monkeypatch.setattr(reconciler, "_CLIENTS", spied)
    sets = make("AppScreenshotSet")
    sets.create(checked(sets, wanted(iphone_shots(folder, 1))))
    uploads = [authorized for path, authorized in seen if path.startswith("/_uploads/")]
    api = [authorized for path, authorized in seen if path.startswith("/v1/")]
    assert uploads and not any(uploads) and api and all(api)


def test_a_file_apple_would_refuse_fails_the_preview_before_any_request(sets: SpecProvider, emulator: Emulator, folder: Path) -> None:
    log(emulator)
    result = sets.check({}, wanted([*iphone_shots(folder, 1), str(folder / "missing.png")]))
    assert [(f.property, "missing.png' does not exist" in f.reason) for f in result.failures] == [("screenshots", True)]
    assert log(emulator) == []  # not even the look-up of a set to take over


def test_sizes_the_engine_hands_back_as_floats_are_sent_as_integers(sets: SpecProvider, emulator: Emulator, folder: Path) -> None:
    # The engine stores every number as a double: a file size comes back as 14930.0, which
    # Apple's schema refuses for fileSize.
    made = sets.create(stored(checked(sets, wanted(iphone_shots(folder, 1)))))
    assert [i["state"] for i in made.outs["screenshots"]] == ["COMPLETE"]
