"""The TestFlight types through the real client's HTTP stack: builds uploaded through the admin
API, groups, testers and their memberships on Apple's relationship endpoints, the test
information, and Apple's rules (each test names its source; the emulator's rules cite theirs)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .signing_support import create, linkage
from .support import error

APP = "6450000001"


@pytest.fixture
def app(admin: httpx.Client) -> str:
    made = admin.post("/_emulator/objects/apps", json={"id": APP, "attributes": {"name": "Demo", "bundleId": "com.example.demo", "sku": "D1", "primaryLocale": "en-US"}})
    assert made.status_code == 201, made.text
    return APP


def upload(admin: httpx.Client, app: str, version: str, number: str, **extra: Any) -> dict[str, Any]:
    response = admin.post("/_emulator/builds", json={"app": app, "version": version, "buildNumber": number, **extra})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def group(api: httpx.Client, app: str, name: str, **attributes: Any) -> dict[str, Any]:
    response = create(api, "betaGroups", {"name": name, **attributes}, {"app": linkage("apps", app)})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def new_tester(api: httpx.Client, email: str, groups: list[str]) -> dict[str, Any]:
    response = create(api, "betaTesters", {"email": email}, {"betaGroups": linkage("betaGroups", groups)})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def linked(api: httpx.Client, path: str) -> list[str]:
    response = api.get(path, params={"limit": 200})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


# -- apps and builds -------------------------------------------------------------------------


def test_an_upload_makes_its_pre_release_version_and_a_processing_build(api: httpx.Client, admin: httpx.Client, app: str) -> None:
    build = upload(admin, app, "1.2", "7")
    assert build["attributes"]["processingState"] == "PROCESSING"  # Apple processes an upload first
    versions = api.get("/v1/preReleaseVersions", params={"filter[app]": app, "filter[version]": "1.2"}).json()["data"]
    assert [(v["attributes"]["version"], v["attributes"]["platform"]) for v in versions] == [("1.2", "IOS")]
    found = api.get("/v1/builds", params={"filter[app]": app, "filter[preReleaseVersion.version]": "1.2"}).json()["data"]
    assert [b["id"] for b in found] == [build["id"]]
    assert api.get("/v1/builds", params={"filter[preReleaseVersion.version]": "1.20"}).json()["data"] == []
    again = admin.post("/_emulator/builds", json={"app": app, "version": "1.2", "buildNumber": "7"})
    assert again.status_code == 409  # one upload per build number and version
    upload(admin, app, "1.2", "8")
    assert len(api.get("/v1/builds", params={"filter[preReleaseVersion]": versions[0]["id"]}).json()["data"]) == 2


def test_an_app_comes_with_its_review_detail_under_the_apps_id_and_a_license_agreement(api: httpx.Client, app: str) -> None:
    # fastlane's spaceship PATCHes betaAppReviewDetails/<app id> without reading the detail first.
    patched = api.patch(f"/v1/betaAppReviewDetails/{app}", json={"data": {"type": "betaAppReviewDetails", "id": app, "attributes": {"contactEmail": "a@example.com"}}})
    assert patched.status_code == 200, patched.text
    listed = api.get("/v1/betaAppReviewDetails", params={"filter[app]": app}).json()["data"]
    assert [(d["id"], d["attributes"]["contactEmail"]) for d in listed] == [(app, "a@example.com")]
    agreement = api.get(f"/v1/apps/{app}/betaLicenseAgreement").json()["data"]
    assert agreement["type"] == "betaLicenseAgreements" and agreement["id"] != app
    # Apple's spec has no POST for either (4.4.1): they exist with the app.
    assert api.post("/v1/betaAppReviewDetails", json={"data": {"type": "betaAppReviewDetails"}}).status_code == 405


# -- groups and memberships ------------------------------------------------------------------


def test_memberships_are_written_on_relationship_endpoints_and_read_from_either_side(api: httpx.Client, admin: httpx.Client, app: str) -> None:
    external = group(api, app, "Friends")
    ada = new_tester(api, "ada@example.com", [])
    added = api.post(f"/v1/betaGroups/{external['id']}/relationships/betaTesters", json=linkage("betaTesters", [ada["id"]]))
    # Apple's spec: 204, no body.
    assert added.status_code == 204 and added.content == b"" and "content-type" not in added.headers
    assert linked(api, f"/v1/betaGroups/{external['id']}/relationships/betaTesters") == [ada["id"]]
    assert linked(api, f"/v1/betaTesters/{ada['id']}/relationships/betaGroups") == [external["id"]]
    assert linked(api, f"/v1/betaTesters/{ada['id']}/relationships/apps") == [app]
    # The tester's side writes the group's membership.
    removed = api.request("DELETE", f"/v1/betaTesters/{ada['id']}/relationships/betaGroups", json=linkage("betaGroups", [external["id"]]))
    assert removed.status_code == 204
    assert linked(api, f"/v1/betaGroups/{external['id']}/relationships/betaTesters") == []


def test_a_membership_listing_pages(api: httpx.Client, app: str) -> None:
    external = group(api, app, "Many")
    ids = [new_tester(api, f"t{n}@example.com", [external["id"]])["id"] for n in range(3)]
    first = api.get(f"/v1/betaGroups/{external['id']}/relationships/betaTesters", params={"limit": 2}).json()
    assert len(first["data"]) == 2 and first["links"]["next"]
    rest = api.get(first["links"]["next"]).json()
    assert [i["id"] for i in first["data"] + rest["data"]] == ids and "next" not in rest["links"]


def test_an_internal_group_with_every_build_refuses_a_build_from_either_side(api: httpx.Client, admin: httpx.Client, app: str) -> None:
    build = upload(admin, app, "1.0", "1", processingState="VALID")
    everything = group(api, app, "Team", isInternalGroup=True, hasAccessToAllBuilds=True)
    # rorkai/App-Store-Connect-CLI#761 printed Apple's refusal: "Builds cannot be assigned to this
    # internal group.: Cannot add internal group to a build."
    for method_path, body in (
        (f"/v1/betaGroups/{everything['id']}/relationships/builds", linkage("builds", [build["id"]])),
        (f"/v1/builds/{build['id']}/relationships/betaGroups", linkage("betaGroups", [everything["id"]])),
    ):
        refused = api.post(method_path, json=body)
        assert refused.status_code == 409
        item = error(refused)
        assert (item["title"], item["detail"]) == ("Builds cannot be assigned to this internal group.", "Cannot add internal group to a build.")
    chosen = group(api, app, "QA", isInternalGroup=True, hasAccessToAllBuilds=False)
    assert api.post(f"/v1/betaGroups/{chosen['id']}/relationships/builds", json=linkage("builds", [build["id"]])).status_code == 204
    assert linked(api, f"/v1/betaGroups/{chosen['id']}/relationships/builds") == [build["id"]]
    on_groups = api.get("/v1/builds", params={"filter[betaGroups]": chosen["id"]}).json()["data"]
    assert [b["id"] for b in on_groups] == [build["id"]]


def test_an_internal_only_build_goes_to_internal_groups_only(api: httpx.Client, admin: httpx.Client, app: str) -> None:
    # App Store Connect Help, "Invite external testers": builds uploaded as TestFlight Internal
    # Only "can only be added to internal tester groups".
    internal_only = upload(admin, app, "1.0", "2", processingState="VALID", buildAudienceType="INTERNAL_ONLY")
    external = group(api, app, "Friends")
    refused = api.post(f"/v1/betaGroups/{external['id']}/relationships/builds", json=linkage("builds", [internal_only["id"]]))
    assert refused.status_code == 409 and error(refused)["code"] == "ENTITY_ERROR.RELATIONSHIP.INVALID"


def test_the_public_link_comes_and_goes_with_public_link_enabled(api: httpx.Client, app: str) -> None:
    external = group(api, app, "Public")
    assert (external["attributes"]["publicLinkEnabled"], external["attributes"]["publicLink"]) == (False, None)
    patch = lambda attributes: api.patch(  # noqa: E731
        f"/v1/betaGroups/{external['id']}", json={"data": {"type": "betaGroups", "id": external["id"], "attributes": attributes}}
    )
    enabled = patch({"publicLinkEnabled": True, "publicLinkLimitEnabled": True, "publicLinkLimit": 100}).json()["data"]["attributes"]
    assert enabled["publicLink"] == f"https://testflight.apple.com/join/{enabled['publicLinkId']}"
    assert patch({"publicLinkEnabled": False}).json()["data"]["attributes"]["publicLink"] is None
    # At most 10,000 testers per app (App Store Connect Help, "Invite external testers").
    assert error(patch({"publicLinkLimit": 10_001}))["source"] == {"pointer": "/data/attributes/publicLinkLimit"}
    internal = create(api, "betaGroups", {"name": "Team", "isInternalGroup": True, "publicLinkEnabled": True}, {"app": linkage("apps", app)})
    assert internal.status_code == 409 and error(internal)["source"] == {"pointer": "/data/attributes/publicLinkEnabled"}


def test_a_tester_is_invited_once_a_build_is_available_to_its_group(api: httpx.Client, admin: httpx.Client, app: str) -> None:
    external = group(api, app, "Friends")
    ada = new_tester(api, "ada@example.com", [external["id"]])
    # Apple's BetaTesterState: an e-mail tester with nothing to install is NOT_INVITED.
    assert (ada["attributes"]["inviteType"], ada["attributes"]["state"]) == ("EMAIL", "NOT_INVITED")
    build = upload(admin, app, "1.0", "3", processingState="VALID")
    api.post(f"/v1/betaGroups/{external['id']}/relationships/builds", json=linkage("builds", [build["id"]]))
    assert api.get(f"/v1/betaTesters/{ada['id']}").json()["data"]["attributes"]["state"] == "INVITED"


def test_tester_deletes_answer_202_as_apples_spec_declares(api: httpx.Client, app: str) -> None:
    external = group(api, app, "Friends")
    ada, bob = new_tester(api, "ada@example.com", [external["id"]]), new_tester(api, "bob@example.com", [external["id"]])
    from_app = api.request("DELETE", f"/v1/betaTesters/{ada['id']}/relationships/apps", json=linkage("apps", [app]))
    assert from_app.status_code == 202 and from_app.content == b""
    assert linked(api, f"/v1/betaGroups/{external['id']}/relationships/betaTesters") == [bob["id"]]
    assert api.get(f"/v1/betaTesters/{ada['id']}").status_code == 200  # still on the team, without the app
    deleted = api.delete(f"/v1/betaTesters/{bob['id']}")
    assert deleted.status_code == 202 and api.get(f"/v1/betaTesters/{bob['id']}").status_code == 404
    assert linked(api, f"/v1/betaGroups/{external['id']}/relationships/betaTesters") == []


def test_one_tester_per_address_unless_the_duplicate_testers_quirk_is_on(api: httpx.Client, admin: httpx.Client, app: str) -> None:
    external = group(api, app, "Friends")
    ada = new_tester(api, "ada@example.com", [external["id"]])
    duplicate = create(api, "betaTesters", {"email": "ADA@example.com"}, {"betaGroups": linkage("betaGroups", [external["id"]])})
    assert duplicate.status_code == 409 and error(duplicate)["source"] == {"pointer": "/data/attributes/email"}
    assert admin.put("/_emulator/quirks", json={"duplicateTesters": True}).json() == {"duplicateTesters": True}
    assert api.delete(f"/v1/betaTesters/{ada['id']}").status_code == 202
    left = api.get("/v1/betaTesters", params={"filter[email]": "ada@example.com"}).json()["data"]
    assert len(left) == 1 and left[0]["id"] != ada["id"]  # a detached entry stays behind
    again = new_tester(api, "ada@example.com", [external["id"]])
    listed = [t["id"] for t in api.get("/v1/betaTesters", params={"filter[email]": "ada@example.com"}).json()["data"]]
    assert listed == [left[0]["id"], again["id"]]  # two testers for one address
    admin.post("/_emulator/reset")
    assert admin.get("/_emulator/quirks").json() == {"duplicateTesters": False}


# -- test information ------------------------------------------------------------------------


def test_localizations_take_apples_locales_once_per_parent(api: httpx.Client, admin: httpx.Client, app: str) -> None:
    def localize(locale: str, parent: str = app) -> httpx.Response:
        return create(api, "betaAppLocalizations", {"locale": locale, "description": "d"}, {"app": linkage("apps", parent)})

    assert localize("en-US").status_code == 201
    duplicate = localize("en-US")
    # The 409 Apple answers a second localization of a locale (recorded live for App Store
    # version localizations in rorkai/App-Store-Connect-CLI's tests).
    assert (duplicate.status_code, error(duplicate)["code"]) == (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE")
    assert error(localize("en-XX"))["source"] == {"pointer": "/data/attributes/locale"}
    admin.post("/_emulator/objects/apps", json={"id": "6450000002", "attributes": {"name": "Other", "bundleId": "com.example.other"}})
    assert localize("en-US", "6450000002").status_code == 201  # another app's en-US
    build = upload(admin, app, "1.0", "4")
    what = create(api, "betaBuildLocalizations", {"locale": "en-US", "whatsNew": "w"}, {"build": linkage("builds", build["id"])})
    assert what.status_code == 201
    assert linked(api, f"/v1/builds/{build['id']}/betaBuildLocalizations") == [what.json()["data"]["id"]]
