"""The App Store metadata part of the provider contract scenario: every operation the metadata
resources send, through the real reconciler and client, against an emulator that holds an app
made out of band (Apple makes its app info, age rating and primary-locale name with it)."""

from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest

from pulumi_appstoreconnect.client import ConflictError
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.reconciler import SpecProvider
from tests.emulator.support import BASE_URL
from tests.providers import connect


def _admin_objects(admin: httpx.Client, rest_type: str, objects: list[dict[str, Any]]) -> None:
    response = admin.post(f"/_emulator/objects/{rest_type}", json=objects)
    assert response.status_code == 201, response.text


def run_metadata_scenario(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    make: Callable[[str], SpecProvider] = connect(emulator, monkeypatch)
    admin = httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL)
    _admin_objects(admin, "appCategories", [
        {"id": "GAMES", "attributes": {"platforms": ["IOS"]}},
        {"id": "GAMES_PUZZLE", "attributes": {"platforms": ["IOS"]}, "relationships": {"parent": "GAMES"}},
        {"id": "EDUCATION", "attributes": {"platforms": ["IOS"]}},
    ])
    _admin_objects(admin, "apps", [{"id": "6450009999", "attributes": {"name": "Contract", "bundleId": "com.contract.meta", "sku": "C1", "primaryLocale": "en-US"}}])
    _admin_objects(admin, "builds", [{"id": "CONTRACTBUILD", "attributes": {"version": "7", "processingState": "VALID"}, "relationships": {"app": "6450009999"}}])

    apps, infos, ratings = make("App"), make("AppInfo"), make("AgeRatingDeclaration")
    info_locs, versions, version_locs, reviews = (
        make("AppInfoLocalization"), make("AppStoreVersion"), make("AppStoreVersionLocalization"), make("AppStoreReviewDetail"),
    )
    app = apps.create({"bundle_id": "com.contract.meta"})
    apps.update(app.id, app.outs, {**app.outs, "accessibility_url": "https://example.com/a11y"})
    apps.read(app.id, app.outs)
    info = infos.create({"app": app.id, "primary_category": "GAMES", "primary_subcategory_one": "GAMES_PUZZLE"})
    infos.update(info.id, info.outs, {**info.outs, "secondary_category": "EDUCATION"})
    infos.read(info.id, info.outs)
    rating = ratings.create({"app_info": info.id, "violence_cartoon_or_fantasy": "INFREQUENT"})
    ratings.read(rating.id, rating.outs)
    primary = info_locs.create({"app_info": info.id, "locale": "en-US", "name": "Contract"})
    german = info_locs.create({"app_info": info.id, "locale": "de-DE", "name": "Vertrag"})
    info_locs.update(german.id, german.outs, {**german.outs, "subtitle": "Rätsel"})
    info_locs.read(german.id, german.outs)
    version = versions.create({"app": app.id, "platform": "IOS", "version_string": "1.0"})
    updated = versions.update(version.id, version.outs, {**version.outs, "copyright": "2026 Contract", "build": "CONTRACTBUILD"})
    assert versions.read(version.id, updated.outs).outs["build"] == "CONTRACTBUILD"
    english = version_locs.create({"app_store_version": version.id, "locale": "en-US", "description": "Puzzles."})
    french = version_locs.create({"app_store_version": version.id, "locale": "fr-FR", "description": "Énigmes."})
    version_locs.update(french.id, french.outs, {**french.outs, "keywords": "énigme,jeu"})
    version_locs.read(french.id, french.outs)
    review = reviews.create({"app_store_version": version.id, "contact_email": "review@example.com"})
    reviews.update(review.id, review.outs, {**review.outs, "notes": "Sign in not needed."})
    reviews.read(review.id, review.outs)

    # A version in review refuses edits: Apple's 409 STATE_ERROR, explained with the state.
    assert admin.post(f"/_emulator/appStoreVersions/{version.id}/state", json={"state": "IN_REVIEW"}).status_code == 200
    with pytest.raises(ConflictError, match="IN_REVIEW"):
        version_locs.update(english.id, english.outs, {**english.outs, "description": "Changed."})
    assert admin.post(f"/_emulator/appStoreVersions/{version.id}/state", json={"state": "PREPARE_FOR_SUBMISSION"}).status_code == 200

    # Destroy: other locales are deleted, the primary locale's are released.
    for provider, made in ((version_locs, french), (version_locs, english), (info_locs, german), (info_locs, primary)):
        provider.delete(made.id, made.outs)
    admin.close()
