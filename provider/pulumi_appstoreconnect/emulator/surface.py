"""Apple's request surface, read from Apple's OpenAPI excerpt (``openapi/`` beside this file).

The emulator serves what Apple's spec declares, nothing from the provider: for each JSON:API
type with paths of its own, :func:`load_surfaces` reads

- the operations that exist (``GET``/``POST`` on the collection, ``GET``/``PATCH``/``DELETE`` on
  an instance), and the success status Apple declares for each (a DELETE may be 202);
- the attributes and relationships each ``POST``/``PATCH`` document may carry, which are
  required, and each attribute's schema (types, enums, nested shapes, nullability);
- the resource's attributes and relationships as responses show them (to-one or to-many, the
  related type), and which relationships have related (``/{id}/<rel>``), linkage
  (``/{id}/relationships/<rel>``) and relationship-write endpoints;
- the query surface of the collection: ``filter[...]`` (with enums), ``sort``, ``fields[...]``,
  ``include``, ``limit`` and its maximum.

:func:`check_value` validates a request value against an attribute's schema (the subset of JSON
Schema Apple's spec uses) and says what is wrong in Apple's terms. Apple's *rules* (uniqueness,
value formats, state rules) are not in the spec: they live in :mod:`.rules`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

EXCERPT = Path(__file__).resolve().parent / "openapi" / "appstoreconnect-openapi-4.4.1-excerpt.json"

LIST = "list"
CREATE = "create"
READ = "read"
UPDATE = "update"
DELETE = "delete"

_COLLECTION = re.compile(r"^/v1/(?P<type>[A-Za-z]+)$")
_INSTANCE = re.compile(r"^/v1/(?P<type>[A-Za-z]+)/\{id\}$")
_RELATED = re.compile(r"^/v1/(?P<type>[A-Za-z]+)/\{id\}/(?P<rel>[A-Za-z]+)$")
_LINKAGE = re.compile(r"^/v1/(?P<type>[A-Za-z]+)/\{id\}/relationships/(?P<rel>[A-Za-z]+)$")
_SUCCESS = ("200", "201", "202", "204")


@dataclass(frozen=True)
class Attribute:
    """One attribute as Apple's schema types it (references resolved)."""

    wire: str
    schema: Mapping[str, Any]

    @property
    def enum(self) -> tuple[str, ...] | None:
        values = self.schema.get("enum")
        return tuple(values) if isinstance(values, list) else None

    @property
    def nullable(self) -> bool:
        return bool(self.schema.get("nullable"))


@dataclass(frozen=True)
class Link:
    """A relationship: its name, the related type and whether it holds several objects."""

    name: str
    related_type: str
    to_many: bool
    links: bool = True  # the response's relationship object declares `links`


@dataclass(frozen=True)
class Body:
    """What the ``data`` of a POST or PATCH document may carry (Apple's *Request schema)."""

    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    required_attributes: tuple[str, ...] = ()
    relationships: Mapping[str, Link] = field(default_factory=dict)
    required_relationships: tuple[str, ...] = ()


@dataclass(frozen=True)
class TypeSurface:
    """Everything Apple's spec says about serving one type."""

    rest_type: str
    path: str
    operations: Mapping[str, int]  # operation -> success status
    attributes: Mapping[str, Attribute]  # as responses show them, in Apple's order
    relationships: Mapping[str, Link]  # as responses show them
    create: Body | None = None
    update: Body | None = None
    related_endpoints: frozenset[str] = frozenset()  # GET /{id}/<rel>
    linkage_endpoints: frozenset[str] = frozenset()  # GET /{id}/relationships/<rel>
    # POST/PATCH/DELETE /{id}/relationships/<rel>: method -> (success status, the body's link)
    relationship_writes: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    filters: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)  # wire -> enum
    sort: tuple[str, ...] = ()  # keys without '-'
    fieldsets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # fields[type] -> names
    includes: tuple[str, ...] = ()
    include_limits: Mapping[str, int] = field(default_factory=dict)  # limit[rel] -> maximum
    max_limit: int | None = None
    # GET /{id}/<rel>: the include= values (of the related type's relationships) and limit[...]
    # maxima Apple's spec lists for that endpoint, if any.
    related_includes: Mapping[str, tuple[tuple[str, ...], Mapping[str, int]]] = field(default_factory=dict)

    @property
    def success(self) -> Mapping[str, int]:
        return self.operations


class _Spec:
    """The OpenAPI document with local ``$ref`` resolution."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def resolve(self, node: Any) -> Any:
        """``node`` with a top-level ``$ref`` followed (repeatedly)."""
        seen = 0
        while isinstance(node, Mapping) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ValueError(f"only local references are supported, not {ref!r}")
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
            if seen > 50:
                raise ValueError(f"reference loop at {ref}")
        return node

    def deep(self, node: Any) -> Any:
        """``node`` with every reference below it resolved (the spec's schemas are acyclic
        where requests and attributes are concerned)."""
        node = self.resolve(node)
        if isinstance(node, Mapping):
            return {k: self.deep(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.deep(v) for v in node]
        return node

    def properties(self, schema: Any) -> Mapping[str, Any]:
        schema = self.resolve(schema) or {}
        props = schema.get("properties") if isinstance(schema, Mapping) else None
        return props if isinstance(props, Mapping) else {}

    def body_schema(self, operation: Mapping[str, Any]) -> Any:
        content = (self.resolve(operation.get("requestBody")) or {}).get("content") or {}
        return (content.get("application/json") or {}).get("schema")

    def response_schema(self, operation: Mapping[str, Any], status: str) -> Any:
        response = self.resolve((operation.get("responses") or {}).get(status)) or {}
        content = response.get("content") or {}
        return (content.get("application/json") or {}).get("schema")


def _success(operation: Mapping[str, Any]) -> int:
    codes = [c for c in _SUCCESS if c in (operation.get("responses") or {})]
    if not codes:
        raise ValueError(f"operation {operation.get('operationId')} declares no success status")
    return int(codes[0])


def _link(spec: _Spec, name: str, schema: Any) -> Link:
    data = spec.resolve(spec.properties(schema).get("data")) or {}
    to_many = data.get("type") == "array"
    item = spec.resolve(data.get("items")) if to_many else data
    enum = spec.resolve(spec.properties(item).get("type") or {}).get("enum") or [name]
    return Link(name, str(enum[0]), to_many, "links" in spec.properties(schema))


def _body(spec: _Spec, schema: Any) -> Body:
    data = spec.resolve(spec.properties(schema).get("data"))
    members = spec.properties(data)
    attributes_schema = spec.resolve(members.get("attributes")) or {}
    relationships_schema = spec.resolve(members.get("relationships")) or {}
    return Body(
        attributes={w: Attribute(w, spec.deep(s)) for w, s in spec.properties(attributes_schema).items()},
        required_attributes=tuple(attributes_schema.get("required") or ()),
        relationships={n: _link(spec, n, s) for n, s in spec.properties(relationships_schema).items()},
        required_relationships=tuple(relationships_schema.get("required") or ()),
    )


def _resource_schema(spec: _Spec, operations: Mapping[str, Mapping[str, Any]]) -> Any:
    """The resource schema (``BundleId``): from the instance GET, else the create's answer."""
    for name, status in (("instance_get", "200"), ("post", "201"), ("patch", "200")):
        operation = operations.get(name)
        if operation is not None:
            document = spec.response_schema(operation, status)
            data = spec.properties(document).get("data")
            if data is not None:
                return spec.resolve(data)
    return None


def _parameters(spec: _Spec, path_item: Mapping[str, Any], operation: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for parameter in [*(path_item.get("parameters") or []), *(operation.get("parameters") or [])]:
        yield spec.resolve(parameter)


def _enum_of(spec: _Spec, schema: Any) -> tuple[str, ...] | None:
    schema = spec.resolve(schema) or {}
    if schema.get("type") == "array":
        schema = spec.resolve(schema.get("items")) or {}
    values = schema.get("enum")
    return tuple(values) if isinstance(values, list) else None


def _query(spec: _Spec, path_item: Mapping[str, Any], operation: Mapping[str, Any]) -> dict[str, Any]:
    filters: dict[str, tuple[str, ...] | None] = {}
    fieldsets: dict[str, tuple[str, ...]] = {}
    include_limits: dict[str, int] = {}
    sort: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    max_limit: int | None = None
    for parameter in _parameters(spec, path_item, operation):
        if parameter.get("in") != "query":
            continue
        name = str(parameter.get("name"))
        schema = spec.resolve(parameter.get("schema")) or {}
        if name.startswith("filter[") and name.endswith("]"):
            filters[name[7:-1]] = _enum_of(spec, schema)
        elif name.startswith("fields[") and name.endswith("]"):
            fieldsets[name[7:-1]] = _enum_of(spec, schema) or ()
        elif name == "sort":
            sort = tuple(dict.fromkeys(v.lstrip("-") for v in _enum_of(spec, schema) or ()))
        elif name == "include":
            includes = _enum_of(spec, schema) or ()
        elif name == "limit":
            max_limit = schema.get("maximum")
        elif name.startswith("limit[") and name.endswith("]"):
            include_limits[name[6:-1]] = int(schema.get("maximum") or 50)
    return {
        "filters": filters, "fieldsets": fieldsets, "sort": sort, "includes": includes,
        "max_limit": max_limit, "include_limits": include_limits,
    }


def build_surfaces(document: Mapping[str, Any]) -> dict[str, TypeSurface]:
    """Every type with a path of its own in ``document``, as Apple's spec describes it."""
    spec = _Spec(document)
    by_type: dict[str, dict[str, Any]] = {}

    def entry(rest_type: str) -> dict[str, Any]:
        return by_type.setdefault(rest_type, {
            "operations": {}, "ops": {}, "related": set(), "linkage": set(), "writes": {}, "query": None,
            "instance_query": None, "related_includes": {},
        })

    for path, item in document.get("paths", {}).items():
        item = spec.resolve(item)
        if match := _COLLECTION.match(path):
            e = entry(match["type"])
            e["path"] = path
            if "get" in item:
                e["operations"][LIST] = _success(item["get"])
                e["query"] = _query(spec, item, item["get"])
            if "post" in item:
                e["operations"][CREATE] = _success(item["post"])
                e["ops"]["post"] = item["post"]
        elif match := _INSTANCE.match(path):
            e = entry(match["type"])
            e.setdefault("path", f"/v1/{match['type']}")
            for method, operation_name in (("get", READ), ("patch", UPDATE), ("delete", DELETE)):
                if method in item:
                    e["operations"][operation_name] = _success(item[method])
                    e["ops"]["instance_get" if method == "get" else method] = item[method]
            if "get" in item:
                e["instance_query"] = _query(spec, item, item["get"])
        elif match := _LINKAGE.match(path):
            e = entry(match["type"])
            if "get" in item:
                e["linkage"].add(match["rel"])
            writes = {m.upper(): _success(item[m]) for m in ("post", "patch", "delete") if m in item}
            if writes:
                e["writes"][match["rel"]] = writes
        elif match := _RELATED.match(path):
            if "get" in item:
                entry(match["type"])["related"].add(match["rel"])
                related_query = _query(spec, item, item["get"])
                if related_query["includes"]:
                    entry(match["type"])["related_includes"][match["rel"]] = (
                        related_query["includes"], related_query["include_limits"],
                    )

    surfaces: dict[str, TypeSurface] = {}
    for rest_type, e in sorted(by_type.items()):
        if not e["operations"]:
            continue  # only related endpoints: a related type, not served
        resource = _resource_schema(spec, e["ops"])
        members = spec.properties(resource)
        attributes_schema = spec.resolve(members.get("attributes")) or {}
        relationships_schema = spec.resolve(members.get("relationships")) or {}
        query = e["query"] or e["instance_query"] or _query(spec, {}, {})
        instance_query = e["instance_query"] or {}
        surfaces[rest_type] = TypeSurface(
            rest_type=rest_type,
            path=e.get("path", f"/v1/{rest_type}"),
            operations=dict(e["operations"]),
            attributes={w: Attribute(w, spec.deep(s)) for w, s in spec.properties(attributes_schema).items()},
            relationships={n: _link(spec, n, s) for n, s in spec.properties(relationships_schema).items()},
            create=_body(spec, spec.body_schema(e["ops"]["post"])) if "post" in e["ops"] else None,
            update=_body(spec, spec.body_schema(e["ops"]["patch"])) if "patch" in e["ops"] else None,
            related_endpoints=frozenset(e["related"]),
            linkage_endpoints=frozenset(e["linkage"]),
            relationship_writes={rel: dict(w) for rel, w in e["writes"].items()},
            filters=query["filters"],
            sort=query["sort"],
            fieldsets={**instance_query.get("fieldsets", {}), **query["fieldsets"]},
            includes=query["includes"] or instance_query.get("includes", ()),
            include_limits={**instance_query.get("include_limits", {}), **query["include_limits"]},
            max_limit=query["max_limit"],
            related_includes=dict(e["related_includes"]),
        )
    return surfaces


@lru_cache(maxsize=1)
def load_surfaces() -> dict[str, TypeSurface]:
    """The surfaces of Apple's excerpt shipped with the emulator (read once per process)."""
    return build_surfaces(json.loads(EXCERPT.read_text(encoding="utf-8")))


# -- values ------------------------------------------------------------------------------------


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "array": (list,),
    "object": (dict,),
}


def check_value(schema: Mapping[str, Any], value: Any, where: str = "") -> str | None:
    """Why ``value`` does not fit ``schema`` (a resolved schema from :class:`Attribute`), or
    None. ``where`` names the position inside the attribute (``[0].options``)."""
    if value is None:
        return None if schema.get("nullable") else f"{where or 'the value'} can not be null"
    expected = schema.get("type")
    if isinstance(expected, str):
        kinds = _JSON_TYPES.get(expected, ())
        wrong_bool = isinstance(value, bool) and expected in ("integer", "number")
        if kinds and (not isinstance(value, kinds) or wrong_bool):
            return f"{where or 'the value'} must be {'an' if expected[0] in 'aeiou' else 'a'} {expected}"
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return f"'{value}' is not one of {', '.join(map(str, enum))}"
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            problem = check_value(schema["items"], item, f"{where}[{index}]")
            if problem:
                return problem
    if isinstance(value, dict) and isinstance(schema.get("properties"), Mapping):
        properties = schema["properties"]
        for name, item in value.items():
            if name not in properties:
                return f"{where + '.' if where else ''}{name} is not a known member"
            problem = check_value(properties[name], item, f"{where + '.' if where else ''}{name}")
            if problem:
                return problem
        for name in schema.get("required") or ():
            if name not in value:
                return f"{where + '.' if where else ''}{name} is required"
    return None
