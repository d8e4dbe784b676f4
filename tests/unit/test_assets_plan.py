"""How a sync matches Apple's assets to the program's files (pure: no requests), and when the
state's record satisfies the program (the diff)."""

from __future__ import annotations

from typing import Any

from pulumi_appstoreconnect.assets import plan
from pulumi_appstoreconnect.resources.app_media import PREVIEWS, SCREENSHOTS


def asset(id_: str, checksum: str | None, state: str, name: str = "a.png", size: int = 10, ops: bool = False) -> dict[str, Any]:
    attributes: dict[str, Any] = {"sourceFileChecksum": checksum, "fileName": name, "fileSize": size,
                                  "assetDeliveryState": {"errors": [], "state": state}}
    if ops:
        attributes["uploadOperations"] = [{"method": "PUT", "url": "https://up/1", "offset": 0, "length": size}]
    return {"type": "appScreenshots", "id": id_, "attributes": attributes}


def item(checksum: str, name: str = "a.png", size: int = 10) -> dict[str, Any]:
    return {"file": f"media/{name}", "checksum": checksum, "file_name": name, "file_size": size}


def test_unchanged_files_are_kept_by_checksum_whatever_apples_case_and_order() -> None:
    steps = plan(SCREENSHOTS, [item("aa"), item("bb")], [asset("2", "BB", "COMPLETE"), asset("1", "aa", "UPLOAD_COMPLETE")])
    assert {n: a["id"] for n, a in steps.keep.items()} == {0: "1", 1: "2"}
    assert steps.sends == [] and steps.junk == [] and steps.stale == []


def test_a_changed_file_is_uploaded_and_the_old_one_is_stale() -> None:
    steps = plan(SCREENSHOTS, [item("aa"), item("cc")], [asset("1", "aa", "COMPLETE"), asset("2", "bb", "COMPLETE")])
    assert steps.upload == [1] and [a["id"] for a in steps.stale] == ["2"]


def test_the_same_file_twice_is_two_assets() -> None:
    steps = plan(SCREENSHOTS, [item("aa"), item("aa")], [asset("1", "aa", "COMPLETE")])
    assert list(steps.keep) == [0] and steps.upload == [1]


def test_an_interrupted_reservation_of_a_file_to_upload_is_completed_not_duplicated() -> None:
    leftover = asset("9", None, "AWAITING_UPLOAD", name="b.png", size=20, ops=True)
    steps = plan(SCREENSHOTS, [item("aa"), item("bb", "b.png", 20)], [asset("1", "aa", "COMPLETE"), leftover])
    assert steps.resume == {1: leftover} and steps.upload == [] and steps.sends == [1]


def test_reservations_of_other_files_and_failed_assets_are_junk_even_with_the_right_checksum() -> None:
    other = asset("8", None, "AWAITING_UPLOAD", name="old.png", size=20, ops=True)
    failed = asset("7", "aa", "FAILED")
    steps = plan(SCREENSHOTS, [item("aa")], [failed, other])
    assert steps.upload == [0] and steps.junk == [failed, other] and steps.keep == {}


def test_the_diff_compares_checksums_in_order_and_wants_usable_assets() -> None:
    held = [{**item("aa"), "id": "1", "state": "COMPLETE"}, {**item("bb"), "id": "2", "state": "COMPLETE"}]
    assert SCREENSHOTS.satisfied(held, [item("AA"), item("bb")])
    assert not SCREENSHOTS.satisfied(held, [item("bb"), item("aa")])  # a new order is a change
    assert not SCREENSHOTS.satisfied(held, [item("aa")])
    assert not SCREENSHOTS.satisfied([held[0], {**held[1], "state": "FAILED"}], [item("aa"), item("bb")])
    # A file moved or renamed with the same content is the same screenshot.
    assert SCREENSHOTS.satisfied(held, [{**item("aa"), "file": "elsewhere/x.png"}, item("bb")])


def test_a_poster_frame_counts_only_where_the_program_sets_one() -> None:
    held = [{**item("aa"), "id": "1", "state": "COMPLETE", "preview_frame_time_code": "00:00:05:00"}]
    assert PREVIEWS.satisfied(held, [item("aa")])
    assert PREVIEWS.satisfied(held, [{**item("aa"), "preview_frame_time_code": "00:00:05:00"}])
    assert not PREVIEWS.satisfied(held, [{**item("aa"), "preview_frame_time_code": "00:00:02:00"}])


def test_only_a_refused_commit_is_explained_as_bytes_that_do_not_match() -> None:
    from pulumi_appstoreconnect.assets import explain
    from pulumi_appstoreconnect.client.errors import ApiError, ConflictError

    def refused(method: str, url: str) -> ConflictError:
        problem = ApiError(status="409", code="ENTITY_ERROR.ATTRIBUTE.INVALID", title="Invalid", detail="no", pointer="/data/attributes/fileSize")
        return ConflictError(409, [problem], method=method, url=url)

    assert "do not match the file's size or MD5" in str(explain(refused("PATCH", "/v1/appScreenshots/1"), SCREENSHOTS, "set", "a.png"))
    reservation = refused("POST", "/v1/appScreenshots")
    assert explain(reservation, SCREENSHOTS, "set", "a.png") is reservation  # Apple's own words stand
