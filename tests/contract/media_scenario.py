"""The screenshots and app previews part of the provider contract scenario: every operation the
two set resources send, through the real reconciler and client, against an emulator holding a
version localization made out of band. The bytes go to the reservations' upload URLs, which
the recorder leaves out (they are not API requests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from pulumi_appstoreconnect.client import ConflictError
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.reconciler import SpecProvider
from tests.emulator.support import BASE_URL
from tests.media_support import PREVIEW, iphone_shots, mp4, write
from tests.providers import connect

LOCALIZATION = "CONTRACTLOCALIZATION"
VERSION = "CONTRACTVERSION"


def _admin(admin: httpx.Client, method: str, path: str, body: Any) -> None:
    response = admin.request(method, f"/_emulator{path}", json=body)
    assert response.status_code < 300, response.text


def _checked(provider: SpecProvider, props: dict[str, Any]) -> dict[str, Any]:
    result = provider.check({}, props)
    assert not result.failures, [(f.property, f.reason) for f in result.failures]
    return dict(result.inputs)


def run_media_scenario(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    make: Callable[[str], SpecProvider] = connect(emulator, monkeypatch, sleep=lambda _s: None)
    admin = httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL)
    _admin(admin, "POST", "/objects/apps", {"id": "6450008888", "attributes": {"name": "Media", "bundleId": "com.contract.media", "primaryLocale": "en-US"}})
    _admin(admin, "POST", "/objects/appStoreVersions", {"id": VERSION, "attributes": {"platform": "IOS", "versionString": "2.0"}, "relationships": {"app": "6450008888"}})
    _admin(admin, "POST", "/objects/appStoreVersionLocalizations", {"id": LOCALIZATION, "attributes": {"locale": "de-DE"}, "relationships": {"appStoreVersion": VERSION}})
    _admin(admin, "PUT", "/media", {"partSize": 8192, "processingSeconds": 0})

    # Screenshots: looked up in the localization, created, uploaded in parts, committed, read.
    sets = make("AppScreenshotSet")
    first, second, third = iphone_shots(folder, 3)
    news = _checked(sets, {"app_store_version_localization": LOCALIZATION, "screenshot_display_type": "APP_IPHONE_67", "screenshots": [first, second]})
    made = sets.create(news)
    sets.read(made.id, made.outs)
    # A new order is one PATCH of the relationship; a new file is reserved, uploaded, committed and
    # the one it replaces deleted. A commit whose answer is lost is re-sent (PATCH is idempotent),
    # refused as done already, and confirmed by reading the screenshot.
    reordered = sets.update(made.id, made.outs, {**news, "screenshots": list(reversed(news["screenshots"]))}).outs
    emulator.faults.add({"kind": "drop_after_commit", "methods": ["PATCH"], "path": "/v1/appScreenshots/*", "times": 1})
    swapped = _checked(sets, {**news, "screenshots": [second, third]})
    swapped_outs = sets.update(made.id, reordered, swapped).outs
    # A version in review refuses new screenshots: Apple's 409, explained.
    _admin(admin, "POST", f"/appStoreVersions/{VERSION}/state", {"state": "IN_REVIEW"})
    with pytest.raises(ConflictError, match="next AppStoreVersion"):
        sets.update(made.id, swapped_outs, _checked(sets, {**news, "screenshots": [second, third, first]}))
    _admin(admin, "POST", f"/appStoreVersions/{VERSION}/state", {"state": "DEVELOPER_REJECTED"})
    sets.delete(made.id, swapped_outs)
    assert sets.read(made.id, swapped_outs).id is None

    # Previews: the same flow, and a poster frame changed in place.
    previews = make("AppPreviewSet")
    movies = [write(folder, f"preview-{n}.mp4", mp4(*PREVIEW, 20.0 + n)) for n in range(3)]
    wanted = {"app_store_version_localization": LOCALIZATION, "preview_type": "IPHONE_67",
              "previews": [{"file": movies[0], "preview_frame_time_code": "00:00:02:00"}, movies[1]]}
    news = _checked(previews, wanted)
    shown = previews.create(news)
    previews.read(shown.id, shown.outs)
    posters = _checked(previews, {**wanted, "previews": [{"file": movies[1], "preview_frame_time_code": "00:00:03:00"}, movies[0]]})
    outs = previews.update(shown.id, shown.outs, posters).outs
    emulator.faults.add({"kind": "drop_after_commit", "methods": ["PATCH"], "path": "/v1/appPreviews/*", "times": 1})
    outs = previews.update(shown.id, outs, _checked(previews, {**wanted, "previews": [movies[1], movies[2]]})).outs
    previews.delete(shown.id, outs)
    admin.close()
