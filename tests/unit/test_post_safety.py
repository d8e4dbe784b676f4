"""A POST is never re-sent blindly: after an ambiguous failure the object is looked up first."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_appstoreconnect.client.errors import ApiError, ConnectionFailed, ServerError
from pulumi_appstoreconnect.reconciler import SpecProvider

PROPS = {"identifier": "com.example.app", "platform": "IOS", "name": "Example"}


class FlakyApple:
    """Creates on POST, then fails the response the way ``failures`` says (one per POST)."""

    def __init__(self, failures: list[Exception | None], *, commit_before_failing: bool) -> None:
        self.failures = failures
        self.commit_before_failing = commit_before_failing
        self.objects: list[dict[str, Any]] = []
        self.posts = 0
        self.commit_on: set[int] = set()

    def create(self, rest_type: str, attributes: dict[str, Any], relationships: Any = None, *, path: str) -> dict[str, Any]:
        self.posts += 1
        failure = self.failures.pop(0) if self.failures else None
        obj = {"type": rest_type, "id": f"ID{self.posts}", "attributes": {**attributes, "seedId": "TEAM"}}
        if failure is None or self.commit_before_failing or self.posts in self.commit_on:
            self.objects.append(obj)
        if failure is not None:
            raise failure
        return obj

    def list_all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        prefix = (params or {}).get("filter[identifier]", "")
        return [o for o in self.objects if o["attributes"]["identifier"].startswith(prefix)]


def server_error() -> ServerError:
    return ServerError(503, [ApiError(status="503", code="UNAVAILABLE", title="t", detail="d")], method="POST", url="/v1/bundleIds")


def dropped(ambiguous: bool = True) -> ConnectionFailed:
    return ConnectionFailed("RemoteProtocolError: peer closed", method="POST", url="/v1/bundleIds", ambiguous=ambiguous)


@pytest.fixture
def apple(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def install(fake: FlakyApple) -> SpecProvider:
        monkeypatch.setattr(SpecProvider, "client", property(lambda self: fake))
        monkeypatch.setattr(SpecProvider, "account", property(lambda self: "issuer:TEAM-ISSUER"))
        return SpecProvider("bundleIds")

    return install


@pytest.mark.parametrize("failure", [server_error, dropped], ids=["503", "connection-dropped"])
def test_failure_after_commit_adopts_instead_of_posting_again(apple, failure) -> None:  # type: ignore[no-untyped-def]
    fake = FlakyApple([failure()], commit_before_failing=True)
    result = apple(fake).create(dict(PROPS))
    assert fake.posts == 1 and len(fake.objects) == 1
    assert result.id == fake.objects[0]["id"] and result.outs["seed_id"] == "TEAM"


@pytest.mark.parametrize("failure", [server_error, dropped], ids=["503", "connection-dropped"])
def test_failure_before_commit_posts_once_more(apple, failure) -> None:  # type: ignore[no-untyped-def]
    fake = FlakyApple([failure()], commit_before_failing=False)
    result = apple(fake).create(dict(PROPS))
    assert fake.posts == 2 and [o["id"] for o in fake.objects] == [result.id]


def test_gives_up_after_the_third_ambiguous_failure(apple) -> None:  # type: ignore[no-untyped-def]
    fake = FlakyApple([server_error()] * 3, commit_before_failing=False)
    with pytest.raises(ServerError):
        apple(fake).create(dict(PROPS))
    assert fake.posts == 3 and fake.objects == []


def test_the_last_attempt_is_looked_up_too(apple) -> None:  # type: ignore[no-untyped-def]
    # Not committed, not committed, then committed but the answer was lost: adopt, no orphan.
    fake = FlakyApple([dropped(), dropped(), dropped()], commit_before_failing=False)
    fake.commit_on = {3}
    result = apple(fake).create(dict(PROPS))
    assert fake.posts == 3 and [o["id"] for o in fake.objects] == [result.id]


def test_lookup_is_exact_so_a_longer_identifier_is_not_adopted(apple) -> None:  # type: ignore[no-untyped-def]
    fake = FlakyApple([server_error()], commit_before_failing=False)
    fake.objects.append({"type": "bundleIds", "id": "OTHER", "attributes": {"identifier": "com.example.app.widget"}})
    result = apple(fake).create(dict(PROPS))
    assert result.id != "OTHER" and fake.posts == 2


def test_a_failure_that_never_reached_apple_is_not_looked_up(apple) -> None:  # type: ignore[no-untyped-def]
    fake = FlakyApple([dropped(ambiguous=False)], commit_before_failing=False)
    with pytest.raises(ConnectionFailed):
        apple(fake).create(dict(PROPS))
    assert fake.posts == 1
