"""TestFlight beta testers: ``/v1/betaTesters``. A tester is one person per e-mail address."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import pulumi
from pydantic import StrictBool

from ..readcache import look_up
from ..reconciler import SpecResource
from ..spec import (
    ADOPT_OR_POST,
    COMPUTED,
    CREATE_ONLY,
    DETACH,
    LOCAL,
    UPDATABLE,
    Adoptable,
    Check,
    Equivalent,
    Hooks,
    Membership,
    NaturalKey,
    ResourceSpec,
    casefold_match,
)
from .checks import email_address

log = logging.getLogger(__name__)


def name_as_at_apple(at_apple: Any, declared: Any) -> bool:
    """A tester invited by e-mail alone has no name at Apple (fastlane's recorded beta_testers.json
    lists one with firstName and lastName null): the program's name does not make it differ."""
    return at_apple is None or at_apple == declared


def apps_of_groups(provider: Any, group_ids: list[str]) -> list[str]:
    """The apps the given beta groups belong to (one listing of the groups with their app)."""
    if not group_ids:
        return []
    groups = provider.client.list_all("/v1/betaGroups", {"filter[id]": ",".join(group_ids), "include": "app"})
    apps = [((g.get("relationships") or {}).get("app") or {}).get("data") or {} for g in groups]
    return list(dict.fromkeys(a["id"] for a in apps if a.get("id")))


def _linked(candidate: dict[str, Any], relationship: str) -> set[str]:
    data = ((candidate.get("relationships") or {}).get(relationship) or {}).get("data") or []
    return {item["id"] for item in data if isinstance(item, dict) and "id" in item}


def testers_with_email(provider: Any, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """Every tester Apple lists for the e-mail address (compared ignoring case), best first.

    Apple can list several testers for one address: detached entries (no apps, no groups) pile up
    after deletes. The one to take over is, in order: in one of the program's groups; testing
    one of those groups' apps; testing any app; any. The choice is written to the provider log.
    """
    email = inputs["email"]
    listed = look_up(
        provider.client,
        "/v1/betaTesters",
        {"filter[email]": email, "include": "apps,betaGroups", "limit[apps]": 50, "limit[betaGroups]": 50},
    )
    found = [t for t in listed if casefold_match(str((t.get("attributes") or {}).get("email")), email)]
    if len(found) < 2:
        return found
    groups = set(inputs.get("groups") or [])
    in_groups = [t for t in found if _linked(t, "betaGroups") & groups]
    apps = set(apps_of_groups(provider, sorted(groups))) if not in_groups else set()

    def rank(tester: dict[str, Any]) -> int:
        if tester in in_groups:
            return 0
        if _linked(tester, "apps") & apps:
            return 1
        return 2 if _linked(tester, "apps") or _linked(tester, "betaGroups") else 3

    ranked = sorted(found, key=rank)
    reasons = ("in one of its groups", "testing one of its groups' apps", "testing another app", "not attached to any app")
    log.info(
        "betaTesters: App Store Connect lists %d testers with e-mail %s (%s); taking %s, %s",
        len(found), email, ", ".join(t["id"] for t in found), ranked[0]["id"], reasons[rank(ranked[0])],
    )
    return ranked


def delete_from_apps(provider: Any, id_: str, props: dict[str, Any]) -> bool:
    """``delete_on_destroy=True``: the tester is deleted from the apps of its groups (Apple
    answers 202 or 204); otherwise destroy only takes it out of this stack's groups."""
    if not props.get("delete_on_destroy"):
        return False
    apps = apps_of_groups(provider, list(props.get("groups") or []))
    if apps:
        from ..client.errors import NotFoundError

        try:
            provider.client.request(
                "DELETE", f"/v1/betaTesters/{id_}/relationships/apps", json={"data": [{"type": "apps", "id": a} for a in apps]}
            )
        except NotFoundError:
            pass  # already gone: the desired end state
    return True


def deleting_needs_groups(model: Any) -> list[tuple[str, str]]:
    if model.delete_on_destroy and not model.groups:
        return [("delete_on_destroy", "delete_on_destroy deletes the tester from the apps of its groups: give groups")]
    return []


def names_are_kept(olds: dict[str, Any], news: dict[str, Any]) -> list[tuple[str, str]]:
    """Apple has no PATCH for testers and keeps one tester per address: a new name for the same
    e-mail could never be applied (a replacement takes the same tester over again)."""
    old_email, new_email = olds.get("email"), news.get("email")
    if not (isinstance(old_email, str) and isinstance(new_email, str) and casefold_match(old_email, new_email)):
        return []
    return [
        (name, f"{name}: App Store Connect keeps a tester's name as it was first added ({olds.get(name)!r}) and cannot "
               f"change it; keep {name}={olds.get(name)!r}, or use another e-mail address.")
        for name in ("first_name", "last_name")
        if olds.get(name) is not None and news.get(name) is not None and olds.get(name) != news.get(name)
    ]


class BetaTesterInputs(Adoptable):
    email: Annotated[str, CREATE_ONLY, NaturalKey(casefold_match), Check(email_address)]
    first_name: Annotated[str | None, CREATE_ONLY, Equivalent(name_as_at_apple)] = None
    last_name: Annotated[str | None, CREATE_ONLY, Equivalent(name_as_at_apple)] = None
    # Only the listed groups are managed: the tester may test other apps of the team.
    groups: Annotated[
        list[str] | None, UPDATABLE, Membership("betaGroups", "betaGroups", exclusive=False, on_create=True)
    ] = None
    delete_on_destroy: Annotated[StrictBool, LOCAL] = False
    invite_type: Annotated[str | None, COMPUTED] = None
    state: Annotated[str | None, COMPUTED] = None


BETA_TESTERS = ResourceSpec(
    rest_type="betaTesters",
    inputs=BetaTesterInputs,
    create=ADOPT_OR_POST,
    delete=DETACH,
    filters=("firstName", "lastName", "email", "inviteType", "apps", "betaGroups", "builds", "id"),
    includes={"betaGroups": 50, "apps": 50},
    hooks=Hooks(
        validate=deleting_needs_groups,
        find_existing=testers_with_email,
        validate_change=names_are_kept,
        delete=delete_from_apps,
    ),
)


class BetaTester(SpecResource, spec=BETA_TESTERS):
    """A TestFlight tester (``betaTesters``), one person per e-mail address.

    ``email`` is the key and compares ignoring case. A tester the team already has is taken
    over, never added twice: Apple can list several testers for one address (detached entries
    pile up after deletes); the one in the program's groups (or testing their app) is taken, and
    the provider log says which. ``first_name`` and ``last_name`` are set when the tester is
    added and cannot change (Apple has no PATCH for testers).

    ``groups`` are the beta groups the tester is in, managed through Apple's relationship
    endpoints: only the difference is added or removed, and groups of other apps the tester is
    in are left alone. ``state`` (NOT_INVITED, INVITED, ACCEPTED, INSTALLED) and ``invite_type``
    are Apple's. **Destroy takes the tester out of the groups this stack declared**; with
    ``delete_on_destroy=True`` it deletes the tester from the apps of those groups instead.
    """

    email: pulumi.Output[str]
    first_name: pulumi.Output[str | None]
    last_name: pulumi.Output[str | None]
    groups: pulumi.Output[list[str] | None]
    delete_on_destroy: pulumi.Output[bool]
    invite_type: pulumi.Output[str]
    state: pulumi.Output[str]
