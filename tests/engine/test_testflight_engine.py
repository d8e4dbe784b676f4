"""examples/testflight through the real engine (issue 11): groups, testers, memberships, builds from
get_build and the test information, against the demo account.

The tests share one stack (see :class:`SharedStack`); each names the state it starts from, so any
of them runs alone or in any order. Run with ``-s`` to see the request counts of the first up
and of a no-op preview. The bad-input cases share one preview-only stack.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from .conftest import EMPTY, EmulatorHandle, SharedStack, Stack, demo_account, make_stack, refused_at_preview

APP = "6450000001"  # the demo seed's app: version 1.0 has processed builds 41 and 42
FIRST, LATEST = "DEMOBUILD0041", "DEMOBUILD0001"
WRITES = {"POST", "PATCH", "DELETE"}
PASSWORD = "correct horse battery staple"


def deploy(stack: Stack, emulator: EmulatorHandle) -> None:
    demo_account(emulator)
    stack.config("demoAccountPassword", PASSWORD, secret=True)
    stack.run("up", "--yes")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorHandle, engine_bin: Path) -> SharedStack:
    stack = make_stack("testflight", tmp_path_factory.mktemp("testflight"), emulator, engine_bin)
    return SharedStack(stack, emulator, {"deployed": deploy})


def writes(emulator: EmulatorHandle) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emulator.requests() if r["method"] in WRITES]


def counted(emulator: EmulatorHandle) -> dict[str, int]:
    return dict(sorted(Counter(r["method"] for r in emulator.requests()).items()))


def groups_by_name(emulator: EmulatorHandle) -> dict[str, dict[str, Any]]:
    return {g["attributes"]["name"]: g for g in emulator.objects("betaGroups")}


def members(emulator: EmulatorHandle, group_id: str, relationship: str = "betaTesters") -> list[str]:
    """A group's membership as the emulator keeps it (the group holds it)."""
    stored = emulator.emulator.store.get("betaGroups", group_id)
    value = stored.relationships.get(relationship) if stored else None
    return sorted(value) if isinstance(value, list) else []


def emulator_agreement_of(emulator: EmulatorHandle, app: str) -> str:
    """The id of the app's beta license agreement (Apple gives it its own id)."""
    return next(a.id for a in emulator.emulator.store.all_of("betaLicenseAgreements") if a.relationships.get("app") == app)


def ids_by_email(emulator: EmulatorHandle) -> dict[str, str]:
    return {t["attributes"]["email"]: t["id"] for t in emulator.objects("betaTesters")}


@pytest.mark.stack_state(EMPTY, changes=True)
def test_up_makes_the_groups_testers_and_test_information(stack: Stack, shared: SharedStack, emulator: EmulatorHandle) -> None:
    demo_account(emulator)
    stack.config("demoAccountPassword", PASSWORD, secret=True)
    stack.run("up", "--yes")
    print(f"\nfirst up of examples/testflight: {len(emulator.requests())} requests {counted(emulator)}")
    groups = groups_by_name(emulator)
    team, friends = groups["Team"], groups["Friends & Family"]
    assert (team["attributes"]["isInternalGroup"], team["attributes"]["hasAccessToAllBuilds"]) == (True, True)
    assert friends["attributes"]["publicLinkEnabled"] is True and friends["attributes"]["publicLinkLimit"] == 200
    assert members(emulator, friends["id"], "builds") == sorted([FIRST, LATEST])
    testers = ids_by_email(emulator)
    assert sorted(testers) == ["ada@example.com", "alan@example.com", "grace@example.com"]
    assert members(emulator, friends["id"]) == sorted(testers.values())
    assert members(emulator, team["id"]) == [testers["ada@example.com"]]
    outputs = stack.outputs()
    assert outputs["public_link"] == friends["attributes"]["publicLink"] and outputs["latest_build"] == "1.0 (42)"
    # A build is available to their groups: Apple invites them.
    assert set(outputs["tester_states"].values()) == {"INVITED"}
    (localization,) = emulator.objects("betaAppLocalizations")
    assert localization["attributes"]["feedbackEmail"] == "beta@example.com"
    (what,) = emulator.objects("betaBuildLocalizations")
    assert emulator.emulator.store.get("betaBuildLocalizations", what["id"]).relationships["build"] == LATEST
    review = emulator.admin("GET", f"/objects/betaAppReviewDetails/{APP}")["data"]["attributes"]
    assert (review["contactEmail"], review["demoAccountPassword"]) == ("review@example.com", PASSWORD)
    # Taken over, never created: the review detail and license agreement exist with every app.
    assert not [w for w in writes(emulator) if w[0] == "POST" and w[1] in ("/v1/betaAppReviewDetails", "/v1/betaLicenseAgreements")]
    assert PASSWORD not in stack.export()  # a secret output, encrypted in the state
    shared.reached("deployed")


@pytest.mark.stack_state("deployed", changes=False)
def test_a_noop_preview_shows_no_changes(stack: Stack, emulator: EmulatorHandle) -> None:
    emulator.clear_requests()
    proc = stack.run("preview", "--expect-no-changes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(f"\nno-op preview of examples/testflight: {len(emulator.requests())} requests {counted(emulator)}")
    assert writes(emulator) == []


@pytest.mark.stack_state("deployed", changes=True)
def test_adding_testers_in_code_changes_only_memberships(stack: Stack, emulator: EmulatorHandle) -> None:
    before = {name: g["id"] for name, g in groups_by_name(emulator).items()}
    alan = ids_by_email(emulator)["alan@example.com"]
    stack.config("alanInTeam", "true")
    emulator.clear_requests()
    stack.run("up", "--yes")
    assert writes(emulator) == [("POST", f"/v1/betaTesters/{alan}/relationships/betaGroups")]
    assert alan in members(emulator, before["Team"])
    stack.config("addKatherine", "true")
    emulator.clear_requests()
    stack.run("up", "--yes")
    # A new tester comes with its groups in one request; no group is written.
    assert writes(emulator) == [("POST", "/v1/betaTesters")]
    assert ids_by_email(emulator)["katherine@example.com"] in members(emulator, before["Friends & Family"])
    assert {name: g["id"] for name, g in groups_by_name(emulator).items()} == before


@pytest.mark.stack_state("deployed", changes=True)
def test_a_tester_removed_out_of_band_is_drift_and_up_refresh_restores_it(stack: Stack, emulator: EmulatorHandle) -> None:
    friends = groups_by_name(emulator)["Friends & Family"]["id"]
    grace = ids_by_email(emulator)["grace@example.com"]
    emulator.admin("PATCH", f"/objects/betaGroups/{friends}",
                   json={"relationships": {"betaTesters": [t for t in members(emulator, friends) if t != grace]}})
    drift = stack.run("preview", "--refresh", "--expect-no-changes", "--diff", check=False)
    assert drift.returncode != 0, drift.stdout + drift.stderr
    # The tester shows as changed, and what changed is its groups.
    shown = drift.stdout.split("appstoreconnect:BetaTester::grace]", 1)
    assert len(shown) == 2 and re.search(r"~ groups\s*: \[", shown[1]), drift.stdout
    emulator.clear_requests()
    stack.run("up", "--refresh", "--yes")
    assert writes(emulator) == [("POST", f"/v1/betaTesters/{grace}/relationships/betaGroups")]
    assert grace in members(emulator, friends)
    settled = stack.run("preview", "--refresh", "--expect-no-changes", check=False)
    assert settled.returncode == 0, settled.stdout + settled.stderr


@pytest.mark.stack_state("deployed", changes=True)
def test_toggling_the_public_link_is_an_in_place_update(stack: Stack, emulator: EmulatorHandle) -> None:
    friends = groups_by_name(emulator)["Friends & Family"]["id"]
    stack.config("publicLink", "false")
    emulator.clear_requests()
    stack.run("up", "--yes")
    assert writes(emulator) == [("PATCH", f"/v1/betaGroups/{friends}")]
    outputs = stack.outputs()
    assert outputs["friends_id"] == friends and outputs.get("public_link") is None
    stack.config("publicLink", "true")
    stack.run("up", "--yes")
    link = stack.outputs()["public_link"]
    assert link.startswith("https://testflight.apple.com/join/") and groups_by_name(emulator)["Friends & Family"]["id"] == friends


@pytest.mark.stack_state("deployed", changes=True)
def test_a_newly_uploaded_build_is_added_by_get_build(stack: Stack, emulator: EmulatorHandle) -> None:
    groups = groups_by_name(emulator)
    friends, team = groups["Friends & Family"]["id"], groups["Team"]["id"]
    (old_what,) = emulator.objects("betaBuildLocalizations")
    uploaded = emulator.admin("POST", "/builds", json={"app": APP, "version": "1.0", "buildNumber": "44", "processingState": "VALID"})["data"]
    emulator.clear_requests()
    stack.run("up", "--yes")
    assert sorted(writes(emulator)) == sorted([
        ("POST", f"/v1/betaGroups/{friends}/relationships/builds"),  # the new latest build in ...
        ("DELETE", f"/v1/betaGroups/{friends}/relationships/builds"),  # ... the one it replaces out
        ("POST", "/v1/betaBuildLocalizations"),  # "What to Test" moves to the new build
        ("DELETE", f"/v1/betaBuildLocalizations/{old_what['id']}"),
    ])
    assert members(emulator, friends, "builds") == sorted([FIRST, uploaded["id"]])
    assert groups_by_name(emulator)["Team"]["id"] == team and stack.outputs()["latest_build"] == "1.0 (44)"
    (what,) = emulator.objects("betaBuildLocalizations")
    assert emulator.emulator.store.get("betaBuildLocalizations", what["id"]).relationships["build"] == uploaded["id"]


@pytest.mark.stack_state("deployed", changes=True)
def test_destroy_leaves_what_the_docs_say(stack: Stack, emulator: EmulatorHandle) -> None:
    testers = ids_by_email(emulator)
    stack.run("destroy", "--yes")
    # Deleted: the groups and the localizations.
    for rest_type in ("betaGroups", "betaAppLocalizations", "betaBuildLocalizations"):
        assert emulator.objects(rest_type) == [], rest_type
    # Kept: the testers (people on the team, now in no group of the stack), the review detail and
    # license agreement (released, with their last values), the app and its builds.
    assert ids_by_email(emulator) == testers
    review = emulator.admin("GET", f"/objects/betaAppReviewDetails/{APP}")["data"]["attributes"]
    assert review["contactEmail"] == "review@example.com"
    agreement = emulator.emulator.store.get("betaLicenseAgreements", emulator_agreement_of(emulator, APP))
    assert agreement is not None and agreement.attributes["agreementText"].startswith("This is a beta")
    assert {b["id"] for b in emulator.objects("builds")} >= {FIRST, LATEST}


@pytest.mark.parametrize(
    ("case", "field", "words"),
    [
        ("bad_tester_email", "email", "is not an e-mail address"),
        ("unknown_locale", "locale", "is not a locale App Store Connect takes"),
        ("public_link_on_internal_group", "public_link_enabled", "public links are for external groups"),
        ("public_link_limit_above_maximum", "public_link_limit", "1 to 10,000"),
    ],
)
def test_bad_input_fails_preview_naming_the_field_without_a_request(
    case: str, field: str, words: str, badinput: Stack, emulator: EmulatorHandle
) -> None:
    refused_at_preview(badinput, emulator, case, field, words)
