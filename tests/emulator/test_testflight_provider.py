"""TestFlight through the provider and the real client against the emulator: the program-side
look-ups, groups with their memberships, testers (one per address, taken over when the team has
them), test information, and what destroy does to each."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

import httpx
import pytest

from pulumi_appstoreconnect import LookupFailed, get_app, get_build
from pulumi_appstoreconnect.client import ConflictError
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.emulator.seeding import load_seed
from pulumi_appstoreconnect.lookups import _stack_config
from pulumi_appstoreconnect.reconciler import SpecProvider

from ..providers import connect

Provider = Callable[[str], SpecProvider]
APP = "6450000001"  # the demo seed's app: version 1.0 has builds 41 and 42, 1.1 has 43 processing


@pytest.fixture
def provider(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Provider:
    """The demo account, a provider wired to it, and the program's credentials in the
    environment (where get_app/get_build find them outside a stack)."""
    load_seed(emulator, "demo")
    monkeypatch.setenv("ASC_KEY_ID", emulator.key_id)
    monkeypatch.setenv("ASC_ISSUER_ID", emulator.issuer_id)
    monkeypatch.setenv("ASC_PRIVATE_KEY", emulator.private_key_pem)
    return connect(emulator, monkeypatch, sleep=lambda _s: None)


def log(admin: httpx.Client, *, writes_only: bool = True) -> list[tuple[str, str]]:
    entries = admin.get("/_emulator/requests").json()["data"]
    return [(r["method"], r["path"]) for r in entries if not writes_only or r["method"] != "GET"]


def linked(api: httpx.Client, path: str) -> list[str]:
    """A membership as Apple lists it (the linkage listing, read through the real client)."""
    return [item["id"] for item in api.get(path, params={"limit": 200}).json()["data"]]


def create(provider: SpecProvider, news: dict[str, Any]) -> Any:
    result = provider.check({}, dict(news))
    assert result.failures == [], [(f.property, f.reason) for f in result.failures]
    return provider.create(dict(result.inputs))


# -- look-ups ----------------------------------------------------------------------------------


def test_get_app_matches_the_bundle_id_exactly_and_says_what_it_searched(provider: Provider, admin: httpx.Client) -> None:
    app = get_app("com.example.demo")
    assert (app.id, app.name, app.primary_locale) == (APP, "Demo", "en-US")
    with pytest.raises(LookupFailed, match=r"no app with bundle ID 'com.example.dem'.*GET /v1/apps\?filter\[bundleId\]=com.example.dem"):
        get_app("com.example.dem")
    admin.post("/_emulator/objects/apps", json={"id": "6450000099", "attributes": {"name": "Twin", "bundleId": "com.example.demo"}})
    with pytest.raises(LookupFailed, match="2 apps have bundle ID 'com.example.demo' \\(6450000001, 6450000099"):
        get_app("com.example.demo")


def test_get_build_by_number_or_the_latest_processed_one(provider: Provider, admin: httpx.Client) -> None:
    assert get_build(APP, "1.0", "41").id == "DEMOBUILD0041"
    latest = get_build(APP, "1.0")
    assert (latest.id, latest.build_number, latest.version) == ("DEMOBUILD0001", "42", "1.0")
    # The newest upload wins by upload time, not by build number; an expired one never does.
    admin.post("/_emulator/builds", json={"app": APP, "version": "1.0", "buildNumber": "40", "processingState": "VALID",
                                          "uploadedDate": "2026-11-30T00:00:00.000+0000"})
    assert get_build(APP, "1.0").build_number == "40"
    uploaded = admin.post("/_emulator/builds", json={"app": APP, "version": "1.0", "buildNumber": "44", "processingState": "VALID"}).json()["data"]
    admin.patch(f"/_emulator/objects/builds/{uploaded['id']}", json={"attributes": {"expired": True}})
    assert get_build(APP, "1.0").build_number == "40"


def test_get_build_failures_name_what_was_searched_and_found(provider: Provider) -> None:
    with pytest.raises(LookupFailed, match=r"version 1.1 .* has no processed build yet .*its builds: 43 PROCESSING"):
        get_build(APP, "1.1")
    with pytest.raises(LookupFailed, match=r"no build '99' of version 1.0 .*the version's builds: 41, 42"):
        get_build(APP, "1.0", "99")
    with pytest.raises(LookupFailed, match=r"no version '1.0' on MAC_OS .*filter\[platform\]=MAC_OS"):
        get_build(APP, "1.0", platform="MAC_OS")
    with pytest.raises(LookupFailed, match=r"no version '1' "):  # exact: "1" is not "1.0"
        get_build(APP, "1")


def test_look_ups_read_the_running_stacks_config_before_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The language host hands a program its stack config as PULUMI_CONFIG (secrets decrypted).
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"appstoreconnect:keyId": "KEY1234567", "appstoreconnect:baseUrl": "http://127.0.0.1:9"}))
    assert _stack_config() == {"keyId": "KEY1234567", "baseUrl": "http://127.0.0.1:9"}


# -- groups ------------------------------------------------------------------------------------


def test_a_group_gets_its_builds_and_testers_with_its_post_and_changes_them_by_difference(
    provider: Provider, admin: httpx.Client, api: httpx.Client
) -> None:
    groups, testers = provider("BetaGroup"), provider("BetaTester")
    ada = create(testers, {"email": "ada@example.com"})
    admin.delete("/_emulator/requests")
    group = create(groups, {"app": APP, "name": "Friends", "public_link_enabled": True, "public_link_limit_enabled": True,
                            "public_link_limit": 100, "builds": ["DEMOBUILD0041"], "testers": [ada.id]})
    assert log(admin) == [("POST", "/v1/betaGroups")]  # one request carries the members
    assert group.outs["public_link"].startswith("https://testflight.apple.com/join/")
    bob = create(testers, {"email": "bob@example.com"})
    admin.delete("/_emulator/requests")
    news = groups.check(group.outs, {**{k: group.outs[k] for k in ("app", "name", "public_link_limit_enabled", "public_link_limit")},
                                     "public_link_enabled": False, "builds": ["DEMOBUILD0041", "DEMOBUILD0001"], "testers": [bob.id]}).inputs
    diff = groups.diff(group.id, group.outs, news)
    assert diff.changes is True and diff.replaces == []
    updated = groups.update(group.id, group.outs, news)
    path = f"/v1/betaGroups/{group.id}"
    assert log(admin) == [
        ("PATCH", path),
        ("POST", f"{path}/relationships/builds"),
        ("DELETE", f"{path}/relationships/betaTesters"),
        ("POST", f"{path}/relationships/betaTesters"),
    ]
    assert updated.outs["public_link"] is None and sorted(updated.outs["builds"]) == ["DEMOBUILD0001", "DEMOBUILD0041"]
    assert linked(api, f"{path}/relationships/betaTesters") == [bob.id]


def test_a_member_removed_out_of_band_shows_as_a_change_and_comes_back(provider: Provider, admin: httpx.Client) -> None:
    groups = provider("BetaGroup")
    ada = create(provider("BetaTester"), {"email": "ada@example.com"})
    group = create(groups, {"app": APP, "name": "Friends", "testers": [ada.id]})
    admin.patch(f"/_emulator/objects/betaGroups/{group.id}", json={"relationships": {"betaTesters": []}})
    read = groups.read(group.id, group.outs)
    assert read.outs["testers"] == []
    news = groups.check(read.outs, {"app": APP, "name": "Friends", "testers": [ada.id]}).inputs
    assert groups.diff(group.id, read.outs, news).changes is True
    admin.delete("/_emulator/requests")
    groups.update(group.id, read.outs, news)
    assert log(admin) == [("POST", f"/v1/betaGroups/{group.id}/relationships/betaTesters")]


# -- testers -----------------------------------------------------------------------------------


def test_a_tester_the_team_has_is_taken_over_and_only_its_groups_are_added(provider: Provider, admin: httpx.Client) -> None:
    groups = provider("BetaGroup")
    internal = create(groups, {"app": APP, "name": "Team", "is_internal_group": True})
    external = create(groups, {"app": APP, "name": "Friends"})
    existing = admin.post("/_emulator/objects/betaTesters", json={"attributes": {"email": "Ada@Example.com"},
                                                                  "relationships": {"betaGroups": [internal.id]}}).json()["data"]
    admin.delete("/_emulator/requests")
    taken = create(provider("BetaTester"), {"email": "ada@example.com", "first_name": "Ada", "groups": [internal.id, external.id]})
    assert taken.id == existing["id"]
    assert log(admin) == [("POST", f"/v1/betaTesters/{existing['id']}/relationships/betaGroups")]
    assert taken.outs["email"] == "Ada@Example.com"  # Apple's spelling kept: e-mails ignore case


def test_of_several_testers_for_one_address_the_one_in_the_programs_group_is_taken(
    provider: Provider, admin: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    group = create(provider("BetaGroup"), {"app": APP, "name": "Friends"})
    detached = admin.post("/_emulator/objects/betaTesters", json={"attributes": {"email": "ada@example.com"}}).json()["data"]
    admin.put("/_emulator/quirks", json={"duplicateTesters": True})
    member = admin.post("/_emulator/objects/betaTesters", json={"attributes": {"email": "ADA@example.com"},
                                                                "relationships": {"betaGroups": [group.id]}}).json()["data"]
    admin.delete("/_emulator/requests")
    with caplog.at_level(logging.INFO, logger="pulumi_appstoreconnect"):
        taken = create(provider("BetaTester"), {"email": "ada@example.com", "groups": [group.id]})
    assert taken.id == member["id"] and taken.id != detached["id"]
    assert log(admin) == []  # nothing created, nothing to add
    chose = [r.getMessage() for r in caplog.records if "testers with e-mail" in r.getMessage()]
    assert chose and f"taking {member['id']}, in one of its groups" in chose[0] and detached["id"] in chose[0]


def test_destroy_leaves_the_stacks_groups_or_deletes_the_tester_from_their_apps(
    provider: Provider, admin: httpx.Client, api: httpx.Client
) -> None:
    groups, testers = provider("BetaGroup"), provider("BetaTester")
    ours = create(groups, {"app": APP, "name": "Friends"})
    ada = create(testers, {"email": "ada@example.com", "groups": [ours.id]})
    # A group made by hand (or by another stack) that the tester is also in.
    theirs = admin.post("/_emulator/objects/betaGroups", json={"attributes": {"name": "Someone else's"},
                                                              "relationships": {"app": APP, "betaTesters": [ada.id]}}).json()["data"]
    admin.delete("/_emulator/requests")
    testers.delete(ada.id, ada.outs)
    assert log(admin) == [("DELETE", f"/v1/betaTesters/{ada.id}/relationships/betaGroups")]
    assert linked(api, f"/v1/betaGroups/{ours.id}/relationships/betaTesters") == []
    assert linked(api, f"/v1/betaGroups/{theirs['id']}/relationships/betaTesters") == [ada.id]  # not the stack's: kept
    bob = create(testers, {"email": "bob@example.com", "groups": [ours.id], "delete_on_destroy": True})
    admin.delete("/_emulator/requests")
    testers.delete(bob.id, bob.outs)
    requests = admin.get("/_emulator/requests").json()["data"]
    assert [(r["method"], r["path"], r["status"]) for r in requests if r["method"] != "GET"] == [
        ("DELETE", f"/v1/betaTesters/{bob.id}/relationships/apps", 202)
    ]


def test_a_new_name_for_a_testers_address_fails_at_preview(provider: Provider) -> None:
    testers = provider("BetaTester")
    ada = create(testers, {"email": "ada@example.com", "first_name": "Ada"})
    failures = testers.check(ada.outs, {"email": "ADA@example.com", "first_name": "Adeline"}).failures
    assert [f.property for f in failures] == ["first_name"] and "cannot change it" in failures[0].reason


# -- test information --------------------------------------------------------------------------


def test_a_localization_is_looked_up_in_its_app_and_a_collision_names_it_and_adopt(provider: Provider, admin: httpx.Client) -> None:
    localizations = provider("BetaAppLocalization")
    made = admin.post("/_emulator/objects/betaAppLocalizations", json={"attributes": {"locale": "en-US", "feedbackEmail": "beta@example.com"},
                                                                       "relationships": {"app": APP}}).json()["data"]
    with pytest.raises(ConflictError, match=f"{made['id']}.*already has locale 'en-US' in app {APP}.*adopt=True"):
        create(localizations, {"app": APP, "locale": "en-US", "description": "New"})
    adopted = create(localizations, {"app": APP, "locale": "en-US", "description": "New", "feedback_email": "Beta@Example.com", "adopt": True})
    assert adopted.id == made["id"]
    # E-mails compare ignoring case: Apple's spelling is no change.
    news = localizations.check(adopted.outs, {"app": APP, "locale": "en-US", "description": "New",
                                              "feedback_email": "BETA@example.com", "adopt": True}).inputs
    assert localizations.diff(adopted.id, adopted.outs, news).changes is False


def test_what_to_test_moves_with_the_build(provider: Provider, admin: httpx.Client) -> None:
    what = provider("BetaBuildLocalization")
    first = create(what, {"build": "DEMOBUILD0041", "locale": "en-US", "whats_new": "Try the new search"})
    news = what.check(first.outs, {"build": "DEMOBUILD0001", "locale": "en-US", "whats_new": "Try the new search"}).inputs
    diff = what.diff(first.id, first.outs, news)
    assert diff.replaces == ["build"] and not diff.delete_before_replace  # another build: no clash


def test_the_review_detail_is_taken_over_under_the_apps_id_and_released(provider: Provider, admin: httpx.Client) -> None:
    details = provider("BetaAppReviewDetail")
    admin.delete("/_emulator/requests")
    detail = create(details, {"app": APP, "contact_email": "review@example.com", "demo_account_required": True,
                              "demo_account_name": "demo", "demo_account_password": "s3cret"})
    assert detail.id == APP
    # check and create both look it up in the app's listing, read once (the read cache).
    assert log(admin, writes_only=False) == [("GET", "/v1/betaAppReviewDetails"), ("PATCH", f"/v1/betaAppReviewDetails/{APP}")]
    assert details.spec.secret_outputs == ["demo_account_password"]
    admin.delete("/_emulator/requests")
    details.delete(detail.id, detail.outs)
    assert log(admin, writes_only=False) == []  # release: nothing is sent


def test_taking_over_the_review_detail_keeps_what_the_program_leaves_out(provider: Provider, admin: httpx.Client) -> None:
    """Apple makes the detail with the app and the team fills it in the web UI: a program that
    declares only the demo account must not wipe the contact someone entered (no data lost)."""
    admin.patch(f"/_emulator/objects/betaAppReviewDetails/{APP}", json={"attributes": {
        "contactFirstName": "Grace", "contactPhone": "+1 555 0100", "notes": "Sign in with the demo account"}})
    details = provider("BetaAppReviewDetail")
    detail = create(details, {"app": APP, "demo_account_required": True, "demo_account_name": "demo"})
    remote = admin.get(f"/_emulator/objects/betaAppReviewDetails/{APP}").json()["data"]["attributes"]
    assert (remote["contactFirstName"], remote["contactPhone"], remote["notes"]) == (
        "Grace", "+1 555 0100", "Sign in with the demo account")
    assert (remote["demoAccountRequired"], remote["demoAccountName"]) == (True, "demo")
    # What was left out is not managed: a later change of it in the web UI is no drift.
    admin.patch(f"/_emulator/objects/betaAppReviewDetails/{APP}", json={"attributes": {"contactPhone": "+1 555 0199"}})
    read = details.read(detail.id, detail.outs)
    news = details.check(read.outs, {"app": APP, "demo_account_required": True, "demo_account_name": "demo"}).inputs
    assert details.diff(detail.id, read.outs, news).changes is False


def test_a_tester_the_team_has_under_another_name_fails_at_preview_saying_why(provider: Provider, admin: httpx.Client) -> None:
    existing = admin.post("/_emulator/objects/betaTesters", json={"attributes": {"email": "alan@example.com", "firstName": "Al"}}).json()["data"]
    failures = provider("BetaTester").check({}, {"email": "alan@example.com", "first_name": "Alan"}).failures
    assert [f.property for f in failures] == ["first_name"]
    reason = failures[0].reason
    assert existing["id"] in reason and "first_name='Al'" in reason
    assert "keeps one betaTesters object per email" in reason and "remove adopt" not in reason  # no new one to make
