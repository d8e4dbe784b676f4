"""JSON:API routes for every resource spec, generated from the specs plus :mod:`.rules`.

For each spec in ``SPECS`` the emulator serves, under the spec's collection path:

=====================================  ======================  =====================
``GET    <path>``                      list (filters, sort,    operation ``list``
                                       fields, include, paging)
``POST   <path>``                      create → 201            ``create``
``GET    <path>/{id}``                 read (fields, include)  ``read``
``PATCH  <path>/{id}``                 update → 200            ``update``
``DELETE <path>/{id}``                 delete → 204            ``delete``
``GET    <path>/{id}/<rel>``           related object(s)       every relationship
``GET    <path>/{id}/relationships/<rel>``  linkage only
=====================================  ======================  =====================

There is one generic handler per kind of operation. Which attributes a request may carry,
which are required, enum values, filters and the natural key come from the spec; the
rest (operations that exist, response-only relationships, computed values, non-equality
filters, uniqueness wording) from the type's :class:`~.rules.TypeRules`.

Paging: ``limit`` defaults to :data:`DEFAULT_LIMIT` and may not exceed 200; ``links.next``
carries an opaque keyset ``cursor`` (the sort key of the last item served), so pages never
repeat or skip an object that exists throughout the walk, even if others are created or
deleted meanwhile. The order is the requested ``sort`` (ties broken by creation order), or
creation order.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlencode

from .rules import (
    ADMIN_UPDATE,
    CREATE,
    DEFAULT_RULES,
    DELETE,
    EXTRA_TYPES,
    LIST,
    READ,
    RULES,
    combined,
    UPDATE,
    Context,
    Relation,
    TypeRules,
    exact,
    stored,
)
from .media import MEDIA_RULES
from .metadata import METADATA_RULES
from .testflight import TESTFLIGHT_RULES
from .surface import Body, Link, TypeSurface, check_value, load_surfaces
from .store import (
    ApiError,
    ErrorItem,
    StoredObject,
    attribute_invalid,
    attribute_not_allowed,
    attribute_required,
    attribute_type,
    attribute_unknown,
    entity_unprocessable,
    id_invalid,
    id_not_allowed,
    method_not_allowed,
    not_found,
    parameter_illegal,
    parameter_invalid,
    path_not_found,
    relationship_invalid,
    relationship_required,
    relationship_unknown,
    type_invalid,
)

# Every type's rules: the signing types' (rules.py), TestFlight's (testflight.py), the App
# Store metadata types' (metadata.py) and screenshots and app previews (media.py), joined where
# two families have rules for one type.
ALL_RULES: dict[str, TypeRules] = combined(RULES, TESTFLIGHT_RULES, METADATA_RULES, MEDIA_RULES)


def rules_for(rest_type: str) -> TypeRules:
    return ALL_RULES.get(rest_type, DEFAULT_RULES)


# Apple documents no default page size; observed defaults vary by endpoint (10-50). We use
# 20 so that clients which forget `limit=200` still page (and tests notice).
DEFAULT_LIMIT = 20
MAX_LIMIT = 200  # every collection/related endpoint the provider uses
DEFAULT_INCLUDE_LIMIT = 10  # limit[<rel>] default for included to-many linkages
MAX_INCLUDE_LIMIT = 50
# Apple quirk: to-many relationships not included carry meta.paging {total: 0, limit: 2^31-1}.
UNBOUNDED_LIMIT = 2147483647

COLLECTION = "collection"
INSTANCE = "instance"
RELATED = "related"
LINKAGE = "linkage"

# Apple's operation names (used in 405 details).
_OPERATION_NAMES = {LIST: "GET_COLLECTION", CREATE: "CREATE", READ: "GET_INSTANCE", UPDATE: "UPDATE", DELETE: "DELETE"}
_METHODS = {
    COLLECTION: {"GET": LIST, "POST": CREATE},
    INSTANCE: {"GET": READ, "PATCH": UPDATE, "DELETE": DELETE},
}


@dataclass
class Request:
    """What a handler needs from an HTTP request (built by the WSGI app)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    raw_query: str
    base_url: str  # scheme://host[:port] as the client addressed us
    body: bytes = b""

    @property
    def url(self) -> str:
        url = self.base_url + quote(self.path)
        return f"{url}?{self.raw_query}" if self.raw_query else url


@dataclass
class Response:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# Resource types
# --------------------------------------------------------------------------------------


@dataclass
class ResourceType:
    """A JSON:API type as the emulator serves it: Apple's surface (from its OpenAPI excerpt,
    :mod:`.surface`) plus Apple's rules for it (:mod:`.rules`).

    Types without paths of their own (apps, pass type IDs…) are "bare": they can be stored
    through the admin API and shown as related objects, attributes as stored.
    """

    rest_type: str
    path: str
    rules: TypeRules
    surface: TypeSurface | None = None
    attributes: tuple[str, ...] = ()  # rendered attributes, in Apple's order (then the rules' extras)
    declared: frozenset[str] = frozenset()  # every attribute name the type knows
    hidden: frozenset[str] = frozenset()  # stored, shown by the admin API only
    write_only: frozenset[str] = frozenset()  # accepted in a request, handed to the rules, never stored
    operations: frozenset[str] = frozenset()
    relations: dict[str, Relation] = field(default_factory=dict)

    @classmethod
    def from_surface(cls, surface: TypeSurface, rules: TypeRules) -> ResourceType:
        relations = {
            name: Relation(name, link.related_type, link.to_many, stored(name))
            for name, link in surface.relationships.items()
        }
        for relation in rules.relations:  # resolvers for response-only relationships, Apple's extras
            relations[relation.name] = relation
        rendered = [*surface.attributes, *(w for w in rules.extra_attributes if w not in surface.attributes)]
        requested = {w for body in (surface.create, surface.update) if body for w in body.attributes}
        return cls(
            rest_type=surface.rest_type,
            path=surface.path,
            rules=rules,
            surface=surface,
            attributes=tuple(rendered),
            declared=frozenset(rendered) | frozenset(requested) | rules.hidden_attributes,
            hidden=rules.hidden_attributes,
            write_only=frozenset(requested - set(surface.attributes)),
            operations=frozenset(surface.operations),
            relations=relations,
        )

    @classmethod
    def bare(cls, rest_type: str, rules: TypeRules) -> ResourceType:
        return cls(
            rest_type=rest_type,
            path=f"/v1/{rest_type}",
            rules=rules,
            relations={r.name: r for r in rules.relations},
            hidden=rules.hidden_attributes,
        )

    @property
    def served(self) -> bool:
        """True when the type has API routes (Apple's spec gives it paths of its own)."""
        return self.surface is not None

    def body(self, operation: str) -> Body:
        """What a create or update document may carry."""
        assert self.surface is not None
        body = self.surface.create if operation == CREATE else self.surface.update
        return body or Body()

    def has_related(self, relation: str) -> bool:
        return self.surface is not None and relation in self.surface.related_endpoints and relation in self.relations

    def has_linkage(self, relation: str) -> bool:
        return self.surface is not None and relation in self.surface.linkage_endpoints and relation in self.relations

    def links_on(self, relation: str) -> bool:
        """Whether a rendered relationship carries ``links`` (as Apple's schema declares)."""
        link = self.surface.relationships.get(relation) if self.surface is not None else None
        return link is None or link.links

    def shapes_to_many(self, relation: str) -> bool:
        """Whether Apple's schema shapes the relationship as to-many (with ``meta``): an app's
        ``betaTesters`` is a to-many relation written with DELETE, yet its schema member holds
        links only."""
        link = self.surface.relationships.get(relation) if self.surface is not None else None
        return link is None or link.to_many

    def fieldset_names(self) -> frozenset[str] | None:
        """Names valid in ``fields[<type>]`` (None: not checked, for bare types)."""
        if not self.served:
            return None
        return frozenset(self.attributes) | frozenset(self.relations)

    def filter_values(self, wire: str) -> tuple[str, ...] | None:
        """The values ``filter[<wire>]`` accepts: Apple's rule where narrower than its spec."""
        assert self.surface is not None
        return self.rules.filter_values.get(wire) or self.surface.filters.get(wire)


class Registry:
    """Every type the emulator knows: served ones (from Apple's surfaces) and bare related ones."""

    def __init__(
        self,
        surfaces: Mapping[str, TypeSurface] | None = None,
        rules: Mapping[str, TypeRules] = ALL_RULES,
        extra_types: frozenset[str] = EXTRA_TYPES,
    ) -> None:
        surfaces = load_surfaces() if surfaces is None else surfaces
        lookup: Callable[[str], TypeRules] = lambda t: rules.get(t, DEFAULT_RULES)  # noqa: E731
        self.types: dict[str, ResourceType] = {t: ResourceType.from_surface(s, lookup(t)) for t, s in surfaces.items()}
        related = {r.related_type for rt in self.types.values() for r in rt.relations.values()}
        for name in sorted((set(extra_types) | related) - set(self.types)):
            self.types[name] = ResourceType.bare(name, lookup(name))
        # Longest path first so nested collection paths win.
        self._served = sorted(
            (rt for rt in self.types.values() if rt.served), key=lambda rt: -len(rt.path.strip("/").split("/"))
        )

    def get(self, rest_type: str) -> ResourceType | None:
        return self.types.get(rest_type)

    def match(self, path: str) -> tuple[ResourceType, str, str | None, str | None]:
        """(type, kind, id, relationship) for an API path, or a 404 ApiError."""
        segments = path.strip("/").split("/") if path.strip("/") else []
        if path.endswith("/") or any(s == "" for s in segments):
            raise ApiError(path_not_found())
        for rt in self._served:
            base = rt.path.strip("/").split("/")
            if segments[: len(base)] != base:
                continue
            rest = segments[len(base) :]
            if not rest:
                return rt, COLLECTION, None, None
            if len(rest) == 1:
                return rt, INSTANCE, rest[0], None
            if len(rest) == 2 and rt.has_related(rest[1]):
                return rt, RELATED, rest[0], rest[1]
            if len(rest) == 3 and rest[1] == "relationships" and (
                rt.has_linkage(rest[2]) or rest[2] in (rt.surface.relationship_writes if rt.surface else {})
            ):
                return rt, LINKAGE, rest[0], rest[2]
        raise ApiError(path_not_found())


# --------------------------------------------------------------------------------------
# Query parameters
# --------------------------------------------------------------------------------------


@dataclass
class Query:
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (wire, descending)
    sort_raw: str = ""
    fields: dict[str, frozenset[str]] = field(default_factory=dict)
    include: list[str] = field(default_factory=list)
    limit: int | None = None
    include_limits: dict[str, int] = field(default_factory=dict)
    cursor: str | None = None


def _as_ids(value: Any) -> list[str]:
    """Stored linkage as a list of ids (a to-one id, ids, or nothing)."""
    if value is None:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else [value] if isinstance(value, str) else []


def _csv(name: str, value: str) -> list[str]:
    values = value.split(",")
    if any(v == "" for v in values):
        raise ApiError(parameter_invalid(name, f"A value is required for the parameter '{name}'"))
    return values


def _integer(name: str, value: str, maximum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ApiError(parameter_invalid(name, f"'{value}' is not a valid integer for the parameter '{name}'")) from None
    if number < 1:
        raise ApiError(parameter_invalid(name, f"The parameter '{name}' must be at least 1"))
    if number > maximum:
        raise ApiError(
            parameter_invalid(name, f"The parameter '{name}' exceeds the maximum allowed value of {maximum}: {number}")
        )
    return number


def _expected(values: tuple[str, ...] | frozenset[str] | list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# --------------------------------------------------------------------------------------
# Ordering and cursors
# --------------------------------------------------------------------------------------


def _norm(value: Any) -> tuple[Any, ...]:
    """A total order over JSON values: null < booleans < numbers < strings < others."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    return (4, json.dumps(value, sort_keys=True))


class _Desc:
    """Reverses the order of a wrapped key component (for ``sort=-name``)."""

    __slots__ = ("v",)

    def __init__(self, v: tuple[Any, ...]) -> None:
        self.v = v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.v == other.v

    def __lt__(self, other: _Desc) -> bool:
        return other.v < self.v

    def __gt__(self, other: _Desc) -> bool:
        return other.v > self.v


def _value(obj: StoredObject, wire: str) -> Any:
    return obj.id if wire == "id" else obj.attributes.get(wire)


class _Order:
    """The sort order of a listing plus its keyset cursor encoding."""

    def __init__(self, sort: list[tuple[str, bool]], sort_raw: str) -> None:
        self.sort = sort
        self.sort_raw = sort_raw

    def raw(self, obj: StoredObject) -> list[Any]:
        return [_value(obj, wire) for wire, _ in self.sort] + [obj.created]

    def key(self, raw: list[Any]) -> tuple[Any, ...]:
        parts: list[Any] = []
        for (_, descending), value in zip(self.sort, raw):
            parts.append(_Desc(_norm(value)) if descending else _norm(value))
        parts.append(raw[-1])  # creation order breaks ties and keeps the order total
        return tuple(parts)

    def encode(self, obj: StoredObject) -> str:
        payload = json.dumps({"o": self.sort_raw, "k": self.raw(obj)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple[Any, ...]:
        try:
            payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            raw = payload["k"]
            valid = (
                payload.get("o") == self.sort_raw
                and isinstance(raw, list)
                and len(raw) == len(self.sort) + 1
                and isinstance(raw[-1], int)
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            valid = False
        if not valid:
            raise ApiError(parameter_invalid("cursor", f"'{cursor}' is not a valid cursor for this request"))
        return self.key(raw)

    def page(
        self, items: list[StoredObject], limit: int, cursor: str | None
    ) -> tuple[list[StoredObject], str | None]:
        keyed = sorted(((self.key(self.raw(o)), o) for o in items), key=lambda pair: pair[0])
        if cursor is not None:
            after = self.decode(cursor)
            keyed = [pair for pair in keyed if pair[0] > after]
        page = [o for _, o in keyed[:limit]]
        next_cursor = self.encode(page[-1]) if len(keyed) > limit else None
        return page, next_cursor


_CREATION_ORDER = _Order([], "")


class _Positions:
    """Paging through a relation whose order Apple keeps (:attr:`~.rules.Relation.ordered`):
    the cursor is the position after the last item served."""

    def page(self, items: list[StoredObject], limit: int, cursor: str | None) -> tuple[list[StoredObject], str | None]:
        start = 0
        if cursor is not None:
            try:
                start = int(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["p"])
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise ApiError(parameter_invalid("cursor", f"'{cursor}' is not a valid cursor for this request")) from None
        page = items[start : start + limit]
        more = start + limit < len(items)
        encoded = base64.urlsafe_b64encode(json.dumps({"p": start + limit}).encode()).decode().rstrip("=")
        return page, encoded if more else None


_POSITIONS = _Positions()
# Random ids are redrawn on a clash; this many clashes in a row means new_id is not random.
_MAX_ID_DRAWS = 100


# --------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------


class Api:
    """Generic handlers for every served type; :meth:`handle` dispatches one request."""

    def __init__(self, ctx: Context, registry: Registry) -> None:
        self.ctx = ctx
        self.registry = registry
        self.store = ctx.store
        # Opt-in listing lag (admin API): an object created less than this many seconds ago is
        # missing from collection and related listings, though a GET of its id finds it, as
        # Apple's listings trail its writes. Creation times are kept in memory only.
        self.listing_lag = 0.0
        self._created_at: dict[tuple[str, str], float] = {}

    def listed(self, obj: StoredObject) -> bool:
        """Whether listings show ``obj`` yet (see ``listing_lag``)."""
        if self.listing_lag <= 0:
            return True
        created = self._created_at.get((obj.type, obj.id))
        return created is None or self.ctx.clock() - created >= self.listing_lag

    # -- dispatch ---------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        rt, kind, object_id, relation = self.registry.match(req.path)
        operation = self._operation(rt, kind, req.method, relation)
        query = self._parse_query(req, rt, kind, relation, req.method)
        if kind == COLLECTION:
            return self._list(req, rt, query) if operation == LIST else self._create(req, rt)
        assert object_id is not None
        if kind == INSTANCE:
            if operation == READ:
                return self._read(req, rt, object_id, query)
            if operation == UPDATE:
                return self._update(req, rt, object_id)
            return self._delete(rt, object_id)
        assert relation is not None
        if operation != READ:
            return self._write_relationship(req, rt, object_id, relation)
        return self._related(req, rt, object_id, rt.relations[relation], query, linkage=kind == LINKAGE)

    def _operation(self, rt: ResourceType, kind: str, method: str, relation: str | None = None) -> str:
        """The operation a method means on this kind of path, or a 405 ApiError."""
        if kind == RELATED or (kind == LINKAGE and relation is not None):
            writes = (rt.surface.relationship_writes.get(relation or "", {}) if rt.surface else {}) if kind == LINKAGE else {}
            readable = rt.has_related(relation or "") if kind == RELATED else rt.has_linkage(relation or "")
            if method == "GET" and readable:
                return READ
            if method in writes:
                return method
            allowed = [*(["GET"] if readable else []), *writes]
            names = [*(["GET_RELATED"] if readable else []), *(f"{m}_RELATIONSHIP" for m in writes)]
            raise ApiError(method_not_allowed(rt.rest_type, method, names), headers={"Allow": ", ".join(allowed)})
        by_method = _METHODS[kind]
        operation = by_method.get(method)
        if operation is None or operation not in rt.operations:
            allowed = [m for m, op in by_method.items() if op in rt.operations]
            if not allowed:
                raise ApiError(path_not_found())
            names = [_OPERATION_NAMES[by_method[m]] for m in allowed]
            raise ApiError(method_not_allowed(rt.rest_type, method, names), headers={"Allow": ", ".join(allowed)})
        return operation

    # -- query parameters -------------------------------------------------------------

    def _parse_query(
        self, req: Request, rt: ResourceType, kind: str, relation: str | None, method: str
    ) -> Query:
        query = Query()
        link = rt.relations.get(relation) if relation else None
        related = self.registry.types[link.related_type] if link else None
        to_many = link.to_many if link else True
        is_get = method == "GET"
        surface = rt.surface
        assert surface is not None
        # Which parameters this endpoint takes (Apple's spec lists them per operation).
        fieldsets: set[str] = set()
        paged = False
        if is_get and kind in (COLLECTION, INSTANCE):
            fieldsets = set(surface.fieldsets)
            paged = kind == COLLECTION
        elif is_get and kind == RELATED:
            assert related is not None
            fieldsets = {related.rest_type}
            paged = to_many
        elif is_get and kind == LINKAGE:
            paged = to_many
        includes = is_get and kind in (COLLECTION, INSTANCE)
        include_names, include_limits = surface.includes, surface.include_limits
        include_on = rt  # the type whose relationships include= names
        if is_get and kind == RELATED and related is not None and relation in surface.related_includes:
            includes, include_on = True, related  # Apple's spec lists include= for this related listing
            include_names, include_limits = surface.related_includes[relation]
        seen: set[str] = set()
        for name, value in req.query:
            if name in seen:
                raise ApiError(parameter_invalid(name, f"The parameter '{name}' can only be provided once"))
            seen.add(name)
            if name.startswith("filter[") and name.endswith("]") and is_get and kind == COLLECTION:
                wire = name[len("filter[") : -1]
                if wire not in surface.filters:
                    raise ApiError(parameter_invalid(name, f"'{wire}' is not a valid filter type"))
                values = _csv(name, value)
                allowed = rt.filter_values(wire)
                for v in values:
                    if allowed is not None and v not in allowed:
                        # Apple's words (quoted in fastlane issue #29497).
                        detail = f"'{v}' is not a valid filter value. Expected one of: {', '.join(allowed)}"
                        raise ApiError(parameter_invalid(name, detail))
                query.filters[wire] = values
            elif name == "sort" and is_get and kind == COLLECTION:
                for v in _csv(name, value):
                    wire = v[1:] if v.startswith("-") else v
                    if wire not in surface.sort:
                        expected = [p + s for s in surface.sort for p in ("", "-")]
                        raise ApiError(
                            parameter_invalid(name, f"'{v}' is not a valid sort value. Expected one of: {_expected(expected)}")
                        )
                    query.sort.append((wire, v.startswith("-")))
                query.sort_raw = value
            elif name.startswith("fields[") and name.endswith("]") and name[len("fields[") : -1] in fieldsets:
                target = self.registry.types[name[len("fields[") : -1]]
                names = _csv(name, value)
                valid = target.fieldset_names()
                for v in names:
                    if valid is not None and v not in valid:
                        raise ApiError(parameter_invalid(name, f"'{v}' is not a valid field name for '{target.rest_type}'"))
                query.fields[target.rest_type] = frozenset(names)
            elif name == "include" and includes and include_names:
                for v in _csv(name, value):
                    if v not in include_names or v not in include_on.relations:
                        detail = f"'{v}' is not a valid relationship. Expected one of: {_expected(list(include_names))}"
                        raise ApiError(parameter_invalid(name, detail))
                    query.include.append(v)
            elif name == "limit" and paged:
                query.limit = _integer(name, value, (surface.max_limit if kind == COLLECTION else None) or MAX_LIMIT)
            elif name.startswith("limit[") and name.endswith("]") and includes:
                rel = name[len("limit[") : -1]
                if rel not in include_limits or rel not in include_on.relations or not include_on.relations[rel].to_many:
                    raise ApiError(parameter_illegal(name))
                query.include_limits[rel] = _integer(name, value, include_limits[rel])
            elif name == "cursor" and paged:
                query.cursor = value
            else:
                raise ApiError(parameter_illegal(name))
        return query

    # -- rendering --------------------------------------------------------------------

    def _self_url(self, base: str, rt: ResourceType, object_id: str) -> str:
        return f"{base}{rt.path}/{quote(object_id, safe='')}"

    def render(
        self,
        obj: StoredObject,
        base: str,
        fields: Mapping[str, frozenset[str]] | None = None,
        linkages: Mapping[str, tuple[list[str], int]] | None = None,
        *,
        admin: bool = False,
    ) -> dict[str, Any]:
        """An Apple-shaped resource object. ``linkages`` (name → (ids, limit)) adds ``data``
        to included relationships; the type's ``linkage_in_resource`` ones always carry it.
        ``admin`` adds the hidden attributes (the admin API's view)."""
        rt = self.registry.types.get(obj.type) or ResourceType.bare(obj.type, rules_for(obj.type))
        wanted = (fields or {}).get(obj.type)
        self_url = self._self_url(base, rt, obj.id)
        attributes: dict[str, Any] = {wire: obj.attributes.get(wire) for wire in rt.attributes}
        # Extra stored attributes (seeded out of band) are shown too: Apple adds fields over time.
        for wire, value in obj.attributes.items():
            if wire not in attributes and (wire not in rt.declared or (admin and wire in rt.hidden)):
                attributes[wire] = value
        attributes.update(rt.rules.presented(self.ctx, obj, base))
        if wanted is not None:
            attributes = {k: v for k, v in attributes.items() if k in wanted}
        names = list(rt.relations) if rt.served else list(dict.fromkeys([*rt.relations, *obj.relationships]))
        shown: dict[str, tuple[list[str], int | None]] = dict(linkages or {})
        for name in rt.rules.linkage_in_resource:
            if name not in shown and name in rt.relations and (wanted is None or name in wanted):
                # Apple quirk: always-present linkages carry paging {total: 0, limit: 2^31-1}.
                shown[name] = ([o.id for o in self._resolve(rt, rt.relations[name], obj)], None)
        relationships: dict[str, Any] = {}
        for name in names:
            if wanted is not None and name not in wanted:
                continue
            relation = rt.relations.get(name)
            to_many = relation.to_many if relation else isinstance(obj.relationships.get(name), list)
            # Apple sends links where its schema declares them, endpoints behind them or not, and
            # on relationships its live answers add (a capability's bundleId in codemagic's
            # recorded bundle_id_capability.json).
            member: dict[str, Any] = {}
            if rt.links_on(name):
                member["links"] = {"self": f"{self_url}/relationships/{name}", "related": f"{self_url}/{name}"}
            if name in shown:
                ids, limit = shown[name]
                related_type = relation.related_type if relation else name
                if to_many and limit is None:
                    member["data"] = [{"type": related_type, "id": i} for i in ids]
                    member["meta"] = {"paging": {"total": 0, "limit": UNBOUNDED_LIMIT}}
                elif to_many:
                    member["data"] = [{"type": related_type, "id": i} for i in ids[:limit]]
                    member["meta"] = {"paging": {"total": len(ids), "limit": limit}}
                else:
                    member["data"] = {"type": related_type, "id": ids[0]} if ids else None
            elif to_many and rt.shapes_to_many(name):
                member["meta"] = {"paging": {"total": 0, "limit": UNBOUNDED_LIMIT}}  # Apple quirk
            relationships[name] = member
        resource: dict[str, Any] = {"type": obj.type, "id": obj.id}
        if attributes or wanted is None:
            resource["attributes"] = attributes
        if relationships:
            resource["relationships"] = relationships
        resource["links"] = {"self": self_url}
        return resource

    def _resolve(self, rt: ResourceType, relation: Relation, obj: StoredObject) -> list[StoredObject]:
        """The related objects that exist and the API shows, in creation order."""
        related = self.registry.types.get(relation.related_type)
        rules = related.rules if related else rules_for(relation.related_type)
        ids = relation.resolve(self.ctx, obj)
        found = [rules.advance(self.ctx, o) for o in self.store.get_many(relation.related_type, ids)]
        if relation.ordered:  # Apple's order, not creation order
            position = {object_id: n for n, object_id in enumerate(ids)}
            found.sort(key=lambda o: position[o.id])
        return [o for o in found if rules.visible(o)]

    def _render_with_includes(
        self, rt: ResourceType, objects: list[StoredObject], base: str, query: Query
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Rendered objects plus the ``included`` array for ``include=``."""
        rendered: list[dict[str, Any]] = []
        included: dict[tuple[str, str], dict[str, Any]] = {}
        for obj in objects:
            linkages: dict[str, tuple[list[str], int]] = {}
            for name in query.include:
                relation = rt.relations[name]
                related = self._resolve(rt, relation, obj)
                limit = query.include_limits.get(name, DEFAULT_INCLUDE_LIMIT) if relation.to_many else 1
                linkages[name] = ([o.id for o in related], limit)
                for other in related[:limit]:
                    included.setdefault((other.type, other.id), self.render(other, base, query.fields))
            rendered.append(self.render(obj, base, query.fields, linkages if query.include else None))
        return rendered, list(included.values())

    # -- handlers ---------------------------------------------------------------------

    def _load(self, rt: ResourceType, object_id: str, source: dict[str, str]) -> StoredObject:
        obj = self.store.get(rt.rest_type, object_id)
        if obj is None or not rt.rules.visible(obj):
            raise ApiError(not_found(rt.rest_type, object_id, source))
        return rt.rules.advance(self.ctx, obj)

    def _list(self, req: Request, rt: ResourceType, query: Query) -> Response:
        visible = rt.rules.visible
        items = [
            o for o in map(lambda stored: rt.rules.advance(self.ctx, stored), self.store.all_of(rt.rest_type))
            if visible(o) and self.listed(o) and self._matches(rt, o, query.filters)
        ]
        limit = query.limit or DEFAULT_LIMIT
        page, next_cursor = _Order(query.sort, query.sort_raw).page(items, limit, query.cursor)
        data, included = self._render_with_includes(rt, page, req.base_url, query)
        return Response(200, self._collection(req, data, len(items), limit, next_cursor, included))

    def _collection(
        self,
        req: Request,
        data: list[dict[str, Any]],
        total: int,
        limit: int,
        next_cursor: str | None,
        included: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        links: dict[str, str] = {"self": req.url}
        if next_cursor is not None:
            # Apple puts the cursor first and keeps the caller's other parameters as they were.
            params = [("cursor", next_cursor), *[(k, v) for k, v in req.query if k != "cursor"]]
            links["next"] = f"{req.base_url}{quote(req.path)}?{urlencode(params)}"
        document: dict[str, Any] = {"data": data, "links": links}
        if included:
            document["included"] = included
        document["meta"] = {"paging": {"total": total, "limit": limit}}
        return document

    def _matches(self, rt: ResourceType, obj: StoredObject, filters: Mapping[str, list[str]]) -> bool:
        for wire, wanted in filters.items():
            related_name, _, related_attribute = wire.partition(".")
            if related_attribute and related_name in rt.relations:
                # filter[preReleaseVersion.version]: an attribute of a related object.
                related = self._resolve(rt, rt.relations[related_name], obj)
                if not any(exact(o.attributes.get(related_attribute), w) for o in related for w in wanted):
                    return False
                continue
            relation = rt.relations.get(wire)
            if relation is not None and wire not in rt.declared:
                ids = set(relation.resolve(self.ctx, obj))
                if not ids.intersection(wanted):
                    return False
                continue
            matcher = rt.rules.filter_matchers.get(wire, exact)
            value = _value(obj, wire)
            if not any(matcher(value, w) for w in wanted):  # comma-separated values are OR'ed
                return False
        return True

    def _read(self, req: Request, rt: ResourceType, object_id: str, query: Query) -> Response:
        obj = self._load(rt, object_id, {"parameter": "id"})
        data, included = self._render_with_includes(rt, [obj], req.base_url, query)
        document: dict[str, Any] = {"data": data[0], "links": {"self": req.url}}
        if included:
            document["included"] = included
        return Response(200, document)

    def _create(self, req: Request, rt: ResourceType) -> Response:
        data = self._data(req, rt)
        if data.get("id") is not None:
            raise ApiError(id_not_allowed("CREATE"))
        errors: list[ErrorItem] = []
        attributes = self._attributes(rt, data, CREATE, errors)
        relationships = self._relationships(rt, data, CREATE, errors)
        if errors:
            raise ApiError(*errors)
        with self.store.transaction():
            obj = self.insert(rt, None, attributes, relationships, operation=CREATE)
        document = {"data": self.render(obj, req.base_url), "links": {"self": self._self_url(req.base_url, rt, obj.id)}}
        return Response(self._status(rt, CREATE), document)

    def _update(self, req: Request, rt: ResourceType, object_id: str) -> Response:
        data = self._data(req, rt)
        body_id = data.get("id")
        if body_id is None:
            raise ApiError(id_invalid(f"You must provide the id '{object_id}' with this request"))
        if body_id != object_id:
            raise ApiError(id_invalid(f"The id '{body_id}' in the request body does not match the id '{object_id}' in the URL"))
        errors: list[ErrorItem] = []
        attributes = self._attributes(rt, data, UPDATE, errors)
        relationships = self._relationships(rt, data, UPDATE, errors)
        if errors:
            raise ApiError(*errors)
        with self.store.transaction():
            old = self._load(rt, object_id, {"pointer": "/data/id"})
            obj = self.change(rt, old, attributes, relationships, operation=UPDATE)
        return Response(self._status(rt, UPDATE), {"data": self.render(obj, req.base_url), "links": {"self": req.url}})

    def _delete(self, rt: ResourceType, object_id: str) -> Response:
        with self.store.transaction():
            self.remove(rt, self._load(rt, object_id, {"parameter": "id"}))
        return Response(self._status(rt, DELETE), None)

    @staticmethod
    def _status(rt: ResourceType, operation: str) -> int:
        """The success status Apple's spec declares for the operation (a DELETE may be 202)."""
        assert rt.surface is not None
        return rt.surface.operations[operation]

    def _write_relationship(self, req: Request, rt: ResourceType, object_id: str, relation: str) -> Response:
        """POST (add), DELETE (remove) or PATCH (replace) ``/{id}/relationships/<rel>``: Apple
        answers the status its spec declares (204, or 202 where it declares that) with no
        body. A membership kept on the other side changes those objects; a write the type's
        rules give a meaning of their own (removing a tester from apps) runs that."""
        assert rt.surface is not None
        link = rt.relations[relation]
        document = self._document(req)
        errors: list[ErrorItem] = []
        ids = self._linkage(relation, Link(relation, link.related_type, link.to_many), document, errors)
        if errors or ids is None:
            raise ApiError(*errors)
        with self.store.transaction():
            old = self._load(rt, object_id, {"parameter": "id"})
            current = list(link.resolve(self.ctx, old))
            if req.method == "POST":
                value: Any = current + [i for i in ids if i not in current]
            elif req.method == "DELETE":
                value = [i for i in current if i not in ids]
            else:
                value = ids if link.to_many else (ids[0] if ids else None)
            special = rt.rules.relationship_writes.get(relation)
            if special is not None:
                special(self.ctx, old, req.method, ids)
            else:
                self.change(rt, old, {}, {relation: value}, operation=UPDATE)
        return Response(rt.surface.relationship_writes[relation][req.method], None)

    def _set_inverse(self, rt: ResourceType, obj: StoredObject, relation: Relation, ids: Any, operation: str) -> None:
        """Make ``obj``'s ``relation`` (kept on the related objects, :attr:`Relation.stored_on`)
        hold exactly ``ids``: each related object gains or loses ``obj`` under its own rules."""
        assert relation.stored_on is not None
        wanted = _as_ids(ids)
        current = relation.resolve(self.ctx, obj)
        other_rt = self.registry.types[relation.related_type]
        follow_up = UPDATE if operation in (CREATE, UPDATE) else ADMIN_UPDATE
        for other_id in [i for i in wanted if i not in current] + [i for i in current if i not in wanted]:
            other = self.store.get(relation.related_type, other_id)
            if other is None:
                continue
            members = _as_ids(other.relationships.get(relation.stored_on))
            members = members + [obj.id] if other_id in wanted else [m for m in members if m != obj.id]
            self.change(other_rt, other, {}, {relation.stored_on: members}, operation=follow_up)

    def _related(
        self, req: Request, rt: ResourceType, object_id: str, relation: Relation, query: Query, *, linkage: bool
    ) -> Response:
        parent = self._load(rt, object_id, {"parameter": "id"})
        related = [o for o in self._resolve(rt, relation, parent) if self.listed(o)]

        def show(o: StoredObject) -> dict[str, Any]:
            return {"type": o.type, "id": o.id} if linkage else self.render(o, req.base_url, query.fields)

        if not relation.to_many:
            # A to-one relationship with nothing behind it answers {"data": null}.
            return Response(200, {"data": show(related[0]) if related else None, "links": {"self": req.url}})
        limit = query.limit or DEFAULT_LIMIT
        order: _Order | _Positions = _POSITIONS if relation.ordered else _CREATION_ORDER
        page, next_cursor = order.page(related, limit, query.cursor)
        if query.include and not linkage:
            data, included = self._render_with_includes(self.registry.types[relation.related_type], page, req.base_url, query)
            return Response(200, self._collection(req, data, len(related), limit, next_cursor, included))
        return Response(200, self._collection(req, [show(o) for o in page], len(related), limit, next_cursor))

    # -- request documents ------------------------------------------------------------

    @staticmethod
    def _document(req: Request) -> Any:
        try:
            return json.loads(req.body or b"")
        except ValueError as exc:
            raise ApiError(entity_unprocessable(f"The request entity is not valid JSON: {exc}")) from None

    def _data(self, req: Request, rt: ResourceType) -> dict[str, Any]:
        """The ``data`` object of a request body, with its type checked."""
        document = self._document(req)
        if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
            raise ApiError(entity_unprocessable("The request entity must be an object with a 'data' object", "/data"))
        data: dict[str, Any] = document["data"]
        if data.get("type") != rt.rest_type:
            raise ApiError(type_invalid(rt.rest_type, data.get("type")))
        for member in ("attributes", "relationships"):
            if member in data and not isinstance(data[member], dict):
                raise ApiError(entity_unprocessable(f"'{member}' must be an object", f"/data/{member}"))
        return data

    def _attributes(self, rt: ResourceType, data: Mapping[str, Any], operation: str, errors: list[ErrorItem]) -> dict[str, Any]:
        """Validated attributes of a create/update request (errors collected, not raised)."""
        given: dict[str, Any] = data.get("attributes") or {}
        body = rt.body(operation)
        accepted: dict[str, Any] = {}
        for wire, value in given.items():
            if wire not in rt.declared:
                errors.append(attribute_unknown(wire, rt.rest_type))
            elif wire not in body.attributes:
                errors.append(attribute_not_allowed(wire, operation.upper()))
            elif operation == CREATE and wire in body.required_attributes and value is None:
                continue  # reported as missing below
            else:
                problem = self._check_value(rt, body, wire, value)
                if problem is not None:
                    errors.append(problem)
                else:
                    # JSON:API: a null sets the attribute to null (Apple's UpdateRequests mark
                    # every attribute nullable); Apple's rules refuse it where a value is needed.
                    accepted[wire] = value
        if operation == CREATE:
            errors.extend(attribute_required(w) for w in body.required_attributes if given.get(w) is None)
        return accepted

    def _check_value(self, rt: ResourceType, body: Body, wire: str, value: Any) -> ErrorItem | None:
        """Apple's schema for the value (type, enum, shape), then Apple's rules for it."""
        attribute = body.attributes[wire]
        if value is None:
            if not attribute.nullable:
                return attribute_invalid(wire, f"The attribute '{wire}' can not be null")
        elif attribute.enum is not None:
            if not isinstance(value, str) or value not in attribute.enum:
                return attribute_type(
                    wire, f"'{value}' is not a valid value for the attribute '{wire}'. Expected one of: {_expected(attribute.enum)}"
                )
        else:
            reason = check_value(attribute.schema, value)
            if reason:
                return attribute_type(wire, f"'{value}' is not a valid value for the attribute '{wire}': {reason}")
        rule = rt.rules.attribute_checks.get(wire)
        return rule(value) if rule is not None else None

    def _relationships(
        self, rt: ResourceType, data: Mapping[str, Any], operation: str, errors: list[ErrorItem]
    ) -> dict[str, Any]:
        given: dict[str, Any] = data.get("relationships") or {}
        body = rt.body(operation)
        accepted: dict[str, Any] = {}
        for name, member in given.items():
            relation = body.relationships.get(name)
            if relation is None:
                known = name in rt.relations
                errors.append(relationship_unknown(name, rt.rest_type, operation.upper()) if known else relationship_unknown(name, rt.rest_type))
                continue
            ids = self._linkage(name, relation, member, errors)
            if ids is not None:
                accepted[name] = ids if relation.to_many else (ids[0] if ids else None)
        if operation == CREATE:
            errors.extend(
                relationship_required(n)
                for n in body.required_relationships
                if n not in given or (n in accepted and accepted[n] in (None, []))
            )
        return accepted

    def _linkage(self, name: str, relation: Link, member: Any, errors: list[ErrorItem]) -> list[str] | None:
        """The ids of a relationship member (``{"data": …}``) after checking its shape, types and
        that each object exists; None (and an error) when it is wrong."""
        linkage = member.get("data", ...) if isinstance(member, dict) else ...
        if linkage is None and not relation.to_many:
            return []
        items = linkage if isinstance(linkage, list) else [linkage]
        shape_ok = linkage is not ... and (isinstance(linkage, list) == relation.to_many) and all(
            isinstance(i, dict) and isinstance(i.get("id"), str) for i in items
        )
        if not shape_ok:
            kind = "an array of" if relation.to_many else "a single"
            errors.append(relationship_invalid(name, f"The relationship '{name}' must be {kind} {{type, id}} linkage"))
            return None
        bad = [i for i in items if i.get("type") != relation.related_type]
        if bad:
            errors.append(relationship_invalid(name, f"The type '{bad[0].get('type')}' is not valid for the relationship '{name}'"))
            return None
        missing = [i["id"] for i in items if self.store.get(relation.related_type, i["id"]) is None]
        if missing:
            errors.append(relationship_invalid(name, f"'{missing[0]}' is not a valid ID for this relationship."))
            return None
        return [i["id"] for i in items]

    # -- writes shared with the admin API -----------------------------------------------

    def insert(
        self,
        rt: ResourceType,
        object_id: str | None,
        attributes: Mapping[str, Any],
        relationships: Mapping[str, Any],
        *,
        operation: str,
    ) -> StoredObject:
        """Create an object: computed attributes, id, uniqueness, rules, side effects. Call in a
        transaction.

        Write-only attributes (a CSR) reach the ``computed`` hook and are not stored. When the
        rules make ids deterministic (capabilities), an id in use by a visible object is the
        rules' ``id_taken`` error and one held by an invisible object is replaced.
        """
        values = {wire: None for wire in rt.attributes}
        values.update(attributes)
        values.update(rt.rules.computed(self.ctx, attributes, relationships))
        for wire in rt.write_only:
            values.pop(wire, None)
        if object_id is None:
            object_id = rt.rules.new_id(self.ctx, values, relationships)
            taken = rt.rules.id_taken
            draws = 0
            while (existing := self.store.get(rt.rest_type, object_id)) is not None:
                if taken is None:
                    draws += 1
                    if draws > _MAX_ID_DRAWS:  # a deterministic new_id needs an id_taken rule
                        raise RuntimeError(f"no free id for a new '{rt.rest_type}' object after {draws} draws")
                    object_id = rt.rules.new_id(self.ctx, values, relationships)
                elif rt.rules.visible(existing):
                    raise ApiError(taken(self.ctx, existing))
                else:
                    self.store.delete(rt.rest_type, object_id)
        own, elsewhere = self._split_inverse(rt, relationships)
        obj = StoredObject(rt.rest_type, object_id, values, own)
        self._check_rules(rt, operation, obj, None)
        inserted = self.store.insert(obj)
        self._created_at[(inserted.type, inserted.id)] = self.ctx.clock()
        for name, ids in elsewhere.items():
            self._set_inverse(rt, inserted, rt.relations[name], ids, operation)
        rt.rules.after_write(self.ctx, inserted, None)
        return self.store.get(rt.rest_type, inserted.id) or inserted

    @staticmethod
    def _split_inverse(rt: ResourceType, relationships: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(linkage kept on the object, linkage kept on the related objects)."""
        own: dict[str, Any] = {}
        elsewhere: dict[str, Any] = {}
        for name, value in relationships.items():
            relation = rt.relations.get(name)
            (elsewhere if relation is not None and relation.stored_on else own)[name] = value
        return own, elsewhere

    def remove(self, rt: ResourceType, obj: StoredObject) -> None:
        """Delete an object and run the type's cascade (revocation…). Call in a transaction."""
        self.store.delete(rt.rest_type, obj.id)
        rt.rules.after_delete(self.ctx, obj)

    def change(
        self,
        rt: ResourceType,
        old: StoredObject,
        attributes: Mapping[str, Any],
        relationships: Mapping[str, Any],
        *,
        operation: str,
    ) -> StoredObject:
        """Apply changes to an object: uniqueness, rules, side effects. Call in a transaction."""
        own, elsewhere = self._split_inverse(rt, relationships)
        obj = StoredObject(old.type, old.id, {**old.attributes, **attributes}, {**old.relationships, **own}, old.created)
        self._check_rules(rt, operation, obj, old)
        saved = self.store.save(obj)
        for name, ids in elsewhere.items():
            self._set_inverse(rt, saved, rt.relations[name], ids, operation)
        rt.rules.after_write(self.ctx, saved, old)
        return self.store.get(rt.rest_type, saved.id) or saved

    def _check_rules(self, rt: ResourceType, operation: str, obj: StoredObject, old: StoredObject | None) -> None:
        errors = list(self._uniqueness(rt, obj))
        errors.extend(rt.rules.validate(self.ctx, operation, obj, old))
        if errors:
            raise ApiError(*errors)

    def _uniqueness(self, rt: ResourceType, obj: StoredObject) -> list[ErrorItem]:
        """The attribute Apple keeps unique stays unique (compared Apple's way: UDIDs ignore case)."""
        if rt.rules.unique is None:
            return []
        wire, matches = rt.rules.unique
        value = obj.attributes.get(wire)
        if not isinstance(value, str):
            return []
        for other in self.store.find_by_attribute(rt.rest_type, wire, value):
            theirs = other.attributes.get(wire)
            if (
                other.id != obj.id
                and isinstance(theirs, str)
                and matches(theirs, value)
                and rt.rules.same_scope(other, obj)
            ):
                duplicate = rt.rules.duplicate_error
                if duplicate is not None:
                    return [duplicate(wire, value)]
                return [attribute_invalid(wire, f"A {rt.rest_type} resource with {wire} '{value}' already exists.")]
        return []
