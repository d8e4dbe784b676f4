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

from pydantic import TypeAdapter, ValidationError

from ..spec import WRITE_ONLY, FieldSpec, ResourceSpec, is_optional
from .rules import (
    CREATE,
    DEFAULT_RULES,
    DELETE,
    EXTRA_TYPES,
    LIST,
    READ,
    RULES,
    UPDATE,
    Context,
    Relation,
    TypeRules,
    exact,
    rules_for,
    stored,
)
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
    """A JSON:API type as the emulator serves it, derived from its spec and rules.

    Types without a spec (apps, profiles… until their specs exist) are "bare": they can be
    stored through the admin API and shown as related objects, attributes as stored.
    """

    rest_type: str
    path: str
    rules: TypeRules
    spec: ResourceSpec | None = None
    attributes: tuple[str, ...] = ()  # rendered attributes, in spec order (then the rules' extras)
    declared: frozenset[str] = frozenset()  # every attribute name the type knows
    hidden: frozenset[str] = frozenset()  # stored, shown by the admin API only
    write_only: frozenset[str] = frozenset()  # accepted on POST, handed to the rules, never stored
    create_attributes: frozenset[str] = frozenset()
    update_attributes: frozenset[str] = frozenset()
    required_attributes: tuple[str, ...] = ()
    fields_by_wire: dict[str, FieldSpec] = field(default_factory=dict)
    relations: dict[str, Relation] = field(default_factory=dict)
    create_relationships: frozenset[str] = frozenset()
    update_relationships: frozenset[str] = frozenset()
    required_relationships: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    sort_fields: tuple[str, ...] = ()
    natural_key: FieldSpec | None = None
    _adapters: dict[str, TypeAdapter[Any]] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: ResourceSpec, rules: TypeRules) -> ResourceType:
        attrs = [f for f in spec.fields if f.is_attribute]
        rels = [f for f in spec.fields if f.relationship is not None]
        relations: dict[str, Relation] = {}
        for f in rels:
            assert f.relationship is not None
            rel = f.relationship
            relations[rel.name] = Relation(rel.name, rel.related_type, rel.to_many, stored(rel.name))
        for relation in rules.relations:
            relations[relation.name] = relation
        create_extra = frozenset(rules.create_extra_attributes)
        update_extra = frozenset(rules.update_extra_attributes)
        attribute_filters = {f.wire for f in attrs} | {"id"}
        required = [f.wire for f in attrs if f.required and f.sent_on_create]
        required += [w for w in rules.required_on_create if w not in required]
        rendered = [f.wire for f in attrs if not f.has(WRITE_ONLY)]  # write-only: never read back
        rendered += [w for w in rules.extra_attributes if w not in rendered]
        return cls(
            rest_type=spec.rest_type,
            path=spec.path,
            rules=rules,
            spec=spec,
            attributes=tuple(rendered),
            declared=frozenset(f.wire for f in attrs) | frozenset(rendered) | create_extra | update_extra
            | rules.hidden_attributes,
            hidden=rules.hidden_attributes,
            write_only=frozenset(f.wire for f in attrs if f.has(WRITE_ONLY)),
            create_attributes=frozenset(f.wire for f in attrs if f.sent_on_create) | create_extra,
            update_attributes=frozenset(f.wire for f in attrs if f.sent_on_update) | update_extra,
            required_attributes=tuple(required),
            fields_by_wire={f.wire: f for f in spec.fields},
            relations=relations,
            create_relationships=frozenset(f.relationship.name for f in rels if f.sent_on_create and f.relationship),
            update_relationships=frozenset(f.relationship.name for f in rels if f.sent_on_update and f.relationship),
            required_relationships=tuple(
                f.relationship.name for f in rels if f.required and f.sent_on_create and f.relationship
            ),
            filters=tuple(spec.filters),
            sort_fields=rules.sort_fields or tuple(w for w in spec.filters if w in attribute_filters),
            natural_key=spec.natural_key,
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
        """True when the type has API routes (it has a spec)."""
        return self.spec is not None

    def has_endpoints(self, relation: str) -> bool:
        allowed = self.rules.relation_endpoints
        return relation in self.relations and (allowed is None or relation in allowed)

    def fieldset_names(self) -> frozenset[str] | None:
        """Names valid in ``fields[<type>]`` (None: not checked, for bare types)."""
        if not self.served:
            return None
        return frozenset(self.attributes) | frozenset(self.relations)

    def enum_values(self, wire: str) -> tuple[str, ...] | None:
        f = self.fields_by_wire.get(wire)
        return f.enum_values if f else None

    def adapter(self, wire: str) -> TypeAdapter[Any] | None:
        """A pydantic validator for the attribute's Python type (built once, on first use)."""
        if wire not in self._adapters:
            f = self.fields_by_wire.get(wire)
            if f is None or self.spec is None:
                return None
            self._adapters[wire] = TypeAdapter(self.spec.inputs.model_fields[f.name].annotation)
        return self._adapters[wire]

    def nullable(self, wire: str) -> bool:
        f = self.fields_by_wire.get(wire)
        if f is None or self.spec is None:
            return True
        return not f.required or is_optional(self.spec.inputs.model_fields[f.name].annotation)


class Registry:
    """Every type the emulator knows: served ones (from specs) and bare related ones."""

    def __init__(
        self,
        specs: Mapping[str, ResourceSpec],
        rules: Mapping[str, TypeRules] = RULES,
        extra_types: frozenset[str] = EXTRA_TYPES,
    ) -> None:
        lookup: Callable[[str], TypeRules] = lambda t: rules.get(t, DEFAULT_RULES)  # noqa: E731
        self.types: dict[str, ResourceType] = {t: ResourceType.from_spec(s, lookup(t)) for t, s in specs.items()}
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
            if len(rest) == 2 and rt.has_endpoints(rest[1]):
                return rt, RELATED, rest[0], rest[1]
            if len(rest) == 3 and rest[1] == "relationships" and rt.has_endpoints(rest[2]):
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

    # -- dispatch ---------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        rt, kind, object_id, relation = self.registry.match(req.path)
        operation = self._operation(rt, kind, req.method)
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
        return self._related(req, rt, object_id, rt.relations[relation], query, linkage=kind == LINKAGE)

    def _operation(self, rt: ResourceType, kind: str, method: str) -> str:
        """The operation a method means on this kind of path, or a 405 ApiError."""
        if kind in (RELATED, LINKAGE):
            if method == "GET":
                return READ
            raise ApiError(method_not_allowed(rt.rest_type, method, ["GET_RELATED"]), headers={"Allow": "GET"})
        by_method = _METHODS[kind]
        operation = by_method.get(method)
        if operation is None or operation not in rt.rules.operations:
            allowed = [m for m, op in by_method.items() if op in rt.rules.operations]
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
        related = self.registry.types[rt.relations[relation].related_type] if relation else None
        to_many = rt.relations[relation].to_many if relation else True
        is_get = method == "GET"
        # Which parameters this endpoint takes.
        fieldsets: set[str] = set()
        paged = False
        if is_get and kind in (COLLECTION, INSTANCE):
            fieldsets = {rt.rest_type} | {r.related_type for r in rt.relations.values()}
            paged = kind == COLLECTION
        elif is_get and kind == RELATED:
            assert related is not None
            fieldsets = {related.rest_type}
            paged = to_many
        elif is_get and kind == LINKAGE:
            paged = to_many
        includes = is_get and kind in (COLLECTION, INSTANCE)
        seen: set[str] = set()
        for name, value in req.query:
            if name in seen:
                raise ApiError(parameter_invalid(name, f"The parameter '{name}' can only be provided once"))
            seen.add(name)
            if name.startswith("filter[") and name.endswith("]") and is_get and kind == COLLECTION:
                wire = name[len("filter[") : -1]
                if wire not in rt.filters:
                    raise ApiError(parameter_invalid(name, f"'{wire}' is not a valid filter type"))
                values = _csv(name, value)
                allowed = rt.rules.filter_values.get(wire) or rt.enum_values(wire)
                for v in values:
                    if allowed is not None and v not in allowed:
                        # Apple's words (quoted in fastlane issue #29497).
                        detail = f"'{v}' is not a valid filter value. Expected one of: {', '.join(allowed)}"
                        raise ApiError(parameter_invalid(name, detail))
                query.filters[wire] = values
            elif name == "sort" and is_get and kind == COLLECTION:
                for v in _csv(name, value):
                    wire = v[1:] if v.startswith("-") else v
                    if wire not in rt.sort_fields:
                        expected = [p + s for s in rt.sort_fields for p in ("", "-")]
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
            elif name == "include" and includes:
                for v in _csv(name, value):
                    if v not in rt.relations:
                        detail = f"'{v}' is not a valid relationship. Expected one of: {_expected(list(rt.relations))}"
                        raise ApiError(parameter_invalid(name, detail))
                    query.include.append(v)
            elif name == "limit" and paged:
                query.limit = _integer(name, value, MAX_LIMIT)
            elif name.startswith("limit[") and name.endswith("]") and includes:
                rel = name[len("limit[") : -1]
                if rel not in rt.relations or not rt.relations[rel].to_many:
                    raise ApiError(parameter_illegal(name))
                query.include_limits[rel] = _integer(name, value, MAX_INCLUDE_LIMIT)
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
            member: dict[str, Any] = {}
            if relation is None or rt.has_endpoints(name):
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
            elif to_many:
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
        visible = related.rules.visible if related else rules_for(relation.related_type).visible
        return [o for o in self.store.get_many(relation.related_type, relation.resolve(self.ctx, obj)) if visible(o)]

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
        return obj

    def _list(self, req: Request, rt: ResourceType, query: Query) -> Response:
        visible = rt.rules.visible
        items = [o for o in self.store.all_of(rt.rest_type) if visible(o) and self._matches(rt, o, query.filters)]
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
        return Response(201, document)

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
        return Response(200, {"data": self.render(obj, req.base_url), "links": {"self": req.url}})

    def _delete(self, rt: ResourceType, object_id: str) -> Response:
        with self.store.transaction():
            self.remove(rt, self._load(rt, object_id, {"parameter": "id"}))
        return Response(204, None)

    def _related(
        self, req: Request, rt: ResourceType, object_id: str, relation: Relation, query: Query, *, linkage: bool
    ) -> Response:
        parent = self._load(rt, object_id, {"parameter": "id"})
        related = self._resolve(rt, relation, parent)

        def show(o: StoredObject) -> dict[str, Any]:
            return {"type": o.type, "id": o.id} if linkage else self.render(o, req.base_url, query.fields)

        if not relation.to_many:
            # A to-one relationship with nothing behind it answers {"data": null}.
            return Response(200, {"data": show(related[0]) if related else None, "links": {"self": req.url}})
        limit = query.limit or DEFAULT_LIMIT
        page, next_cursor = _CREATION_ORDER.page(related, limit, query.cursor)
        return Response(200, self._collection(req, [show(o) for o in page], len(related), limit, next_cursor))

    # -- request documents ------------------------------------------------------------

    def _data(self, req: Request, rt: ResourceType) -> dict[str, Any]:
        """The ``data`` object of a request body, with its type checked."""
        try:
            document = json.loads(req.body or b"")
        except ValueError as exc:
            raise ApiError(entity_unprocessable(f"The request entity is not valid JSON: {exc}")) from None
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
        allowed = rt.create_attributes if operation == CREATE else rt.update_attributes
        accepted: dict[str, Any] = {}
        for wire, value in given.items():
            if wire not in rt.declared:
                errors.append(attribute_unknown(wire, rt.rest_type))
            elif wire not in allowed:
                errors.append(attribute_not_allowed(wire, operation.upper()))
            elif operation == CREATE and wire in rt.required_attributes and value is None:
                continue  # reported as missing below
            else:
                problem = self._check_value(rt, wire, value)
                if problem is not None:
                    errors.append(problem)
                else:
                    accepted[wire] = value
        if operation == CREATE:
            errors.extend(attribute_required(w) for w in rt.required_attributes if given.get(w) is None)
        return accepted

    def _check_value(self, rt: ResourceType, wire: str, value: Any) -> ErrorItem | None:
        """Type, enum and the spec's own checks for one attribute value (or the rules' check
        for it, in Apple's words, instead)."""
        own = rt.rules.attribute_checks.get(wire)
        if own is not None:
            return own(value)
        if value is None:
            return None if rt.nullable(wire) else attribute_invalid(wire, f"The attribute '{wire}' can not be null")
        allowed = rt.enum_values(wire)
        if allowed is not None:
            if not isinstance(value, str) or value not in allowed:
                return attribute_type(
                    wire, f"'{value}' is not a valid value for the attribute '{wire}'. Expected one of: {_expected(allowed)}"
                )
            return None
        adapter = rt.adapter(wire)
        if adapter is not None:
            try:
                adapter.validate_json(json.dumps(value), strict=True)
            except ValidationError as exc:
                reason = exc.errors()[0].get("msg", "wrong type")
                return attribute_type(wire, f"'{value}' is not a valid value for the attribute '{wire}': {reason}")
        f = rt.fields_by_wire.get(wire)
        # The spec's checks are the rules Apple enforces too (identifier syntax, blank names).
        for check in f.checks if f else ():
            reason = check.validate(value)
            if reason:
                return attribute_invalid(wire, f"Invalid value for the attribute '{wire}': {reason}")
        return None

    def _relationships(
        self, rt: ResourceType, data: Mapping[str, Any], operation: str, errors: list[ErrorItem]
    ) -> dict[str, Any]:
        given: dict[str, Any] = data.get("relationships") or {}
        allowed = rt.create_relationships if operation == CREATE else rt.update_relationships
        accepted: dict[str, Any] = {}
        for name, member in given.items():
            relation = rt.relations.get(name)
            if relation is None:
                errors.append(relationship_unknown(name, rt.rest_type))
                continue
            if name not in allowed:
                errors.append(relationship_unknown(name, rt.rest_type, operation.upper()))
                continue
            linkage = member.get("data", ...) if isinstance(member, dict) else ...
            items = linkage if isinstance(linkage, list) else [linkage]
            shape_ok = linkage is not ... and (isinstance(linkage, list) == relation.to_many) and all(
                isinstance(i, dict) and isinstance(i.get("id"), str) for i in items
            )
            if linkage is None and not relation.to_many:
                accepted[name] = None
                continue
            if not shape_ok:
                kind = "an array of" if relation.to_many else "a single"
                errors.append(relationship_invalid(name, f"The relationship '{name}' must be {kind} {{type, id}} linkage"))
                continue
            bad = [i for i in items if i.get("type") != relation.related_type]
            missing = [i["id"] for i in items if self.store.get(relation.related_type, i["id"]) is None]
            if bad:
                errors.append(
                    relationship_invalid(name, f"The type '{bad[0].get('type')}' is not valid for the relationship '{name}'")
                )
            elif missing:
                errors.append(relationship_invalid(name, f"'{missing[0]}' is not a valid ID for this relationship."))
            else:
                ids = [i["id"] for i in items]
                accepted[name] = ids if relation.to_many else ids[0]
        if operation == CREATE:
            errors.extend(
                relationship_required(n)
                for n in rt.required_relationships
                if n not in given or (n in accepted and accepted[n] in (None, []))
            )
        return accepted

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
        obj = StoredObject(rt.rest_type, object_id, values, dict(relationships))
        self._check_rules(rt, operation, obj, None)
        inserted = self.store.insert(obj)
        rt.rules.after_write(self.ctx, inserted, None)
        return inserted

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
        obj = StoredObject(
            old.type, old.id, {**old.attributes, **attributes}, {**old.relationships, **relationships}, old.created
        )
        self._check_rules(rt, operation, obj, old)
        saved = self.store.save(obj)
        rt.rules.after_write(self.ctx, saved, old)
        return saved

    def _check_rules(self, rt: ResourceType, operation: str, obj: StoredObject, old: StoredObject | None) -> None:
        errors = list(self._uniqueness(rt, obj))
        errors.extend(rt.rules.validate(self.ctx, operation, obj, old))
        if errors:
            raise ApiError(*errors)

    def _uniqueness(self, rt: ResourceType, obj: StoredObject) -> list[ErrorItem]:
        """The spec's natural key stays unique (compared the spec's way: UDIDs ignore case)."""
        if rt.natural_key is None or rt.natural_key.natural_key is None:
            return []
        wire, matches = rt.natural_key.wire, rt.natural_key.natural_key.matches
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
