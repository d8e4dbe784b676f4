"""The emulator's screenshot and app preview rules, through the real client's HTTP stack: the
reservation and its upload operations on the emulator's own upload URLs, the parts, the commit
with its checksum, processing that takes time and can fail, the 409s, the order of a set."""

from __future__ import annotations

import hashlib
from typing import Any, Iterator

import httpx
import pytest

from pulumi_appstoreconnect.emulator import Emulator
from tests.contract.recording import RECORDER
from tests.media_support import IPAD, IPHONE, LOCALIZATION, PREVIEW, VERSION, media_account, mp4, png

from .support import BASE_URL, FakeTime, error

SHOT = png(*IPHONE, (200, 100, 50))


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def emulator(tmp_path: Any, time_: FakeTime) -> Iterator[Emulator]:
    """The demo account on a clock that moves only when a test says, with small upload parts."""
    emu = media_account(tmp_path / "state", time_.clock, part_size=6000, processing_seconds=2)
    yield emu
    emu.close()


def _data(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()["data"]


def _set(api: httpx.Client, display: str = "APP_IPHONE_67", localization: str = LOCALIZATION) -> dict[str, Any]:
    return _data(api.post("/v1/appScreenshotSets", json={"data": {
        "type": "appScreenshotSets", "attributes": {"screenshotDisplayType": display},
        "relationships": {"appStoreVersionLocalization": {"data": {"type": "appStoreVersionLocalizations", "id": localization}}}}}))


def _reserve(api: httpx.Client, set_id: str, data: bytes = SHOT, name: str = "shot.png") -> httpx.Response:
    return api.post("/v1/appScreenshots", json={"data": {
        "type": "appScreenshots", "attributes": {"fileName": name, "fileSize": len(data)},
        "relationships": {"appScreenshotSet": {"data": {"type": "appScreenshotSets", "id": set_id}}}}})


def _put_parts(anonymous: httpx.Client, asset: dict[str, Any], data: bytes) -> list[httpx.Response]:
    return [
        anonymous.put(op["url"], content=data[op["offset"] : op["offset"] + op["length"]],
                      headers={h["name"]: h["value"] for h in op["requestHeaders"]})
        for op in asset["attributes"]["uploadOperations"]
    ]


def _commit(api: httpx.Client, asset_id: str, checksum: str, rest_type: str = "appScreenshots") -> httpx.Response:
    return api.patch(f"/v1/{rest_type}/{asset_id}", json={"data": {
        "type": rest_type, "id": asset_id, "attributes": {"uploaded": True, "sourceFileChecksum": checksum}}})


def _uploaded(api: httpx.Client, anonymous: httpx.Client, set_id: str, data: bytes = SHOT, name: str = "shot.png") -> dict[str, Any]:
    asset = _data(_reserve(api, set_id, data, name))
    assert all(r.status_code == 200 for r in _put_parts(anonymous, asset, data))
    return _data(_commit(api, asset["id"], hashlib.md5(data).hexdigest()))


def _state(asset: dict[str, Any], attribute: str = "assetDeliveryState") -> str:
    return str(asset["attributes"][attribute]["state"])


def test_a_reservation_answers_upload_operations_on_the_emulators_own_host_in_parts(api: httpx.Client, time_: FakeTime) -> None:
    shots = _set(api)
    asset = _data(_reserve(api, shots["id"]))
    assert _state(asset) == "AWAITING_UPLOAD" and asset["attributes"]["sourceFileChecksum"] is None
    operations = asset["attributes"]["uploadOperations"]
    # Split like Apple's: consecutive byte ranges covering the file, a PUT with a Content-Type each.
    assert [(op["offset"], op["length"]) for op in operations] == [(0, 6000), (6000, 6000), (12000, len(SHOT) - 12000)]
    assert {op["method"] for op in operations} == {"PUT"}
    assert all(op["requestHeaders"] == [{"name": "Content-Type", "value": "image/png"}] for op in operations)
    url = httpx.URL(operations[0]["url"])
    assert str(url).startswith(f"{BASE_URL}/_uploads/appScreenshots/{asset['id']}/1?")  # not /v1, not the admin API
    expires = int(url.params["Expires"])  # "plan to finish an upload within a week"
    assert 6 * 86400 < expires - time_.now <= 7 * 86400


def test_parts_take_no_token_their_headers_and_their_exact_length(api: httpx.Client, anonymous: httpx.Client) -> None:
    asset = _data(_reserve(api, _set(api)["id"]))
    op = asset["attributes"]["uploadOperations"][0]
    part = SHOT[: op["length"]]
    with_token = anonymous.put(op["url"], content=part, headers={"Content-Type": "image/png", "Authorization": "Bearer eyJ"})
    assert with_token.status_code == 400 and b"Only one auth mechanism allowed" in with_token.content
    assert anonymous.put(op["url"], content=part).status_code == 400  # the operation's Content-Type is missing
    assert anonymous.put(op["url"], content=part[:-1], headers={"Content-Type": "image/png"}).status_code == 400
    sent = anonymous.put(op["url"], content=part, headers={"Content-Type": "image/png"})
    assert sent.status_code == 200 and sent.headers["ETag"] == f'"{hashlib.md5(part).hexdigest()}"'
    forged = op["url"].replace("uploadId=", "uploadId=0")
    assert anonymous.put(forged, content=part, headers={"Content-Type": "image/png"}).status_code == 404


def test_an_expired_upload_url_is_refused(api: httpx.Client, anonymous: httpx.Client, time_: FakeTime) -> None:
    asset = _data(_reserve(api, _set(api)["id"]))
    time_.now += 8 * 86400
    responses = _put_parts(anonymous, asset, SHOT)
    assert {r.status_code for r in responses} == {403} and b"Request has expired" in responses[0].content


def test_the_commit_checks_every_byte_arrived_and_the_md5(api: httpx.Client, anonymous: httpx.Client) -> None:
    asset = _data(_reserve(api, _set(api)["id"]))
    right = hashlib.md5(SHOT).hexdigest()
    first = asset["attributes"]["uploadOperations"][0]
    anonymous.put(first["url"], content=SHOT[: first["length"]], headers={"Content-Type": "image/png"})
    missing = _commit(api, asset["id"], right)
    assert missing.status_code == 409 and "Received 6000 of the" in error(missing)["detail"]
    _put_parts(anonymous, asset, SHOT)
    wrong = _commit(api, asset["id"], hashlib.md5(b"another file").hexdigest())
    assert wrong.status_code == 409 and error(wrong)["source"] == {"pointer": "/data/attributes/sourceFileChecksum"}
    done = _data(_commit(api, asset["id"], right.upper()))  # hex in either case, as Apple's own answers show both
    assert _state(done) == "UPLOAD_COMPLETE" and done["attributes"]["uploadOperations"] is None
    again = _commit(api, asset["id"], right)
    assert again.status_code == 409 and "already been uploaded" in error(again)["detail"]
    late = _put_parts(anonymous, asset, SHOT)  # "Once you commit the asset, you can no longer upload component parts."
    assert late[0].status_code == 404


def test_processing_takes_time_then_the_image_is_complete(api: httpx.Client, anonymous: httpx.Client, time_: FakeTime) -> None:
    asset = _uploaded(api, anonymous, _set(api)["id"])
    time_.now += 1
    assert _state(_data(api.get(f"/v1/appScreenshots/{asset['id']}"))) == "UPLOAD_COMPLETE"
    time_.now += 1
    done = _data(api.get(f"/v1/appScreenshots/{asset['id']}"))
    assert _state(done) == "COMPLETE"
    assert (done["attributes"]["imageAsset"]["width"], done["attributes"]["imageAsset"]["height"]) == IPHONE
    assert done["attributes"]["sourceFileChecksum"] == hashlib.md5(SHOT).hexdigest()


@pytest.mark.parametrize(("data", "code"), [
    (png(*IPAD, (1, 1, 1)), "IMAGE_INCORRECT_DIMENSIONS"),
    (png(*IPHONE, (1, 1, 1), alpha=True), "IMAGE_ALPHA_NOT_ALLOWED"),
    (b"GIF89a not a screenshot", "IMAGE_TOOL_FAILURE"),
])
def test_processing_fails_what_apple_would_not_take(api: httpx.Client, anonymous: httpx.Client, time_: FakeTime, data: bytes, code: str) -> None:
    asset = _uploaded(api, anonymous, _set(api)["id"], data)
    time_.now += 2
    failed = _data(api.get(f"/v1/appScreenshots/{asset['id']}"))
    assert _state(failed) == "FAILED"
    assert [e["code"] for e in failed["attributes"]["assetDeliveryState"]["errors"]] == [code]


def test_the_admin_api_fails_the_next_processing_of_a_file(api: httpx.Client, anonymous: httpx.Client, admin: httpx.Client, time_: FakeTime) -> None:
    checksum = hashlib.md5(SHOT).hexdigest()
    rule = admin.post("/_emulator/media/failures", json={"sourceFileChecksum": checksum, "code": "IMAGE_TOOL_FAILURE", "description": "Broken"})
    assert rule.status_code == 201
    shots = _set(api)["id"]
    first = _uploaded(api, anonymous, shots)
    time_.now += 2
    assert _data(api.get(f"/v1/appScreenshots/{first['id']}"))["attributes"]["assetDeliveryState"] == {
        "errors": [{"code": "IMAGE_TOOL_FAILURE", "description": "Broken"}], "state": "FAILED"}
    assert admin.get("/_emulator/media/failures").json()["data"] == []  # spent: the next upload passes
    second = _uploaded(api, anonymous, shots)
    time_.now += 2
    assert _state(_data(api.get(f"/v1/appScreenshots/{second['id']}"))) == "COMPLETE"


def test_a_full_set_refuses_the_next_reservation(api: httpx.Client) -> None:
    shots = _set(api)["id"]
    for n in range(10):  # reservations awaiting upload count too
        assert _reserve(api, shots, name=f"{n}.png").status_code == 201
    full = _reserve(api, shots)
    assert full.status_code == 409
    assert error(full)["code"] == "ENTITY_ERROR.RELATIONSHIP.INVALID" and "maximum of 10" in error(full)["detail"]


def test_one_set_per_display_type_of_the_versions_platform(api: httpx.Client) -> None:
    _set(api)
    twice = api.post("/v1/appScreenshotSets", json={"data": {
        "type": "appScreenshotSets", "attributes": {"screenshotDisplayType": "APP_IPHONE_67"},
        "relationships": {"appStoreVersionLocalization": {"data": {"type": "appStoreVersionLocalizations", "id": LOCALIZATION}}}}})
    assert twice.status_code == 409 and error(twice)["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID"
    mac = api.post("/v1/appScreenshotSets", json={"data": {
        "type": "appScreenshotSets", "attributes": {"screenshotDisplayType": "APP_DESKTOP"},
        "relationships": {"appStoreVersionLocalization": {"data": {"type": "appStoreVersionLocalizations", "id": LOCALIZATION}}}}})
    assert mac.status_code == 409 and "not available for a IOS version" in error(mac)["detail"]


def test_a_version_in_review_refuses_new_screenshots(api: httpx.Client, admin: httpx.Client) -> None:
    shots = _set(api)["id"]
    admin.post(f"/_emulator/appStoreVersions/{VERSION}/state", json={"state": "IN_REVIEW"})
    refused = _reserve(api, shots)
    assert refused.status_code == 409 and error(refused)["code"] == "STATE_ERROR"


def test_a_set_keeps_its_order_and_changes_it_with_one_patch(api: httpx.Client, anonymous: httpx.Client) -> None:
    shots = _set(api)["id"]
    made = [_uploaded(api, anonymous, shots, png(*IPHONE, (n, n, n)), f"{n}.png")["id"] for n in range(3)]

    def listed() -> list[str]:
        return [a["id"] for a in _data(api.get(f"/v1/appScreenshotSets/{shots}/appScreenshots"))]

    assert listed() == made  # new ones join the end
    moved = [made[2], made[0], made[1]]
    linkage = {"data": [{"type": "appScreenshots", "id": i} for i in moved]}
    reordered = api.patch(f"/v1/appScreenshotSets/{shots}/relationships/appScreenshots", json=linkage)
    assert reordered.status_code == 204 and listed() == moved
    assert [i["id"] for i in _data(api.get(f"/v1/appScreenshotSets/{shots}/relationships/appScreenshots"))] == moved
    dropped = api.patch(f"/v1/appScreenshotSets/{shots}/relationships/appScreenshots", json={"data": linkage["data"][:2]})
    assert dropped.status_code == 409 and listed() == moved  # an order names every screenshot once
    assert api.delete(f"/v1/appScreenshots/{made[0]}").status_code == 204 and listed() == [made[2], made[1]]
    assert api.delete(f"/v1/appScreenshotSets/{shots}").status_code == 204
    assert api.get(f"/v1/appScreenshots/{made[1]}").status_code == 404  # a set's screenshots go with it


def test_a_preview_is_processing_halfway_and_has_a_poster_frame(api: httpx.Client, anonymous: httpx.Client, time_: FakeTime) -> None:
    movie = mp4(*PREVIEW, 20.0)
    previews = _data(api.post("/v1/appPreviewSets", json={"data": {
        "type": "appPreviewSets", "attributes": {"previewType": "IPHONE_67"},
        "relationships": {"appStoreVersionLocalization": {"data": {"type": "appStoreVersionLocalizations", "id": LOCALIZATION}}}}}))
    asset = _data(api.post("/v1/appPreviews", json={"data": {
        "type": "appPreviews", "attributes": {"fileName": "preview.mp4", "fileSize": len(movie), "mimeType": "video/mp4"},
        "relationships": {"appPreviewSet": {"data": {"type": "appPreviewSets", "id": previews["id"]}}}}}))
    assert asset["attributes"]["previewFrameTimeCode"] == "00:00:05:00"  # Apple's default poster frame
    _put_parts(anonymous, asset, movie)
    assert _state(_data(_commit(api, asset["id"], hashlib.md5(movie).hexdigest(), "appPreviews")), "videoDeliveryState") == "UPLOAD_COMPLETE"
    time_.now += 1
    assert _state(_data(api.get(f"/v1/appPreviews/{asset['id']}")), "videoDeliveryState") == "PROCESSING"
    time_.now += 1
    done = _data(api.get(f"/v1/appPreviews/{asset['id']}"))
    assert _state(done, "videoDeliveryState") == _state(done) == "COMPLETE"
    assert (done["attributes"]["previewFrameImage"]["image"]["width"], done["attributes"]["previewFrameImage"]["image"]["height"]) == PREVIEW


def test_uploads_are_logged_with_their_bytes_take_faults_and_are_no_api_exchanges(
    api: httpx.Client, anonymous: httpx.Client, emulator: Emulator, request: pytest.FixtureRequest
) -> None:
    asset = _data(_reserve(api, _set(api)["id"]))
    emulator.faults.add({"kind": "503", "methods": ["PUT"], "path": "/_uploads/*", "times": 1})
    first, *rest = _put_parts(anonymous, asset, SHOT)
    assert first.status_code == 503 and all(r.status_code == 200 for r in rest)
    log = [r for r in emulator.store.requests() if r["method"] == "PUT"]
    assert [(r["status"], r["bytes"]) for r in log] == [(503, 6000), (200, 6000), (200, len(SHOT) - 12000)]
    assert all(r["path"].startswith("/_uploads/") for r in log)
    assert "X-Rate-Limit" not in rest[0].headers  # Apple's upload hosts are not the API
    recorded = RECORDER.of_test(request.node.nodeid)
    assert recorded and not [e for e in recorded if not e.path.startswith("/v1/")]
