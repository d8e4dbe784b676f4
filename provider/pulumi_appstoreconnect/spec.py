"""The vocabulary every resource is described in.

A resource is one pydantic model of its inputs whose fields carry lifecycle flags in
``Annotated`` metadata, plus one :class:`ResourceSpec`. The reconciler turns these
descriptions into the dynamic provider's methods, so a new App Store Connect type is one file
of declarations (the emulator never reads them: it serves Apple's spec).

The pieces, each documented where it is defined:

- field flags (:class:`Flag`): create-only, updatable, computed, secret, write-only, local,
  patch-only;
- field markers: :class:`NaturalKey` (how a person identifies the object, compared on the
  client), :class:`Parent` (the relationship that scopes the key: a localization's app or
  build), :class:`Relationship` (ids sent as JSON:API linkage), :class:`Membership` (a to-many
  relationship reconciled by difference through ``/relationships/<name>``), :class:`Assets`
  (local files Apple keeps as child assets, uploaded through its asset flow), :class:`Check`,
  :class:`ReadAs`, :class:`Equivalent`;
- per type (:class:`ResourceSpec`): create modes (:class:`CreateMode`: POST, adopt-only,
  adopt-or-post), delete semantics (:class:`DeleteSemantics`: delete, disable, revoke,
  release, detach), child listings, to-one reads (``Parent(to_one=True)`` with
  ``read_through_parent``), the states in which Apple accepts changes (:class:`EditableStates`),
  adoption and :class:`Hooks` for Apple's special rules.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Iterator, Mapping, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr
from pydantic.alias_generators import to_camel


class Flag(enum.Enum):
    """How a field behaves over the resource's lifetime."""

    CREATE_ONLY = "create-only"  # sent on POST; a change in the program replaces the resource
    UPDATABLE = "updatable"  # sent on POST; a change is PATCHed in place
    # Set by Apple; read back, never sent. With CREATE_ONLY or UPDATABLE: an optional input that
    # Apple fills in when the program leaves it out (a bundle ID's seedId).
    COMPUTED = "computed"
    SECRET = "secret"  # stored encrypted in state (additional_secret_outputs)
    WRITE_ONLY = "write-only"  # sent, never read back: carried over from inputs
    LOCAL = "local"  # a provider option or provider-made output (renew_before_days, p12): never sent
    PATCH_ONLY = "patch-only"  # updatable, but Apple's POST does not accept it: PATCHed after create


CREATE_ONLY = Flag.CREATE_ONLY
UPDATABLE = Flag.UPDATABLE
COMPUTED = Flag.COMPUTED
SECRET = Flag.SECRET
WRITE_ONLY = Flag.WRITE_ONLY
LOCAL = Flag.LOCAL
PATCH_ONLY = Flag.PATCH_ONLY


def exact_match(a: str, b: str) -> bool:
    return a == b


def casefold_match(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def same_value(old: Any, new: Any) -> bool:
    """Equality as a diff sees it: an empty to-many list equals nothing, lists ignore order."""
    # Apple reads an empty to-many relationship back as [] where the program said nothing.
    if old in (None, []) and new in (None, []):
        return True
    if isinstance(old, list) and isinstance(new, list):
        return sorted(map(_canonical, old)) == sorted(map(_canonical, new))
    return bool(old == new)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class NaturalKey:
    """Marks the attribute that identifies an object for a person (identifier, UDID, e-mail).

    ``matches`` compares two values on the client; Apple's filters are looser (a prefix
    match for ``filter[identifier]``), so a lookup always re-checks the candidates.
    ``unique``: Apple refuses a second object with this key (409), so a POST whose fate is
    unknown can be sent again. A key that only identifies (two beta groups of an app may share
    a name) says ``unique=False``: a create then never takes an object that matched before
    its POST for the one it made.

    Several attributes may carry it (an App Store version is app + platform + version
    string): an object matches when all of them do. With a :class:`Parent`, the key is
    unique within the parent only (a localization's locale within its app).
    """

    matches: Callable[[str, str], bool] = exact_match
    unique: bool = True


@dataclass(frozen=True)
class Parent:
    """Marks the relationship that scopes the natural key: the object belongs to one parent
    and is looked up among the parent's children, never account-wide.

    ``listing`` is the path of those children with ``{id}`` for the parent's id; it may carry
    a query (``/v1/betaAppReviewDetails?filter[app]={id}``). Adoption, the look-up after an
    ambiguous POST and a 409's explanation read that listing (every page) and keep the
    objects whose natural-key attributes all match (compared with each key's ``matches``).
    A type whose parent has exactly one of it (an app's beta review detail) marks no natural
    key: the parent alone identifies it.

    ``to_one``: the listing is the parent's to-one related endpoint
    (``/v1/appInfos/{id}/ageRatingDeclaration``), answering one object or ``{"data": null}``
    instead of a paged list. With ``ResourceSpec.read_through_parent`` a type that has no GET
    of its own (an age rating declaration) is also read there.
    """

    listing: str
    to_one: bool = False


@dataclass(frozen=True)
class Membership:
    """Marks a to-many relationship managed as a set of ids through Apple's
    ``/relationships/<name>`` endpoints: ``POST`` adds, ``DELETE`` removes (204, no body),
    and the object itself is never replaced for it. The field holds the related ids.

    The members are read from the paged linkage listing ``GET …/{id}/relationships/<name>``
    (every page), and a change adds and removes only the difference with what Apple has.
    ``None`` in the program means "not managed": nothing is read or written. ``exclusive``:
    the list is the whole membership (a group's testers; others found are removed);
    otherwise only the listed ids are managed (a tester's groups: the tester may be in other
    apps' groups, which stay). ``on_create``: Apple's create request takes the relationship
    too, so a new object gets its members with its POST instead of one more request.
    """

    name: str  # the relationship name on the wire (betaTesters, builds, betaGroups)
    related_type: str
    exclusive: bool = True
    on_create: bool = False


# Delivery states of an asset that hold nothing usable: a reservation never committed, and
# Apple's terminal failure (Apple, "Uploading Assets to App Store Connect").
UNUSABLE_ASSET_STATES = frozenset({"AWAITING_UPLOAD", "FAILED"})


@dataclass(frozen=True)
class Assets:
    """Marks a field holding an ordered list of local files that Apple keeps as the object's
    child assets (a screenshot set's screenshots, a preview set's previews), uploaded through
    Apple's asset flow (reserve, send the parts, commit with the checksum, wait for processing:
    :mod:`pulumi_appstoreconnect.assets`).

    The program lists paths (or ``{"file": path, <item attribute>: value}``); ``check`` reads each
    file, refuses what Apple would (``inspect(file, inputs)`` returns why, or None) and records
    per file its MD5, Apple's ``sourceFileChecksum``: the file's identity. :meth:`satisfied`
    compares those in order, so an unchanged file is never sent again, a changed or new one is
    uploaded, a removed one deleted, and a new order is one PATCH of ``relationship``. ``None``
    in the program means not managed. Outputs: per file the Apple id, checksum and state.
    """

    child_type: str  # the assets' JSON:API type (appScreenshots)
    relationship: str  # the object's to-many to them: listed in order, reordered by PATCH
    back: str  # the asset's to-one to the object, sent with the reservation (appScreenshotSet)
    limit: int  # Apple keeps at most this many per object
    state: str  # the asset attribute with its delivery state (assetDeliveryState, videoDeliveryState)
    inspect: Callable[[Any, Mapping[str, Any]], str | None]
    # Per-file inputs Apple keeps as asset attributes, changed in place (name -> wire).
    item_attributes: Mapping[str, str] = field(default_factory=dict)
    mime_type: bool = False  # the reservation names the file's MIME type (previews)

    def satisfied(self, old: Any, new: Any) -> bool:
        """Whether Apple's assets ``old`` (the state's) are the files ``new`` asks for: the same
        checksums in the same order, each usable, with the per-file attributes the program sets."""
        if not isinstance(old, list) or not isinstance(new, list):
            return old == new
        if len(old) != len(new) or not all(isinstance(i, dict) for i in (*old, *new)):
            return False
        for held, wanted in zip(old, new):
            if str(held.get("checksum") or "").lower() != str(wanted.get("checksum") or "").lower():
                return False
            if held.get("state") in UNUSABLE_ASSET_STATES:
                return False
            if any(wanted.get(name) is not None and held.get(name) != wanted.get(name) for name in self.item_attributes):
                return False
        return True


@dataclass(frozen=True)
class Equivalent:
    """Values Apple treats as satisfying what the program declared, although they differ
    (``covers(at_apple, declared)``): a UNIVERSAL App ID serves the IOS the program asked for.
    A diff shows no change for them, and state keeps Apple's value."""

    covers: Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Check:
    """A validation run at ``check`` (preview) time. Returns the reason it failed, or None."""

    validate: Callable[[Any], str | None]


@dataclass(frozen=True)
class ReadAs:
    """Converts the value Apple returns into the shape the input takes (Apple's capability
    settings carry names and descriptions the program never wrote), so reads do not show drift."""

    convert: Callable[[Any], Any]


@dataclass(frozen=True)
class Relationship:
    """The field holds the id(s) of a related object, sent as a JSON:API relationship.

    Flagged ``UPDATABLE``, a to-one relationship is changed in place (a version's build, an app
    info's categories) and read back with ``include=<name>`` (Apple sends a relationship's
    ``data`` only when asked), so drift shows. The change travels in the ``relationships`` member
    of the PATCH of the object itself (where Apple's UpdateRequest has it, an app info's
    categories), or, with ``own_endpoint``, as ``PATCH /v1/<type>/{id}/relationships/<name>``
    (204, no body; Apple's way for a version's build). ``None`` in the program sends
    ``{"data": null}``: the relationship is cleared.
    """

    name: str  # the relationship name on the wire (bundleId, devices, ...)
    related_type: str  # the JSON:API type of the target (bundleIds, devices, ...)
    to_many: bool = False
    own_endpoint: bool = False


@dataclass(frozen=True)
class EditableStates:
    """Apple accepts changes to objects of the type only while the object that carries the
    state (the object itself, or the parent it belongs to) is in one of ``states``: a version's
    texts can be edited in PREPARE_FOR_SUBMISSION, not while it is in review or on sale.

    ``holder`` is the path of that object, a template filled from the object's properties and
    its ``id`` (``/v1/appStoreVersions/{id}`` for a version, ``/v1/appStoreVersions/{version}``
    for its localizations); ``attribute`` the wire name of its state. When Apple refuses a write
    with a 409 (STATE_ERROR, "cannot be edited at this time"), the provider reads the holder and,
    if its state is not editable, fails naming the state and ``advice`` (what to do).
    """

    holder: str
    attribute: str
    states: frozenset[str]
    advice: str


class DeleteSemantics(enum.Enum):
    """What ``pulumi destroy`` does to the remote object."""

    DELETE = "delete"  # DELETE /v1/<type>/{id}
    DISABLE = "disable"  # PATCH status=DISABLED (devices: Apple has no DELETE)
    REVOKE = "revoke"  # certificates: DELETE revokes the certificate
    RELEASE = "release"  # nothing remote happens; the object leaves the stack only
    # The memberships the program declared are removed; the object stays (a beta tester stays
    # on the team, out of this stack's groups).
    DETACH = "detach"


DELETE = DeleteSemantics.DELETE
DISABLE = DeleteSemantics.DISABLE
REVOKE = DeleteSemantics.REVOKE
RELEASE = DeleteSemantics.RELEASE
DETACH = DeleteSemantics.DETACH


class CreateMode(enum.Enum):
    """What ``pulumi up`` does for a resource that is not in the state yet."""

    POST = "post"  # POST a new object (``adopt`` takes over an existing one instead)
    # Apple's API cannot create these (apps, app infos, age ratings): create looks the object
    # up and takes it over, and fails when there is none.
    ADOPT_ONLY = "adopt-only"
    # An object that stands for something outside the account's control (a beta tester is a
    # person, one e-mail address): create takes over the one with the same natural key when
    # it exists, as ``adopt=True`` does, and POSTs only when there is none.
    ADOPT_OR_POST = "adopt-or-post"


POST = CreateMode.POST
ADOPT_ONLY = CreateMode.ADOPT_ONLY
ADOPT_OR_POST = CreateMode.ADOPT_OR_POST


class SpecModel(BaseModel):
    """Base for resource inputs: snake_case in Python, camelCase on the wire, typos rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_enum_values=True,
        str_strip_whitespace=False,
    )


def adopt_value(value: object) -> str | None:
    if isinstance(value, bool) or (isinstance(value, str) and value.strip() and value == value.strip()):
        return None
    return "must be true (take over the object with the same key) or the Apple id of the object to take over"


class Adoptable(SpecModel):
    """Inputs of a type whose existing objects can be taken over instead of created.

    ``adopt=True``: create first looks for the object the program describes (by its natural
    key, compared exactly); if it exists, its create-only properties must equal the program's
    (checked at preview), updatable ones are PATCHed, and it enters the state without a POST.
    If none exists, it is created. ``adopt="<id>"`` takes over that very object (for a
    certificate, its id or serial number), which must exist. Once in the state, an adopted
    object is managed like any other: destroy deletes, revokes or disables it (keep
    ``protect=True`` on objects the stack must never remove).
    """

    adopt: Annotated[Union[StrictBool, StrictStr], LOCAL, Check(adopt_value)] = False


@dataclass(frozen=True)
class FieldSpec:
    """One input or output field with the metadata found on its annotation."""

    name: str  # python / pulumi property name (snake_case)
    wire: str  # JSON:API attribute name (camelCase)
    flags: frozenset[Flag]
    relationship: Relationship | None
    natural_key: NaturalKey | None
    parent: Parent | None
    membership: Membership | None
    assets: Assets | None
    checks: tuple[Check, ...]
    read_as: ReadAs | None
    equivalent: Equivalent | None
    annotation: Any
    default: Any
    required: bool
    enum_values: tuple[str, ...] | None

    def has(self, flag: Flag) -> bool:
        return flag in self.flags

    @property
    def is_attribute(self) -> bool:
        """True when the field travels as a JSON:API attribute. A :class:`Parent` without a
        relationship on the wire (an age rating's app info) says where the object hangs and is
        never sent."""
        return (
            self.relationship is None and self.membership is None and self.assets is None and self.parent is None
            and not self.has(LOCAL)
        )

    @property
    def updates_link(self) -> bool:
        """A to-one relationship the program may change in place (see :class:`Relationship`)."""
        rel = self.relationship
        return rel is not None and not rel.to_many and self.has(UPDATABLE)

    @property
    def sent_on_create(self) -> bool:
        if self.has(LOCAL) or self.has(PATCH_ONLY):
            return False
        return self.has(CREATE_ONLY) or self.has(UPDATABLE) or self.has(WRITE_ONLY)

    @property
    def sent_on_update(self) -> bool:
        return (self.has(UPDATABLE) or self.has(PATCH_ONLY)) and not self.has(LOCAL)

    @property
    def is_input(self) -> bool:
        """Given by the program (everything but outputs Apple or the provider compute)."""
        return not self.has(COMPUTED) or self.filled_by_apple

    @property
    def filled_by_apple(self) -> bool:
        """An optional input that Apple fills in when the program leaves it out (seedId)."""
        return self.has(COMPUTED) and (self.has(CREATE_ONLY) or self.has(UPDATABLE))

    @property
    def made_by_provider(self) -> bool:
        """An output the provider makes itself (a generated key, a .p12), never Apple."""
        return self.has(COMPUTED) and self.has(LOCAL)

    @property
    def keeps_apple_value(self) -> bool:
        """Apple's value may differ from the program's yet satisfy it (a UDID in another letter
        case, a UNIVERSAL App ID): the state keeps Apple's, from the create on."""
        loose_key = self.natural_key is not None and self.natural_key.matches is not exact_match
        return loose_key or self.equivalent is not None

    def same(self, old: Any, new: Any) -> bool:
        """Whether ``old`` (Apple's, or what the state holds) satisfies ``new`` (the program's):
        a diff then shows no change."""
        if self.membership is not None:
            # None: the program does not manage it. A list against an unmanaged (or unread)
            # membership is a change: the update reads Apple's and writes the difference.
            if new is None:
                return True
            return old is not None and sorted(map(str, old)) == sorted(map(str, new))
        if self.assets is not None:
            return new is None or self.assets.satisfied(old, new)
        if self.equivalent is not None and self.equivalent.covers(old, new):
            return True
        if self.natural_key is not None and isinstance(old, str) and isinstance(new, str):
            return self.natural_key.matches(old, new)
        return same_value(old, new)


def _enum_values(annotation: Any) -> tuple[str, ...] | None:
    candidates = [annotation, *get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return tuple(str(member.value) for member in candidate)
    return None


@dataclass(frozen=True)
class Hooks:
    """Apple's special rules for one type, each a small named function. All optional.

    - ``validate(model)``: cross-field checks at preview; returns ``[(field, reason), ...]``.
    - ``resolve(provider, inputs)``: turns selectors into ids at check (may read the API).
    - ``before_create(provider, inputs)``: returns the resource object to take over instead of
      POSTing (a disabled device is re-enabled), or None.
    - ``prepare_create(inputs)``: provider-made values for the create: returns
      ``(extra_wire_attributes, local_outputs)`` (a generated key and CSR).
    - ``derive_outputs(outputs)``: outputs computed locally from what Apple returned
      (the certificate as PEM, a .p12); returns the fields to set.
    - ``replace_reasons(olds, now)``: time- or state-driven replacement (a certificate in its
      renewal window, an INVALID profile); returns the properties to name.
    - ``on_conflict(provider, error, inputs)``: a clearer exception for a 409 on create, or None.
    - ``find_existing(provider, inputs)``: every remote object these inputs could have created
      (looked up after an ambiguous POST failure or a 409), for types without a natural key;
      default: the exact natural-key match.
    - ``existing_before_post(provider, inputs)``: for types whose identity can repeat (a
      certificate from a CSR that was used before), the ids that already match before the POST:
      a look-up after an ambiguous failure never takes one of them for the object it created.
    - ``validate_change(olds, news)``: at preview, program changes Apple cannot honour even by
      replacing the object (a device's platform is fixed per UDID); ``[(field, reason), ...]``.
    - ``delete(provider, id, props)``: a destroy that differs from the spec's delete semantics
      for some inputs (a beta tester deleted from its apps when the program asks); returns
      True when it did the destroy, False to use the spec's semantics.
    """

    validate: Callable[[Any], list[tuple[str, str]]] | None = None
    resolve: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None
    before_create: Callable[[Any, dict[str, Any]], dict[str, Any] | None] | None = None
    prepare_create: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]] | None = None
    derive_outputs: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    replace_reasons: Callable[[dict[str, Any], Any], list[str]] | None = None
    on_conflict: Callable[[Any, Exception, dict[str, Any]], Exception | None] | None = None
    find_existing: Callable[[Any, dict[str, Any]], list[dict[str, Any]]] | None = None
    existing_before_post: Callable[[Any, dict[str, Any]], set[str]] | None = None
    validate_change: Callable[[dict[str, Any], dict[str, Any]], list[tuple[str, str]]] | None = None
    delete: Callable[[Any, str, dict[str, Any]], bool] | None = None


NO_HOOKS = Hooks()


@dataclass(frozen=True)
class ResourceSpec:
    """Everything generic code needs to manage one App Store Connect type.

    ``collection_path`` defaults to ``/v1/<rest_type>``. When Apple has no GET for one
    object, ``read_via`` is the child listing that holds it, a template filled from the
    inputs (capabilities are read through ``/v1/bundleIds/{bundle_id}/bundleIdCapabilities``).
    ``unsupported`` maps property names users reach for to why the public API cannot do it.
    """

    rest_type: str
    inputs: type[SpecModel]
    delete: DeleteSemantics = DELETE
    create: CreateMode = POST
    collection_path: str | None = None
    read_via: str | None = None
    # Wire names Apple accepts in ``filter[...]`` on the collection GET (``id`` included). A
    # spec that declares them has a collection GET: the read cache lists the type there.
    filters: tuple[str, ...] = ()
    # Relationships that collection GET can include (Apple's spec lists them for the endpoint),
    # with the most related items Apple includes per object (its ``limit[<name>]`` maximum).
    # The read cache lists the type with them: included children fill each parent's child
    # listing, included linkages answer membership reads while complete.
    includes: Mapping[str, int] = field(default_factory=dict)
    # Replace by deleting first even when the natural key changes (unique names: profiles).
    delete_before_replace: bool = False
    # Attributes that identify an object for ``adopt="<value>"`` besides its id (a certificate's
    # serialNumber), looked up with ``filter[<wire>]`` and compared exactly.
    adopt_by: tuple[str, ...] = ()
    # A 409 on create means Apple already holds the object as asked (a capability Apple enables
    # by default on new App IDs): take it over instead of failing.
    converge_on_conflict: bool = False
    # Replace when, earlier in the same operation, an object of another type sharing this
    # relationship value changed: (their type, the shared relationship field, the property to
    # name). A profile is regenerated after a capability of its App ID changed, because Apple
    # invalidates the App ID's profiles then.
    regenerate_after: tuple[tuple[str, str, str], ...] = ()
    unsupported: Mapping[str, str] = field(default_factory=dict)
    # Apple has no GET for one object (an age rating declaration): it is read through its
    # parent's to-one endpoint (``Parent(..., to_one=True)``) and must carry the state's id.
    read_through_parent: bool = False
    # The states in which Apple accepts writes (a version in review or on sale refuses them).
    editable: EditableStates | None = None
    hooks: Hooks = NO_HOOKS
    fields: tuple[FieldSpec, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self._collect_fields()))

    def _collect_fields(self) -> Iterator[FieldSpec]:
        for name, info in self.inputs.model_fields.items():
            metadata = list(info.metadata)
            flags = frozenset(m for m in metadata if isinstance(m, Flag))
            relationship = next((m for m in metadata if isinstance(m, Relationship)), None)
            natural_key = next((m for m in metadata if isinstance(m, NaturalKey)), None)
            parent = next((m for m in metadata if isinstance(m, Parent)), None)
            membership = next((m for m in metadata if isinstance(m, Membership)), None)
            assets = next((m for m in metadata if isinstance(m, Assets)), None)
            checks = tuple(m for m in metadata if isinstance(m, Check))
            read_as = next((m for m in metadata if isinstance(m, ReadAs)), None)
            equivalent = next((m for m in metadata if isinstance(m, Equivalent)), None)
            wire = info.alias or to_camel(name)
            yield FieldSpec(
                name=name,
                wire=wire,
                flags=flags,
                relationship=relationship,
                natural_key=natural_key,
                parent=parent,
                membership=membership,
                assets=assets,
                checks=checks,
                read_as=read_as,
                equivalent=equivalent,
                annotation=_validation_type(info.annotation, metadata),
                default=None if info.is_required() else info.get_default(call_default_factory=True),
                required=info.is_required(),
                enum_values=_enum_values(info.annotation),
            )

    @property
    def path(self) -> str:
        return self.collection_path or f"/v1/{self.rest_type}"

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def with_flag(self, flag: Flag) -> list[FieldSpec]:
        return [f for f in self.fields if f.has(flag)]

    @property
    def natural_key(self) -> FieldSpec | None:
        return next((f for f in self.fields if f.natural_key is not None), None)

    @property
    def natural_keys(self) -> list[FieldSpec]:
        """Every attribute of the key (all must match), in declaration order."""
        return [f for f in self.fields if f.natural_key is not None]

    @property
    def parent(self) -> FieldSpec | None:
        """The relationship that scopes the natural key (:class:`Parent`), if any."""
        return next((f for f in self.fields if f.parent is not None), None)

    @property
    def memberships(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.membership is not None]

    @property
    def asset_fields(self) -> list[FieldSpec]:
        """Fields of local files Apple keeps as child assets (:class:`Assets`)."""
        return [f for f in self.fields if f.assets is not None]

    @property
    def identified(self) -> bool:
        """Objects can be looked up by what the program says: a natural key, or a parent
        that holds one object of this type."""
        return self.natural_key is not None or self.parent is not None

    @property
    def attributes(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.is_attribute]

    @property
    def linked_in_place(self) -> list[FieldSpec]:
        """To-one relationships changed by PATCH rather than by replacing the object."""
        return [f for f in self.fields if f.updates_link]

    @property
    def relationships(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.relationship is not None]

    @property
    def adoptable(self) -> bool:
        """The program can ask to take over an existing object (``adopt``)."""
        return "adopt" in self.inputs.model_fields

    @property
    def post_is_unique(self) -> bool:
        """Apple refuses a second object with the same identity (409), so re-sending a POST
        whose fate is unknown cannot duplicate it."""
        keys = self.natural_keys
        return (bool(keys) and all(f.natural_key.unique for f in keys if f.natural_key)) or self.converge_on_conflict

    @property
    def secret_outputs(self) -> list[str]:
        return [f.name for f in self.with_flag(SECRET)]

    def wire_to_name(self) -> dict[str, str]:
        return {f.wire: f.name for f in self.fields}


_OURS = (Flag, Check, NaturalKey, Parent, Membership, Assets, Relationship, ReadAs, Equivalent)


def _validation_type(annotation: Any, metadata: list[Any]) -> Any:
    """The field's type with pydantic's own metadata (validators, constraints) kept."""
    theirs = [m for m in metadata if not isinstance(m, _OURS)]
    return Annotated[(annotation, *theirs)] if theirs else annotation


def is_optional(annotation: Any) -> bool:
    return get_origin(annotation) is not None and type(None) in get_args(annotation)
