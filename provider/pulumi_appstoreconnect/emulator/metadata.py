"""Apple's rules for the App Store metadata types (apps, app infos and their localizations, age
rating declarations, versions, their localizations and review details), as :class:`TypeRules`.

The request surface (operations, attributes, relationships, enums) comes from Apple's OpenAPI
excerpt like every type's; these are the rules the spec cannot say, each with where it is
documented or observed. ``routes.ALL_RULES`` joins them with the other families' (an app has
TestFlight rules too).

- Apple makes things with the app (created out of band: seeds and the admin API): its app info
  in PREPARE_FOR_SUBMISSION, the info's age rating declaration and the localization of the
  primary locale (App Store Connect Help, "Add a new app": the name and primary language are
  given there). A version made through the API gets its primary-locale localization too (the
  API has no POST before the version exists and fastlane's deliver only PATCHes it; rorkai
  App-Store-Connect-CLI PR #1701 met the 409 "already exists" creating it).
- Edits need an editable state: a version's metadata in PREPARE_FOR_SUBMISSION,
  DEVELOPER_REJECTED, REJECTED, METADATA_REJECTED, INVALID_BINARY; otherwise 409 STATE_ERROR
  "The request cannot be fulfilled because of the state of another resource." with "Attribute
  '<name>' cannot be edited at this time" per attribute (fastlane PR #16626, 2020; #17933,
  2021). Promotional text is the exception: it can change at any time (App Store Connect Help,
  "Platform version information": "promotional text ... can be updated at any time"). An app
  info's localizations and age rating likewise need an editable app info ("The field 'name'
  can not be modified in the current state.", rorkai PR #434, 2026).
- One localization per locale: 409 ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE "Entity with
  locale: 'ja' already exists. Try updating." (rorkai PR #2712, recorded 2026). The primary
  locale's localization cannot be deleted (assumed: the web UI offers no delete for it; answered 400, a status Apple's spec declares for the DELETE, with a code of ours).
- One version in preparation per platform: 409 ENTITY_ERROR.RELATIONSHIP.INVALID "You cannot
  create a new version of the App in the current state." (rorkai PR #2579, live 2026-09-15).
- Lengths: name and subtitle 30, keywords 100, promotional text 170, description, what's new and
  review notes 4,000 (App Store Connect Help, "App information" and "Platform version
  information"), counted in UTF-16 units as App Store Connect's JavaScript counter does; the
  refusal's wording is assumed (no recording).
- Categories: the subcategories of a slot belong to its category (App Store Connect Help,
  "Choosing a category": only Games and Stickers have subcategories).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from .rules import (
    ADMIN_CREATE,
    ADMIN_UPDATE,
    CREATE,
    UPDATE,
    AttributeCheck,
    Context,
    Relation,
    TypeRules,
    duplicate_locale,
    exact,
    inverse,
    same_parent,
)
from .store import ApiError, ErrorItem, StoredObject, attribute_invalid

EDITABLE_VERSION_STATES = frozenset(
    {"PREPARE_FOR_SUBMISSION", "DEVELOPER_REJECTED", "REJECTED", "METADATA_REJECTED", "INVALID_BINARY"}
)
EDITABLE_INFO_STATES = frozenset({"PREPARE_FOR_SUBMISSION", "DEVELOPER_REJECTED", "REJECTED"})
# Versions not yet on the App Store: Apple allows one of them per platform.
_UNRELEASED = EDITABLE_VERSION_STATES | {
    "WAITING_FOR_REVIEW", "IN_REVIEW", "PENDING_DEVELOPER_RELEASE", "PENDING_APPLE_RELEASE", "READY_FOR_REVIEW",
    "WAITING_FOR_EXPORT_COMPLIANCE", "PROCESSING_FOR_DISTRIBUTION", "ACCEPTED",
}
# What may change whatever the version's state.
_ANY_STATE = frozenset({"promotionalText"})
# How an app info's state follows its version's (App Store Connect shows them together).
INFO_STATE_FOR: dict[str, str] = {
    "PREPARE_FOR_SUBMISSION": "PREPARE_FOR_SUBMISSION",
    "READY_FOR_REVIEW": "READY_FOR_REVIEW",
    "WAITING_FOR_REVIEW": "WAITING_FOR_REVIEW",
    "IN_REVIEW": "IN_REVIEW",
    "PENDING_DEVELOPER_RELEASE": "PENDING_RELEASE",
    "PENDING_APPLE_RELEASE": "PENDING_RELEASE",
    "READY_FOR_DISTRIBUTION": "READY_FOR_DISTRIBUTION",
    "REJECTED": "REJECTED",
    "DEVELOPER_REJECTED": "DEVELOPER_REJECTED",
    "METADATA_REJECTED": "REJECTED",
}
# Apple's newer appVersionState and the deprecated appStoreState it still sends.
STORE_STATE_FOR: dict[str, str] = {"READY_FOR_DISTRIBUTION": "READY_FOR_SALE", "PROCESSING_FOR_DISTRIBUTION": "PROCESSING_FOR_APP_STORE"}

STATE_TITLE = "The request cannot be fulfilled because of the state of another resource."


def state_error(detail: str) -> ErrorItem:
    return ErrorItem(409, "STATE_ERROR", STATE_TITLE, detail)


def _apple_length(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def at_most(wire: str, limit: int) -> AttributeCheck:
    def check(value: Any) -> ErrorItem | None:
        if isinstance(value, str) and _apple_length(value) > limit:
            return attribute_invalid(wire, f"The attribute '{wire}' can not be longer than {limit} characters.")
        return None

    return check


def _uuid() -> str:
    return str(uuid.uuid4())


def _new_uuid(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> str:
    return _uuid()  # Apple's metadata ids are UUIDs (fastlane tunes/app_infos.json)


def _one(ctx: Context, rest_type: str, object_id: Any) -> StoredObject | None:
    return ctx.store.get(rest_type, object_id) if isinstance(object_id, str) else None


def _changed(new: StoredObject, old: StoredObject | None) -> list[str]:
    if old is None:
        return [k for k, v in new.attributes.items() if v is not None] or ["locale"]
    names = [k for k, v in new.attributes.items() if old.attributes.get(k) != v]
    return names + [k for k, v in new.relationships.items() if old.relationships.get(k) != v]


def _refuse_unless(state: Any, editable: frozenset[str], changed: list[str]) -> list[ErrorItem]:
    if state in editable:
        return []
    return [state_error(f"Attribute '{name}' cannot be edited at this time") for name in changed if name not in _ANY_STATE]


def _guarded(holder: Callable[[Context, StoredObject], tuple[Any, frozenset[str]]]) -> Callable[..., list[ErrorItem]]:
    """API writes (not the admin API's) need the holder's state to be editable."""

    def validate(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
        if operation not in (CREATE, UPDATE):
            return []
        state, editable = holder(ctx, new)
        return _refuse_unless(state, editable, _changed(new, old))

    return validate


def _version_of(ctx: Context, obj: StoredObject) -> tuple[Any, frozenset[str]]:
    version = _one(ctx, "appStoreVersions", obj.relationships.get("appStoreVersion"))
    return (version.attributes.get("appVersionState") if version else None), EDITABLE_VERSION_STATES


def _info_of(ctx: Context, obj: StoredObject) -> tuple[Any, frozenset[str]]:
    info = _one(ctx, "appInfos", obj.relationships.get("appInfo"))
    return (info.attributes.get("state") if info else None), EDITABLE_INFO_STATES


def _app_primary_locale(ctx: Context, app_id: Any) -> Any:
    app = _one(ctx, "apps", app_id)
    return app.attributes.get("primaryLocale") if app else None


def _keep_primary(app_of: Callable[[Context, StoredObject], Any]) -> Callable[[Context, StoredObject], None]:
    """The primary locale's localization cannot be deleted (the delete is rolled back)."""

    def after_delete(ctx: Context, obj: StoredObject) -> None:
        if obj.attributes.get("locale") == _app_primary_locale(ctx, app_of(ctx, obj)):
            raise ApiError(ErrorItem(
                400, "ENTITY_ERROR.DELETE_NOT_ALLOWED", "The resource cannot be deleted",
                f"The localization for the primary locale '{obj.attributes.get('locale')}' cannot be deleted.",
            ))

    return after_delete


def _insert(
    ctx: Context, rest_type: str, attributes: dict[str, Any], relationships: dict[str, Any], object_id: str | None = None
) -> StoredObject:
    return ctx.store.insert(StoredObject(rest_type, object_id or _uuid(), attributes, relationships))


def first_app_info_id(app_id: str) -> str:
    """The id of the app info Apple makes with an app: a UUID like Apple's, derived from the app
    id so that seeds, tests and demos can name it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"appstoreconnect-emulator:appInfo:{app_id}"))


# -- apps --------------------------------------------------------------------------------------


def _app_made(ctx: Context, obj: StoredObject, old: StoredObject | None) -> None:
    """A new app comes with its app info, age rating declaration and primary-locale name."""
    if old is not None:
        return
    info = _insert(
        ctx, "appInfos", {"state": "PREPARE_FOR_SUBMISSION", "appStoreState": "PREPARE_FOR_SUBMISSION"}, {"app": obj.id},
        first_app_info_id(obj.id),
    )
    _insert(ctx, "ageRatingDeclarations", {}, {"appInfo": info.id})
    locale = obj.attributes.get("primaryLocale") or "en-US"
    _insert(ctx, "appInfoLocalizations", {"locale": locale, "name": obj.attributes.get("name")}, {"appInfo": info.id})


APP_RULES = TypeRules(
    relations=(
        Relation("appInfos", "appInfos", True, inverse("appInfos", "app")),
        Relation("appStoreVersions", "appStoreVersions", True, inverse("appStoreVersions", "app")),
    ),
    attribute_checks={"primaryLocale": lambda v: None if isinstance(v, str) and v else attribute_invalid("primaryLocale", "The attribute 'primaryLocale' can not be empty")},
    after_write=_app_made,
)

# -- app infos and categories -------------------------------------------------------------------


def _categories_fit(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
    errors = _guarded(lambda c, o: (o.attributes.get("state") if old is None else old.attributes.get("state"), EDITABLE_INFO_STATES))(ctx, operation, new, old)
    for slot in ("primary", "secondary"):
        category = new.relationships.get(f"{slot}Category")
        for which in ("One", "Two"):
            name = f"{slot}Subcategory{which}"
            sub = _one(ctx, "appCategories", new.relationships.get(name))
            if sub is not None and sub.relationships.get("parent") != category:
                errors.append(ErrorItem(
                    409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "The provided entity includes a relationship with an invalid value",
                    f"The subcategory '{sub.id}' does not belong to the category '{category}'.",
                    {"pointer": f"/data/relationships/{name}"},
                ))
    return errors


APP_INFO_RULES = TypeRules(
    relations=(
        Relation("appInfoLocalizations", "appInfoLocalizations", True, inverse("appInfoLocalizations", "appInfo")),
        Relation("ageRatingDeclaration", "ageRatingDeclarations", False, inverse("ageRatingDeclarations", "appInfo")),
    ),
    new_id=_new_uuid,
    validate=_categories_fit,
)

APP_CATEGORY_RULES = TypeRules(
    relations=(Relation("subcategories", "appCategories", True, inverse("appCategories", "parent")),),
    # filter[platforms]=IOS keeps categories whose platforms include IOS.
    filter_matchers={"platforms": lambda stored_value, wanted: isinstance(stored_value, list) and wanted in stored_value},
)

APP_INFO_LOCALIZATION_RULES = TypeRules(
    new_id=_new_uuid,
    unique=("locale", exact),
    same_scope=same_parent("appInfo"),
    duplicate_error=duplicate_locale,
    attribute_checks={"name": at_most("name", 30), "subtitle": at_most("subtitle", 30)},
    validate=_guarded(_info_of),
    after_delete=_keep_primary(lambda ctx, o: (_one(ctx, "appInfos", o.relationships.get("appInfo")) or StoredObject("", "")).relationships.get("app")),
)

AGE_RATING_RULES = TypeRules(new_id=_new_uuid, validate=_guarded(_info_of))

# -- versions ----------------------------------------------------------------------------------


def _version_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    state = attributes.get("appVersionState") or "PREPARE_FOR_SUBMISSION"
    return {
        "appVersionState": state,
        "appStoreState": attributes.get("appStoreState") or STORE_STATE_FOR.get(state, state),
        "releaseType": attributes.get("releaseType") or "AFTER_APPROVAL",
        "reviewType": attributes.get("reviewType") or "APP_STORE",
        "downloadable": True,
        "createdDate": attributes.get("createdDate") or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
    }


def _version_validate(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
    app, platform = new.relationships.get("app"), new.attributes.get("platform")
    siblings = [v for v in ctx.store.all_of("appStoreVersions") if v.id != new.id and v.relationships.get("app") == app and v.attributes.get("platform") == platform]
    errors: list[ErrorItem] = []
    if any(v.attributes.get("versionString") == new.attributes.get("versionString") for v in siblings):
        errors.append(attribute_invalid("versionString", f"The version '{new.attributes.get('versionString')}' already exists for this platform."))
    if operation == CREATE and any(v.attributes.get("appVersionState") in _UNRELEASED for v in siblings):
        errors.append(ErrorItem(
            409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "The provided entity includes a relationship with an invalid value",
            "You cannot create a new version of the App in the current state.", {"pointer": "/data/relationships/app"},
        ))
    if operation == UPDATE and old is not None:
        errors += _refuse_unless(old.attributes.get("appVersionState"), EDITABLE_VERSION_STATES, _changed(new, old))
    build = _one(ctx, "builds", new.relationships.get("build"))
    if build is not None and build.relationships.get("app") != app:
        errors.append(ErrorItem(
            409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "The provided entity includes a relationship with an invalid value",
            f"The build '{build.id}' does not belong to this app.", {"pointer": "/data/relationships/build"},
        ))
    return errors


def _version_made(ctx: Context, obj: StoredObject, old: StoredObject | None) -> None:
    """A new version comes with its primary-locale localization, and the app's app info follows
    the version's state (a second, editable app info appears when the live one cannot change)."""
    app_id = obj.relationships.get("app")
    if old is None:
        locale = _app_primary_locale(ctx, app_id) or "en-US"
        _insert(ctx, "appStoreVersionLocalizations", {"locale": locale}, {"appStoreVersion": obj.id})
        infos = [i for i in ctx.store.all_of("appInfos") if i.relationships.get("app") == app_id]
        if infos and not any(i.attributes.get("state") in EDITABLE_INFO_STATES for i in infos):
            _copy_info(ctx, infos[-1])
        return
    state = obj.attributes.get("appVersionState")
    if state == old.attributes.get("appVersionState") or state not in INFO_STATE_FOR:
        return
    for info in ctx.store.all_of("appInfos"):
        if info.relationships.get("app") == app_id and info.attributes.get("state") not in ("READY_FOR_DISTRIBUTION", "REPLACED_WITH_NEW_INFO"):
            if state == "READY_FOR_DISTRIBUTION":
                for live in ctx.store.all_of("appInfos"):
                    if live.relationships.get("app") == app_id and live.attributes.get("state") == "READY_FOR_DISTRIBUTION":
                        live.attributes.update(state="REPLACED_WITH_NEW_INFO", appStoreState="REPLACED_WITH_NEW_VERSION")
                        ctx.store.save(live)
            info.attributes.update(state=INFO_STATE_FOR[state], appStoreState=STORE_STATE_FOR.get(state, state))
            ctx.store.save(info)
            break


def _copy_info(ctx: Context, live: StoredObject) -> None:
    """The editable copy of the live app info, made when the next version is created."""
    info = _insert(ctx, "appInfos", {"state": "PREPARE_FOR_SUBMISSION", "appStoreState": "PREPARE_FOR_SUBMISSION"}, dict(live.relationships))
    for rest_type in ("appInfoLocalizations", "ageRatingDeclarations"):
        for child in [c for c in ctx.store.all_of(rest_type) if c.relationships.get("appInfo") == live.id]:
            _insert(ctx, rest_type, dict(child.attributes), {**child.relationships, "appInfo": info.id})


APP_STORE_VERSION_RULES = TypeRules(
    relations=(
        Relation("appStoreVersionLocalizations", "appStoreVersionLocalizations", True, inverse("appStoreVersionLocalizations", "appStoreVersion")),
        Relation("appStoreReviewDetail", "appStoreReviewDetails", False, inverse("appStoreReviewDetails", "appStoreVersion")),
    ),
    new_id=_new_uuid,
    computed=_version_computed,
    validate=_version_validate,
    after_write=_version_made,
)

APP_STORE_VERSION_LOCALIZATION_RULES = TypeRules(
    new_id=_new_uuid,
    unique=("locale", exact),
    same_scope=same_parent("appStoreVersion"),
    duplicate_error=duplicate_locale,
    attribute_checks={
        "description": at_most("description", 4000),
        "keywords": at_most("keywords", 100),
        "promotionalText": at_most("promotionalText", 170),
        "whatsNew": at_most("whatsNew", 4000),
    },
    validate=_guarded(_version_of),
    after_delete=_keep_primary(lambda ctx, o: (_one(ctx, "appStoreVersions", o.relationships.get("appStoreVersion")) or StoredObject("", "")).relationships.get("app")),
)


def _one_review_detail(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
    errors = _guarded(_version_of)(ctx, operation, new, old)
    if operation in (CREATE, ADMIN_CREATE) and any(
        d.relationships.get("appStoreVersion") == new.relationships.get("appStoreVersion")
        for d in ctx.store.all_of("appStoreReviewDetails") if d.id != new.id
    ):
        errors.append(ErrorItem(
            409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "The provided entity includes a relationship with an invalid value",
            "An appStoreReviewDetail already exists for this appStoreVersion.", {"pointer": "/data/relationships/appStoreVersion"},
        ))
    return errors


APP_STORE_REVIEW_DETAIL_RULES = TypeRules(
    new_id=_new_uuid,
    attribute_checks={"notes": at_most("notes", 4000)},
    validate=_one_review_detail,
)

METADATA_RULES: dict[str, TypeRules] = {
    "apps": APP_RULES,
    "appInfos": APP_INFO_RULES,
    "appCategories": APP_CATEGORY_RULES,
    "appInfoLocalizations": APP_INFO_LOCALIZATION_RULES,
    "ageRatingDeclarations": AGE_RATING_RULES,
    "appStoreVersions": APP_STORE_VERSION_RULES,
    "appStoreVersionLocalizations": APP_STORE_VERSION_LOCALIZATION_RULES,
    "appStoreReviewDetails": APP_STORE_REVIEW_DETAIL_RULES,
}

__all__ = ["ADMIN_UPDATE", "EDITABLE_INFO_STATES", "EDITABLE_VERSION_STATES", "METADATA_RULES", "INFO_STATE_FOR"]
