"""The vocabulary App Store metadata added: to-one reads through a parent's related endpoint,
to-one relationships changed in place (in the UpdateRequest or on their own endpoint), and the
states in which Apple accepts changes. Driven through the generic reconciler with made-up specs
and a fake App Store Connect that records every request."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from pulumi_appstoreconnect.client.errors import ApiError, ConflictError
from pulumi_appstoreconnect.errors import ProviderError
from pulumi_appstoreconnect.reconciler import SpecProvider
from pulumi_appstoreconnect.resources import SPECS
from pulumi_appstoreconnect.spec import (
    ADOPT_ONLY,
    COMPUTED,
    CREATE_ONLY,
    RELEASE,
    UPDATABLE,
    EditableStates,
    Parent,
    Relationship,
    ResourceSpec,
    SpecModel,
)


class FakeApple:
    """Objects by path; to-one related endpoints by path; every call recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.objects: dict[str, dict[str, Any] | None] = {}
        self.refuse: ConflictError | None = None

    def get_object(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        self.calls.append(("GET", path, params))
        return self.objects.get(path)

    def list_all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        raise AssertionError(f"no listing expected: {path}")

    def update(self, rest_type: str, id_: str, attributes: dict[str, Any] | None = None, relationships: Any = None) -> dict[str, Any]:
        self.calls.append(("PATCH", f"/v1/{rest_type}/{id_}", attributes, relationships))
        if self.refuse is not None:
            raise self.refuse
        return {"type": rest_type, "id": id_, "attributes": dict(attributes or {})}

    def request(self, method: str, path: str, *, json: Any = None) -> None:
        self.calls.append((method, path, json))
        if self.refuse is not None:
            raise self.refuse

    def writes(self) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] != "GET"]


class RatingInputs(SpecModel):
    """One per parent, made by Apple, with no GET of its own (an age rating declaration)."""

    info: Annotated[str, CREATE_ONLY, Parent("/v1/infos/{id}/rating", to_one=True)]
    violence: Annotated[str | None, UPDATABLE] = None


RATINGS = ResourceSpec(rest_type="ratings", inputs=RatingInputs, create=ADOPT_ONLY, delete=RELEASE, read_through_parent=True)


class ShelfInputs(SpecModel):
    """An object whose UpdateRequest carries a to-one relationship (an app info's category)."""

    genre: Annotated[str | None, UPDATABLE, Relationship("genre", "genres")] = None


SHELVES = ResourceSpec(rest_type="shelves", inputs=ShelfInputs)


class ReleaseInputs(SpecModel):
    """A to-one relationship changed on its own endpoint (a version's build), writable only in
    some states."""

    title: Annotated[str | None, UPDATABLE] = None
    build: Annotated[str | None, UPDATABLE, Relationship("build", "builds", own_endpoint=True)] = None
    state: Annotated[str | None, COMPUTED] = None


RELEASES = ResourceSpec(
    rest_type="releases",
    inputs=ReleaseInputs,
    editable=EditableStates("/v1/releases/{id}", "state", frozenset({"DRAFT"}), "Make the next release."),
)


@pytest.fixture
def apple(monkeypatch: pytest.MonkeyPatch) -> FakeApple:
    fake = FakeApple()
    for token, spec in (("Rating", RATINGS), ("Shelf", SHELVES), ("Release", RELEASES)):
        monkeypatch.setitem(SPECS, token, spec)
    monkeypatch.setattr(SpecProvider, "client", property(lambda self: fake))
    monkeypatch.setattr(SpecProvider, "account", property(lambda self: "issuer:test"))
    return fake


def test_an_adopt_only_child_is_found_through_the_parents_to_one_endpoint_and_patched(apple: FakeApple) -> None:
    apple.objects["/v1/infos/I1/rating"] = {"type": "ratings", "id": "R1", "attributes": {"violence": "NONE"}}
    result = SpecProvider("Rating").create({"info": "I1", "violence": "FREQUENT"})
    assert result.id == "R1"
    assert apple.writes() == [("PATCH", "/v1/ratings/R1", {"violence": "FREQUENT"}, None)]


def test_an_adopt_only_child_whose_parent_has_none_fails_naming_the_parent(apple: FakeApple) -> None:
    apple.objects["/v1/infos/I1/rating"] = None  # {"data": null}
    with pytest.raises(ProviderError, match="for info I1"):
        SpecProvider("Rating").create({"info": "I1"})
    assert apple.writes() == []


def test_a_read_through_the_parent_keeps_the_object_only_while_the_parent_still_points_at_it(apple: FakeApple) -> None:
    provider = SpecProvider("Rating")
    apple.objects["/v1/infos/I1/rating"] = {"type": "ratings", "id": "R1", "attributes": {"violence": "NONE"}}
    read = provider.read("R1", {"info": "I1", "violence": "FREQUENT"})
    assert (read.id, read.outs["violence"]) == ("R1", "NONE")
    apple.objects["/v1/infos/I1/rating"] = {"type": "ratings", "id": "R2", "attributes": {}}
    assert provider.read("R1", {"info": "I1"}).id is None


def test_a_to_one_relationship_in_the_update_request_is_patched_in_place_without_attributes(apple: FakeApple) -> None:
    provider = SpecProvider("Shelf")
    diff = provider.diff("S1", {"genre": "GAMES"}, {"genre": "BOOKS"})
    assert diff.changes and not diff.replaces
    provider.update("S1", {"genre": "GAMES"}, {"genre": "BOOKS"})
    assert apple.writes() == [
        ("PATCH", "/v1/shelves/S1", None, {"genre": {"data": {"type": "genres", "id": "BOOKS"}}}),
    ]


def test_clearing_a_to_one_relationship_sends_null_linkage(apple: FakeApple) -> None:
    SpecProvider("Shelf").update("S1", {"genre": "GAMES"}, {"genre": None})
    assert apple.writes() == [("PATCH", "/v1/shelves/S1", None, {"genre": {"data": None}})]


def test_a_read_asks_for_the_linkage_and_an_empty_one_shows_as_drift(apple: FakeApple) -> None:
    apple.objects["/v1/shelves/S1"] = {"type": "shelves", "id": "S1", "relationships": {"genre": {"data": None}}}
    read = SpecProvider("Shelf").read("S1", {"genre": "GAMES"})
    assert apple.calls == [("GET", "/v1/shelves/S1", {"include": "genre"})]
    assert read.outs["genre"] is None and read.inputs["genre"] is None


def test_a_relationship_with_its_own_endpoint_is_patched_there_and_attributes_separately(apple: FakeApple) -> None:
    SpecProvider("Release").update("V1", {"title": "a", "build": "B1"}, {"title": "b", "build": "B2"})
    assert apple.writes() == [
        ("PATCH", "/v1/releases/V1", {"title": "b"}, None),
        ("PATCH", "/v1/releases/V1/relationships/build", {"data": {"type": "builds", "id": "B2"}}),
    ]


def _state_error() -> ConflictError:
    return ConflictError(409, [ApiError(
        status="409", code="STATE_ERROR", title="The request cannot be fulfilled because of the state of another resource.",
        detail="Attribute 'title' cannot be edited at this time",
    )])


def test_a_write_refused_for_the_objects_state_names_the_state_and_what_to_do(apple: FakeApple) -> None:
    apple.refuse = _state_error()
    apple.objects["/v1/releases/V1"] = {"type": "releases", "id": "V1", "attributes": {"state": "IN_REVIEW"}}
    with pytest.raises(ConflictError) as caught:
        SpecProvider("Release").update("V1", {"title": "a"}, {"title": "b"})
    message = str(caught.value)
    assert "STATE_ERROR" in message and "state IN_REVIEW" in message and "only in DRAFT" in message
    assert "Make the next release." in message


def test_a_state_refusal_while_the_holder_is_editable_is_left_as_apple_said_it(apple: FakeApple) -> None:
    apple.refuse = _state_error()
    apple.objects["/v1/releases/V1"] = {"type": "releases", "id": "V1", "attributes": {"state": "DRAFT"}}
    with pytest.raises(ConflictError) as caught:
        SpecProvider("Release").update("V1", {"title": "a"}, {"title": "b"})
    assert caught.value.hint is None


def test_other_conflicts_are_not_read_as_state_refusals(apple: FakeApple) -> None:
    apple.refuse = ConflictError(409, [ApiError(status="409", code="ENTITY_ERROR.ATTRIBUTE.INVALID", detail="bad")])
    with pytest.raises(ConflictError) as caught:
        SpecProvider("Release").update("V1", {"title": "a"}, {"title": "b"})
    assert caught.value.hint is None
    assert [c for c in apple.calls if c[0] == "GET"] == []
