"""TestFlight beta groups: ``/v1/betaGroups``, their builds and testers."""

from __future__ import annotations

from typing import Annotated, Any

import pulumi
from pydantic import StrictBool

from ..reconciler import SpecResource
from ..spec import (
    COMPUTED,
    CREATE_ONLY,
    DELETE,
    PATCH_ONLY,
    UPDATABLE,
    Adoptable,
    Check,
    Hooks,
    Membership,
    NaturalKey,
    Parent,
    Relationship,
    ResourceSpec,
)
from .checks import WholeNumber, non_blank

# "You can invite up to 10,000 external testers per app" (App Store Connect Help, "Invite
# external testers"): no public link can admit more.
PUBLIC_LINK_LIMIT_MAX = 10_000


def public_link_limit_range(value: object) -> str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= PUBLIC_LINK_LIMIT_MAX):
        return None
    return f"is {value!r}; a public link admits 1 to {PUBLIC_LINK_LIMIT_MAX:,} testers (Apple's limit of external testers per app)"


_PUBLIC_LINK = ("public_link_enabled", "public_link_limit_enabled", "public_link_limit")


def group_kind_rules(model: Any) -> list[tuple[str, str]]:
    """What only one kind of group takes: public links invite external testers (App Store Connect
    Help, "Invite external testers"); an internal group with access to all builds gets every
    build, and Apple refuses assigning it one ("Builds cannot be assigned to this internal
    group", rorkai/App-Store-Connect-CLI#761)."""
    problems: list[tuple[str, str]] = []
    if model.is_internal_group:
        for name in _PUBLIC_LINK:
            if getattr(model, name) not in (None, False):
                problems.append((name, f"{name}: public links are for external groups; this group is internal "
                                       "(is_internal_group=True). Remove it, or make the group external."))
        if model.has_access_to_all_builds and model.builds:
            problems.append(("builds", "builds: an internal group with has_access_to_all_builds=True gets every build, "
                                       "and Apple refuses assigning it builds. Remove builds, or set "
                                       "has_access_to_all_builds=False to choose them."))
    elif model.has_access_to_all_builds:
        problems.append(("has_access_to_all_builds", "has_access_to_all_builds applies to internal groups only; an "
                                                    "external group gets the builds listed in builds."))
    return problems


class BetaGroupInputs(Adoptable):
    app: Annotated[str, CREATE_ONLY, Relationship("app", "apps"), Parent("/v1/apps/{id}/betaGroups"), Check(non_blank)]
    # Identifies the group for adoption and look-ups, but Apple lets two groups of an app share a
    # name (an internal and an external "Friends & Family", rorkai/App-Store-Connect-CLI#906).
    name: Annotated[str, UPDATABLE, NaturalKey(unique=False), Check(non_blank)]
    is_internal_group: Annotated[StrictBool, CREATE_ONLY] = False
    has_access_to_all_builds: Annotated[StrictBool | None, CREATE_ONLY, COMPUTED] = None
    feedback_enabled: Annotated[StrictBool, UPDATABLE] = True
    public_link_enabled: Annotated[StrictBool | None, UPDATABLE, COMPUTED] = None
    public_link_limit_enabled: Annotated[StrictBool | None, UPDATABLE, COMPUTED] = None
    public_link_limit: Annotated[WholeNumber | None, UPDATABLE, COMPUTED, Check(public_link_limit_range)] = None
    # Apple's update takes these, its create does not (spec 4.4.1): PATCHed right after the POST.
    ios_builds_available_for_apple_silicon_mac: Annotated[StrictBool | None, UPDATABLE, PATCH_ONLY, COMPUTED] = None
    ios_builds_available_for_apple_vision: Annotated[StrictBool | None, UPDATABLE, PATCH_ONLY, COMPUTED] = None
    builds: Annotated[list[str] | None, UPDATABLE, Membership("builds", "builds", on_create=True)] = None
    testers: Annotated[list[str] | None, UPDATABLE, Membership("betaTesters", "betaTesters", on_create=True)] = None
    public_link: Annotated[str | None, COMPUTED] = None
    public_link_id: Annotated[str | None, COMPUTED] = None
    created_date: Annotated[str | None, COMPUTED] = None


BETA_GROUPS = ResourceSpec(
    rest_type="betaGroups",
    inputs=BetaGroupInputs,
    delete=DELETE,
    filters=("name", "isInternalGroup", "publicLinkEnabled", "publicLinkLimitEnabled", "publicLink", "app", "builds", "id"),
    includes={"betaTesters": 50, "builds": 1000},
    hooks=Hooks(validate=group_kind_rules),
)


class BetaGroup(SpecResource, spec=BETA_GROUPS):
    """A TestFlight group of an app (``betaGroups``).

    ``app`` and ``is_internal_group`` replace the group when changed; ``has_access_to_all_builds``
    (internal groups only) too. ``name``, ``feedback_enabled`` and the public link
    (``public_link_enabled``, ``public_link_limit_enabled``, ``public_link_limit``, at most
    10,000) are updated in place; public-link settings on an internal group fail at preview.
    ``public_link`` is the link to share (null while the link is off).

    ``builds`` and ``testers`` are the group's whole membership (ids; a build from
    :func:`~pulumi_appstoreconnect.get_build`, a tester's id): a change adds and removes the
    difference through Apple's relationship endpoints and never replaces the group; left out
    (None), the membership is not managed. Declare a tester's groups on either side, not both
    (``BetaTester.groups`` is the usual one). Destroy deletes the group; its testers stay on the
    team.
    """

    app: pulumi.Output[str]
    name: pulumi.Output[str]
    is_internal_group: pulumi.Output[bool]
    has_access_to_all_builds: pulumi.Output[bool | None]
    feedback_enabled: pulumi.Output[bool]
    public_link_enabled: pulumi.Output[bool | None]
    public_link_limit_enabled: pulumi.Output[bool | None]
    public_link_limit: pulumi.Output[int | None]
    ios_builds_available_for_apple_silicon_mac: pulumi.Output[bool | None]
    ios_builds_available_for_apple_vision: pulumi.Output[bool | None]
    builds: pulumi.Output[list[str] | None]
    testers: pulumi.Output[list[str] | None]
    public_link: pulumi.Output[str | None]
    public_link_id: pulumi.Output[str | None]
    created_date: pulumi.Output[str]
