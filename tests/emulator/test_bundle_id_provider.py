"""BundleId create/read/update/delete: the reconciler and the real client against the emulator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pulumi_appstoreconnect.client import ConflictError
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.reconciler import SpecProvider

from ..providers import connect


@pytest.fixture
def provider(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> SpecProvider:
    """A configured provider whose client reaches the in-process emulator."""
    return connect(emulator, monkeypatch)("bundleIds")


def remote(admin: httpx.Client) -> dict[str, dict[str, Any]]:
    return {o["id"]: o["attributes"] for o in admin.get("/_emulator/objects/bundleIds").json()["data"]}


# As `check` hands them over (defaults filled in).
PROPS = {"adopt": False, "identifier": "com.example.app", "platform": "IOS", "name": "Example", "seed_id": None}


def test_create_posts_and_returns_computed_seed_id(provider: SpecProvider, emulator: Emulator, admin: httpx.Client) -> None:
    result = provider.create({"__provider": "x", **PROPS})
    assert remote(admin)[result.id]["identifier"] == "com.example.app"
    assert result.outs == {
        **PROPS,
        "seed_id": emulator.team_id,
        # Bookkeeping: the account that created it, and what the program declared.
        "_provenance": {
            "account": f"issuer:{emulator.issuer_id}",
            "declared": {"identifier": "com.example.app", "platform": "IOS", "seed_id": None},
        },
    }


def test_read_reports_remote_values_and_corrects_inputs(provider: SpecProvider, admin: httpx.Client) -> None:
    created = provider.create(dict(PROPS))
    admin.patch(f"/_emulator/objects/bundleIds/{created.id}", json={"attributes": {"name": "Clicked"}})
    result = provider.read(created.id, created.outs)
    assert result.id == created.id
    assert result.outs["name"] == "Clicked"
    # seed_id stays unset in the inputs: the program left it to Apple (the output has Apple's).
    assert result.inputs == {"adopt": False, "identifier": "com.example.app", "platform": "IOS", "name": "Clicked", "seed_id": None}
    assert result.outs["seed_id"] == created.outs["seed_id"]


def test_update_patches_only_the_changed_name(provider: SpecProvider, admin: httpx.Client) -> None:
    created = provider.create(dict(PROPS))
    admin.delete("/_emulator/requests")
    result = provider.update(created.id, created.outs, {**PROPS, "name": "Renamed"})
    assert result.outs["name"] == "Renamed" and result.outs["seed_id"] == created.outs["seed_id"]
    assert remote(admin)[created.id]["name"] == "Renamed"
    log = admin.get("/_emulator/requests").json()["data"]
    assert [(r["method"], r["path"]) for r in log] == [("PATCH", f"/v1/bundleIds/{created.id}")]


def test_delete_then_read_reports_gone_and_delete_again_is_fine(provider: SpecProvider, admin: httpx.Client) -> None:
    created = provider.create(dict(PROPS))
    provider.delete(created.id, created.outs)
    assert created.id not in remote(admin)
    gone = provider.read(created.id, created.outs)
    assert gone.id is None and gone.outs == {}
    provider.delete(created.id, created.outs)  # already gone is the desired end state
    assert remote(admin) == {}


def test_duplicate_identifier_names_the_existing_id(provider: SpecProvider, admin: httpx.Client) -> None:
    existing = admin.post(
        "/_emulator/objects/bundleIds",
        json={"attributes": {"identifier": "com.example.app", "platform": "IOS", "name": "Made by hand"}},
    ).json()["data"]
    with pytest.raises(ConflictError) as caught:
        provider.create(dict(PROPS))
    message = str(caught.value)
    assert existing["id"] in message and "com.example.app" in message
    assert "409" in message and "/data/attributes/identifier" in message
    assert len(remote(admin)) == 1


def test_natural_key_lookup_is_exact_despite_prefix_filter(provider: SpecProvider, admin: httpx.Client) -> None:
    for identifier in ("com.example.app.widget", "com.example.application"):
        provider.create({**PROPS, "identifier": identifier})
    assert provider.find_by_natural_key("com.example.app") is None
    target = provider.create(dict(PROPS))
    found = provider.find_by_natural_key("com.example.app")
    assert found is not None and found["id"] == target.id


def test_read_tolerates_a_platform_outside_the_spec(provider: SpecProvider, admin: httpx.Client) -> None:
    # Apple's live API returns platform SERVICES for some bundle IDs (not in spec 4.4.1).
    created = provider.create(dict(PROPS))
    admin.patch(f"/_emulator/objects/bundleIds/{created.id}", json={"attributes": {"platform": "SERVICES"}})
    result = provider.read(created.id, created.outs)
    assert result.outs["platform"] == "SERVICES"
    # What a refresh read is drift, never a replacement (scenario 2 of issue 8).
    diff = provider.diff(created.id, result.outs, dict(PROPS))
    assert diff.changes is True and diff.replaces == []


def test_an_update_records_what_the_program_declared_not_what_apple_filled_in(provider: SpecProvider) -> None:
    # seed_id left to Apple: after a rename (an update) and a refresh, the inputs still leave it
    # unset, so a later preview does not show it as removed.
    from ..providers import stored

    created = provider.create(dict(PROPS))
    news = stored({**PROPS, "name": "Renamed"})  # as the engine hands them over: seed_id dropped
    updated = provider.update(created.id, stored(created.outs), news)
    assert updated.outs["_provenance"]["declared"].get("seed_id") is None
    refreshed = provider.read(created.id, stored(updated.outs))
    assert refreshed.inputs["seed_id"] is None and refreshed.outs["seed_id"] == created.outs["seed_id"]
