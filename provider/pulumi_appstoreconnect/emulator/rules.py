"""Apple's business rules, per JSON:API type, as small named hooks.

Everything a spec already says (attributes, which are writable when, required-ness, enum
values, filters, natural key) is turned into routes generically by :mod:`.routes`. What a
spec cannot say lives here, one :class:`TypeRules` per type:

- which operations exist (devices have no DELETE, profiles no PATCH, capabilities no GET);
- response-only relationships and how to resolve them (a bundle ID's ``profiles`` are the
  profiles pointing at it), and which relationships always carry their linkage;
- computed attributes filled in on create (``bundleIds.seedId`` is the team id, a
  certificate is issued from its CSR, a profile's payload is signed);
- filter semantics that are not equality (``filter[identifier]`` is a prefix match);
- how ids look, uniqueness and its messages, hidden state (a capability's enabled flag),
  extra validation (the distribution-certificate limit), and cascades on writes and deletes
  (revoking a certificate invalidates the profiles that use it; changing a capability those of
  its bundle ID).

A type without an entry gets :data:`DEFAULT_RULES` (all operations, no extras). The
cryptography lives in :mod:`.signing`.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from .signing import (
    PROFILE_VALIDITY,
    TEAM_NAME,
    Authority,
    CsrError,
    ProfilePayload,
    apple_timestamp,
    certificate_kind,
    der_base64,
    load_csr,
    parse_timestamp,
    profile_content,
    serial_hex,
    throwaway_public_key,
)
from .store import (
    ApiError,
    ErrorItem,
    Store,
    StoredObject,
    attribute_invalid,
    entity_error,
    random_code,
    relationship_invalid,
    relationship_required,
)

LIST = "list"
CREATE = "create"
READ = "read"
UPDATE = "update"
DELETE = "delete"
ALL_OPERATIONS: frozenset[str] = frozenset({LIST, CREATE, READ, UPDATE, DELETE})
# Writes through the admin API (out of band). ``validate`` hooks see these instead of
# CREATE/UPDATE: Apple's request rules (what a POST must carry) apply to API writes only,
# invariants (uniqueness) to both.
ADMIN_CREATE = "admin-create"
ADMIN_UPDATE = "admin-update"


@dataclass(frozen=True)
class Context:
    """What hooks may use: the store, the emulated team, the clock and the CA."""

    store: Store
    team_id: str
    clock: Callable[[], float] = time.time
    authority: Authority | None = None

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    @property
    def ca(self) -> Authority:
        if self.authority is None:
            raise RuntimeError("this emulator context has no certification authority")
        return self.authority


Resolver = Callable[[Context, StoredObject], list[str]]


@dataclass(frozen=True)
class Relation:
    """A relationship as the API shows it: ``resolve`` returns the related ids in order.

    ``stored_on``: the membership is kept on the related objects, in their relationship of
    that name (a tester's beta groups are the groups listing the tester), so a write to this
    side (``POST/DELETE /v1/betaTesters/{id}/relationships/betaGroups``, or the linkage of a
    create) changes those objects, under their type's rules.

    ``ordered``: Apple keeps the order ``resolve`` returns (a screenshot set's screenshots, set
    by a PATCH of the relationship), and listings follow it instead of creation order.
    """

    name: str
    related_type: str
    to_many: bool
    resolve: Resolver
    stored_on: str | None = None
    ordered: bool = False


def stored(name: str) -> Resolver:
    """Ids kept on the object itself (relationships sent on create/update)."""

    def resolve(ctx: Context, obj: StoredObject) -> list[str]:
        value = obj.relationships.get(name)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    return resolve


def inverse(related_type: str, via: str) -> Resolver:
    """Objects of ``related_type`` whose relationship ``via`` points at this object."""

    def resolve(ctx: Context, obj: StoredObject) -> list[str]:
        ids = []
        for other in ctx.store.all_of(related_type):
            target = other.relationships.get(via)
            if target == obj.id or (isinstance(target, list) and obj.id in target):
                ids.append(other.id)
        return ids

    return resolve


def inverse_membership(name: str, related_type: str, via: str) -> Relation:
    """A to-many relationship kept on the other side (see :attr:`Relation.stored_on`)."""
    return Relation(name, related_type, True, inverse(related_type, via), stored_on=via)


def matching_attribute(related_type: str, their_attribute: str, our_attribute: str) -> Resolver:
    """Objects of ``related_type`` whose attribute equals one of ours (an app's ``bundleId``
    attribute holds the bundle identifier string, not a relationship)."""

    def resolve(ctx: Context, obj: StoredObject) -> list[str]:
        ours = obj.attributes.get(our_attribute)
        if ours is None:
            return []
        return [o.id for o in ctx.store.all_of(related_type) if o.attributes.get(their_attribute) == ours]

    return resolve


Matcher = Callable[[Any, str], bool]


def exact(stored_value: Any, wanted: str) -> bool:
    return stored_value is not None and str(stored_value) == wanted


def prefix(stored_value: Any, wanted: str) -> bool:
    return isinstance(stored_value, str) and stored_value.startswith(wanted)


def platform_or_universal(stored_value: Any, wanted: str) -> bool:
    """``filter[platform]`` on bundle IDs: a UNIVERSAL bundle ID is an iOS and a macOS App ID
    too, so ``IOS`` and ``MAC_OS`` also return it (Tinder/sign-here#19 saw a UNIVERSAL bundle
    ID answer ``filter[platform]=IOS``; codemagic cli-tools#76 saw the filter "return all
    platforms"). ``UNIVERSAL`` returns only UNIVERSAL ones."""
    return stored_value == wanted or (stored_value == "UNIVERSAL" and wanted in ("IOS", "MAC_OS"))


def _default_new_id(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> str:
    return random_code(10)


def _no_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    return {}


def _no_checks(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
    return []


def _nothing(ctx: Context, obj: StoredObject) -> None:
    return None


def _nothing_written(ctx: Context, obj: StoredObject, old: StoredObject | None) -> None:
    return None


def _same_scope(a: StoredObject, b: StoredObject) -> bool:
    return True


def same_parent(via: str) -> Callable[[StoredObject, StoredObject], bool]:
    """``TypeRules.same_scope`` for objects unique within a parent (a locale per app info)."""
    return lambda a, b: a.relationships.get(via) == b.relationships.get(via)


def duplicate_locale(wire: str, value: str) -> ErrorItem:
    """Apple's 409 for a second localization of one locale, recorded live for
    appStoreVersionLocalizations ("Entity with locale: 'ja' already exists. Try updating.",
    rorkai/App-Store-Connect-CLI PR #2712, 2026); the other localization types are taken to
    answer alike."""
    return ErrorItem(
        409,
        "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE",
        "The provided entity includes an attribute with a value that has already been used",
        f"Entity with locale: '{value}' already exists. Try updating.",
        {"pointer": f"/data/attributes/{wire}"},
    )


def _as_stored(ctx: Context, obj: StoredObject) -> StoredObject:
    return obj


def _nothing_presented(ctx: Context, obj: StoredObject, base_url: str) -> dict[str, Any]:
    return {}


def _always(obj: StoredObject) -> bool:
    return True


AttributeCheck = Callable[[Any], "ErrorItem | None"]
# A relationship write whose effect is not a change of stored linkage (removing a tester from an
# app removes it from the app's groups and builds): (ctx, object, method, ids).
RelationshipWrite = Callable[[Context, StoredObject, str, list[str]], None]


@dataclass(frozen=True)
class TypeRules:
    """Apple's rules for one type, beyond what its OpenAPI spec says (the operations, request
    members, enums, filters and statuses come from the spec: :mod:`.surface`). Every field has a
    neutral default; each rule says where it is documented or observed."""

    # How relationships resolve: response-only ones (a bundle ID's profiles are the profiles
    # pointing at it), and relationships Apple's live responses carry beyond its spec.
    relations: tuple[Relation, ...] = ()
    # Relationships whose `data` linkage every resource object carries, not only with
    # `include=` (profiles, as recorded from the live API).
    linkage_in_resource: frozenset[str] = frozenset()
    # Attributes Apple's live responses show although its spec does not list them (rendered
    # after the spec's own; null unless stored).
    extra_attributes: tuple[str, ...] = ()
    # Stored state Apple never shows (a capability's enabled flag): only the admin API
    # reads and writes it.
    hidden_attributes: frozenset[str] = frozenset()
    # Apple's rules for one attribute's value (formats, lengths), in Apple's words, checked
    # after the spec's schema (type, enum, shape).
    attribute_checks: Mapping[str, AttributeCheck] = field(default_factory=dict)
    # The attribute Apple keeps unique, and how it compares values (UDIDs ignore case).
    unique: tuple[str, Matcher] | None = None
    # Whether the API shows an object at all: others answer 404 and are left out of every
    # listing (a disabled capability). The admin API sees everything.
    visible: Callable[[StoredObject], bool] = _always
    # filter[<wire>] semantics other than exact equality.
    filter_matchers: Mapping[str, Matcher] = field(default_factory=dict)
    # filter[<wire>] values Apple accepts when narrower than the attribute's enum (the spec
    # lists devices' filter[platform] as IOS, MAC_OS, UNIVERSAL; Apple refuses UNIVERSAL).
    filter_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    new_id: Callable[[Context, Mapping[str, Any], Mapping[str, Any]], str] = _default_new_id
    # For types whose new_id is deterministic: the error when that id belongs to a visible
    # object (an invisible one is replaced). None: ids are random and simply redrawn.
    id_taken: Callable[[Context, StoredObject], ErrorItem] | None = None
    # Values for computed attributes on create, given the request's (or the admin API's)
    # attributes; honour a given value where Apple accepts one (bundleIds.seedId) and the
    # admin API's seeded values.
    computed: Callable[[Context, Mapping[str, Any], Mapping[str, Any]], dict[str, Any]] = _no_computed
    # Uniqueness (``unique``): which objects compete, and what Apple answers on a clash
    # (wire, value); None: a generic ENTITY_ERROR.ATTRIBUTE.INVALID.
    same_scope: Callable[[StoredObject, StoredObject], bool] = _same_scope
    duplicate_error: Callable[[str, str], ErrorItem] | None = None
    # Extra validation on create/update (return the errors; empty means fine). `operation` is
    # CREATE/UPDATE for API writes, ADMIN_CREATE/ADMIN_UPDATE for the admin API's.
    validate: Callable[[Context, str, StoredObject, StoredObject | None], list[ErrorItem]] = _no_checks
    # Side effects after a DELETE, from the API or the admin API (same transaction).
    after_delete: Callable[[Context, StoredObject], None] = _nothing
    # Side effects after a create (``old`` None) or an update, from the API or the admin API
    # (same transaction).
    after_write: Callable[[Context, StoredObject, StoredObject | None], None] = _nothing_written
    # Relationship writes with their own meaning (by relationship name); the others add, remove
    # or replace stored linkage.
    relationship_writes: Mapping[str, RelationshipWrite] = field(default_factory=dict)
    # State Apple moves on by itself (an uploaded asset's processing finishes a moment after
    # its commit): applied, and saved, whenever the API reads the object; returns it as it is now.
    advance: Callable[[Context, StoredObject], StoredObject] = _as_stored
    # Attribute values that depend on the answer, not only on the stored object (an asset's
    # upload URLs point at the host the client addressed): laid over the stored ones when the
    # object is rendered.
    presented: Callable[[Context, StoredObject, str], dict[str, Any]] = _nothing_presented


DEFAULT_RULES = TypeRules()


# --------------------------------------------------------------------------------------
# Apple's value rules (beyond its schema)
# --------------------------------------------------------------------------------------


def invalid_value(wire: str) -> AttributeCheck:
    """The shape of Apple's refusal of a value: 409 ENTITY_ERROR.ATTRIBUTE.INVALID with
    "An invalid value '<value>' was provided for the parameter '<wire>'." (logged from the live
    API for udid: bitrise-steplib/steps-ios-auto-provision#130, 2020;
    futureware-tech/simulator-action#276, 2022)."""

    def refuse(value: Any) -> ErrorItem:
        return attribute_invalid(wire, f"An invalid value '{value}' was provided for the parameter '{wire}'.")

    return refuse


def all_of(*checks: AttributeCheck) -> AttributeCheck:
    def check(value: Any) -> ErrorItem | None:
        return next((e for e in (c(value) for c in checks) if e is not None), None)

    return check


def matching(wire: str, pattern: re.Pattern[str]) -> AttributeCheck:
    refuse = invalid_value(wire)
    return lambda value: None if isinstance(value, str) and pattern.fullmatch(value) else refuse(value)


def present(wire: str) -> AttributeCheck:
    """Assumed, not observed: a status cannot be cleared (a device is enabled or disabled)."""
    refuse = invalid_value(wire)
    return lambda value: refuse(value) if value is None else None


def not_blank(wire: str) -> AttributeCheck:
    """Assumed, not observed: the portal will not save an empty name, and the API is taken to
    refuse one (or a null) the same way."""
    refuse = invalid_value(wire)
    return lambda value: None if isinstance(value, str) and value.strip() else refuse(value)


def _ids(value: Any) -> list[str]:
    """Relationship ids as stored: a to-one id, a list of ids, or nothing."""
    if value is None:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else [value] if isinstance(value, str) else []


def invalidate_profiles(ctx: Context, affected: Callable[[StoredObject], bool]) -> None:
    """Mark every profile ``affected`` selects INVALID (what Apple does when a certificate or an
    App ID it was made from changes)."""
    for profile in ctx.store.all_of("profiles"):
        if affected(profile) and profile.attributes.get("profileState") != "INVALID":
            profile.attributes["profileState"] = "INVALID"
            ctx.store.save(profile)


# --------------------------------------------------------------------------------------
# bundleIds
# --------------------------------------------------------------------------------------


def _bundle_id_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    # seedId is the team's App ID prefix. Apple's CreateRequest also accepts seedId (teams
    # with a legacy prefix); when absent it is the team id.
    return {"seedId": attributes.get("seedId") or ctx.team_id}


def _bundle_id_after_delete(ctx: Context, obj: StoredObject) -> None:
    # Capabilities (enabled or not) and profiles belong to their bundle ID and go with it.
    for rest_type in ("bundleIdCapabilities", "profiles"):
        for child in ctx.store.all_of(rest_type):
            if child.relationships.get("bundleId") == obj.id:
                ctx.store.delete(rest_type, child.id)


# Capabilities Apple enables on every new explicit App ID, whoever creates it (the API, Xcode,
# the web UI), and which cannot be turned off there: fastlane #12853 (2018, "Game Center and
# In-App Purchase ... get defaulted to on"), fastlane PR #12862, fastlane #21488 (2023). The
# recorded App IDs carry them too (fastlane provisioning/bundle_id.json; codemagic's
# bundle_id_capability.json is a GAME_CENTER one). Wildcard App IDs cannot hold them.
DEFAULT_CAPABILITIES = ("GAME_CENTER", "IN_APP_PURCHASE")


def _bundle_id_after_write(ctx: Context, obj: StoredObject, old: StoredObject | None) -> None:
    if old is not None or str(obj.attributes.get("identifier") or "").endswith("*"):
        return
    for capability_type in DEFAULT_CAPABILITIES:
        capability_id = f"{obj.id}_{capability_type}"
        if ctx.store.get("bundleIdCapabilities", capability_id) is None:
            ctx.store.insert(StoredObject(
                "bundleIdCapabilities",
                capability_id,
                {"capabilityType": capability_type, "settings": None, CAPABILITY_ENABLED: True},
                {"bundleId": obj.id},
            ))


# Apple's rule for a bundle ID: "alphanumeric characters (A–Z, a–z, and 0–9), hyphens (-), and
# periods (.)" (CFBundleIdentifier, developer.apple.com); an App ID may end in ".*" or be "*" (a
# wildcard App ID, "Register an App ID" in the developer account help).
_BUNDLE_IDENTIFIER = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?:\.\*)?|\*)")


BUNDLE_ID_RULES = TypeRules(
    relations=(
        Relation("profiles", "profiles", True, inverse("profiles", "bundleId")),
        Relation("bundleIdCapabilities", "bundleIdCapabilities", True, inverse("bundleIdCapabilities", "bundleId")),
        Relation("app", "apps", False, matching_attribute("apps", "bundleId", "identifier")),
    ),
    attribute_checks={
        "identifier": matching("identifier", _BUNDLE_IDENTIFIER),
        "name": not_blank("name"),
    },
    unique=("identifier", exact),
    # Apple quirk: filter[identifier] is a prefix match ("com.x.app" also returns
    # "com.x.app.widget"); clients must re-check candidates exactly.
    filter_matchers={"identifier": prefix, "platform": platform_or_universal},
    computed=_bundle_id_computed,
    # Apple's wording (409 ENTITY_ERROR.ATTRIBUTE.INVALID) for an identifier already taken.
    duplicate_error=lambda wire, value: attribute_invalid(
        wire, f"An App ID with Identifier '{value}' is not available. Please enter a different string."
    ),
    after_write=_bundle_id_after_write,
    after_delete=_bundle_id_after_delete,
)

# --------------------------------------------------------------------------------------
# bundleIdCapabilities
# --------------------------------------------------------------------------------------
# No GET of their own: they are listed through their bundle ID, which shows only enabled
# ones. The hidden `enabled` flag lets the admin API disable one out of band (as the web UI
# can); the API then treats it as absent: 404 on PATCH/DELETE, and a POST enables it again.

CAPABILITY_ENABLED = "enabled"


def capability_enabled(obj: StoredObject) -> bool:
    return obj.attributes.get(CAPABILITY_ENABLED) is not False


def _capability_id(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> str:
    # Apple's ids are `<bundleIdId>_<CAPABILITY_TYPE>` (seen live in 2026; older recordings
    # also carry a `_<PLATFORM>` suffix).
    bundle_id, capability_type = relationships.get("bundleId"), attributes.get("capabilityType")
    if isinstance(bundle_id, str) and isinstance(capability_type, str):
        return f"{bundle_id}_{capability_type}"
    return random_code(10)


def _capability_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    return {CAPABILITY_ENABLED: attributes.get(CAPABILITY_ENABLED) is not False}


def _capability_taken(ctx: Context, existing: StoredObject) -> ErrorItem:
    capability_type = existing.attributes.get("capabilityType")
    return entity_error(
        f"The capability '{capability_type}' is already enabled for the bundle ID "
        f"'{existing.relationships.get('bundleId')}'.",
        "/data/attributes/capabilityType",
    )


def capability_changed(ctx: Context, obj: StoredObject, old: StoredObject | None = None) -> None:
    """Enabling, reconfiguring or disabling a capability changes the App ID: Apple marks every
    profile of that bundle ID INVALID. Apple's Technical Q&A QA1878 ("Resolving the Provisioning
    Profile Invalid Status"): "Any time an App ID or certificate changes, all profiles that are
    associated to it are marked Invalid", e.g. when "a target capability was turned on or off".
    Out-of-band changes (the web UI, here the admin API) count the same."""
    bundle_id = obj.relationships.get("bundleId")
    invalidate_profiles(ctx, lambda profile: profile.relationships.get("bundleId") == bundle_id)


# How Apple answers capability settings: every option of a setting is listed with its name,
# description and flags, the ones not chosen with "enabled": false, whatever the request sent
# (the members are Apple's CapabilitySetting/CapabilityOption schemas; the human-readable names
# are the emulator's own, no recording shows Apple's wording).
SETTING_CATALOGUE: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "ICLOUD_VERSION": ("iCloud", "Choose the iCloud features your app can use", (
        ("XCODE_5", "Compatible with Xcode 5"),
        ("XCODE_6", "Include CloudKit support (requires Xcode 6)"),
    )),
    "DATA_PROTECTION_PERMISSION_LEVEL": ("Data Protection", "The protection level of the app's files", (
        ("COMPLETE_PROTECTION", "Complete Protection"),
        ("PROTECTED_UNLESS_OPEN", "Protected Unless Open"),
        ("PROTECTED_UNTIL_FIRST_USER_AUTH", "Protected Until First User Authentication"),
    )),
    "APPLE_ID_AUTH_APP_CONSENT": ("Sign In with Apple", "How the app takes part in Sign in with Apple", (
        ("PRIMARY_APP_CONSENT", "Enable as a primary App ID"),
    )),
}


def settings_as_apple_shows_them(settings: Any) -> Any:
    """Capability settings enriched the way Apple answers them (see SETTING_CATALOGUE)."""
    if not isinstance(settings, list):
        return settings
    shown: list[Any] = []
    for setting in settings:
        entry = SETTING_CATALOGUE.get(setting.get("key")) if isinstance(setting, dict) else None
        if entry is None:
            shown.append(setting)
            continue
        name, description, options = entry
        chosen = {
            option.get("key"): option.get("enabled", True) is not False
            for option in setting.get("options") or []
            if isinstance(option, dict)
        }
        shown.append({
            "key": setting["key"], "name": name, "description": description, "enabledByDefault": False,
            "visible": True, "allowedInstances": "SINGLE", "minInstances": 0,
            "options": [
                {"key": key, "name": label, "description": label, "enabledByDefault": False,
                 "enabled": chosen.get(key, False), "supportsWildcard": True}
                for key, label in options
            ],
        })
    return shown


def _capability_written(ctx: Context, obj: StoredObject, old: StoredObject | None) -> None:
    shown = settings_as_apple_shows_them(obj.attributes.get("settings"))
    if shown != obj.attributes.get("settings"):
        obj.attributes["settings"] = shown
        ctx.store.save(obj)
    capability_changed(ctx, obj, old)


def _capability_type_kept(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
    """Apple's UpdateRequest carries capabilityType, so a PATCH repeating it is fine; changing it
    would make the object another capability (its id is <bundle>_<TYPE>). Assumed refused, not
    observed: a client disables one capability and enables the other instead."""
    if operation == UPDATE and old is not None and new.attributes.get("capabilityType") != old.attributes.get("capabilityType"):
        return [attribute_invalid(
            "capabilityType",
            f"The capability type of '{old.id}' is '{old.attributes.get('capabilityType')}' and can not be changed; "
            "disable it and enable the other capability instead.",
        )]
    return []


CAPABILITY_RULES = TypeRules(
    # Apple's 4.4.1 schema gives BundleIdCapability no relationships, but the live API shows a
    # bundleId relationship with links only (codemagic's recorded bundle_id_capability.json).
    relations=(Relation("bundleId", "bundleIds", False, stored("bundleId")),),
    validate=_capability_type_kept,
    hidden_attributes=frozenset({CAPABILITY_ENABLED}),
    visible=capability_enabled,
    new_id=_capability_id,
    id_taken=_capability_taken,
    computed=_capability_computed,
    after_write=_capability_written,
    after_delete=capability_changed,
)

# --------------------------------------------------------------------------------------
# devices
# --------------------------------------------------------------------------------------

# What `model` says for a newly registered device of each class (Apple fills in the model it
# knows for the UDID; the emulator knows none, so it picks a plausible one).
DEVICE_MODELS: dict[str, str] = {
    "IPHONE": "iPhone 15",
    "IPAD": "iPad (10th generation)",
    "IPOD": "iPod touch (7th generation)",
    "APPLE_TV": "Apple TV 4K (3rd generation)",
    "APPLE_WATCH": "Apple Watch Series 9",
    "APPLE_VISION_PRO": "Apple Vision Pro",
    "MAC": "MacBook Pro (14-inch, M3, 2023)",
}


def casefold(stored_value: Any, wanted: str) -> bool:
    return isinstance(stored_value, str) and stored_value.casefold() == wanted.casefold()


def _device_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    # Apple files everything but Macs under IPHONE until it learns better; the admin API
    # may seed any class (an Apple TV is platform IOS, class APPLE_TV).
    device_class = attributes.get("deviceClass") or ("MAC" if attributes.get("platform") == "MAC_OS" else "IPHONE")
    return {
        "deviceClass": device_class,
        "model": attributes["model"] if "model" in attributes else DEVICE_MODELS.get(str(device_class)),
        "status": attributes.get("status") or "ENABLED",
        "addedDate": attributes.get("addedDate") or apple_timestamp(ctx.now()),
    }


_UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# UDID formats Apple registers: 40 hex digits (devices before 2018), 8 and 16 hex digits joined
# by a dash (iPhone XS and later, Apple silicon Macs), and an Intel Mac's provisioning UUID
# (8-4-4-4-12) -- the last for Macs only: Apple refused such a UDID registered as an iOS device
# (bitrise steps-ios-auto-provision#130, 2020) and a simulator's (simulator-action#276, 2022).
_UDID = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{8}-[0-9a-fA-F]{16}|" + _UUID_PATTERN)
_UUID = re.compile(_UUID_PATTERN)
DEVICE_NAME_LIMIT = 50


def _device_name(value: Any) -> ErrorItem | None:
    # Apple's words for a long name: "The Device Name <name> is too large. Device Name cannot
    # exceed 50 characters." (AtB-AS/mittatb-app#2881, 2022; fastlane PR #12059 saw the limit).
    if isinstance(value, str) and len(value) > DEVICE_NAME_LIMIT:
        return attribute_invalid(
            "name", f"The Device Name {value} is too large. Device Name cannot exceed {DEVICE_NAME_LIMIT} characters."
        )
    return not_blank("name")(value)


def _device_validate(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
    udid = new.attributes.get("udid")
    if operation == CREATE and isinstance(udid, str) and _UUID.fullmatch(udid) and new.attributes.get("platform") != "MAC_OS":
        return [invalid_value("udid")(udid)]
    return []


DEVICE_RULES = TypeRules(
    attribute_checks={"udid": matching("udid", _UDID), "name": _device_name, "status": present("status")},
    unique=("udid", casefold),
    validate=_device_validate,
    filter_matchers={"udid": casefold},
    # Apple answers filter[platform]=UNIVERSAL on devices with 400 "'UNIVERSAL' is not a valid
    # filter value. Expected one of: IOS, MAC_OS" (fastlane issues #29497, #29573; fastlane
    # PR #29500 stopped sending it), although the spec's parameter lists UNIVERSAL.
    filter_values={"platform": ("IOS", "MAC_OS")},
    computed=_device_computed,
    # Apple's 409 for a UDID registered already (enabled or disabled), as quoted in fastlane
    # issues #17426 and #20551; the pointer is the emulator's addition.
    duplicate_error=lambda wire, value: entity_error(
        f"A device with number '{value}' already exists on this team.", f"/data/attributes/{wire}"
    ),
)

# --------------------------------------------------------------------------------------
# certificates
# --------------------------------------------------------------------------------------

# Apple caps the valid certificates a team holds of each of these types.
DISTRIBUTION_CERTIFICATE_LIMIT = 3
LIMITED_CERTIFICATE_TYPES: frozenset[str] = frozenset({
    "IOS_DISTRIBUTION",
    "DISTRIBUTION",
    "MAC_APP_DISTRIBUTION",
    "MAC_INSTALLER_DISTRIBUTION",
    "DEVELOPER_ID_APPLICATION",
    "DEVELOPER_ID_APPLICATION_G2",
})


def certificate_valid(obj: StoredObject, now: datetime) -> bool:
    """Not expired (an unreadable expiry counts as valid)."""
    expiry = parse_timestamp(obj.attributes.get("expirationDate"))
    return expiry is None or expiry > now


def _csr_check(value: Any) -> ErrorItem | None:
    try:
        load_csr(value)
    except CsrError as exc:
        return attribute_invalid("csrContent", f"Invalid CSR content: {exc}")
    return None


def _certificate_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    kind = certificate_kind(attributes.get("certificateType"))
    values: dict[str, Any] = {
        "name": attributes.get("name") or f"{kind.label}: {TEAM_NAME}",
        "displayName": attributes.get("displayName") or TEAM_NAME,
        "platform": attributes["platform"] if "platform" in attributes else kind.platform,
        "activated": attributes["activated"] if "activated" in attributes else True,
    }
    if attributes.get("certificateContent"):  # seeded out of band with its content: keep it
        return {
            **values,
            "serialNumber": attributes.get("serialNumber") or f"{secrets.randbits(64):016X}",
            "expirationDate": attributes.get("expirationDate"),
            "certificateContent": attributes["certificateContent"],
        }
    if attributes.get("csrContent") is not None:
        try:
            public_key = load_csr(attributes["csrContent"]).public_key()
        except CsrError as exc:
            raise ApiError(attribute_invalid("csrContent", f"Invalid CSR content: {exc}")) from None
    else:  # the admin API seeding a certificate without a CSR
        public_key = throwaway_public_key()
    certificate = ctx.ca.issue(
        public_key,
        str(attributes.get("certificateType")),
        ctx.team_id,
        ctx.now(),
        expires=parse_timestamp(attributes.get("expirationDate")),
    )
    return {
        **values,
        "serialNumber": serial_hex(certificate),
        "expirationDate": attributes.get("expirationDate") or apple_timestamp(certificate.not_valid_after_utc),
        "certificateContent": der_base64(certificate),
    }


def _certificate_validate(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
    expiry = new.attributes.get("expirationDate")
    if expiry is not None and parse_timestamp(expiry) is None:
        return [attribute_invalid("expirationDate", f"'{expiry}' is not a date-time such as 2026-11-22T10:11:12.000+0000")]
    certificate_type = new.attributes.get("certificateType")
    if operation != CREATE or certificate_type not in LIMITED_CERTIFICATE_TYPES:
        return []
    now = ctx.now()
    current = [
        c
        for c in ctx.store.all_of("certificates")
        if c.id != new.id and c.attributes.get("certificateType") == certificate_type and certificate_valid(c, now)
    ]
    if len(current) < DISTRIBUTION_CERTIFICATE_LIMIT:
        return []
    # Apple's code, title and words for this limit: 409 ENTITY_ERROR "There is a problem with the
    # request entity", detail "You already have a current <label> certificate or a pending
    # certificate request." (fastlane issue #19349, 2021, quotes the whole document for Developer
    # ID Application; codemagic-docs PR #770, 2022, quotes title and detail for Distribution).
    label = certificate_kind(certificate_type).label
    return [entity_error(f"You already have a current {label} certificate or a pending certificate request.")]


def revoke_certificate(ctx: Context, obj: StoredObject) -> None:
    """After a certificate is revoked (DELETE), every profile that includes it is INVALID."""
    invalidate_profiles(ctx, lambda profile: obj.id in _ids(profile.relationships.get("certificates")))


CERTIFICATE_RULES = TypeRules(
    # Spec 4.4.1 no longer lists csrContent on Certificate, but every recorded public-API
    # certificate carries "csrContent": null (codemagic's certificate.json).
    extra_attributes=("csrContent",),
    attribute_checks={"csrContent": lambda value: None if value is None else _csr_check(value)},
    computed=_certificate_computed,
    validate=_certificate_validate,
    after_delete=revoke_certificate,
)

# --------------------------------------------------------------------------------------
# profiles
# --------------------------------------------------------------------------------------

_DEVELOPMENT_IOS = frozenset({"IOS_DEVELOPMENT", "DEVELOPMENT"})
_DEVELOPMENT_MAC = frozenset({"MAC_APP_DEVELOPMENT", "DEVELOPMENT"})
_DISTRIBUTION_IOS = frozenset({"IOS_DISTRIBUTION", "DISTRIBUTION"})
_DISTRIBUTION_MAC = frozenset({"MAC_APP_DISTRIBUTION", "DISTRIBUTION"})
_DEVELOPER_ID = frozenset({"DEVELOPER_ID_APPLICATION", "DEVELOPER_ID_APPLICATION_G2"})

# Which certificate types can sign each profile type (the portal offers only these).
PROFILE_CERTIFICATE_TYPES: dict[str, frozenset[str]] = {
    "IOS_APP_DEVELOPMENT": _DEVELOPMENT_IOS,
    "IOS_APP_ADHOC": _DISTRIBUTION_IOS,
    "IOS_APP_STORE": _DISTRIBUTION_IOS,
    "IOS_APP_INHOUSE": _DISTRIBUTION_IOS,
    "TVOS_APP_DEVELOPMENT": _DEVELOPMENT_IOS,
    "TVOS_APP_ADHOC": _DISTRIBUTION_IOS,
    "TVOS_APP_STORE": _DISTRIBUTION_IOS,
    "TVOS_APP_INHOUSE": _DISTRIBUTION_IOS,
    "MAC_APP_DEVELOPMENT": _DEVELOPMENT_MAC,
    "MAC_APP_STORE": _DISTRIBUTION_MAC,
    "MAC_APP_DIRECT": _DEVELOPER_ID,
    "MAC_CATALYST_APP_DEVELOPMENT": _DEVELOPMENT_IOS | _DEVELOPMENT_MAC,
    "MAC_CATALYST_APP_STORE": _DISTRIBUTION_MAC,
    "MAC_CATALYST_APP_DIRECT": _DEVELOPER_ID,
}
# Profile types that provision listed devices (at least one required); the others take none.
DEVICE_PROFILE_TYPES: frozenset[str] = frozenset(
    t for t in PROFILE_CERTIFICATE_TYPES if t.endswith(("_DEVELOPMENT", "_ADHOC"))
)
# Profile types that run on every device (enterprise, Developer ID).
ALL_DEVICES_PROFILE_TYPES: frozenset[str] = frozenset(
    t for t in PROFILE_CERTIFICATE_TYPES if t.endswith(("_INHOUSE", "_DIRECT"))
)


def _plist_platforms(profile_type: str) -> tuple[str, ...]:
    if profile_type.startswith("MAC_"):
        return ("OSX",)
    if profile_type.startswith("TVOS_"):
        return ("tvOS",)
    return ("iOS",)


def _der(certificate: StoredObject) -> bytes | None:
    try:
        return base64.b64decode(certificate.attributes.get("certificateContent") or "", validate=True) or None
    except (binascii.Error, ValueError):
        return None


def _profile_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    now = ctx.now()
    bundle_ids = _ids(relationships.get("bundleId"))
    bundle = ctx.store.get("bundleIds", bundle_ids[0]) if bundle_ids else None
    certificates = ctx.store.get_many("certificates", _ids(relationships.get("certificates")))
    by_id = {d.id: d for d in ctx.store.get_many("devices", _ids(relationships.get("devices")))}
    devices = [by_id[i] for i in _ids(relationships.get("devices")) if i in by_id]
    created = parse_timestamp(attributes.get("createdDate")) or now
    # One year, but never past the earliest certificate's expiry.
    expires = created + PROFILE_VALIDITY
    for certificate in certificates:
        certificate_expiry = parse_timestamp(certificate.attributes.get("expirationDate"))
        if certificate_expiry is not None and certificate_expiry < expires:
            expires = certificate_expiry
    profile_type = str(attributes.get("profileType") or "")
    profile_uuid = attributes.get("uuid") or str(uuid.uuid4())  # lowercase, like Apple's
    values: dict[str, Any] = {
        "platform": attributes["platform"] if "platform" in attributes else (bundle.attributes.get("platform") if bundle else None),
        "profileState": attributes.get("profileState") or "ACTIVE",
        "uuid": profile_uuid,
        "createdDate": attributes.get("createdDate") or apple_timestamp(created),
        "expirationDate": attributes.get("expirationDate") or apple_timestamp(expires),
    }
    if attributes.get("profileContent") is not None:
        values["profileContent"] = attributes["profileContent"]
        return values
    seed_id = str((bundle.attributes.get("seedId") if bundle else None) or ctx.team_id)
    payload = ProfilePayload(
        name=str(attributes.get("name") or ""),
        uuid=profile_uuid,
        app_id_name=str((bundle.attributes.get("name") if bundle else None) or ""),
        seed_id=seed_id,
        identifier=str((bundle.attributes.get("identifier") if bundle else None) or "*"),
        team_id=ctx.team_id,
        platforms=_plist_platforms(profile_type),
        created=created,
        expires=expires,
        certificates=tuple(der for der in map(_der, certificates) if der),
        devices=tuple(str(d.attributes.get("udid")) for d in devices) if profile_type in DEVICE_PROFILE_TYPES else None,
        provisions_all_devices=profile_type in ALL_DEVICES_PROFILE_TYPES,
        get_task_allow=profile_type.endswith("_DEVELOPMENT"),
        mac=profile_type.startswith("MAC_"),
        store=profile_type.endswith("_STORE"),
    )
    values["profileContent"] = profile_content(ctx.ca, payload)
    return values


def _profile_validate(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
    """What a POST /v1/profiles must satisfy beyond the linkages existing (checked generically)."""
    if operation != CREATE:
        return []
    profile_type = str(new.attributes.get("profileType"))
    errors: list[ErrorItem] = []
    now = ctx.now()
    allowed = PROFILE_CERTIFICATE_TYPES.get(profile_type, frozenset())
    for certificate in ctx.store.get_many("certificates", _ids(new.relationships.get("certificates"))):
        certificate_type = certificate.attributes.get("certificateType")
        if certificate_type not in allowed:
            errors.append(relationship_invalid(
                "certificates",
                f"The certificate '{certificate.id}' ({certificate_type}) can not be used for a '{profile_type}' "
                f"profile. Use one of: {', '.join(sorted(allowed))}.",
            ))
        elif not certificate_valid(certificate, now):
            errors.append(relationship_invalid("certificates", f"The certificate '{certificate.id}' has expired."))
    device_ids = _ids(new.relationships.get("devices"))
    if profile_type in DEVICE_PROFILE_TYPES:
        if not device_ids:
            errors.append(relationship_required("devices"))
        for device in ctx.store.get_many("devices", device_ids):
            if device.attributes.get("status") != "ENABLED":
                errors.append(relationship_invalid(
                    "devices", f"The device '{device.id}' is disabled and can not be included in a profile."
                ))
    elif device_ids:
        errors.append(devices_not_allowed(profile_type))
    return errors


def devices_not_allowed(profile_type: str) -> ErrorItem:
    """Apple's 409 for devices sent with a profile type that provisions none. Code and App
    Store wording as logged from the live API in codemagic cli-tools PR #26 (the answer has no
    source there; the pointer is the emulator's addition)."""
    if profile_type.endswith("_STORE"):
        detail = "No devices can be associated to Provisioning Profiles for the App Store."
    else:
        detail = f"No devices can be associated to Provisioning Profiles of type '{profile_type}'."
    return ErrorItem(
        409,
        "ENTITY_ERROR.RELATIONSHIP.NOT_ALLOWED",
        "A relationship in the provided entity is not allowed for this request",
        detail,
        {"pointer": "/data/relationships/devices"},
    )


PROFILE_RULES = TypeRules(
    linkage_in_resource=frozenset({"bundleId", "certificates", "devices"}),
    computed=_profile_computed,
    unique=("name", exact),
    # Names are unique per team. The portal's words for a second profile of the same name (quoted in fastlane issues
    # #13629 and #16455; two spaces included).
    duplicate_error=lambda wire, value: entity_error(
        f"Multiple profiles found with the name '{value}'.  Please remove the duplicate profiles and try again.",
        f"/data/attributes/{wire}",
    ),
    validate=_profile_validate,
)

# The signing types' rules; the TestFlight types' are in :mod:`.testflight` (the registry
# serves both: ``routes.ALL_RULES``).
RULES: dict[str, TypeRules] = {
    "bundleIds": BUNDLE_ID_RULES,
    "bundleIdCapabilities": CAPABILITY_RULES,
    "devices": DEVICE_RULES,
    "certificates": CERTIFICATE_RULES,
    "profiles": PROFILE_RULES,
}

# Types Apple's API cannot create (the admin API and `--seed` files load them; they appear as
# related objects, e.g. an app under GET /v1/bundleIds/{id}/app).
EXTRA_TYPES: frozenset[str] = frozenset({"apps", "builds", "preReleaseVersions"})


def combined(*families: Mapping[str, TypeRules]) -> dict[str, TypeRules]:
    """One TypeRules per type from several families' tables (signing, TestFlight, metadata),
    where two families have rules for one type (an app: TestFlight's beta objects and
    metadata's app info are both made with it). Lists and maps are joined, hooks run one after
    the other; a single-valued rule (ids, computed values, uniqueness, visibility) may come from
    one family only."""
    merged: dict[str, TypeRules] = {}
    for family in families:
        for rest_type, rules in family.items():
            merged[rest_type] = _join(merged[rest_type], rules, rest_type) if rest_type in merged else rules
    return merged


def _join(a: TypeRules, b: TypeRules, rest_type: str) -> TypeRules:
    single = ("unique", "visible", "new_id", "id_taken", "computed", "same_scope", "duplicate_error")
    for name in single:
        if getattr(b, name) != getattr(DEFAULT_RULES, name) and getattr(a, name) != getattr(DEFAULT_RULES, name):
            raise ValueError(f"two families set the {name} rule of {rest_type}")

    def first_set(name: str) -> Any:
        return getattr(b, name) if getattr(a, name) == getattr(DEFAULT_RULES, name) else getattr(a, name)

    def validate(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
        return [*a.validate(ctx, operation, new, old), *b.validate(ctx, operation, new, old)]

    def after_write(ctx: Context, obj: StoredObject, old: StoredObject | None) -> None:
        a.after_write(ctx, obj, old)
        b.after_write(ctx, obj, old)

    def after_delete(ctx: Context, obj: StoredObject) -> None:
        a.after_delete(ctx, obj)
        b.after_delete(ctx, obj)

    def advance(ctx: Context, obj: StoredObject) -> StoredObject:
        return b.advance(ctx, a.advance(ctx, obj))

    def presented(ctx: Context, obj: StoredObject, base_url: str) -> dict[str, Any]:
        return {**a.presented(ctx, obj, base_url), **b.presented(ctx, obj, base_url)}

    return TypeRules(
        relations=(*a.relations, *(r for r in b.relations if r.name not in {x.name for x in a.relations})),
        linkage_in_resource=a.linkage_in_resource | b.linkage_in_resource,
        extra_attributes=(*a.extra_attributes, *(w for w in b.extra_attributes if w not in a.extra_attributes)),
        hidden_attributes=a.hidden_attributes | b.hidden_attributes,
        attribute_checks={**a.attribute_checks, **b.attribute_checks},
        filter_matchers={**a.filter_matchers, **b.filter_matchers},
        filter_values={**a.filter_values, **b.filter_values},
        relationship_writes={**a.relationship_writes, **b.relationship_writes},
        **{name: first_set(name) for name in single},
        validate=validate,
        after_write=after_write,
        after_delete=after_delete,
        advance=advance,
        presented=presented,
    )


