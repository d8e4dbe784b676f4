"""Apple's business rules, per JSON:API type, as small named hooks.

Everything a spec already says (attributes, which are writable when, required-ness, enum
values, filters, natural key) is turned into routes generically by :mod:`.routes`. What a
spec cannot say lives here, one :class:`TypeRules` per type:

- which operations exist (devices have no DELETE, profiles no PATCH);
- response-only relationships and how to resolve them (a bundle ID's ``profiles`` are the
  profiles pointing at it);
- computed attributes filled in on create (``bundleIds.seedId`` is the team id);
- filter semantics that are not equality (``filter[identifier]`` is a prefix match);
- how ids look, uniqueness messages, extra validation, and cascades on delete.

A type without an entry gets :data:`DEFAULT_RULES` (all operations, no extras).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .store import ErrorItem, Store, StoredObject, random_code

LIST = "list"
CREATE = "create"
READ = "read"
UPDATE = "update"
DELETE = "delete"
ALL_OPERATIONS: frozenset[str] = frozenset({LIST, CREATE, READ, UPDATE, DELETE})


@dataclass(frozen=True)
class Context:
    """What hooks may use: the store, the emulated team, and the clock."""

    store: Store
    team_id: str
    clock: Callable[[], float] = time.time


Resolver = Callable[[Context, StoredObject], list[str]]


@dataclass(frozen=True)
class Relation:
    """A relationship as the API shows it: ``resolve`` returns the related ids in order."""

    name: str
    related_type: str
    to_many: bool
    resolve: Resolver


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


def _default_new_id(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> str:
    return random_code(10)


def _no_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    return {}


def _no_checks(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
    return []


def _nothing(ctx: Context, obj: StoredObject) -> None:
    return None


def _same_scope(a: StoredObject, b: StoredObject) -> bool:
    return True


@dataclass(frozen=True)
class TypeRules:
    """Per-type hooks. Every field has a neutral default."""

    operations: frozenset[str] = ALL_OPERATIONS
    # Response-only relationships (in the order Apple's schema lists them).
    relations: tuple[Relation, ...] = ()
    # Relationship names that have GET …/{id}/<rel> and …/relationships/<rel> (None: all).
    relation_endpoints: frozenset[str] | None = None
    # Attributes Apple's CreateRequest accepts although the spec does not send them.
    create_extra_attributes: tuple[str, ...] = ()
    # filter[<wire>] semantics other than exact equality.
    filter_matchers: Mapping[str, Matcher] = field(default_factory=dict)
    # `sort` keys (without '-'); None: the spec's filters that are attributes, plus id.
    sort_fields: tuple[str, ...] | None = None
    new_id: Callable[[Context, Mapping[str, Any], Mapping[str, Any]], str] = _default_new_id
    # Values for computed attributes on create, given the request's (or the admin API's)
    # attributes; honour a given value where Apple accepts one (bundleIds.seedId).
    computed: Callable[[Context, Mapping[str, Any], Mapping[str, Any]], dict[str, Any]] = _no_computed
    # Natural-key uniqueness: which objects compete, and what Apple says on a clash.
    same_scope: Callable[[StoredObject, StoredObject], bool] = _same_scope
    duplicate_detail: Callable[[str, str], str] | None = None
    # Extra validation on create/update (return the errors; empty means fine).
    validate: Callable[[Context, str, StoredObject, StoredObject | None], list[ErrorItem]] = _no_checks
    # Side effects after a DELETE (inside the same transaction).
    after_delete: Callable[[Context, StoredObject], None] = _nothing


DEFAULT_RULES = TypeRules()

# --------------------------------------------------------------------------------------
# bundleIds
# --------------------------------------------------------------------------------------


def _bundle_id_computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
    # seedId is the team's App ID prefix. Apple's CreateRequest also accepts seedId (teams
    # with a legacy prefix); when absent it is the team id.
    return {"seedId": attributes.get("seedId") or ctx.team_id}


def _bundle_id_after_delete(ctx: Context, obj: StoredObject) -> None:
    # Capabilities belong to their bundle ID and disappear with it.
    for capability in ctx.store.all_of("bundleIdCapabilities"):
        if capability.relationships.get("bundleId") == obj.id:
            ctx.store.delete("bundleIdCapabilities", capability.id)


BUNDLE_ID_RULES = TypeRules(
    relations=(
        Relation("profiles", "profiles", True, inverse("profiles", "bundleId")),
        Relation("bundleIdCapabilities", "bundleIdCapabilities", True, inverse("bundleIdCapabilities", "bundleId")),
        Relation("app", "apps", False, matching_attribute("apps", "bundleId", "identifier")),
    ),
    create_extra_attributes=("seedId",),
    # Apple quirk: filter[identifier] is a prefix match ("com.x.app" also returns
    # "com.x.app.widget"); clients must re-check candidates exactly.
    filter_matchers={"identifier": prefix},
    computed=_bundle_id_computed,
    # Apple's wording (409 ENTITY_ERROR.ATTRIBUTE.INVALID) for an identifier already taken.
    duplicate_detail=lambda wire, value: (
        f"An App ID with Identifier '{value}' is not available. Please enter a different string."
    ),
    after_delete=_bundle_id_after_delete,
)

RULES: dict[str, TypeRules] = {
    "bundleIds": BUNDLE_ID_RULES,
}

# Types the emulator stores although no spec manages them yet (admin API can seed them;
# they appear as related objects, e.g. an app under GET /v1/bundleIds/{id}/app).
EXTRA_TYPES: frozenset[str] = frozenset({"apps", "profiles", "bundleIdCapabilities", "devices", "certificates"})


def rules_for(rest_type: str) -> TypeRules:
    return RULES.get(rest_type, DEFAULT_RULES)
