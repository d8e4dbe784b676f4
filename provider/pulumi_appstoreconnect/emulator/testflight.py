"""Apple's rules for TestFlight: apps, builds and pre-release versions (which only Xcode, the web UI
and the admin API make), beta groups, beta testers, their memberships, and the test information.

Memberships are kept once, on the group: a group lists its testers (``betaTesters``) and its
builds (``builds``); a tester lists the builds it was given one by one (``builds``). The other
sides (a tester's ``betaGroups``, a build's ``betaGroups`` and ``individualTesters``) are
inverse relations whose writes change the group or the tester under that type's rules, so a
build refused by an internal group is refused from either side.

Each rule says where it is documented or observed; "assumed" marks the ones no source shows.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from datetime import timedelta
from typing import Any, Mapping

from .rules import (
    ADMIN_CREATE,
    CREATE,
    UPDATE,
    Context,
    Relation,
    TypeRules,
    casefold,
    duplicate_locale,
    invalid_value,
    inverse,
    inverse_membership,
    same_parent,
    stored,
)
from .signing import apple_timestamp
from .store import ErrorItem, StoredObject, attribute_invalid, relationship_invalid

# --------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------

# Apple's TestFlight object ids are lowercase UUIDs (betaGroups in ittybittyapps'
# betagroup_response.json; builds and localizations in the public API's answers).
def _uuid(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> str:
    return str(uuid.uuid4())


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else [value] if isinstance(value, str) else []


def _app_of(obj: StoredObject) -> str | None:
    app = obj.relationships.get("app")
    return app if isinstance(app, str) else None


def _children(ctx: Context, rest_type: str, via: str, parent_id: str) -> list[StoredObject]:
    return [o for o in ctx.store.all_of(rest_type) if o.relationships.get(via) == parent_id]


# The App Store localizations, Apple's codes for the languages App Store Connect takes (App Store
# Connect Help, Reference > "App Store localizations"; Apple offers no endpoint for them, and
# fastlane keeps the same 50 codes in deliver/lib/deliver/languages.rb, the 2025 additions
# Bangla to Urdu included). TestFlight's test information takes the same codes.
APP_STORE_LOCALES: frozenset[str] = frozenset("""
    ar-SA bn-BD ca cs da de-DE el en-AU en-CA en-GB en-US es-ES es-MX fi fr-CA fr-FR gu-IN he hi hr
    hu id it ja kn-IN ko ml-IN mr-IN ms nl-NL no or-IN pa-IN pl pt-BR pt-PT ro ru sk sl-SI sv ta-IN
    te-IN th tr uk ur-PK vi zh-Hans zh-Hant
""".split())


def _known_locale(value: Any) -> ErrorItem | None:
    """Assumed, not observed: a locale outside Apple's list is refused the way Apple refuses
    other values (409 ENTITY_ERROR.ATTRIBUTE.INVALID)."""
    return None if value in APP_STORE_LOCALES else invalid_value("locale")(value)


def localization_rules(parent: str) -> TypeRules:
    """A localization belongs to one ``parent`` (an app, a build) and holds each locale once."""
    return TypeRules(
        relations=(Relation(parent, f"{parent}s", False, stored(parent)),),
        new_id=_uuid,
        attribute_checks={"locale": _known_locale},
        unique=("locale", casefold),
        same_scope=same_parent(parent),
        duplicate_error=duplicate_locale,
    )


# --------------------------------------------------------------------------------------
# apps
# --------------------------------------------------------------------------------------


def _app_written(ctx: Context, obj: StoredObject, old: StoredObject | None) -> None:
    """Apple makes an app's beta review detail and beta license agreement with the app: the API
    has no POST for either (spec 4.4.1: GET and PATCH only). The review detail's id is the app's
    id (fastlane's spaceship PATCHes ``betaAppReviewDetails/<app id>`` without reading it first);
    the license agreement gets its own id (not observed: no client relies on it being the app's)."""
    if old is not None:
        return
    if ctx.store.get("betaAppReviewDetails", obj.id) is None:
        ctx.store.insert(StoredObject("betaAppReviewDetails", obj.id, {}, {"app": obj.id}))
    if not _children(ctx, "betaLicenseAgreements", "app", obj.id):
        ctx.store.insert(StoredObject("betaLicenseAgreements", str(uuid.uuid4()), {"agreementText": None}, {"app": obj.id}))


def _app_deleted(ctx: Context, obj: StoredObject) -> None:
    """An app removed out of band (the admin API: Apple's API cannot delete apps) takes its
    TestFlight objects with it."""
    for rest_type in ("betaGroups", "betaAppLocalizations", "betaAppReviewDetails", "betaLicenseAgreements",
                      "builds", "preReleaseVersions"):
        for child in _children(ctx, rest_type, "app", obj.id):
            ctx.store.delete(rest_type, child.id)


def _app_testers(ctx: Context, obj: StoredObject) -> list[str]:
    return [t.id for t in ctx.store.all_of("betaTesters") if obj.id in tester_apps(ctx, t)]


def _remove_testers_from_app(ctx: Context, app: StoredObject, method: str, tester_ids: list[str]) -> None:
    """``DELETE /v1/apps/{id}/relationships/betaTesters`` (202): the testers lose this app."""
    for tester in ctx.store.get_many("betaTesters", tester_ids):
        remove_tester_from_apps(ctx, tester, [app.id])


APP_RULES = TypeRules(
    relations=(
        Relation("betaGroups", "betaGroups", True, inverse("betaGroups", "app")),
        Relation("builds", "builds", True, inverse("builds", "app")),
        Relation("preReleaseVersions", "preReleaseVersions", True, inverse("preReleaseVersions", "app")),
        Relation("betaAppLocalizations", "betaAppLocalizations", True, inverse("betaAppLocalizations", "app")),
        Relation("betaAppReviewDetail", "betaAppReviewDetails", False, inverse("betaAppReviewDetails", "app")),
        Relation("betaLicenseAgreement", "betaLicenseAgreements", False, inverse("betaLicenseAgreements", "app")),
        # Apple's App schema shows betaTesters with links only (its to-one shape there is an
        # artefact of the spec); the relationship is the app's testers, written by DELETE only.
        Relation("betaTesters", "betaTesters", True, _app_testers),
    ),
    after_write=_app_written,
    after_delete=_app_deleted,
    relationship_writes={"betaTesters": _remove_testers_from_app},
)

# --------------------------------------------------------------------------------------
# preReleaseVersions and builds
# --------------------------------------------------------------------------------------

PRE_RELEASE_VERSION_RULES = TypeRules(
    relations=(
        Relation("app", "apps", False, stored("app")),
        Relation("builds", "builds", True, inverse("builds", "preReleaseVersion")),
    ),
    new_id=_uuid,
)

# TestFlight builds expire 90 days after upload (App Store Connect Help, "TestFlight overview":
# "builds are available for 90 days").
BUILD_LIFETIME = timedelta(days=90)


def _build_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    """What Apple sets when a build is uploaded (the admin API's "upload"; given values win)."""
    now = ctx.now()
    return {
        "uploadedDate": attributes.get("uploadedDate") or apple_timestamp(now),
        "expirationDate": attributes.get("expirationDate") or apple_timestamp(now + BUILD_LIFETIME),
        "expired": attributes.get("expired", False),
        "processingState": attributes.get("processingState") or "PROCESSING",
        "buildAudienceType": attributes.get("buildAudienceType") or "APP_STORE_ELIGIBLE",
    }


def _build_written(ctx: Context, obj: StoredObject, old: StoredObject | None) -> None:
    """A build that becomes VALID is available to the app's internal groups with access to all
    builds: their testers are invited."""
    if obj.attributes.get("processingState") != "VALID":
        return
    if old is not None and old.attributes.get("processingState") == "VALID":
        return
    for group in _children(ctx, "betaGroups", "app", _app_of(obj) or ""):
        invite_testers(ctx, group)


BUILD_RULES = TypeRules(
    relations=(
        Relation("app", "apps", False, stored("app")),
        Relation("preReleaseVersion", "preReleaseVersions", False, stored("preReleaseVersion")),
        inverse_membership("betaGroups", "betaGroups", "builds"),
        inverse_membership("individualTesters", "betaTesters", "builds"),
        Relation("betaBuildLocalizations", "betaBuildLocalizations", True, inverse("betaBuildLocalizations", "build")),
    ),
    new_id=_uuid,
    computed=_build_computed,
    after_write=_build_written,
)

# --------------------------------------------------------------------------------------
# betaGroups
# --------------------------------------------------------------------------------------

# "You can invite up to 10,000 external testers per app" (App Store Connect Help, "Invite
# external testers"): the most a public link's tester limit can be.
PUBLIC_LINK_LIMIT_MAX = 10_000
PUBLIC_LINK_BASE = "https://testflight.apple.com/join/"
_LINK_ALPHABET = string.ascii_letters + string.digits


def _public_link_limit(value: Any) -> ErrorItem | None:
    """Assumed, not observed: a limit outside 1..10,000 is refused like other invalid values."""
    if value is None or (isinstance(value, int) and 1 <= value <= PUBLIC_LINK_LIMIT_MAX):
        return None
    return invalid_value("publicLinkLimit")(value)


def _group_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    # A group made through the API answers feedbackEnabled true and the public-link fields false
    # or null (ittybittyapps' betagroup_response.json, the create answer it decodes).
    return {
        "createdDate": attributes.get("createdDate") or apple_timestamp(ctx.now()),
        "isInternalGroup": attributes.get("isInternalGroup") or False,
        "hasAccessToAllBuilds": attributes.get("hasAccessToAllBuilds"),
        "publicLinkEnabled": attributes.get("publicLinkEnabled") or False,
        "publicLinkLimitEnabled": attributes.get("publicLinkLimitEnabled") or False,
        "feedbackEnabled": attributes.get("feedbackEnabled", True) is not False,
    }


def internal_group_refuses_build() -> ErrorItem:
    """Apple's answer to a build added to an internal group that already has every build: the
    title and detail as the rorkai CLI printed them from the live API (rorkai/App-Store-Connect-CLI
    #761, 2026: "Builds cannot be assigned to this internal group.: Cannot add internal group to a
    build."); EvotecIT/PSPublishModule#544 saw the same refusal. The code is assumed."""
    return ErrorItem(
        409,
        "ENTITY_ERROR.RELATIONSHIP.INVALID",
        "Builds cannot be assigned to this internal group.",
        "Cannot add internal group to a build.",
        {"pointer": "/data/relationships/builds"},
    )


def _group_validate(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
    """Apple's rules for what an API request may make of a group (the admin API may seed
    anything)."""
    if operation not in (CREATE, UPDATE):
        return []
    attributes = new.attributes
    internal = attributes.get("isInternalGroup") is True
    errors: list[ErrorItem] = []
    # Public links invite external testers (App Store Connect Help, "Invite external testers":
    # external groups invite "by sharing a public invitation link"). Assumed: Apple refuses one
    # on an internal group with this code.
    if internal and attributes.get("publicLinkEnabled") is True:
        errors.append(attribute_invalid("publicLinkEnabled", "Public links are only available for external groups."))
    # hasAccessToAllBuilds is for internal groups (its only use in the web UI); assumed refused
    # on an external group.
    if not internal and attributes.get("hasAccessToAllBuilds") is True:
        errors.append(attribute_invalid("hasAccessToAllBuilds", "Only internal groups can have access to all builds."))
    added = [b for b in _ids(new.relationships.get("builds")) if old is None or b not in _ids(old.relationships.get("builds"))]
    if added and internal and attributes.get("hasAccessToAllBuilds") is True:
        errors.append(internal_group_refuses_build())
    if added and not internal:
        # "Builds uploaded as TestFlight Internal Only ... can only be added to internal tester
        # groups" (App Store Connect Help, "Invite external testers"). The wording is ours.
        for build in ctx.store.get_many("builds", added):
            if build.attributes.get("buildAudienceType") == "INTERNAL_ONLY":
                errors.append(relationship_invalid(
                    "builds", f"The build '{build.id}' is for internal testing only and can not be added to an external group."
                ))
    return errors


def _new_public_link_id() -> str:
    # Apple's public links look like https://testflight.apple.com/join/AbCd1234 (eight letters and
    # digits, as TestFlight links shared publicly show).
    return "".join(secrets.choice(_LINK_ALPHABET) for _ in range(8))


def _group_written(ctx: Context, obj: StoredObject, old: StoredObject | None) -> None:
    """Enabling the public link makes one (publicLinkId, publicLink); disabling takes it away.
    Assumed, not observed: a link enabled again is a new link."""
    attributes = obj.attributes
    if attributes.get("publicLinkEnabled") is True and not attributes.get("publicLinkId"):
        link_id = _new_public_link_id()
        attributes.update(publicLinkId=link_id, publicLink=PUBLIC_LINK_BASE + link_id)
        ctx.store.save(obj)
    elif attributes.get("publicLinkEnabled") is not True and (attributes.get("publicLinkId") or attributes.get("publicLink")):
        attributes.update(publicLinkId=None, publicLink=None)
        ctx.store.save(obj)
    invite_testers(ctx, obj)


def has_build_to_test(ctx: Context, group: StoredObject) -> bool:
    """A group's testers have something to install: a build added to it, or (internal groups with
    access to all builds) any valid build of its app."""
    if _ids(group.relationships.get("builds")):
        return True
    if group.attributes.get("hasAccessToAllBuilds") is True:
        return any(b.attributes.get("processingState") == "VALID" for b in _children(ctx, "builds", "app", _app_of(group) or ""))
    return False


def invite_testers(ctx: Context, group: StoredObject) -> None:
    """Testers of a group with a build to test are invited (BetaTesterState NOT_INVITED ->
    INVITED, Apple's enum in spec 4.4.1). Apple e-mails the invitation when a build becomes
    available to the tester's group (App Store Connect Help, "Invite external testers");
    accepting and installing (ACCEPTED, INSTALLED) happen on the tester's device, which the
    admin API stands in for."""
    if not has_build_to_test(ctx, group):
        return
    for tester in ctx.store.get_many("betaTesters", _ids(group.relationships.get("betaTesters"))):
        if tester.attributes.get("state") in (None, "NOT_INVITED"):
            tester.attributes["state"] = "INVITED"
            ctx.store.save(tester)


BETA_GROUP_RULES = TypeRules(
    relations=(
        Relation("app", "apps", False, stored("app")),
        Relation("builds", "builds", True, stored("builds")),
        Relation("betaTesters", "betaTesters", True, stored("betaTesters")),
    ),
    new_id=_uuid,
    computed=_group_computed,
    attribute_checks={"publicLinkLimit": _public_link_limit},
    validate=_group_validate,
    after_write=_group_written,
)

# --------------------------------------------------------------------------------------
# betaTesters
# --------------------------------------------------------------------------------------

# The duplicate-testers quirk (issue 11, reported by teams: entries with no apps or groups pile
# up after deletes, so listing by e-mail returns several testers for one address). Off by
# default; `PUT /_emulator/quirks {"duplicateTesters": true}` turns it on. Kept in the state's
# meta table so it survives a restart like the rest of the account.
DUPLICATE_TESTERS = "quirk.duplicateTesters"

# Apple's spec types email as format "email"; the emulator refuses what is plainly not one.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def duplicate_testers(ctx: Context) -> bool:
    return ctx.store.get_meta(DUPLICATE_TESTERS) == "true"


def tester_groups(ctx: Context, tester: StoredObject) -> list[StoredObject]:
    return [g for g in ctx.store.all_of("betaGroups") if tester.id in _ids(g.relationships.get("betaTesters"))]


def tester_apps(ctx: Context, tester: StoredObject) -> list[str]:
    """The apps a tester tests: those of its groups and builds, and any it was given directly."""
    apps = _ids(tester.relationships.get("apps"))
    apps += [a for g in tester_groups(ctx, tester) if (a := _app_of(g))]
    apps += [a for b in ctx.store.get_many("builds", _ids(tester.relationships.get("builds"))) if (a := _app_of(b))]
    return list(dict.fromkeys(apps))


def attached(ctx: Context, tester: StoredObject) -> bool:
    return bool(tester_apps(ctx, tester))


def _tester_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    # A tester added by e-mail: inviteType EMAIL (public-link testers join on their own), not
    # invited until a build is available to one of its groups (invite_testers).
    return {"inviteType": attributes.get("inviteType") or "EMAIL", "state": attributes.get("state") or "NOT_INVITED"}


def _tester_validate(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
    """One tester per e-mail address (compared ignoring case, as e-mail providers do). Assumed,
    not observed: a second POST of an address is refused with this 409. With the
    duplicate-testers quirk on, only testers still attached to an app count: the detached ones
    are the residue the quirk is about."""
    if operation not in (CREATE, ADMIN_CREATE):
        return []
    email = new.attributes.get("email")
    if not isinstance(email, str):
        return []
    lenient = duplicate_testers(ctx)
    for other in ctx.store.find_by_attribute("betaTesters", "email", email):
        if other.id != new.id and casefold(other.attributes.get("email"), email) and (not lenient or attached(ctx, other)):
            return [attribute_invalid("email", f"A beta tester with the email address '{email}' already exists.")]
    return []


def remove_tester_from_apps(ctx: Context, tester: StoredObject, app_ids: list[str]) -> None:
    """The tester loses these apps: their groups drop it, and so do the builds it was given."""
    for group in tester_groups(ctx, tester):
        if _app_of(group) in app_ids:
            group.relationships["betaTesters"] = [t for t in _ids(group.relationships.get("betaTesters")) if t != tester.id]
            ctx.store.save(group)
    builds = {b.id: _app_of(b) for b in ctx.store.get_many("builds", _ids(tester.relationships.get("builds")))}
    tester.relationships["builds"] = [b for b, app in builds.items() if app not in app_ids]
    tester.relationships["apps"] = [a for a in _ids(tester.relationships.get("apps")) if a not in app_ids]
    ctx.store.save(tester)


def _remove_from_apps(ctx: Context, tester: StoredObject, method: str, app_ids: list[str]) -> None:
    """``DELETE /v1/betaTesters/{id}/relationships/apps`` (202)."""
    remove_tester_from_apps(ctx, tester, app_ids)


def _tester_deleted(ctx: Context, obj: StoredObject) -> None:
    """A deleted tester leaves every group. With the duplicate-testers quirk on, a detached entry
    with the same e-mail stays behind (a new id, no apps, groups or builds)."""
    for group in tester_groups(ctx, obj):
        group.relationships["betaTesters"] = [t for t in _ids(group.relationships.get("betaTesters")) if t != obj.id]
        ctx.store.save(group)
    if duplicate_testers(ctx):
        kept = {k: obj.attributes.get(k) for k in ("firstName", "lastName", "email", "inviteType")}
        ctx.store.insert(StoredObject("betaTesters", str(uuid.uuid4()), {**kept, "state": "NOT_INVITED"}, {}))


BETA_TESTER_RULES = TypeRules(
    relations=(
        inverse_membership("betaGroups", "betaGroups", "betaTesters"),
        Relation("builds", "builds", True, stored("builds")),
        Relation("apps", "apps", True, tester_apps),
    ),
    new_id=_uuid,
    computed=_tester_computed,
    attribute_checks={"email": lambda value: None if isinstance(value, str) and _EMAIL.fullmatch(value) else invalid_value("email")(value)},
    # Assumed, not observed: filter[email] ignores case, as Apple's own account e-mails do (an
    # Apple ID is case-insensitive) and as the one-tester-per-address rule above compares them.
    filter_matchers={"email": casefold},
    validate=_tester_validate,
    after_delete=_tester_deleted,
    relationship_writes={"apps": _remove_from_apps},
)

# --------------------------------------------------------------------------------------
# test information: localizations, review detail, license agreement
# --------------------------------------------------------------------------------------

BETA_REVIEW_DETAIL_RULES = TypeRules(relations=(Relation("app", "apps", False, stored("app")),))
BETA_LICENSE_AGREEMENT_RULES = TypeRules(relations=(Relation("app", "apps", False, stored("app")),), new_id=_uuid)

TESTFLIGHT_RULES: dict[str, TypeRules] = {
    "apps": APP_RULES,
    "preReleaseVersions": PRE_RELEASE_VERSION_RULES,
    "builds": BUILD_RULES,
    "betaGroups": BETA_GROUP_RULES,
    "betaTesters": BETA_TESTER_RULES,
    "betaAppLocalizations": localization_rules("app"),
    "betaBuildLocalizations": localization_rules("build"),
    "betaAppReviewDetails": BETA_REVIEW_DETAIL_RULES,
    "betaLicenseAgreements": BETA_LICENSE_AGREEMENT_RULES,
}
