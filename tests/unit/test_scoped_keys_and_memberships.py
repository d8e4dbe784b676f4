"""The vocabulary TestFlight added (and App Store metadata reuses): natural keys scoped by a
parent, looked up in the parent's listing, and to-many memberships reconciled by difference
through ``/relationships/<name>``. Driven through the generic reconciler with made-up specs and
a fake App Store Connect that records every request."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from pulumi_appstoreconnect.reconciler import SpecProvider
from pulumi_appstoreconnect.resources.checks import WholeNumber
from pulumi_appstoreconnect.resources import SPECS
from pulumi_appstoreconnect.spec import (
    ADOPT_ONLY,
    COMPUTED,
    CREATE_ONLY,
    DETACH,
    RELEASE,
    UPDATABLE,
    Adoptable,
    Membership,
    NaturalKey,
    Parent,
    Relationship,
    ResourceSpec,
    SpecModel,
    casefold_match,
)


class FakeApple:
    """Objects by id, memberships by (object id, relationship); every call is recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.listings: dict[str, list[dict[str, Any]]] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.members: dict[tuple[str, str], list[str]] = {}
        self.created = 0

    def list_all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        self.calls.append(("GET", path, params))
        if "/relationships/" in path:
            object_id, relationship = path.split("/")[-3], path.split("/")[-1]
            return [{"type": relationship, "id": i} for i in self.members.get((object_id, relationship), [])]
        return list(self.listings.get(path, []))

    def create(self, rest_type: str, attributes: dict[str, Any], relationships: Any = None, *, path: str) -> dict[str, Any]:
        self.calls.append(("POST", path, attributes, relationships))
        self.created += 1
        obj = {"type": rest_type, "id": f"NEW{self.created}", "attributes": dict(attributes)}
        self.objects[obj["id"]] = obj
        for name, linkage in (relationships or {}).items():
            if isinstance(linkage["data"], list):
                self.members[(obj["id"], name)] = [item["id"] for item in linkage["data"]]
        return obj

    def update(self, rest_type: str, id_: str, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append(("PATCH", f"/v1/{rest_type}/{id_}", attributes))
        obj = self.objects.setdefault(id_, {"type": rest_type, "id": id_, "attributes": {}})
        obj["attributes"].update(attributes or {})
        return obj

    def get_object(self, path: str) -> dict[str, Any] | None:
        self.calls.append(("GET", path, None))
        return self.objects.get(path.rsplit("/", 1)[-1])

    def request(self, method: str, path: str, *, json: Any = None) -> None:
        ids = [item["id"] for item in json["data"]]
        self.calls.append((method, path, ids))
        object_id, relationship = path.split("/")[-3], path.split("/")[-1]
        current = self.members.setdefault((object_id, relationship), [])
        if method == "POST":
            current.extend(i for i in ids if i not in current)
        else:
            current[:] = [i for i in current if i not in ids]

    def writes(self) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] != "GET"]


# -- made-up specs --------------------------------------------------------------------------


class NoteInputs(Adoptable):
    """A localization-like child: (app, locale) is the key, unique within the app."""

    app: Annotated[str, CREATE_ONLY, Relationship("app", "apps"), Parent("/v1/apps/{id}/notes")]
    locale: Annotated[str, CREATE_ONLY, NaturalKey(casefold_match)]
    text: Annotated[str | None, UPDATABLE] = None


NOTES = ResourceSpec(rest_type="notes", inputs=NoteInputs)


class SettingInputs(SpecModel):
    """One per app, made by Apple: the parent alone identifies it (read by a filtered listing)."""

    app: Annotated[str, CREATE_ONLY, Relationship("app", "apps"), Parent("/v1/settings?filter[app]={id}")]
    value: Annotated[str | None, UPDATABLE] = None


SETTINGS = ResourceSpec(rest_type="settings", inputs=SettingInputs, create=ADOPT_ONLY, delete=RELEASE)


class ClubInputs(Adoptable):
    app: Annotated[str, CREATE_ONLY, Relationship("app", "apps"), Parent("/v1/apps/{id}/clubs")]
    name: Annotated[str, UPDATABLE, NaturalKey(unique=False)]
    members: Annotated[list[str] | None, UPDATABLE, Membership("members", "people")] = None
    guests: Annotated[list[str] | None, UPDATABLE, Membership("guests", "people", on_create=True)] = None


CLUBS = ResourceSpec(rest_type="clubs", inputs=ClubInputs)


class PersonInputs(SpecModel):
    email: Annotated[str, CREATE_ONLY, NaturalKey(casefold_match)]
    clubs: Annotated[list[str] | None, UPDATABLE, Membership("clubs", "clubs", exclusive=False)] = None


PEOPLE = ResourceSpec(rest_type="people", inputs=PersonInputs, delete=DETACH)


@pytest.fixture
def apple(monkeypatch: pytest.MonkeyPatch) -> FakeApple:
    fake = FakeApple()
    for token, spec in (("Note", NOTES), ("Setting", SETTINGS), ("Club", CLUBS), ("Person", PEOPLE)):
        monkeypatch.setitem(SPECS, token, spec)
    monkeypatch.setattr(SpecProvider, "client", property(lambda self: fake))
    monkeypatch.setattr(SpecProvider, "account", property(lambda self: "issuer:TEAM"))
    return fake


def checked(token: str, props: dict[str, Any], olds: dict[str, Any] | None = None) -> dict[str, Any]:
    result = SpecProvider(token).check(olds or {}, props)
    assert result.failures == [], [(f.property, f.reason) for f in result.failures]
    return dict(result.inputs)


# -- scoped natural keys ---------------------------------------------------------------------


def test_scoped_key_is_looked_up_in_the_parents_listing_and_compared_as_its_key_says(apple: FakeApple) -> None:
    apple.listings["/v1/apps/APP1/notes"] = [
        {"type": "notes", "id": "N-GB", "attributes": {"locale": "en-GB", "text": "x"}},
        {"type": "notes", "id": "N-US", "attributes": {"locale": "en-us", "text": "old"}},
    ]
    found = SpecProvider("Note").find_in_parent({"app": "APP1", "locale": "en-US"})
    assert [c["id"] for c in found] == ["N-US"]  # the key's matcher ignores case; en-GB is not en-US
    assert apple.calls == [("GET", "/v1/apps/APP1/notes", None)]  # the parent's listing, no filter


def test_adopting_a_scoped_key_patches_the_one_of_that_parent_and_posts_nothing(apple: FakeApple) -> None:
    apple.listings["/v1/apps/APP1/notes"] = [{"type": "notes", "id": "N-US", "attributes": {"locale": "en-US", "text": "old"}}]
    apple.objects["N-US"] = apple.listings["/v1/apps/APP1/notes"][0]
    result = SpecProvider("Note").create(checked("Note", {"app": "APP1", "locale": "en-US", "text": "new", "adopt": True}))
    assert result.id == "N-US"
    assert apple.writes() == [("PATCH", "/v1/notes/N-US", {"text": "new"})]


def test_a_listing_with_a_query_is_sent_as_parameters(apple: FakeApple) -> None:
    apple.listings["/v1/settings"] = [{"type": "settings", "id": "APP1", "attributes": {"value": "a"}}]
    result = SpecProvider("Setting").create(checked("Setting", {"app": "APP1", "value": "b"}))
    assert apple.calls[0] == ("GET", "/v1/settings", {"filter[app]": "APP1"})
    assert result.id == "APP1" and apple.writes() == [("PATCH", "/v1/settings/APP1", {"value": "b"})]


def test_a_parent_without_the_object_fails_at_preview_naming_the_parent(apple: FakeApple) -> None:
    result = SpecProvider("Setting").check({}, {"app": "APP9", "value": "b"})
    assert [(f.property, f.reason) for f in result.failures] == [(
        "adopt",
        "adopt: App Store Connect has no settings object for app APP9 that this stack does not hold already, "
        "and its API cannot create one: create it in App Store Connect (or Xcode) first.",
    )]
    assert apple.writes() == []


def test_a_changed_parent_is_replaced_create_first_and_a_respelt_key_is_no_change(apple: FakeApple) -> None:
    provider = SpecProvider("Note")
    olds = {"app": "APP1", "locale": "en-US", "text": "t", "_provenance": {"account": "a", "declared": {"app": "APP1", "locale": "en-US"}}}
    moved = provider.diff("N1", olds, {"app": "APP2", "locale": "en-US", "text": "t"})
    assert moved.replaces == ["app"] and not moved.delete_before_replace  # another parent: no clash
    respelt = provider.diff("N1", olds, {"app": "APP1", "locale": "en-us", "text": "t"})
    assert respelt.changes is False  # the key's matcher says it is the same locale


# -- memberships -----------------------------------------------------------------------------


def test_a_new_object_gets_its_members_with_the_post_or_right_after_it(apple: FakeApple) -> None:
    result = SpecProvider("Club").create(checked("Club", {"app": "APP1", "name": "Chess", "members": ["P1", "P2"], "guests": ["P3"]}))
    posts = apple.writes()
    # guests travel in the create (on_create); members follow on their own endpoint, without a read.
    assert posts[0][:2] == ("POST", "/v1/clubs") and posts[0][3]["guests"] == {"data": [{"type": "people", "id": "P3"}]}
    assert "members" not in posts[0][3]
    assert posts[1:] == [("POST", f"/v1/clubs/{result.id}/relationships/members", ["P1", "P2"])]
    assert not [c for c in apple.calls if c[0] == "GET" and "/relationships/" in c[1]]
    assert result.outs["members"] == ["P1", "P2"] and result.outs["guests"] == ["P3"]


def test_a_non_unique_key_never_takes_an_object_that_existed_before_the_post(apple: FakeApple) -> None:
    from pulumi_appstoreconnect.client.errors import ConnectionFailed

    apple.listings["/v1/apps/APP1/clubs"] = [{"type": "clubs", "id": "OLD", "attributes": {"name": "Chess"}}]
    original = apple.create

    def lost_answer(*args: Any, **kwargs: Any) -> dict[str, Any]:  # committed, then the answer is lost
        made = original(*args, **kwargs)
        apple.listings["/v1/apps/APP1/clubs"].append(made)
        raise ConnectionFailed("dropped", method="POST", url="/v1/clubs", ambiguous=True)

    apple.create = lost_answer  # type: ignore[method-assign]
    result = SpecProvider("Club").create(checked("Club", {"app": "APP1", "name": "Chess"}))
    assert result.id == "NEW1"  # the one this POST made, not the club that was there before


def test_update_writes_only_the_difference_with_what_apple_has(apple: FakeApple) -> None:
    apple.members[("C1", "members")] = ["P1", "P2", "P9"]  # P9 added in the web UI
    provider = SpecProvider("Club")
    olds = {"app": "APP1", "name": "Chess", "members": ["P1", "P2"], "guests": None}
    news = checked("Club", {"app": "APP1", "name": "Chess", "members": ["P2", "P3", "P3"]}, olds)
    assert news["members"] == ["P2", "P3"]  # an id listed twice is one member
    diff = provider.diff("C1", olds, news)
    assert diff.changes is True and diff.replaces == []  # never replaces the object
    result = provider.update("C1", olds, news)
    assert apple.writes() == [
        ("DELETE", "/v1/clubs/C1/relationships/members", ["P1", "P9"]),  # exclusive: the stray one too
        ("POST", "/v1/clubs/C1/relationships/members", ["P3"]),
    ]
    assert result.outs["members"] == ["P2", "P3"]


def test_a_shared_membership_removes_only_what_the_program_listed_before(apple: FakeApple) -> None:
    apple.members[("PERSON1", "clubs")] = ["C1", "C2", "OTHER-APPS-CLUB"]
    provider = SpecProvider("Person")
    olds = {"email": "a@example.com", "clubs": ["C1", "C2"]}
    provider.update("PERSON1", olds, checked("Person", {"email": "a@example.com", "clubs": ["C2", "C3"]}, olds))
    assert apple.writes() == [
        ("DELETE", "/v1/people/PERSON1/relationships/clubs", ["C1"]),
        ("POST", "/v1/people/PERSON1/relationships/clubs", ["C3"]),
    ]


def test_read_shows_what_apple_dropped_as_a_change_and_reads_nothing_unmanaged(apple: FakeApple) -> None:
    apple.objects["C1"] = {"type": "clubs", "id": "C1", "attributes": {"name": "Chess"}}
    apple.members[("C1", "members")] = ["P1", "P9"]  # P2 removed out of band, P9 added
    provider = SpecProvider("Club")
    state = {"app": "APP1", "name": "Chess", "members": ["P1", "P2"], "guests": None}
    read = provider.read("C1", state)
    assert read.outs["members"] == ["P1", "P9"] and read.outs["guests"] is None
    assert not [c for c in apple.calls if c[1].endswith("/relationships/guests")]  # not managed: not read
    diff = provider.diff("C1", read.outs, checked("Club", {"app": "APP1", "name": "Chess", "members": ["P1", "P2"]}, read.outs))
    assert diff.changes is True and diff.replaces == []
    person = SpecProvider("Person")
    apple.objects["PERSON1"] = {"type": "people", "id": "PERSON1", "attributes": {"email": "a@example.com"}}
    apple.members[("PERSON1", "clubs")] = ["C1", "OTHER-APPS-CLUB"]
    assert person.read("PERSON1", {"email": "a@example.com", "clubs": ["C1", "C2"]}).outs["clubs"] == ["C1"]


def test_membership_equality_ignores_order_and_none_means_unmanaged() -> None:
    members = CLUBS.field("members")
    assert members.same(["P2", "P1"], ["P1", "P2"])
    assert members.same(["P1"], None)  # the program does not manage it
    assert not members.same(None, [])  # now managed (empty): the update reads and writes
    assert not members.same(["P1"], [])


def test_detach_removes_only_the_declared_members_apple_still_lists(apple: FakeApple) -> None:
    apple.members[("PERSON1", "clubs")] = ["C1", "OTHER-APPS-CLUB"]
    SpecProvider("Person").delete("PERSON1", {"email": "a@example.com", "clubs": ["C1", "C2"]})
    assert apple.writes() == [("DELETE", "/v1/people/PERSON1/relationships/clubs", ["C1"])]


class BoardInputs(SpecModel):
    name: Annotated[str, UPDATABLE]
    # Apple fills it in when the program leaves it out (a beta group's public link switch).
    open: Annotated[bool | None, UPDATABLE, COMPUTED] = None


BOARDS = ResourceSpec(rest_type="boards", inputs=BoardInputs)


def test_an_update_leaves_what_the_program_leaves_to_apple(apple: FakeApple, monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by the TestFlight provider tests: renaming a group PATCHed publicLinkEnabled to null.
    monkeypatch.setitem(SPECS, "Board", BOARDS)
    provider = SpecProvider("Board")
    olds = {"name": "Old", "open": False}
    provider.update("B1", olds, {"name": "New", "open": None})
    assert apple.writes() == [("PATCH", "/v1/boards/B1", {"name": "New"})]


def test_a_shared_membership_leaves_only_what_is_not_the_stacks(apple: FakeApple) -> None:
    # Found by the fault suite: an update that failed after Apple added a club left the person in
    # it, the state never knew, and destroy (or the next update) left it there.
    from pulumi_appstoreconnect.reconciler import _MEMORY

    _MEMORY.manage("clubs", "C-NEW")  # a Club resource of this stack
    apple.members[("PERSON1", "clubs")] = ["C1", "C-NEW", "OTHER-APPS-CLUB"]
    SpecProvider("Person").delete("PERSON1", {"email": "a@example.com", "clubs": ["C1"]})
    assert apple.writes() == [("DELETE", "/v1/people/PERSON1/relationships/clubs", ["C1", "C-NEW"])]


class LimitInputs(SpecModel):
    name: Annotated[str, CREATE_ONLY]
    limit: Annotated[WholeNumber | None, UPDATABLE] = None


LIMITS = ResourceSpec(rest_type="limits", inputs=LimitInputs)


def test_whole_numbers_go_to_apple_as_integers(apple: FakeApple, monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by the TestFlight engine test: the engine hands numbers to the provider as floats
    # (200.0), and Apple's schema types publicLinkLimit as an integer.
    monkeypatch.setitem(SPECS, "Limit", LIMITS)
    provider = SpecProvider("Limit")
    provider.create({"name": "n", "limit": 200.0})
    provider.update("NEW1", {"name": "n", "limit": 200}, {"name": "n", "limit": 300.0})
    sent = [c[2]["limit"] for c in apple.writes()]
    assert sent == [200, 300] and all(type(v) is int for v in sent)
