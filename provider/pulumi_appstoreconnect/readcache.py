"""The provider process's read cache: reads served from shared listings (issue 14).

Apple allows 3,600 requests per key and rolling hour. Reading 1,000 objects one GET at a time
spends more than a quarter of it, so the provider reads each type once, as a listing (pages of
200), and serves every other read and natural-key look-up of that type from it:

- a **type listing** (``GET /v1/devices``) for every spec whose collection Apple lists (the spec
  declares ``filters``), with the ``include=`` of ``ResourceSpec.includes`` (a bundle ID's
  capabilities, a group's testers): included children fill the child listings per parent, and
  included linkages answer membership reads (``GET …/relationships/<name>``) while complete;
- a **child listing per parent** for every ``read_via`` and :class:`~.spec.Parent` listing
  (``/v1/apps/{id}/appInfos``, with ``include=`` of the linkages its reads need: an app info's
  categories, a version's build), for every asset field (a screenshot set's screenshots), and
  the parent's to-one endpoint for ``Parent(to_one=True)``. A child listing its parent type's
  listing includes (an App ID's capabilities) is taken from that listing.

Everything is driven by the specs, so a new type is covered without code here. Reads go through
:class:`CachedClient`, a view of the :class:`~.client.AppStoreConnectClient` that the provider's
``client`` property returns; hooks reading through ``provider.client`` are covered too.

Correctness rules (a real account is behind every read):

- **Writes by this process** (every non-GET through the view) update what they touch in place
  (a POST adds Apple's answer to its type's listing and to its parent's, a PATCH replaces the
  object, a DELETE removes it, a relationship write forgets the object's linkage) and drop the
  listings of the types a write can change at Apple (those related to the written type through a
  relationship, which cascades: a revoked certificate turns profiles INVALID). A write that
  fails drops its own type's listings too (a 409 means the listing missed an object). A write
  that lands while a listing is being read is applied to it before it is stored, so no read
  after a write of this process is ever stale.
- **A miss is not an answer**: an id a listing does not hold is read with its own GET (Apple's
  listings trail its writes by a moment), so an object deleted out of band is still seen as
  gone, and one the listing has not caught up with is still found.
- **Expiry**: a listing is used for ``PULUMI_APPSTORECONNECT_READ_CACHE_TTL`` seconds (default
  300) after it was read; changes made out of band during an operation show within that bound.
  (One provider process serves one Pulumi operation.)
- **Off switch**: ``PULUMI_APPSTORECONNECT_READ_CACHE=off`` sends every read as before.

Thread-safe: one lock guards the bookkeeping and is never held during a request; concurrent
first reads of one listing wait for the one request that reads it. The provider log
(``PULUMI_APPSTORECONNECT_LOG_FILE``) says when a read was served, a listing read, or dropped.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping
from urllib.parse import parse_qsl, quote

from .client.errors import AppStoreConnectError
from .client.paging import iter_pages

if TYPE_CHECKING:
    from .client import AppStoreConnectClient
    from .spec import ResourceSpec

__all__ = [
    "CACHE_ENV", "TTL_ENV", "DEFAULT_TTL", "CachedClient", "ReadCache", "READS", "cache_enabled", "forget_listing", "forget_type",
    "look_up", "served",
]

CACHE_ENV = "PULUMI_APPSTORECONNECT_READ_CACHE"
TTL_ENV = "PULUMI_APPSTORECONNECT_READ_CACHE_TTL"
DEFAULT_TTL = 300.0
_OFF = ("off", "0", "false", "no", "disabled")

log = logging.getLogger("pulumi_appstoreconnect.readcache")


def cache_enabled() -> bool:
    """Whether reads are served from listings (the environment is read each time, so a test
    can switch it)."""
    return os.environ.get(CACHE_ENV, "").strip().lower() not in _OFF


def _ttl() -> float:
    try:
        return max(0.0, float(os.environ.get(TTL_ENV, DEFAULT_TTL)))
    except ValueError:
        return DEFAULT_TTL


# -- what the specs declare -------------------------------------------------------------


@dataclass(frozen=True)
class _TypeListing:
    rest_type: str
    path: str
    params: Mapping[str, str]  # include= and limit[...]= the listing is read with
    limits: Mapping[str, int]  # relationship -> most linkage items Apple includes
    keys: Mapping[str, Callable[[str, str], bool]]  # natural-key wire name -> how it compares
    # Filters Apple applies as an exact match, a comma meaning "any of" (enum attributes such as a
    # device's platform and status): served from the listing to any caller (selectors).
    exact: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _ChildTemplate:
    """A listing of one parent's children: ``/v1/apps/{id}/appInfos``, or a filtered
    collection ``/v1/betaAppReviewDetails?filter[app]={id}``, or a to-one endpoint."""

    item_type: str
    parent_type: str | None
    pattern: re.Pattern[str]
    query_key: str | None  # the filter holding the parent id, for the filtered form
    params: Mapping[str, str]  # include= it is read with (linkages a read needs)
    to_one: bool


@dataclass
class _Catalogue:
    types: dict[str, _TypeListing] = field(default_factory=dict)
    children: list[_ChildTemplate] = field(default_factory=list)
    # type -> types related to it (either way) through a relationship or parent; through a membership
    strong: dict[str, set[str]] = field(default_factory=dict)
    weak: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, specs: Iterable[ResourceSpec]) -> _Catalogue:
        cat = cls()
        targets: dict[str, set[str]] = {}  # type -> related types through relationships/parents
        members: dict[str, set[str]] = {}  # type -> related types through memberships
        for spec in specs:
            linked = [f.relationship.name for f in spec.linked_in_place if f.relationship is not None]
            by_parent = spec.parent is not None and spec.parent.parent is not None and (
                spec.parent.parent.listing.partition("?")[0] == spec.path  # listed per parent (Apple requires the filter)
            )
            # A type scoped by a parent (localizations of a build) is listed per parent, which is
            # what a stack holds, not the account's every one; unless the collection includes what
            # its reads need (a group's testers).
            if spec.filters and not by_parent and (spec.parent is None or spec.includes):
                includes = dict(spec.includes)
                names = list(dict.fromkeys([*includes, *linked]))
                params = {"include": ",".join(names)} if names else {}
                params.update({f"limit[{name}]": str(limit) for name, limit in includes.items()})
                keys = {f.wire: f.natural_key.matches for f in spec.natural_keys if f.natural_key is not None}
                exact = frozenset(f.wire for f in spec.fields if f.enum_values and f.wire in spec.filters)
                cat.types.setdefault(spec.rest_type, _TypeListing(spec.rest_type, spec.path, params, includes, keys, exact))
            if spec.read_via:
                cat.children.append(_template(spec.rest_type, spec.read_via, {}, to_one=False))
            parent = spec.parent
            if parent is not None and parent.parent is not None:
                related = parent.relationship.related_type if parent.relationship else None
                # Read with the linkages a read needs (an app info's categories, a version's build).
                params = {"include": ",".join(linked)} if linked and not parent.parent.to_one else {}
                cat.children.append(_template(spec.rest_type, parent.parent.listing, params, parent.parent.to_one, related))
            for f in spec.asset_fields:  # a set's screenshots: listed per set, written by the asset flow
                assert f.assets is not None
                listing = f"/v1/{spec.rest_type}/{{id}}/{f.assets.relationship}"
                cat.children.append(_template(f.assets.child_type, listing, {}, False, spec.rest_type))
                targets.setdefault(f.assets.child_type, set()).add(spec.rest_type)
            for f in spec.fields:
                if f.relationship is not None:
                    targets.setdefault(spec.rest_type, set()).add(f.relationship.related_type)
                if f.membership is not None:
                    members.setdefault(spec.rest_type, set()).add(f.membership.related_type)
            for t in cat.children:
                if t.item_type == spec.rest_type and t.parent_type:
                    targets.setdefault(spec.rest_type, set()).add(t.parent_type)
        types = set(targets) | set(members) | {u for s in targets.values() for u in s} | {u for s in members.values() for u in s}
        for t in types:
            strong = {s for s in types if t in targets.get(s, ())}  # they point at t: cascades
            strong |= {s for s in types if targets.get(s, set()) & targets.get(t, set())}  # siblings
            weak = set(targets.get(t, ())) | set(members.get(t, ()))  # t points at them: linkages
            weak |= {s for s in types if t in members.get(s, ())}
            cat.strong[t] = strong - {t}
            cat.weak[t] = weak - {t} - strong
        return cat

    def child(self, path: str, params: Mapping[str, Any]) -> tuple[_ChildTemplate, str] | None:
        """The template a listing request matches, and the parent id; None if none does."""
        for t in self.children:
            m = t.pattern.fullmatch(path)
            if m is None:
                continue
            if t.query_key is None and not _only_reading(params, t.params):
                continue
            if t.query_key is not None:
                rest = {k: v for k, v in params.items() if k != t.query_key}
                if t.query_key not in params or not _only_reading(rest, t.params):
                    continue
                return t, str(params[t.query_key])
            return t, m.group("parent")
        return None


def _template(item_type: str, listing: str, params: dict[str, str], to_one: bool, parent_type: str | None = None) -> _ChildTemplate:
    path, _, query = listing.partition("?")
    query_key = None
    for key, value in parse_qsl(query):
        if "{" in value:
            query_key = key
    pattern = re.escape(path)
    pattern = re.sub(r"\\\{[a-z_]+\\\}", "(?P<parent>[^/]+)", pattern)
    if parent_type is None:
        segments = path.split("/")
        parent_type = segments[2] if len(segments) > 3 else None
    return _ChildTemplate(item_type, parent_type, re.compile(pattern), query_key, params, to_one)


def _only_reading(params: Mapping[str, Any], served: Mapping[str, str]) -> bool:
    """The request asks for no more than the listing holds: its includes are among the
    listing's and it has no other parameter (a ``limit`` is paging)."""
    allowed = set(str(served.get("include", "")).split(",")) - {""}
    for name, value in params.items():
        if name == "limit":
            continue
        if name == "include":
            if not set(str(value).split(",")) <= allowed:
                return False
        elif name.startswith("limit["):
            if name[6:-1] not in allowed:
                return False
        else:
            return False
    return True


# -- entries ----------------------------------------------------------------------------


@dataclass
class _Entry:
    """One listing: loaded, or being read (``done`` is set when the read ends)."""

    kind: str  # "type", "child" or "one"
    item_type: str
    parent_id: str | None
    includes: tuple[str, ...]  # read with include= of these: its objects carry their linkages
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    loaded_at: float = 0.0
    done: threading.Event | None = None
    pending: list[Callable[[_Entry], None]] = field(default_factory=list)
    dropped: bool = False  # a write made it stale: no longer served to new readers
    ok: bool = False  # read successfully

    @property
    def linkages(self) -> bool:
        """Its objects carry linkages, which other writes change."""
        return bool(self.includes)


def _lacks_linkage(item: Mapping[str, Any], names: Iterable[str]) -> bool:
    """An object without a linkage its reader needs (``names``): one this process wrote (Apple's
    answer to a POST or PATCH carries none) or whose linkage a write made stale. Served as it
    is, it would say it is linked to nothing, so the reader asks Apple instead."""
    relationships = item.get("relationships") or {}
    return any("data" not in (relationships.get(name) or {}) for name in names)


def _includes(params: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(name for name in str(params.get("include", "")).split(",") if name)


_Key = tuple[str, ...]


class ReadCache:
    """The process-wide cache: one set of listings per client (per API key)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: weakref.WeakKeyDictionary[Any, CachedClient] = weakref.WeakKeyDictionary()
        self._catalogue: _Catalogue | None = None
        self._catalogued: tuple[int, ...] = ()

    def view(self, client: AppStoreConnectClient) -> CachedClient:
        with self._lock:
            view = self._views.get(client)
            if view is None:
                view = self._views[client] = CachedClient(client, self)
            return view

    @property
    def catalogue(self) -> _Catalogue:
        from .resources import SPECS  # the resources import the reconciler; resolve lazily

        specs = tuple(SPECS.values())
        if self._catalogue is None or self._catalogued != tuple(map(id, specs)):
            self._catalogue, self._catalogued = _Catalogue.of(specs), tuple(map(id, specs))
        return self._catalogue

    def forget(self) -> None:
        """Drop every listing (tests run many operations in one process)."""
        with self._lock:
            views = list(self._views.values())
        for view in views:
            view.forget()


READS = ReadCache()


class CachedClient:
    """The client as the provider sees it: reads served from listings, writes observed.

    Anything not cached here (``get``, ``send``, ``pause``, ``stats`` …) is the client's own.
    """

    def __init__(self, client: AppStoreConnectClient, cache: ReadCache) -> None:
        self._client = client
        self._cache = cache
        self._lock = threading.Lock()
        self._entries: dict[_Key, _Entry] = {}
        self.counts: Counter[str] = Counter()  # served / listed / dropped, for tests and the bench
        self._counting = threading.Lock()  # a Counter's += is not atomic across threads

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def __repr__(self) -> str:
        return f"CachedClient({self._client!r})"

    @property
    def enabled(self) -> bool:
        return cache_enabled()

    def forget(self) -> None:
        with self._lock:
            for entry in self._entries.values():
                entry.dropped = True
            self._entries.clear()

    def forget_type(self, rest_type: str) -> None:
        """Drop every listing of ``rest_type`` (a look-up that waits for Apple's listing to
        show an object must read it again)."""
        with self._lock:
            self._drop(lambda e: e.item_type == rest_type, f"waiting for {rest_type} to be listed")

    def forget_listing(self, path: str) -> None:
        """Drop the listing at ``path``: a wait for Apple to change it (an asset's processing),
        with no write of this process, must read it again."""
        with self._lock:
            listed = [entry for key, entry in self._entries.items() if key[:2] == ("child", path)]
            self._drop(lambda e: any(e is entry for entry in listed), f"waiting for Apple to change {path}")

    # -- reads ------------------------------------------------------------------------

    def served(self, spec: ResourceSpec, id_: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The object from a listing of its type (or of its parent's children); None when
        the cache is off or the listing does not hold it (the caller then GETs it)."""
        if not self.enabled:
            return None
        # The to-one linkages a read reports (a version's build): Apple's, never a write's answer.
        needs = tuple(f.relationship.name for f in spec.linked_in_place if f.relationship is not None)
        cat = self._cache.catalogue
        listing = cat.types.get(spec.rest_type)
        if listing is not None:
            try:
                entry = self._load(("type", spec.rest_type), lambda: self._read_type(listing))
            except AppStoreConnectError as exc:
                log.info("read cache: listing %s failed (%s); reading %s itself", listing.path, exc, id_)
                return None
            return self._pick(entry, id_, needs)
        parent = spec.parent
        if parent is None or parent.parent is None or parent.parent.to_one:
            return None  # a to-one endpoint: read through get_object
        parent_id = props.get(parent.name)
        if not isinstance(parent_id, str) or not parent_id:
            return None
        path, _, query = parent.parent.listing.format(id=quote(parent_id, safe="")).partition("?")
        params = dict(parse_qsl(query))
        matched = cat.child(path, params)
        if matched is None:
            return None
        try:
            entry = self._child(matched[0], matched[1], path, params)
        except AppStoreConnectError as exc:
            log.info("read cache: listing %s failed (%s); reading %s %s itself", path, exc, spec.rest_type, id_)
            return None  # the parent is gone (404), or the listing failed: the caller's own GET says
        return self._pick(entry, id_, needs)

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a listing: a whole type (or those an exact filter selects), a parent's
        children or a membership from the cache; other filters go to Apple (a natural key's is
        Apple's own: a prefix match)."""
        params = dict(params or {})
        if self.enabled:
            served = self._serve_listing(path, params, keyed=False)
            if served is not None:
                return served
        return self._client.list_all(path, params or None)

    def look_up(self, path: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """A natural-key look-up (``filter[<key>]=value``): the listed objects whose key
        matches as the spec compares it (exactly, or ignoring case); Apple's filtered listing
        when the cache is off or cannot answer. Callers re-check the candidates either way."""
        params = dict(params)
        if self.enabled:
            served = self._serve_listing(path, params, keyed=True)
            if served is not None:
                return served
        return self._client.list_all(path, params or None)

    def get_object(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        params = dict(params or {})
        if self.enabled and not params:
            matched = self._cache.catalogue.child(path, {})
            if matched is not None and matched[0].to_one:
                entry = self._load(("one", path), lambda: self._read_one(path), "one", matched[0].item_type, matched[1])
                found = next(iter(entry.items.values()), None)
                self._count("served", f"{path} (to-one)")
                return copy.deepcopy(found)
        return self._client.get_object(path, params or None)

    def _serve_listing(self, path: str, params: dict[str, Any], *, keyed: bool) -> list[dict[str, Any]] | None:
        cat = self._cache.catalogue
        for listing in cat.types.values():
            if path != listing.path:
                continue
            filters = {k[7:-1]: str(v) for k, v in params.items() if k.startswith("filter[")}
            rest = {k: v for k, v in params.items() if not k.startswith("filter[")}
            if not _only_reading(rest, listing.params) or not all(
                w in listing.exact or (keyed and w in listing.keys and "," not in v) for w, v in filters.items()
            ):
                break  # a filter Apple applies its own way (a prefix match, a parent's children)
            entry = self._load(("type", listing.rest_type), lambda: self._read_type(listing))
            found = [item for item in entry.items.values() if all(_selects(listing, w, item, v) for w, v in filters.items())]
            if any(_lacks_linkage(item, _includes(rest)) for item in found):
                return None  # Apple's listing has what this process's writes left out
            self._count("served", f"{path} {params or ''} ({len(found)} of {len(entry.items)})")
            return copy.deepcopy(found)
        members = re.fullmatch(r"/v1/([^/]+)/([^/]+)/relationships/([^/]+)", path)
        if members is not None and set(params) <= {"limit"}:
            return self._linkage(*members.groups())
        matched = cat.child(path, params)
        if matched is not None and not matched[0].to_one:
            query = {k: v for k, v in params.items() if k == matched[0].query_key}
            entry = self._child(matched[0], matched[1], path, query)
            if any(_lacks_linkage(item, _includes(params)) for item in entry.items.values()):
                return None  # Apple's listing has what this process's writes left out
            self._count("served", f"{path} ({len(entry.items)} objects)")
            return copy.deepcopy(list(entry.items.values()))
        return None

    def _linkage(self, rest_type: str, id_: str, name: str) -> list[dict[str, Any]] | None:
        """A membership from the linkage its type's listing included, when complete."""
        listing = self._cache.catalogue.types.get(rest_type)
        if listing is None or name not in listing.limits:
            return None
        with self._lock:
            entry = self._entries.get(("type", rest_type))
            if entry is None or entry.done is not None or self._expired(entry):
                return None
            item = entry.items.get(id_)
            member = ((item or {}).get("relationships") or {}).get(name) or {}
            data = member.get("data")
            if not isinstance(data, list) or not _complete(member, listing.limits[name]):
                return None
            self._count("served", f"/v1/{rest_type}/{id_}/relationships/{name} from the included linkage")
            return copy.deepcopy(data)

    def _child(self, template: _ChildTemplate, parent_id: str, path: str, query: Mapping[str, Any]) -> _Entry:
        key = ("child", path, *sorted(f"{k}={v}" for k, v in query.items()))
        params = {**query, **template.params}
        parent = self._cache.catalogue.types.get(template.parent_type or "")
        if parent is not None and not query and any(path == f"{parent.path}/{quote(parent_id, safe='')}/{name}" for name in parent.limits):
            # The parent type's listing includes these children (an App ID's capabilities): read
            # it, whatever the engine reads first, and it answers every parent's at once.
            try:
                self._load(("type", parent.rest_type), lambda: self._read_type(parent))
            except AppStoreConnectError as exc:
                log.info("read cache: listing %s failed (%s); listing %s itself", parent.path, exc, path)
        return self._load(key, lambda: self._read_children(path, params), "child", template.item_type, parent_id, _includes(template.params))

    def _pick(self, entry: _Entry, id_: str, needs: tuple[str, ...] = ()) -> dict[str, Any] | None:
        found = entry.items.get(id_)
        if found is None or _lacks_linkage(found, needs):
            log.debug("read cache: %s %s is not in the listing with its linkages; reading it", entry.item_type, id_)
            return None
        self._count("served", f"{entry.item_type} {id_}")
        return copy.deepcopy(found)

    def _count(self, what: str, detail: str | None = None) -> None:
        with self._counting:
            self.counts[what] += 1
        if detail is not None:
            log.debug("read cache: %s %s", what, detail)

    # -- loading ----------------------------------------------------------------------

    def _expired(self, entry: _Entry) -> bool:
        return time.monotonic() - entry.loaded_at > _ttl()

    def _load(
        self,
        key: _Key,
        read: Callable[[], tuple[dict[str, dict[str, Any]], list[tuple[_Key, _Entry]]]],
        kind: str = "type",
        item_type: str | None = None,
        parent_id: str | None = None,
        includes: tuple[str, ...] = (),
    ) -> _Entry:
        """The loaded entry for ``key``, reading it once when absent or expired; concurrent
        callers wait for that one read instead of sending their own."""
        if item_type is None:  # a type listing
            item_type = key[1]
            includes = _includes(self._cache.catalogue.types[item_type].params)
        while True:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry.done is None and not self._expired(entry):
                    return entry
                reading = entry is not None and entry.done is not None
                if not reading:
                    entry = self._entries[key] = _Entry(kind, item_type, parent_id, includes, done=threading.Event())
                assert entry is not None and entry.done is not None
                event = entry.done
            if reading:
                event.wait()
                if entry.ok:
                    # Read for a caller that asked before any write dropped it: its answer.
                    return entry
                continue  # that read failed: read it here
            try:
                items, seeds = read()
            except BaseException:
                with self._lock:
                    if self._entries.get(key) is entry:
                        del self._entries[key]
                    entry.done = None
                event.set()
                raise
            with self._lock:
                entry.items = items
                written_meanwhile = bool(entry.pending)
                for change in entry.pending:  # writes that ended while it was read
                    change(entry)
                entry.pending.clear()
                entry.loaded_at = time.monotonic()
                entry.ok, entry.done = True, None
                # The children a listing included are Apple's answer from before any write that
                # ended while it was read: those are read per parent instead.
                if not entry.dropped and not written_meanwhile:
                    for seed_key, seed in seeds:
                        current = self._entries.get(seed_key)
                        if current is None or (current.done is None and self._expired(current)):
                            seed.loaded_at, seed.ok = entry.loaded_at, True
                            self._entries[seed_key] = seed
            event.set()
            return entry

    def _read_type(self, listing: _TypeListing) -> tuple[dict[str, dict[str, Any]], list[tuple[_Key, _Entry]]]:
        data: list[dict[str, Any]] = []
        included: dict[tuple[str, str], dict[str, Any]] = {}
        pages = 0
        for document in iter_pages(self._client.get, listing.path, listing.params or None, base_url=self._client.settings.base_url):
            pages += 1
            data.extend(document.get("data") or [])
            for obj in document.get("included") or []:
                if isinstance(obj, dict) and "type" in obj and "id" in obj:
                    included[(obj["type"], obj["id"])] = obj
        items = {item["id"]: item for item in data if isinstance(item, dict) and "id" in item}
        seeds: list[tuple[_Key, _Entry]] = []
        for name, limit in listing.limits.items():
            path_of = f"{listing.path}/{{}}/{name}"
            for id_, item in items.items():
                member = ((item.get("relationships") or {}).get(name)) or {}
                linkage = member.get("data")
                path = path_of.format(quote(id_, safe=""))
                matched = self._cache.catalogue.child(path, {})
                if matched is None or matched[0].params or not isinstance(linkage, list) or not _complete(member, limit):
                    continue
                objects = [included.get((ref.get("type"), ref.get("id"))) for ref in linkage]
                if any(o is None for o in objects):
                    continue
                seed = _Entry("child", matched[0].item_type, id_, (), {o["id"]: o for o in objects if o})
                seeds.append((("child", path), seed))
        self._count("listed")
        log.info(
            "read cache: listed %s (%d objects in %d request(s)%s)", listing.rest_type, len(items), pages,
            f"; the children of {len(seeds)} parents included" if seeds else "",
        )
        return items, seeds

    def _read_children(self, path: str, params: Mapping[str, str]) -> tuple[dict[str, dict[str, Any]], list[tuple[_Key, _Entry]]]:
        listed = self._client.list_all(path, dict(params) or None)
        self._count("listed")
        log.info("read cache: listed %s (%d objects)", path, len(listed))
        return {item["id"]: item for item in listed if isinstance(item, dict) and "id" in item}, []

    def _read_one(self, path: str) -> tuple[dict[str, dict[str, Any]], list[tuple[_Key, _Entry]]]:
        found = self._client.get_object(path)
        self._count("listed")
        log.info("read cache: read %s (to-one)", path)
        return ({found["id"]: found} if isinstance(found, dict) and "id" in found else {}), []

    # -- writes -----------------------------------------------------------------------

    def create(
        self, rest_type: str, attributes: Mapping[str, Any], relationships: Mapping[str, Any] | None = None, *, path: str | None = None
    ) -> dict[str, Any]:
        target = path or f"/v1/{rest_type}"
        body = {"data": {"type": rest_type, "relationships": dict(relationships or {})}}
        return self._write("POST", target, body, lambda: self._client.create(rest_type, attributes, relationships, path=path))

    def update(
        self, rest_type: str, id: str, attributes: Mapping[str, Any] | None = None, relationships: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        body = {"data": {"type": rest_type, "id": id, "relationships": dict(relationships or {})}}
        return self._write(
            "PATCH", f"/v1/{rest_type}/{quote(id, safe='')}", body, lambda: self._client.update(rest_type, id, attributes, relationships)
        )

    def delete(self, path: str) -> None:
        self._write("DELETE", path, None, lambda: self._client.delete(path))

    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> dict[str, Any] | None:
        if method.upper() == "GET":
            return self._client.request(method, path, params=params, json=json)
        return self._write(method.upper(), path, json, lambda: self._client.request(method, path, params=params, json=json))

    def send(self, method: str, path: str, **kwargs: Any) -> Any:
        if method.upper() != "GET":
            self.forget()  # a raw exchange: nothing is known about what it changed
        return self._client.send(method, path, **kwargs)

    def _write(self, method: str, path: str, body: Any, send: Callable[[], Any]) -> Any:
        try:
            answer = send()
        except BaseException:
            self._observe(method, path, body, None, failed=True)
            raise
        self._observe(method, path, body, answer, failed=False)
        return answer

    def _observe(self, method: str, path: str, body: Any, answer: Any, *, failed: bool) -> None:
        """Bring the listings up to date with a write this process sent (see the module doc)."""
        parts = path.split("?")[0].strip("/").split("/")
        if len(parts) < 2 or parts[0] != "v1":
            with self._lock:
                self._drop(lambda e: True, f"{method} {path}")
            return
        rest_type = parts[1]
        id_ = parts[2] if len(parts) > 2 else None
        relation = parts[-1] if len(parts) > 3 else None
        cat = self._cache.catalogue
        strong = cat.strong.get(rest_type, set())
        weak = cat.weak.get(rest_type, set())
        linked = _linked_ids(body)
        result = answer if isinstance(answer, dict) and answer.get("type") == rest_type and "id" in answer else None
        why = f"{method} {path.split('?')[0]}{' failed' if failed else ''}"
        with self._lock:
            self._drop(lambda e: e.item_type in strong, why)
            for entry in self._entries.values():
                if entry.item_type in weak and entry.linkages:  # their linkages to what was written
                    self._apply(entry, _forget_linkages(linked, (rest_type, id_)))
            if id_ is not None:
                self._drop(lambda e: e.parent_id == id_ and e.item_type != rest_type, why)
            own = [e for e in self._entries.values() if e.item_type == rest_type]
            if failed:
                self._drop(lambda e: e.item_type == rest_type, why)
                return
            for entry in own:
                if id_ is None and method == "POST":
                    if result is None:
                        self._drop(lambda e, entry=entry: e is entry, why)
                    elif entry.kind == "type" or entry.parent_id in linked:
                        self._apply(entry, _put(result))
                elif id_ is not None and relation is not None:
                    self._apply(entry, _forget_linkage(id_, relation))
                elif id_ is not None and method == "PATCH":
                    if result is None:
                        self._drop(lambda e, entry=entry: e is entry, why)
                    else:
                        self._apply(entry, _replace(result, (body or {}).get("data", {}).get("relationships") or {}))
                elif id_ is not None and method == "DELETE":
                    self._apply(entry, _remove(id_))
            log.info("read cache: %s: %s listings of %s brought up to date", why, len(own), rest_type)

    def _apply(self, entry: _Entry, change: Callable[[_Entry], None]) -> None:
        if entry.done is not None:
            entry.pending.append(change)  # being read: applied to what the read returns
        else:
            change(entry)

    def _drop(self, which: Callable[[_Entry], bool], why: str) -> None:
        doomed = [key for key, entry in self._entries.items() if which(entry)]
        for key in doomed:
            self._entries.pop(key).dropped = True
        if doomed:
            for _ in doomed:
                self._count("dropped")
            log.info("read cache: %s: dropped %s", why, ", ".join(_describe(k) for k in doomed))


def _describe(key: _Key) -> str:
    return key[1] if key[0] != "child" else " ".join(key[1:])


def _selects(listing: _TypeListing, wire: str, item: Mapping[str, Any], wanted: str) -> bool:
    """Whether Apple's ``filter[wire]=wanted`` returns ``item``: any of the comma-separated values
    of an exact filter, else the natural key as its spec compares it."""
    remote = (item.get("attributes") or {}).get(wire)
    if wire in listing.exact:
        return remote in wanted.split(",")
    return isinstance(remote, str) and listing.keys[wire](remote, wanted)


def _complete(member: Mapping[str, Any], limit: int) -> bool:
    """Whether an included linkage holds every related id (Apple includes at most ``limit``)."""
    data = member.get("data")
    if not isinstance(data, list):
        return False
    total = ((member.get("meta") or {}).get("paging") or {}).get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total > 0:
        return total <= len(data)
    return len(data) < limit


def _linked_ids(body: Any) -> set[str]:
    """Ids a write's body links to (a create's parent, a membership's members)."""
    data = body.get("data") if isinstance(body, dict) else None
    ids: set[str] = set()
    refs: list[Any] = []
    if isinstance(data, list):
        refs = data
    elif isinstance(data, dict):
        for member in (data.get("relationships") or {}).values():
            linkage = (member or {}).get("data") if isinstance(member, dict) else None
            refs.extend(linkage if isinstance(linkage, list) else [linkage])
    for ref in refs:
        if isinstance(ref, dict) and isinstance(ref.get("id"), str):
            ids.add(ref["id"])
    return ids


def _put(obj: dict[str, Any]) -> Callable[[_Entry], None]:
    def change(entry: _Entry) -> None:
        entry.items[obj["id"]] = copy.deepcopy(obj)

    return change


def _replace(obj: dict[str, Any], sent: Mapping[str, Any]) -> Callable[[_Entry], None]:
    """The object as Apple answered the PATCH. Its answer carries no linkages (nothing was
    included): those the PATCH set are the ones it sent, the others are kept."""

    def change(entry: _Entry) -> None:
        old = entry.items.get(obj["id"])
        if old is None:
            return
        new = copy.deepcopy(obj)
        relationships = new.setdefault("relationships", {})
        for name, member in (old.get("relationships") or {}).items():
            if "data" in (member or {}) and "data" not in (relationships.get(name) or {}):
                source = sent[name] if name in sent else member
                if isinstance(source, dict) and "data" in source:
                    relationships[name] = {**(relationships.get(name) or {}), "data": copy.deepcopy(source["data"])}
        entry.items[obj["id"]] = new

    return change


def _forget_linkage(id_: str, relation: str) -> Callable[[_Entry], None]:
    def change(entry: _Entry) -> None:
        old = entry.items.get(id_)
        if old is None or relation not in (old.get("relationships") or {}):
            return
        new = copy.deepcopy(old)
        new["relationships"][relation] = {k: v for k, v in new["relationships"][relation].items() if k not in ("data", "meta")}
        entry.items[id_] = new

    return change


def _forget_linkages(ids: set[str], ref: tuple[str, str | None]) -> Callable[[_Entry], None]:
    """Objects a write linked (``ids``) or whose linkage names the written object (``ref``)
    keep no linkage: a membership read asks Apple again."""

    def change(entry: _Entry) -> None:
        for id_, item in list(entry.items.items()):
            relationships = item.get("relationships") or {}
            if id_ not in ids and not any(_names(member, ref) for member in relationships.values()):
                continue
            new = copy.deepcopy(item)
            new["relationships"] = {
                name: {k: v for k, v in (member or {}).items() if k not in ("data", "meta")}
                for name, member in relationships.items()
            }
            entry.items[id_] = new

    return change


def _names(member: Any, ref: tuple[str, str | None]) -> bool:
    data = member.get("data") if isinstance(member, dict) else None
    refs = data if isinstance(data, list) else [data]
    return ref[1] is not None and any(isinstance(r, dict) and (r.get("type"), r.get("id")) == ref for r in refs)


def _remove(id_: str) -> Callable[[_Entry], None]:
    def change(entry: _Entry) -> None:
        entry.items.pop(id_, None)

    return change


# -- for callers holding any client (tests hand the provider fakes) ---------------------------


def served(client: Any, spec: ResourceSpec, id_: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """:meth:`CachedClient.served`, or None for a client without a cache."""
    return client.served(spec, id_, props) if isinstance(client, CachedClient) else None


def look_up(client: Any, path: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """:meth:`CachedClient.look_up`, or Apple's filtered listing for a client without a cache."""
    return client.look_up(path, params) if isinstance(client, CachedClient) else client.list_all(path, dict(params))


def forget_listing(client: Any, path: str) -> None:
    """:meth:`CachedClient.forget_listing` (nothing for a client without a cache)."""
    if isinstance(client, CachedClient):
        client.forget_listing(path)


def forget_type(client: Any, rest_type: str) -> None:
    """:meth:`CachedClient.forget_type` (nothing for a client without a cache)."""
    if isinstance(client, CachedClient):
        client.forget_type(rest_type)
