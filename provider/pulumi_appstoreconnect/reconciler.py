"""One dynamic ResourceProvider that reconciles any :class:`~.spec.ResourceSpec`.

The provider instance is pickled (with dill) into every resource's state, so it holds only
the JSON:API type name; the spec, the settings and the HTTP client are looked up or built
in the provider process (``configure`` and a process-wide client cache).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, ClassVar, Mapping

import pulumi
import pulumi.dynamic as dyn
from pulumi.runtime import rpc
from pydantic import ValidationError

from .client import AppStoreConnectClient
from .client.errors import ConflictError, NotFoundError
from .settings import Settings, resolve_settings
from .spec import COMPUTED, CREATE_ONLY, LOCAL, UPDATABLE, WRITE_ONLY, DeleteSemantics, FieldSpec, ResourceSpec

# Stack config keys the provider reads (namespace `appstoreconnect:`).
CONFIG_KEYS = ("issuerId", "keyId", "privateKey", "privateKeyPath", "baseUrl")
CONFIG_NAMESPACE = "appstoreconnect"

_RESERVED_PREFIX = "__"  # __provider and friends belong to the Pulumi SDK


def _is_unknown(value: Any) -> bool:
    """True for a value the engine does not know yet (preview of a dependent resource)."""
    if value is rpc.UNKNOWN:
        return True
    if isinstance(value, str) and value == rpc.UNKNOWN:
        return True
    if isinstance(value, (list, tuple)):
        return any(_is_unknown(v) for v in value)
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


def _spec_for(rest_type: str) -> ResourceSpec:
    from .resources import SPECS  # resources import this module; resolve lazily

    return SPECS[rest_type]


class SpecProvider(dyn.ResourceProvider):
    """check/diff/create/read/update/delete for one App Store Connect type, driven by its spec."""

    def __init__(self, rest_type: str) -> None:
        # Only plain data here: this object is pickled into the state of every resource.
        self.rest_type = rest_type

    # -- plumbing ---------------------------------------------------------------------

    @property
    def spec(self) -> ResourceSpec:
        return _spec_for(self.rest_type)

    def configure(self, req: dyn.ConfigureRequest) -> None:
        config = {key: req.config.get(f"{CONFIG_NAMESPACE}:{key}") for key in CONFIG_KEYS}
        # Set after unpickling, in the provider process only; never pickled.
        self._stack_config = {k: v for k, v in config.items() if v is not None}

    @property
    def client(self) -> AppStoreConnectClient:
        settings = resolve_settings(getattr(self, "_stack_config", None))
        return _CLIENTS.get(settings)

    def _path(self, id_: str | None = None) -> str:
        return self.spec.path if id_ is None else f"{self.spec.path}/{id_}"

    # -- check ------------------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        spec = self.spec
        inputs = {k: v for k, v in news.items() if not k.startswith(_RESERVED_PREFIX)}
        failures: list[dyn.CheckFailure] = []
        known = {k: v for k, v in inputs.items() if not _is_unknown(v)}

        for f in spec.with_flag(COMPUTED):
            if known.get(f.name) is not None:
                failures.append(dyn.CheckFailure(f.name, f"{f.name} is set by Apple and cannot be given as an input"))
                known.pop(f.name)

        # Unknown values (preview) are replaced by a placeholder that passes type checks, so
        # only the known fields can fail; their own checks are skipped below.
        probe = dict(known)
        for name, value in inputs.items():
            if _is_unknown(value) and name in spec.inputs.model_fields:
                probe[name] = None
        try:
            spec.inputs.model_validate(probe)
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else "inputs"
                if name in inputs and _is_unknown(inputs[name]):
                    continue
                failures.append(dyn.CheckFailure(name, _describe(name, error, spec)))

        failed = {f.property for f in failures}
        for f in spec.fields:
            value = known.get(f.name)
            if f.name in failed or value is None:
                continue
            for check in f.checks:
                reason = check.validate(value)
                if reason:
                    failures.append(dyn.CheckFailure(f.name, f"{f.name} {reason}"))
                    break
        return dyn.CheckResult(news, failures)

    # -- diff -------------------------------------------------------------------------

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        spec = self.spec
        replaces: list[str] = []
        updates: list[str] = []
        for f in spec.fields:
            if not (f.has(CREATE_ONLY) or f.has(UPDATABLE) or f.has(WRITE_ONLY)):
                continue
            new = news.get(f.name)
            if not _is_unknown(new) and _same(olds.get(f.name), new):
                continue
            (replaces if f.has(CREATE_ONLY) else updates).append(f.name)
        key = spec.natural_key
        # Natural keys are unique at Apple: a replacement that keeps the key must free it first.
        delete_first = bool(replaces) and (
            spec.delete_before_replace or (key is not None and key.name not in replaces)
        )
        return dyn.DiffResult(
            changes=bool(replaces or updates),
            replaces=replaces,
            delete_before_replace=delete_first,
        )

    # -- create -----------------------------------------------------------------------

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        spec = self.spec
        inputs = self._inputs(props)
        attributes = {
            f.wire: inputs[f.name] for f in spec.attributes if f.sent_on_create and inputs.get(f.name) is not None
        }
        relationships = {
            f.relationship.name: _linkage(f, inputs[f.name])
            for f in spec.relationships
            if f.relationship is not None and inputs.get(f.name) is not None
        }
        try:
            data = self.client.create(spec.rest_type, attributes, relationships or None, path=spec.path)
        except ConflictError as exc:
            raise self._explain_conflict(exc, inputs) from exc
        return dyn.CreateResult(data["id"], self._outputs(data, inputs))

    def _explain_conflict(self, exc: ConflictError, inputs: Mapping[str, Any]) -> Exception:
        """Name the existing object when a create collides with one registered outside the stack."""
        key = self.spec.natural_key
        if key is None or inputs.get(key.name) is None:
            return exc
        existing = self.find_by_natural_key(str(inputs[key.name]))
        if existing is None:
            return exc
        return ConflictError(
            exc.status,
            exc.errors,
            method=exc.method,
            url=exc.url,
            hint=(
                f"An existing {self.spec.rest_type} object (id {existing['id']}) already has "
                f"{key.name} {inputs[key.name]!r} and is not managed by this stack. Delete it in "
                f"App Store Connect or choose another {key.name}."
            ),
        )

    def find_by_natural_key(self, value: str) -> dict[str, Any] | None:
        """The remote object whose natural key equals ``value`` exactly, or None.

        Apple's ``filter[identifier]`` is a prefix match, so candidates are re-checked here.
        """
        key = self.spec.natural_key
        if key is None or key.natural_key is None:
            return None
        candidates = self.client.list_all(self.spec.path, {f"filter[{key.wire}]": value})
        for candidate in candidates:
            remote = (candidate.get("attributes") or {}).get(key.wire)
            if isinstance(remote, str) and key.natural_key.matches(remote, value):
                return candidate
        return None

    # -- read -------------------------------------------------------------------------

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        data = self.client.get_object(self._path(id_))
        if data is None:
            return dyn.ReadResult(None, {})
        outs = self._outputs(data, props, from_remote=True)
        inputs = {f.name: outs.get(f.name) for f in self.spec.fields if not f.has(COMPUTED)}
        return dyn.ReadResult(id_, outs, inputs)

    # -- update -----------------------------------------------------------------------

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        spec = self.spec
        inputs = self._inputs(news)
        changed = {
            f.wire: inputs.get(f.name)
            for f in spec.attributes
            if f.has(UPDATABLE) and not _same(olds.get(f.name), inputs.get(f.name))
        }
        data = self.client.update(spec.rest_type, id_, changed)
        return dyn.UpdateResult(self._outputs(data, inputs))

    # -- delete -----------------------------------------------------------------------

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        semantics = self.spec.delete
        if semantics is DeleteSemantics.RELEASE:
            return
        if semantics is DeleteSemantics.DISABLE:
            self.client.update(self.spec.rest_type, id_, {"status": "DISABLED"})
            return
        try:
            self.client.delete(self._path(id_))
        except NotFoundError:
            pass  # already gone: the desired end state

    # -- helpers ----------------------------------------------------------------------

    def _inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The declared fields of ``props`` (reserved and unknown keys dropped)."""
        return {f.name: props.get(f.name) for f in self.spec.fields}

    def _outputs(self, data: Mapping[str, Any], inputs: Mapping[str, Any], *, from_remote: bool = False) -> dict[str, Any]:
        """Inputs plus what Apple computed; on read, every attribute Apple returns wins."""
        attributes = data.get("attributes") or {}
        relationships = data.get("relationships") or {}
        outs: dict[str, Any] = {}
        for f in self.spec.fields:
            value = inputs.get(f.name)
            if f.has(WRITE_ONLY) or f.has(LOCAL):
                pass  # never read back: keep what the program said
            elif f.relationship is not None:
                linkage = (relationships.get(f.relationship.name) or {}).get("data")
                if from_remote and linkage is not None:
                    value = [item["id"] for item in linkage] if f.relationship.to_many else linkage["id"]
            elif f.wire in attributes and (from_remote or f.has(COMPUTED)):
                value = attributes[f.wire]
            outs[f.name] = value
        return outs


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, list) and isinstance(new, list):
        return sorted(map(str, old)) == sorted(map(str, new))
    return old == new


def _linkage(f: FieldSpec, value: Any) -> dict[str, Any]:
    assert f.relationship is not None
    related = f.relationship.related_type
    if f.relationship.to_many:
        return {"data": [{"type": related, "id": item} for item in value]}
    return {"data": {"type": related, "id": value}}


def _describe(name: str, error: Mapping[str, Any], spec: ResourceSpec) -> str:
    """One readable reason for a pydantic error, naming the field."""
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        known = ", ".join(f.name for f in spec.fields if not f.has(COMPUTED))
        return f"{name} is not a property of {spec.rest_type}; known properties: {known}"
    if kind == "missing":
        return f"{name} is required"
    field = next((f for f in spec.fields if f.name == name), None)
    if field is not None and field.enum_values:
        return f"{name} must be one of {', '.join(field.enum_values)} (got {error.get('input')!r})"
    return f"{name}: {error.get('msg', 'is invalid')}"


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
        props.update(properties)
        secrets = spec.secret_outputs
        if secrets:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=secrets))
        super().__init__(SpecProvider(spec.rest_type), resource_name, props, opts)
