"""One dynamic ResourceProvider that reconciles any :class:`~.spec.ResourceSpec`.

The provider instance is pickled (with dill) into every resource's state, so it holds only
the JSON:API type name; the spec, the settings and the HTTP client are looked up or built
in the provider process (``configure`` and a process-wide client cache).
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import threading
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar, Mapping
from urllib.parse import parse_qsl, quote

import pulumi
import pulumi.dynamic as dyn
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pydantic import BaseModel, TypeAdapter, ValidationError

from . import assets
from .client import AppStoreConnectClient
from .client.errors import AppStoreConnectError, ConflictError, ConnectionFailed, NotFoundError, ServerError
from .errors import AccountMismatch, CreateOnlyDrift, ProviderError
from . import readcache
from .readcache import READS, CachedClient
from .settings import Settings, resolve_settings
from .spec import COMPUTED, CREATE_ONLY, LOCAL, PATCH_ONLY, WRITE_ONLY, CreateMode, DeleteSemantics, FieldSpec, ResourceSpec

# Stack config keys the provider reads (namespace `appstoreconnect:`).
CONFIG_KEYS = ("issuerId", "keyId", "privateKey", "privateKeyPath", "baseUrl")
CONFIG_NAMESPACE = "appstoreconnect"

_RESERVED_PREFIX = "__"  # __provider and friends belong to the Pulumi SDK

# Set to a file path to get the provider's own log (requests, retries, adoptions): the
# provider runs inside the engine, where stdout/stderr are not the user's terminal.
LOG_FILE_ENV = "PULUMI_APPSTORECONNECT_LOG_FILE"
LOG_LEVEL_ENV = "PULUMI_APPSTORECONNECT_LOG_LEVEL"

# POSTs per create when each ambiguous failure is followed by a look-up that finds nothing.
POST_ATTEMPTS = 3
# Seconds to wait, one after the other, for a listing to show an object a 409 says exists.
LISTING_LAG_WAITS = (1.0, 2.0, 4.0, 8.0)

log = logging.getLogger(__name__)
_logging_configured = threading.Event()


def _configure_logging() -> None:
    """Once per provider process: route ``pulumi_appstoreconnect`` logs to the configured file."""
    if _logging_configured.is_set():
        return
    _logging_configured.set()
    path = os.environ.get(LOG_FILE_ENV)
    if not path:
        return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    package = logging.getLogger("pulumi_appstoreconnect")
    package.addHandler(handler)
    package.setLevel(os.environ.get(LOG_LEVEL_ENV, "DEBUG").upper())


def _is_unknown(value: Any) -> bool:
    """True for a value the engine does not know yet (preview of a dependent resource)."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN):
        return True
    if isinstance(value, (list, tuple)):
        return any(_is_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_is_unknown(v) for v in value.values())
    return False


class _ClientCache:
    """One client (one token, one connection pool) per credential set per process.

    The engine calls the provider from several threads, and every resource type has its
    own provider object; they all share this cache.
    """

    def __init__(self, factory: Callable[[Settings], AppStoreConnectClient] = AppStoreConnectClient) -> None:
        self._lock = threading.Lock()
        self._factory = factory
        self._clients: dict[Settings, AppStoreConnectClient] = {}

    def get(self, settings: Settings) -> AppStoreConnectClient:
        with self._lock:
            client = self._clients.get(settings)
            if client is None:
                client = self._factory(settings)
                self._clients[settings] = client
            return client


_CLIENTS = _ClientCache()


class _StackMemory:
    """What this provider process has learnt about the stack it serves (thread-safe).

    One provider process serves every dynamic resource of one Pulumi operation, so it sees the
    ids of the objects the stack manages as the engine diffs, reads, creates and updates them:

    - ``managed``: ids of objects the stack holds; a look-up after an ambiguous POST or a 409
      never takes one of them for the object the create made (a renewal reusing its CSR finds
      the certificate it renews);
    - ``replacing``: ids whose diff asked for a replacement (a renewal at Apple's certificate
      limit is explained as such);
    - ``changed``: (type, relationship, id) of writes in this run, for specs that regenerate
      after a related change (a profile after a capability change on its App ID).

    The engine diffs a resource before it creates its replacement, so ``replacing`` is always
    known in time; ``managed`` holds what the engine has shown the process so far.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._managed: dict[str, set[str]] = {}
        self._replacing: dict[str, set[str]] = {}
        self._changed: set[tuple[str, str, str]] = set()
        self._said: set[str] = set()

    def manage(self, rest_type: str, id_: str) -> None:
        with self._lock:
            self._managed.setdefault(rest_type, set()).add(id_)

    def replace(self, rest_type: str, id_: str) -> None:
        with self._lock:
            self._replacing.setdefault(rest_type, set()).add(id_)
            self._managed.setdefault(rest_type, set()).add(id_)

    def managed(self, rest_type: str) -> frozenset[str]:
        with self._lock:
            return frozenset(self._managed.get(rest_type, ()))

    def replacing(self, rest_type: str) -> frozenset[str]:
        with self._lock:
            return frozenset(self._replacing.get(rest_type, ()))

    def change(self, spec: ResourceSpec, inputs: Mapping[str, Any]) -> None:
        """Record a write (or a planned one, at preview) of an object with these inputs."""
        with self._lock:
            for f in spec.relationships:
                value = inputs.get(f.name)
                if isinstance(value, str) and not _is_unknown(value):
                    self._changed.add((spec.rest_type, f.name, value))

    def changed(self, rest_type: str, field_name: str, value: Any) -> bool:
        with self._lock:
            return (rest_type, field_name, value) in self._changed

    def first_time(self, message: str) -> bool:
        """True the first time ``message`` is to be said (the engine may diff twice)."""
        with self._lock:
            if message in self._said:
                return False
            self._said.add(message)
            return True

    def forget(self) -> None:
        """Start afresh (tests run many operations in one process)."""
        with self._lock:
            self._said.clear()
            self._managed.clear()
            self._replacing.clear()
            self._changed.clear()


_MEMORY = _StackMemory()

# Bookkeeping output of every resource: the account that created the object and the values of
# its create-only properties as the program last declared them. Refresh never changes the
# declared values, so a diff can tell a change in the program from drift read at Apple.
PROVENANCE = "_provenance"


def _spec_for(key: str) -> ResourceSpec:
    """The spec of a resource token (``BundleId``), or of a JSON:API type one class manages."""
    from .resources import SPECS, SPECS_BY_TYPE  # resources import this module; resolve lazily

    return SPECS[key] if key in SPECS else SPECS_BY_TYPE[key]


class SpecProvider(dyn.ResourceProvider):
    """check/diff/create/read/update/delete for one App Store Connect type, driven by its spec."""

    def __init__(self, token: str) -> None:
        # Only plain data here: this object is pickled into the state of every resource. The
        # token is the resource class's name (specs are keyed by it); states written before
        # 0.2 carry ``rest_type`` instead, which still resolves.
        self.token = token

    # -- plumbing ---------------------------------------------------------------------

    @property
    def spec(self) -> ResourceSpec:
        return _spec_for(self.__dict__.get("token") or self.__dict__["rest_type"])

    def configure(self, req: dyn.ConfigureRequest) -> None:
        _configure_logging()
        config = {key: req.config.get(f"{CONFIG_NAMESPACE}:{key}") for key in CONFIG_KEYS}
        # Set after unpickling, in the provider process only; never pickled.
        self._stack_config = {k: v for k, v in config.items() if v is not None}
        self._settings = None

    @property
    def settings(self) -> Settings:
        # Resolved on first use (a missing setting fails the first operation, naming it) and
        # kept for the process: the key is read and parsed once, not per request.
        settings = getattr(self, "_settings", None)
        if settings is None:
            settings = self._settings = resolve_settings(getattr(self, "_stack_config", None))
        return settings

    @property
    def client(self) -> CachedClient:
        """The process's client for these credentials, reads served from listings (readcache)."""
        return READS.view(_CLIENTS.get(self.settings))

    @property
    def account(self) -> str:
        """The account the credentials act for: the issuer (a team's keys share it), or the
        key itself for an individual key (which has no issuer)."""
        settings = self.settings
        return f"issuer:{settings.issuer_id}" if settings.issuer_id else f"key:{settings.key_id}"

    @staticmethod
    def now() -> datetime:
        return datetime.now(timezone.utc)

    def _path(self, id_: str | None = None) -> str:
        return self.spec.path if id_ is None else f"{self.spec.path}/{id_}"

    # -- check ------------------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        spec = self.spec
        checked: dict[str, Any] = {k: v for k, v in news.items() if k.startswith(_RESERVED_PREFIX)}
        failures: list[dyn.CheckFailure] = []
        declared = {f.name for f in spec.fields}

        for name, value in news.items():
            if name.startswith(_RESERVED_PREFIX) or name in declared:
                continue
            if name in spec.unsupported:
                failures.append(dyn.CheckFailure(name, f"{name}: {spec.unsupported[name]}"))
            elif value is not None:
                known = ", ".join(f.name for f in spec.fields if f.is_input)
                failures.append(dyn.CheckFailure(name, f"{name} is not a property of {spec.rest_type}; known properties: {known}"))

        unknown = False
        for f in spec.fields:
            value = news.get(f.name)
            if not f.is_input:
                if value is not None and not _is_unknown(value):
                    failures.append(dyn.CheckFailure(f.name, _output_only(f)))
                continue
            if _is_unknown(value):
                unknown = True
                checked[f.name] = value
                continue
            reason, normalized = _validate_field(f, value)
            if reason:
                failures.append(dyn.CheckFailure(f.name, reason))
                continue
            if f.membership is not None and isinstance(normalized, list):
                normalized = list(dict.fromkeys(normalized))  # an id listed twice is one member
            checked[f.name] = normalized

        if not failures and not unknown and spec.hooks.validate is not None:
            model = spec.inputs.model_validate({f.name: checked.get(f.name) for f in spec.fields if f.is_input})
            failures += [dyn.CheckFailure(name, reason) for name, reason in spec.hooks.validate(model)]
        if not failures and olds and spec.hooks.validate_change is not None:
            failures += [dyn.CheckFailure(name, reason) for name, reason in spec.hooks.validate_change(olds, checked)]
        if not failures and not unknown and spec.hooks.resolve is not None:
            checked = spec.hooks.resolve(self, checked)
        for f in spec.asset_fields:  # local files: read now (before any request), whatever else is unknown
            value = checked.get(f.name)
            if value is None or _is_unknown(value) or any(failure.property == f.name for failure in failures):
                continue
            described, problems = assets.describe(f, value, checked)
            failures += [dyn.CheckFailure(f.name, problem) for problem in problems]
            checked[f.name] = described if described is not None else value
        if not failures and not unknown and not olds:
            failures += self._adoption_failures(checked)
        if not failures and not olds:
            _MEMORY.change(spec, checked)  # a create is planned: specs regenerating after it see it
        return dyn.CheckResult(checked, failures)

    # -- diff -------------------------------------------------------------------------

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        spec = self.spec
        replaces, updates, drifted = self._classify(olds, news)
        if spec.hooks.replace_reasons is not None:
            replaces += [r for r in spec.hooks.replace_reasons(olds, self.now()) if r not in replaces]
        for rest_type, field_name, reason in spec.regenerate_after:
            if _MEMORY.changed(rest_type, field_name, olds.get(field_name)) and reason not in replaces:
                replaces.append(reason)
        # A replacement that keeps an identity Apple keeps unique (the key, within the same
        # parent) must free it first.
        identity = {f.name for f in spec.natural_keys} | ({spec.parent.name} if spec.parent else set())
        delete_first = bool(replaces) and (
            spec.delete_before_replace or (spec.post_is_unique and bool(identity) and not identity & set(replaces))
        )
        if replaces:
            _MEMORY.replace(spec.rest_type, id_)
        else:
            _MEMORY.manage(spec.rest_type, id_)
        if replaces or updates:
            _MEMORY.change(spec, olds)
        if drifted:
            _warn(str(self._drift_error(id_, olds, news, drifted)))
        return dyn.DiffResult(
            changes=bool(replaces or updates or drifted),
            replaces=replaces,
            delete_before_replace=delete_first,
        )

    def _classify(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
        """(replaced, updated, drifted) properties. A create-only property is replaced only
        when the program changed it; a difference the program did not make (read by a refresh)
        is drift, reported and never acted on."""
        declared = (olds.get(PROVENANCE) or {}).get("declared")
        replaces: list[str] = []
        updates: list[str] = []
        drifted: list[str] = []
        for f in self.spec.fields:
            if not f.is_input:
                continue
            new = news.get(f.name)
            if _is_unknown(new):
                (replaces if f.has(CREATE_ONLY) else updates).append(f.name)
                continue
            old = olds.get(f.name)
            if f.same(old, new) or (new is None and f.filled_by_apple):
                continue
            if not f.has(CREATE_ONLY):
                updates.append(f.name)
            elif isinstance(declared, dict) and not f.same(declared.get(f.name), new):
                # The program changed it. (A value the program left unset is absent: the engine
                # drops None values when it stores the bookkeeping.)
                replaces.append(f.name)
            else:
                drifted.append(f.name)  # Apple differs from what the program still says
        return replaces, updates, drifted

    def _drift_error(self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], drifted: list[str]) -> CreateOnlyDrift:
        key = self.spec.natural_key
        return CreateOnlyDrift(
            self.spec.rest_type,
            id_,
            {name: (olds.get(name), news.get(name)) for name in drifted},
            key_kept=key is not None and key.name not in drifted,
        )

    # -- create -----------------------------------------------------------------------

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        spec = self.spec
        inputs = self._inputs(props)
        data = self._adopt(inputs)
        if data is None and spec.hooks.before_create is not None:
            data = spec.hooks.before_create(self, inputs)
        fresh = False
        if data is None:
            extra, local = spec.hooks.prepare_create(inputs) if spec.hooks.prepare_create else ({}, {})
            inputs.update(local)
            data, fresh = self._post(inputs, extra)
            follow_up = {
                f.wire: inputs[f.name]
                for f in spec.attributes
                if f.has(PATCH_ONLY) and inputs.get(f.name) is not None
                and (data.get("attributes") or {}).get(f.wire) != inputs[f.name]
            }
            if follow_up:  # Apple's POST does not take these: set them right after
                data = self.client.update(spec.rest_type, data["id"], follow_up)
        _MEMORY.change(spec, inputs)
        outputs = self._outputs(data, inputs)
        if fresh:
            outputs.update(self._attach_new(data["id"], inputs))
        for f in spec.asset_fields:  # a failure here leaves the object out of the state: the next up takes it over
            if inputs.get(f.name) is not None:
                outputs[f.name] = assets.sync(self, data["id"], f, inputs[f.name], inputs)
        _MEMORY.manage(spec.rest_type, data["id"])
        return dyn.CreateResult(data["id"], outputs)

    def _post(self, inputs: dict[str, Any], extra: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """The created object, and whether this POST made it (False: an existing object was
        taken over after an ambiguous failure or a 409)."""
        spec = self.spec
        attributes = {
            f.wire: inputs[f.name] for f in spec.attributes if f.sent_on_create and inputs.get(f.name) is not None
        }
        attributes.update(extra)
        relationships = {
            f.relationship.name: _linkage(f, inputs[f.name])
            for f in spec.relationships
            if f.relationship is not None and inputs.get(f.name) is not None
        }
        relationships.update({
            f.membership.name: _members_linkage(f, inputs[f.name])
            for f in spec.memberships
            if f.membership is not None and f.membership.on_create and inputs.get(f.name)
        })
        # Objects that exist before this POST are never taken for the one it makes: the stack's
        # own (a renewal finds the certificate it renews by the same public key) and, for types
        # whose identity can repeat, whatever matches already.
        excluded = set(_MEMORY.managed(spec.rest_type))
        if spec.hooks.existing_before_post is not None:
            excluded |= spec.hooks.existing_before_post(self, inputs)
        elif spec.identified and not spec.post_is_unique:
            # Apple allows two objects with this key (beta groups of one name): one that
            # matched before the POST is never taken for the one it made.
            excluded |= {c["id"] for c in self._candidates(inputs)}
        lookup = {**inputs, **_attribute_inputs(spec, extra)}
        ambiguous = False
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                return self.client.create(spec.rest_type, attributes, relationships or None, path=spec.path), True
            except ConflictError as exc:
                # After an ambiguous failure the 409 may be our own earlier POST, which the
                # look-up missed (listing lag, a failed GET); a type that converges on conflict
                # (a capability Apple enabled by default) is simply there already.
                if ambiguous or spec.converge_on_conflict:
                    taken = self._take_over(lookup, excluded, f"409 after {'an ambiguous POST' if ambiguous else 'POST'}", patient=True)
                    if taken is not None:
                        return taken, False
                explained = spec.hooks.on_conflict(self, exc, inputs) if spec.hooks.on_conflict else None
                stated = self._explain_state(exc, None, inputs)
                raise (explained or (stated if stated is not exc else self._explain_conflict(exc, lookup))) from exc
            except (ServerError, ConnectionFailed) as exc:
                # Never re-send a POST blindly: Apple may have created the object before the
                # failure. Look for it after every ambiguous failure (the last one too, so a
                # give-up never leaves an object behind that the state does not know).
                if isinstance(exc, ConnectionFailed) and not exc.ambiguous:
                    raise
                ambiguous = True
                try:
                    taken = self._take_over(lookup, excluded, f"POST failed ambiguously ({exc.status})")
                except (ServerError, ConnectionFailed):
                    # The look-up failed too. Where Apple refuses a duplicate (a natural key),
                    # sending again is safe: its 409 is resolved by the look-up above. (A spent
                    # budget or a 429 give-up is not retried: it ends the create.)
                    if not spec.post_is_unique or attempt == POST_ATTEMPTS:
                        raise
                    continue
                if taken is not None:
                    return taken, False
                if attempt == POST_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    # -- adoption ---------------------------------------------------------------------

    def _to_adopt(self, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        """The existing object the program asks to take over (``adopt``, or a type Apple's API
        cannot create); None when it asks for none, or when ``adopt=True`` finds none (the
        object is then created). Objects the stack already holds or is replacing never count:
        a replacement of an adopted resource creates its successor."""
        spec = self.spec
        adopt = inputs.get("adopt")
        if not adopt and spec.create is CreateMode.POST:
            return None
        held = _MEMORY.managed(spec.rest_type)
        listed = self._by_reference(adopt, inputs) if isinstance(adopt, str) else self._candidates(inputs)
        found = [c for c in listed if c["id"] not in held]
        if found:
            return found[0]
        if spec.create is CreateMode.ADOPT_ONLY:
            what = self._describe_key(inputs)
            raise ProviderError(
                f"App Store Connect has no {spec.rest_type} object {what or 'for these inputs'} "
                "that this stack does not hold already, and its API cannot create one: create it in App Store "
                "Connect (or Xcode) first."
            )
        if isinstance(adopt, str) and not listed:
            by = "".join(f" or {wire}" for wire in spec.adopt_by)
            raise ProviderError(f"App Store Connect has no {spec.rest_type} object with id{by} {adopt!r} to adopt.")
        return None  # nothing to take over (or only what the stack holds): create it

    def _by_reference(self, reference: str, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The object whose id (or one of the spec's ``adopt_by`` attributes) is ``reference``."""
        found = self._fetch(reference, inputs)
        if found is not None:
            return [found]
        for wire in self.spec.adopt_by:
            listed = self.client.list_all(self.spec.path, {f"filter[{wire}]": reference})
            exact = [c for c in listed if (c.get("attributes") or {}).get(wire) == reference]
            if exact:
                return exact
        return []

    def _adopt(self, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        """Take over the object the program asks for: create-only properties must match,
        updatable ones are PATCHed. None: nothing to adopt, create it."""
        target = self._to_adopt(inputs)
        if target is None:
            return None
        mismatches = self._mismatches(target, inputs)
        if mismatches:
            raise ProviderError(self._describe_mismatch(target, mismatches))
        log.info("%s: adopting %s", self.spec.rest_type, target["id"])
        return self._converge(target, inputs)

    def _adoption_failures(self, inputs: Mapping[str, Any]) -> list[dyn.CheckFailure]:
        """At preview: the object to adopt exists and its create-only properties match."""
        try:
            target = self._to_adopt(inputs)
        except ProviderError as exc:
            return [dyn.CheckFailure("adopt", f"adopt: {exc}")]
        except NotFoundError:
            parent = self.spec.parent
            if parent is None:
                raise
            what = f"{parent.name}: App Store Connect has no object {inputs.get(parent.name)!r} to hold this {self.spec.rest_type} object"
            return [dyn.CheckFailure(parent.name, what)]
        if target is None:
            return []
        mismatches = self._mismatches(target, inputs)
        return [dyn.CheckFailure(name, self._describe_mismatch(target, {name: pair})) for name, pair in mismatches.items()]

    def _describe_mismatch(self, target: Mapping[str, Any], mismatches: dict[str, tuple[Any, Any]]) -> str:
        found = "; ".join(f"{name}: App Store Connect has {remote!r}, the program says {ours!r}" for name, (remote, ours) in mismatches.items())
        accept = ", ".join(f"{name}={remote!r}" for name, (remote, _) in mismatches.items())
        key = self.spec.natural_key.name if self.spec.natural_key else "name"
        if self.spec.create is CreateMode.ADOPT_OR_POST:  # there is no new object to make
            instead = f"App Store Connect keeps one {self.spec.rest_type} object per {key}, so the program must describe it."
        else:
            instead = f"To make a new object instead, remove adopt (and choose another {key})."
        return (
            f"adopt: the existing {self.spec.rest_type} object {target['id']} differs from the program in "
            f"properties Apple cannot change in place ({found}). To take it over, set {accept} in the "
            f"program. {instead}"
        )

    def _take_over(
        self, inputs: Mapping[str, Any], excluded: set[str], why: str, *, patient: bool = False
    ) -> dict[str, Any] | None:
        """The existing object a create with these inputs made (or would make), brought to the
        inputs' updatable values; None when there is none that matches the program.

        ``patient``: Apple has just said the object exists (a 409), so a listing that does not
        show it yet is waited out (Apple's listings trail its writes by a moment), within
        :data:`LISTING_LAG_WAITS`."""
        waits = iter(LISTING_LAG_WAITS if patient else ())
        while True:
            candidates = self._candidates(inputs)
            for candidate in candidates:
                if candidate["id"] in excluded or self._mismatches(candidate, inputs):
                    continue
                log.info("%s: %s; taking over %s", self.spec.rest_type, why, candidate["id"])
                return self._converge(candidate, inputs)
            wait = next(waits, None)
            if candidates or wait is None:
                return None
            self.client.pause(wait, "listing lag")
            readcache.forget_type(self.client, self.spec.rest_type)  # read the listing again, not the cache

    def _mismatches(self, candidate: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Create-only properties where ``candidate`` differs from the inputs: (Apple's, ours).
        Relationships count where Apple sent their linkage."""
        remote = self.as_declared(candidate)
        attributes = candidate.get("attributes") or {}
        relationships = candidate.get("relationships") or {}
        mismatches: dict[str, tuple[Any, Any]] = {}
        for f in self.spec.fields:
            if not f.has(CREATE_ONLY) or f.has(WRITE_ONLY) or f.has(LOCAL) or inputs.get(f.name) is None:
                continue
            if f.relationship is not None:
                if (relationships.get(f.relationship.name) or {}).get("data") is None:
                    continue  # Apple sent links only: nothing to compare
            elif f.wire not in attributes:
                continue
            if not f.same(remote.get(f.name), inputs[f.name]):
                mismatches[f.name] = (remote.get(f.name), inputs[f.name])
        return mismatches

    def as_declared(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """An existing object's properties in the shape a program declares them and a read
        stores them (Apple's capability settings carry names and descriptions a program never
        writes). Needs no settings: the importer calls it too."""
        return self._outputs(data, {}, from_remote=True, bookkeeping=False)

    def _converge(self, data: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH the updatable attributes where an existing object differs from the inputs, and
        bring its memberships to the inputs' (the difference with what Apple has)."""
        declared_links = [f for f in self.spec.linked_in_place if inputs.get(f.name) is not None or not f.filled_by_apple]
        if any("data" not in ((data.get("relationships") or {}).get(f.wire) or {}) for f in declared_links):
            data = self._fetch(data["id"], inputs) or data  # a listing carries no linkage: read it
        remote = self.as_declared(data)
        changed = {
            f.wire: inputs[f.name]
            for f in self.spec.attributes
            if f.sent_on_update and inputs.get(f.name) is not None and not f.same(remote.get(f.name), inputs[f.name])
        }
        links = [(f, inputs[f.name]) for f in declared_links if not f.same(remote.get(f.name), inputs[f.name])]
        try:
            converged = self._patch(data["id"], changed, links) or data
        except ConflictError as exc:
            raise self._explain_state(exc, data["id"], {**inputs, **self.as_declared(data)}) from exc
        for f in self.spec.memberships:
            if inputs.get(f.name) is not None:
                self._reconcile_members(data["id"], f, inputs[f.name], previously=[])
        return converged

    # -- memberships ------------------------------------------------------------------

    def _members_path(self, id_: str, f: FieldSpec) -> str:
        assert f.membership is not None
        return f"{self._path(quote(id_, safe=''))}/relationships/{f.membership.name}"

    def members(self, id_: str, f: FieldSpec) -> list[str]:
        """The ids Apple lists for a membership (every page of the linkage listing)."""
        return [item["id"] for item in self.client.list_all(self._members_path(id_, f))]

    def _write_members(self, id_: str, f: FieldSpec, method: str, ids: list[str]) -> None:
        """POST (add) or DELETE (remove) ``ids`` through ``/relationships/<name>`` (204)."""
        if ids:
            self.client.request(method, self._members_path(id_, f), json=_members_linkage(f, ids))

    def _reconcile_members(self, id_: str, f: FieldSpec, declared: list[str], previously: list[str] | None) -> None:
        """Add and remove the difference between ``declared`` and what Apple lists now. An
        exclusive membership removes every other member; otherwise only the stack's own are
        removed (see :meth:`_ours`)."""
        assert f.membership is not None
        current = self.members(id_, f)
        if f.membership.exclusive:
            stale = [i for i in current if i not in declared]
        else:
            ours = self._ours(f, previously or [])
            stale = [i for i in current if i not in declared and i in ours]
        self._write_members(id_, f, "DELETE", stale)
        self._write_members(id_, f, "POST", [i for i in declared if i not in current])

    def _ours(self, f: FieldSpec, listed: list[str]) -> set[str]:
        """Members of a shared (non-exclusive) membership that belong to this stack: the ids the
        program listed, and objects of the related type the stack manages (a tester's groups
        that are BetaGroup resources of this stack). An update that failed halfway may have
        added one the state never recorded; another app's groups are never touched."""
        assert f.membership is not None
        return set(listed) | set(_MEMORY.managed(f.membership.related_type))

    def _attach_new(self, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Members of an object this create POSTed, for memberships its POST could not carry.
        The object exists by now: a failure here must not lose it, so the membership is
        recorded as unknown (the next preview shows it, the next ``up`` writes it) and said."""
        recorded: dict[str, Any] = {}
        for f in self.spec.memberships:
            assert f.membership is not None
            declared = inputs.get(f.name)
            if not declared or f.membership.on_create:
                continue
            try:
                self._write_members(id_, f, "POST", list(declared))
            except AppStoreConnectError as exc:
                recorded[f.name] = None
                _warn(
                    f"{self.spec.rest_type} {id_} was created, but adding its {f.name} failed ({exc}); "
                    f"the next `pulumi up` adds them."
                )
        return recorded

    def _explain_conflict(self, exc: ConflictError, inputs: Mapping[str, Any]) -> Exception:
        """Name the existing object a create collided with, and what the user can do."""
        spec = self.spec
        key = spec.natural_key
        if key is None or inputs.get(key.name) is None:
            return exc
        existing = next(iter(self._candidates(inputs)), None)
        if existing is None:
            return exc
        keys, scope = self._key_words(inputs)
        what = f"An existing {spec.rest_type} object (id {existing['id']}) already has {keys}{' in ' + scope if scope else ''}"
        mismatches = self._mismatches(existing, inputs)
        if mismatches:
            what += " with " + ", ".join(f"{name} {remote!r} (the program says {ours!r})" for name, (remote, ours) in mismatches.items())
        if existing["id"] in self.being_replaced():
            return exc.with_hint(
                f"{what}: it is the object this resource replaces. The replacement keeps the "
                f"{key.name}, which Apple allows once: set delete_before_replace=True in the resource's "
                f"ResourceOptions so the old object goes first."
            )
        if existing["id"] in _MEMORY.managed(spec.rest_type):
            return exc.with_hint(f"{what} and another resource of this stack manages it: declare it once.")
        return exc.with_hint(f"{what} and is not managed by this stack. {_CONFLICT_ADVICE[spec.delete](key.name)}")

    def being_replaced(self) -> frozenset[str]:
        """Ids of this type whose replacement the engine is carrying out in this process."""
        return _MEMORY.replacing(self.spec.rest_type)

    def find_existing(self, inputs: dict[str, Any]) -> dict[str, Any] | None:
        """The remote object a create with these inputs would have made, if it exists."""
        return next(iter(self._candidates(inputs)), None)

    def _candidates(self, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
        if self.spec.hooks.find_existing is not None:
            return self.spec.hooks.find_existing(self, dict(inputs))
        if self.spec.parent is not None:
            return self.find_in_parent(inputs)
        key = self.spec.natural_key
        if key is None or inputs.get(key.name) is None:
            return []
        found = self.find_by_natural_key(str(inputs[key.name]))
        return [found] if found is not None else []

    def find_in_parent(self, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The children of the program's parent (every page of the :class:`~.spec.Parent`
        listing) whose natural-key attributes all match the inputs', in Apple's order."""
        parent = self.spec.parent
        assert parent is not None and parent.parent is not None
        parent_id = inputs.get(parent.name)
        if not isinstance(parent_id, str) or _is_unknown(parent_id):
            return []
        path, _, query = parent.parent.listing.format(id=quote(parent_id, safe="")).partition("?")
        if parent.parent.to_one:  # the parent's to-one related endpoint: one object or null
            found = self.client.get_object(path, dict(parse_qsl(query)) or None)
            listed = [found] if found is not None else []
        else:
            listed = self.client.list_all(path, dict(parse_qsl(query)) or None)
        return [c for c in listed if self._key_matches(c, inputs)]

    def _key_matches(self, candidate: Mapping[str, Any], inputs: Mapping[str, Any]) -> bool:
        attributes = candidate.get("attributes") or {}
        for f in self.spec.natural_keys:
            wanted, remote = inputs.get(f.name), attributes.get(f.wire)
            assert f.natural_key is not None
            if not (isinstance(wanted, str) and isinstance(remote, str) and f.natural_key.matches(remote, wanted)):
                return False
        return True

    def _key_words(self, inputs: Mapping[str, Any]) -> tuple[str, str]:
        """The natural key and its parent in words: (``locale 'en-US'``, ``app 6450000001``);
        either may be empty (one object per parent has no key)."""
        spec = self.spec
        keys = " and ".join(f"{f.name} {inputs.get(f.name)!r}" for f in spec.natural_keys if inputs.get(f.name) is not None)
        parent = spec.parent
        scope = f"{parent.name} {inputs[parent.name]}" if parent is not None and inputs.get(parent.name) is not None else ""
        return keys, scope

    def _describe_key(self, inputs: Mapping[str, Any]) -> str:
        """``with locale 'en-US' for app 6450000001``, ``for app 6450000001``, or empty."""
        keys, scope = self._key_words(inputs)
        return " ".join(part for part in (f"with {keys}" if keys else "", f"for {scope}" if scope else "") if part)

    def find_by_natural_key(self, value: str) -> dict[str, Any] | None:
        """The remote object whose natural key equals ``value`` exactly, or None.

        Apple's ``filter[identifier]`` is a prefix match, so candidates are re-checked here.
        """
        key = self.spec.natural_key
        if key is None or key.natural_key is None:
            return None
        candidates = readcache.look_up(self.client, self.spec.path, {f"filter[{key.wire}]": value})
        for candidate in candidates:
            remote = (candidate.get("attributes") or {}).get(key.wire)
            if isinstance(remote, str) and key.natural_key.matches(remote, value):
                return candidate
        return None

    # -- read -------------------------------------------------------------------------

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        data = self._fetch(id_, props)
        if data is None:
            self._confirm_gone(id_, props, "Reading")
            return dyn.ReadResult(None, {})
        _MEMORY.manage(self.spec.rest_type, id_)
        outs = self._outputs(data, props, from_remote=True)
        try:
            outs.update(self._read_members(id_, props))
            for f in self.spec.asset_fields:
                if props.get(f.name) is not None:
                    outs[f.name] = assets.read(self, id_, f, props[f.name])
        except NotFoundError:
            self._confirm_gone(id_, props, "Reading")
            return dyn.ReadResult(None, {})
        # What the program declared survives a refresh: only a program change replaces.
        outs[PROVENANCE] = {**outs[PROVENANCE], "declared": _declared_kept(self.spec, props)}
        declared = outs[PROVENANCE]["declared"]
        # An optional input Apple filled in stays unset in the inputs when the program left it
        # out, so a preview's diff does not show it as removed.
        inputs = {
            f.name: None if f.filled_by_apple and declared.get(f.name) is None else outs.get(f.name)
            for f in self.spec.fields
            if f.is_input
        }
        return dyn.ReadResult(id_, outs, inputs)

    def _read_members(self, id_: str, props: Mapping[str, Any]) -> dict[str, Any]:
        """Each managed membership as Apple lists it: all of it for an exclusive one, else the
        program's ids that are still members (one Apple dropped shows as a change)."""
        found: dict[str, Any] = {}
        for f in self.spec.memberships:
            assert f.membership is not None
            declared = props.get(f.name)
            if declared is None:
                found[f.name] = None  # not managed: not read
                continue
            current = self.members(id_, f)
            found[f.name] = current if f.membership.exclusive else [i for i in declared if i in current]
        return found

    def _fetch(self, id_: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The remote object, or None when it is gone. Some types are only listed via a parent."""
        spec = self.spec
        if spec.read_through_parent:  # no GET of its own: the parent's to-one endpoint
            return next((c for c in self.find_in_parent(props) if c.get("id") == id_), None)
        template = spec.read_via
        if template is None:
            served = readcache.served(self.client, spec, id_, props)  # from the type's (or parent's) listing
            if served is not None:
                return served
            # Apple sends a relationship's linkage only when it is included.
            linked = ",".join(f.relationship.name for f in spec.linked_in_place if f.relationship)
            if linked:
                return self.client.get_object(self._path(id_), {"include": linked})
            return self.client.get_object(self._path(id_))
        try:
            siblings = self.client.list_all(template.format(**props))
        except NotFoundError:
            return None  # the parent is gone, and the object with it
        return next((item for item in siblings if item.get("id") == id_), None)

    def _confirm_gone(self, id_: str, props: Mapping[str, Any], operation: str) -> None:
        """A 404 means "gone" only with the credentials that created the object: another
        team's key sees none of this team's objects, and a refresh must not drop them all."""
        recorded = (props.get(PROVENANCE) or {}).get("account")
        if isinstance(recorded, str) and recorded != self.account:
            raise AccountMismatch(self.spec.rest_type, id_, recorded, self.account, operation)

    # -- update -----------------------------------------------------------------------

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        spec = self.spec
        _replaced, _updated, drifted = self._classify(olds, news)
        if drifted:
            raise self._drift_error(id_, olds, news, drifted)
        inputs = self._inputs(news)
        changed = {
            f.wire: inputs.get(f.name)
            for f in spec.attributes
            if f.sent_on_update
            and not f.same(olds.get(f.name), inputs.get(f.name))
            and not (inputs.get(f.name) is None and f.filled_by_apple)  # left to Apple, as diff says
        }
        links = [(f, inputs.get(f.name)) for f in spec.linked_in_place if not f.same(olds.get(f.name), inputs.get(f.name))]
        members = [f for f in spec.memberships if not f.same(olds.get(f.name), inputs.get(f.name))]
        uploads = [f for f in spec.asset_fields if not f.same(olds.get(f.name), inputs.get(f.name))]
        # The old outputs with the program's new inputs on top (computed values carry over).
        outputs = {**self._inputs(olds), **{k: v for k, v in inputs.items() if k in news}}
        for f in spec.asset_fields:  # unchanged files keep their record (ids, states)
            if f not in uploads and inputs.get(f.name) is not None:
                outputs[f.name] = olds.get(f.name)
        _MEMORY.manage(spec.rest_type, id_)
        # The bookkeeping records what the program declares (not the values Apple filled in).
        if not changed and not members and not links and not uploads:  # only provider options changed (renew_before_days)
            account = (olds.get(PROVENANCE) or {}).get("account")
            return dyn.UpdateResult({**self._derive(outputs), PROVENANCE: self._provenance(inputs, account)})
        _MEMORY.change(spec, outputs)
        try:
            data = self._patch(id_, changed, links)
            for f in members:
                self._reconcile_members(id_, f, inputs[f.name], previously=olds.get(f.name))
            for f in uploads:
                outputs[f.name] = assets.sync(self, id_, f, inputs[f.name], inputs)
        except NotFoundError:
            self._confirm_gone(id_, olds, "Updating")
            raise
        except ConflictError as exc:
            raise self._explain_state(exc, id_, olds) from exc
        updated = self._outputs(data, outputs) if data is not None else self._derive(outputs)
        return dyn.UpdateResult({**updated, PROVENANCE: self._provenance(inputs)})

    def _patch(self, id_: str, attributes: Mapping[str, Any], links: list[tuple[FieldSpec, Any]]) -> dict[str, Any] | None:
        """One PATCH of the object with the changed attributes and the relationships its
        UpdateRequest carries, then one ``PATCH …/relationships/<name>`` per relationship Apple
        changes on its own endpoint. Apple's object when the first PATCH was sent, else None."""
        in_request = {f.relationship.name: _linkage(f, v) for f, v in links if f.relationship and not f.relationship.own_endpoint}
        data = None
        if attributes or in_request:
            extra = {"relationships": in_request} if in_request else {}
            data = self.client.update(self.spec.rest_type, id_, dict(attributes) if attributes else None, **extra)
        for f, value in links:
            if f.relationship is not None and f.relationship.own_endpoint:
                path = f"{self._path(quote(id_, safe=''))}/relationships/{f.relationship.name}"
                self.client.request("PATCH", path, json=_linkage(f, value))
        return data

    def _explain_state(self, exc: ConflictError, id_: str | None, props: Mapping[str, Any]) -> Exception:
        """Apple's 409 for a write its object's state forbids, with the state named and what to
        do (the spec's :class:`~.spec.EditableStates`); other conflicts unchanged."""
        rule = self.spec.editable
        if rule is None or not _refused_for_state(exc):
            return exc
        try:
            holder = self.client.get_object(rule.holder.format(**{**props, "id": id_}))
        except AppStoreConnectError:
            return exc
        state = ((holder or {}).get("attributes") or {}).get(rule.attribute)
        if holder is None or state in rule.states:
            return exc
        return exc.with_hint(
            f"{holder.get('type')} {holder.get('id')} is in state {state} ({rule.attribute}), and App Store Connect "
            f"accepts changes only in {', '.join(sorted(rule.states))}. {rule.advice} Nothing was changed."
        )

    # -- delete -----------------------------------------------------------------------

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        spec = self.spec
        if spec.hooks.delete is not None and spec.hooks.delete(self, id_, props):
            return
        if spec.delete is DeleteSemantics.RELEASE:
            return
        _MEMORY.change(spec, props)
        try:
            if spec.delete is DeleteSemantics.DETACH:
                self._detach(id_, props)
            elif spec.delete is DeleteSemantics.DISABLE:
                self.client.update(spec.rest_type, id_, {"status": "DISABLED"})
            else:
                self.client.delete(self._path(id_))
        except NotFoundError:
            self._confirm_gone(id_, props, "Deleting")  # else already gone: the desired end state
        except ConflictError as exc:
            raise self._explain_state(exc, id_, props) from exc

    def _detach(self, id_: str, props: Mapping[str, Any]) -> None:
        """Remove the members the program declared (for a shared membership, all the stack's
        own, :meth:`_ours`) that Apple still lists; the object stays."""
        for f in self.spec.memberships:
            assert f.membership is not None
            declared = props.get(f.name) or []
            if declared:
                ours = set(declared) if f.membership.exclusive else self._ours(f, declared)
                self._write_members(id_, f, "DELETE", [i for i in self.members(id_, f) if i in ours])

    # -- helpers ----------------------------------------------------------------------

    def _inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The declared fields of ``props`` (reserved and unknown keys dropped), whole numbers
        as integers again (see :func:`_whole_number`)."""
        return {f.name: _whole_number(f, props.get(f.name)) for f in self.spec.fields}

    def _outputs(
        self, data: Mapping[str, Any], inputs: Mapping[str, Any], *, from_remote: bool = False, bookkeeping: bool = True
    ) -> dict[str, Any]:
        """Inputs plus what Apple computed; on read, every attribute Apple returns wins."""
        attributes = data.get("attributes") or {}
        relationships = data.get("relationships") or {}
        outs: dict[str, Any] = {}
        for f in self.spec.fields:
            value = inputs.get(f.name)
            if f.has(WRITE_ONLY) or f.has(LOCAL) or f.membership is not None:
                pass  # never read back here (members are read from their own listing)
            elif f.relationship is not None:
                member = relationships.get(f.relationship.name) or {}
                linkage = member.get("data")
                if from_remote and linkage is not None:
                    value = [item["id"] for item in linkage] if f.relationship.to_many else linkage["id"]
                elif from_remote and f.updates_link and "data" in member:
                    value = None  # included and empty: Apple holds none (a category cleared)
            elif f.wire in attributes and (from_remote or f.has(COMPUTED) or f.keeps_apple_value):
                value = attributes[f.wire]
                if f.read_as is not None:
                    value = f.read_as.convert(value)
            outs[f.name] = value
        outs = self._derive(outs)
        if bookkeeping:
            outs[PROVENANCE] = self._provenance(inputs)
        return outs

    def _provenance(self, inputs: Mapping[str, Any], account: str | None = None) -> dict[str, Any]:
        """The bookkeeping output: this account, and the create-only values of ``inputs``."""
        declared = {f.name: inputs.get(f.name) for f in self.spec.fields if f.is_input and f.has(CREATE_ONLY)}
        return {"account": account or self.account, "declared": declared}

    def _derive(self, outs: dict[str, Any]) -> dict[str, Any]:
        derive = self.spec.hooks.derive_outputs
        return {**outs, **derive(outs)} if derive is not None else outs


def _warn(message: str) -> None:
    """A warning the user sees in the engine's output (it shows the provider's stderr), once
    per provider process, and in the provider log."""
    if _MEMORY.first_time(message):
        log.warning("%s", message)
        print(f"warning: {message}", file=sys.stderr, flush=True)


def _declared_kept(spec: ResourceSpec, props: Mapping[str, Any]) -> dict[str, Any]:
    """The create-only values the program declared, as the state's bookkeeping holds them (a
    refresh must not overwrite them); for a state without bookkeeping, the values before the
    refresh."""
    kept = (props.get(PROVENANCE) or {}).get("declared")
    if isinstance(kept, dict):
        return kept
    return {f.name: props.get(f.name) for f in spec.fields if f.is_input and f.has(CREATE_ONLY)}


def _output_only(f: FieldSpec) -> str:
    if f.made_by_provider:
        return f"{f.name} is made by the provider (an output) and cannot be given as an input"
    return f"{f.name} is set by Apple and cannot be given as an input"


# What a user can do about an object that collides with a create, by what destroy can do to it.
_CONFLICT_ADVICE: dict[DeleteSemantics, Callable[[str], str]] = {
    DeleteSemantics.DELETE: lambda key: f"Set adopt=True on this resource to take it over, delete it in App Store Connect, or choose another {key}.",
    DeleteSemantics.REVOKE: lambda key: f"Set adopt=True on this resource to take it over, revoke it in App Store Connect, or choose another {key}.",
    DeleteSemantics.DISABLE: lambda key: (
        f"Apple cannot delete these, so the {key} cannot be registered again: set adopt=True on this "
        f"resource to take it over, or leave it out of the program."
    ),
    DeleteSemantics.RELEASE: lambda key: f"Set adopt=True on this resource to take it over, or choose another {key}.",
}


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}
_ADAPTERS_LOCK = threading.Lock()


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    with _ADAPTERS_LOCK:
        adapter = _ADAPTERS.get(annotation)
        if adapter is None:
            adapter = _ADAPTERS[annotation] = TypeAdapter(annotation)
        return adapter


def _validate_field(f: FieldSpec, value: Any) -> tuple[str | None, Any]:
    """(reason, normalized value): type and enum validation, then the field's own checks."""
    if value is None:
        if f.required:
            return f"{f.name} is required", None
        value = f.default
        if value is None:
            return None, None
    adapter = _adapter(f.annotation)
    try:
        normalized = adapter.dump_python(adapter.validate_python(value), mode="json")
    except ValidationError as exc:
        return _describe(f, _most_relevant(exc.errors(), value)), None
    for check in f.checks:
        reason = check.validate(normalized)
        if reason:
            return f"{f.name} {reason}", None
    return None, normalized


def validate_inputs(spec: ResourceSpec, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(property, reason)`` for what ``check`` refuses in fully known inputs before it reads
    the account: each input's type, enum and checks, then the spec's cross-field rules. The
    importer vets what it declares with it."""
    failures: list[tuple[str, str]] = []
    checked: dict[str, Any] = {}
    for f in spec.fields:
        if f.is_input:
            reason, checked[f.name] = _validate_field(f, inputs.get(f.name))
            if reason:
                failures.append((f.name, reason))
    if not failures and spec.hooks.validate is not None:
        failures += spec.hooks.validate(spec.inputs.model_validate(checked))
    return failures


def _attribute_inputs(spec: ResourceSpec, wire_attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Provider-made wire attributes (a generated CSR) under their input names, for lookups."""
    names = spec.wire_to_name()
    return {names[wire]: value for wire, value in wire_attributes.items() if wire in names}


def _linkage(f: FieldSpec, value: Any) -> dict[str, Any]:
    assert f.relationship is not None
    related = f.relationship.related_type
    if f.relationship.to_many:
        return {"data": [{"type": related, "id": item} for item in value]}
    return {"data": None if value is None else {"type": related, "id": value}}


# What Apple answers when an object's state forbids a write: STATE_ERROR "The request cannot be
# fulfilled because of the state of another resource." with "Attribute 'description' cannot be
# edited at this time" (fastlane #16626, 2020; #17933, 2021), and "The field 'name' can not be
# modified in the current state." on a live app info (rorkai/App-Store-Connect-CLI #434, 2026).
_STATE_WORDS = ("cannot be edited at this time", "can not be modified in the current state")


def _refused_for_state(exc: ConflictError) -> bool:
    return any(
        (e.code or "").startswith("STATE_ERROR") or any(w in (e.detail or "") for w in _STATE_WORDS) for e in exc.errors
    )


def _whole_number(f: FieldSpec, value: Any) -> Any:
    """The engine hands every number to the provider as a float (Pulumi's wire format): 200.0
    goes back to 200 where the field takes integers, since Apple's schema refuses 200.0 for an
    integer (a beta group's publicLinkLimit)."""
    if not isinstance(value, float) or not value.is_integer():
        return value
    try:
        validated = _adapter(f.annotation).validate_python(int(value))
    except ValidationError:
        return value
    return int(value) if isinstance(validated, int) and not isinstance(validated, bool) else value


def _members_linkage(f: FieldSpec, ids: list[str]) -> dict[str, Any]:
    assert f.membership is not None
    return {"data": [{"type": f.membership.related_type, "id": i} for i in ids]}


def _most_relevant(errors: list[Any], value: Any) -> Mapping[str, Any]:
    """For a union (ids or a selector, a path or a file with options), the error of the branch
    the value was meant for: the one that got deepest into the value (ties: the first)."""
    def depth(error: Mapping[str, Any]) -> int:
        return sum(1 for part in error.get("loc", ()) if not _is_union_tag(part))

    return max(errors, key=depth) if isinstance(value, (dict, list)) else errors[0]


def _describe(f: FieldSpec, error: Mapping[str, Any]) -> str:
    """One readable reason for a pydantic error, naming the field (and where inside it)."""
    inner = ".".join(str(part) for part in error.get("loc", ()) if not _is_union_tag(part))
    where = f"{f.name}.{inner}" if inner else f.name
    if error.get("type") == "extra_forbidden":
        return f"{where} is not a known key"
    if f.enum_values and not inner:
        return f"{f.name} must be one of {', '.join(f.enum_values)} (got {error.get('input')!r})"
    return f"{where}: {error.get('msg', 'is invalid')}"


# Pydantic names union members in error locations ("list[str]", "AllEnabledDevices"): skip them.
_UNION_TAGS = frozenset({"list[str]", "str", "int", "bool"})


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (part in _UNION_TAGS or part[:1].isupper())


def _plain(value: Any) -> Any:
    """Selector and settings models become plain dicts the engine can carry."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _undo_nested_pickler_patches() -> None:
    """Put the standard library's ``pickle._Pickler._batch_setitems`` back.

    The Pulumi SDK's ``serialize_provider`` (3.259.0) replaces it with a sorting wrapper around
    whatever is there, for every dynamic resource, and never restores it: the wrappers nest one
    level per resource, and at about 950 resources in one program pickling the next provider
    exceeds Python's recursion limit. Unwrapping before each resource leaves one wrapper, which
    pickles exactly the same bytes.
    """
    current = pickle._Pickler.__dict__.get("_batch_setitems")  # type: ignore[attr-defined]
    original = current
    while original is not None and getattr(original, "__qualname__", "") != "_Pickler._batch_setitems":
        cells = [c.cell_contents for c in getattr(original, "__closure__", None) or () if callable(c.cell_contents)]
        original = cells[0] if len(cells) == 1 else None  # not the SDK's wrapper: leave it be
    if original is not None and original is not current:
        pickle._Pickler._batch_setitems = original  # type: ignore[attr-defined]


class SpecResource(dyn.Resource):
    """Base of every resource class: builds the provider and the props from the class's spec."""

    spec: ClassVar[ResourceSpec]

    def __init_subclass__(cls, spec: ResourceSpec | None = None, **kwargs: Any) -> None:
        if spec is not None:
            cls.spec = spec
        super().__init_subclass__(module="appstoreconnect", name=cls.__name__, **kwargs)

    def __init__(
        self,
        resource_name: str,
        opts: pulumi.ResourceOptions | None = None,
        **properties: Any,
    ) -> None:
        spec = self.spec
        # Every declared field is registered (computed ones as None) so that each becomes an
        # output attribute; unknown keywords are passed on for `check` to name.
        props: dict[str, Any] = {f.name: None for f in spec.fields}
        props.update({name: _plain(value) for name, value in properties.items()})
        secrets = spec.secret_outputs
        if secrets:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=secrets))
        _undo_nested_pickler_patches()
        super().__init__(SpecProvider(type(self).__name__), resource_name, props, opts)
