"""The emulator's App Store metadata rules, through the real client's HTTP stack: what Apple
makes with an app and a version, editable states, one localization per locale, the primary
locale kept, and the admin call that moves a version through App Review."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.emulator.seeding import load_seed

APP = "6450000001"
VERSION = "DEMOVERSION0001"


@pytest.fixture
def seeded(emulator: Emulator) -> Emulator:
    load_seed(emulator, "demo")
    return emulator


def _data(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()["data"]


def test_apple_makes_the_app_info_age_rating_and_primary_localizations(seeded: Emulator, api: httpx.Client) -> None:
    infos = _data(api.get(f"/v1/apps/{APP}/appInfos"))
    assert [i["attributes"]["state"] for i in infos] == ["PREPARE_FOR_SUBMISSION"]
    rating = _data(api.get(f"/v1/appInfos/{infos[0]['id']}/ageRatingDeclaration"))
    assert rating["type"] == "ageRatingDeclarations"
    names = _data(api.get(f"/v1/appInfos/{infos[0]['id']}/appInfoLocalizations"))
    assert [(n["attributes"]["locale"], n["attributes"]["name"]) for n in names] == [("en-US", "Demo")]
    texts = _data(api.get(f"/v1/appStoreVersions/{VERSION}/appStoreVersionLocalizations"))
    assert [t["attributes"]["locale"] for t in texts] == ["en-US"]
    assert _data(api.get(f"/v1/appStoreVersions/{VERSION}/appStoreReviewDetail")) is None


def test_a_second_localization_of_a_locale_is_apples_duplicate_409(seeded: Emulator, api: httpx.Client) -> None:
    body = {"data": {"type": "appStoreVersionLocalizations", "attributes": {"locale": "en-US"},
                     "relationships": {"appStoreVersion": {"data": {"type": "appStoreVersions", "id": VERSION}}}}}
    response = api.post("/v1/appStoreVersionLocalizations", json=body)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"


def test_a_version_in_review_refuses_edits_but_not_promotional_text(seeded: Emulator, api: httpx.Client, admin: httpx.Client) -> None:
    text = _data(api.get(f"/v1/appStoreVersions/{VERSION}/appStoreVersionLocalizations"))[0]
    assert admin.post(f"/_emulator/appStoreVersions/{VERSION}/state", json={"state": "IN_REVIEW"}).status_code == 200

    def patch(attributes: dict[str, Any]) -> httpx.Response:
        return api.patch(f"/v1/appStoreVersionLocalizations/{text['id']}",
                         json={"data": {"type": "appStoreVersionLocalizations", "id": text["id"], "attributes": attributes}})

    refused = patch({"description": "New"})
    assert refused.status_code == 409
    error = refused.json()["errors"][0]
    assert (error["code"], error["detail"]) == ("STATE_ERROR", "Attribute 'description' cannot be edited at this time")
    assert patch({"promotionalText": "On sale now"}).status_code == 200
    info = _data(api.get(f"/v1/apps/{APP}/appInfos"))[0]
    assert info["attributes"]["state"] == "IN_REVIEW"  # the app info follows its version


def test_the_next_version_waits_for_the_release_of_the_current_one(seeded: Emulator, api: httpx.Client, admin: httpx.Client) -> None:
    body = {"data": {"type": "appStoreVersions", "attributes": {"platform": "IOS", "versionString": "1.1"},
                     "relationships": {"app": {"data": {"type": "apps", "id": APP}}}}}
    refused = api.post("/v1/appStoreVersions", json=body)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["detail"] == "You cannot create a new version of the App in the current state."
    assert admin.post(f"/_emulator/appStoreVersions/{VERSION}/state", json={"state": "READY_FOR_DISTRIBUTION"}).status_code == 200
    created = _data(api.post("/v1/appStoreVersions", json=body))
    assert created["attributes"]["appVersionState"] == "PREPARE_FOR_SUBMISSION"
    states = sorted(i["attributes"]["state"] for i in _data(api.get(f"/v1/apps/{APP}/appInfos")))
    assert states == ["PREPARE_FOR_SUBMISSION", "READY_FOR_DISTRIBUTION"]  # an editable copy appeared


def test_the_primary_locales_localization_cannot_be_deleted(seeded: Emulator, api: httpx.Client) -> None:
    text = _data(api.get(f"/v1/appStoreVersions/{VERSION}/appStoreVersionLocalizations"))[0]
    response = api.delete(f"/v1/appStoreVersionLocalizations/{text['id']}")
    assert response.status_code == 400
    assert len(_data(api.get(f"/v1/appStoreVersions/{VERSION}/appStoreVersionLocalizations"))) == 1


def test_a_subcategory_outside_its_category_is_refused(seeded: Emulator, api: httpx.Client) -> None:
    info = _data(api.get(f"/v1/apps/{APP}/appInfos"))[0]
    linkage = {"primaryCategory": {"data": {"type": "appCategories", "id": "EDUCATION"}},
               "primarySubcategoryOne": {"data": {"type": "appCategories", "id": "GAMES_PUZZLE"}}}
    response = api.patch(f"/v1/appInfos/{info['id']}", json={"data": {"type": "appInfos", "id": info["id"], "relationships": linkage}})
    assert response.status_code == 409
    assert "does not belong to the category 'EDUCATION'" in response.json()["errors"][0]["detail"]


def test_a_related_listing_includes_what_apples_spec_lists_for_it(seeded: Emulator, api: httpx.Client) -> None:
    """GET /v1/apps/{id}/appInfos takes include= (Apple's spec lists the app info's categories,
    age rating, …): the linkage and the included objects, as on the app info's own GET."""
    info = _data(api.get(f"/v1/apps/{APP}/appInfos"))[0]
    linkage = {"primaryCategory": {"data": {"type": "appCategories", "id": "GAMES"}}}
    assert api.patch(f"/v1/appInfos/{info['id']}", json={"data": {"type": "appInfos", "id": info["id"], "relationships": linkage}}).status_code == 200
    listed = api.get(f"/v1/apps/{APP}/appInfos", params={"include": "primaryCategory,secondaryCategory"})
    assert listed.status_code == 200, listed.text
    document = listed.json()
    relationships = document["data"][0]["relationships"]
    assert relationships["primaryCategory"]["data"] == {"type": "appCategories", "id": "GAMES"}
    assert relationships["secondaryCategory"]["data"] is None
    assert [(o["type"], o["id"]) for o in document["included"]] == [("appCategories", "GAMES")]
    refused = api.get(f"/v1/apps/{APP}/appInfos", params={"include": "betaGroups"})
    assert refused.status_code == 400 and "is not a valid relationship" in refused.json()["errors"][0]["detail"]
    # Where Apple's spec lists no include= for a related listing, it stays a parameter Apple refuses.
    assert api.get(f"/v1/apps/{APP}/betaGroups", params={"include": "app"}).status_code == 400
