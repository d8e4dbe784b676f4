"""Rendering an :class:`~.snapshot.Account` as a Pulumi Python program (pure: no I/O).

The program declares every object with ``adopt`` and ``protect=True``, one resource per
statement, relationships as references (``bundle_id=bundle_com_example_app.id``), in a fixed
order (bundle IDs with their capabilities, devices, certificates, profiles; each sorted by what
identifies it), so the same account always renders to the same bytes.

An object the first ``up`` could not take over unchanged is left commented out with the reason
(``# NOT DECLARED: ...``): anything the provider's own checks refuse (a platform or type this
version does not know), an expired certificate, an INVALID or expired profile (declared, the
next ``up`` would delete and regenerate it). A reference to an object the program does not
declare is its Apple id, with a comment saying why. Lines a person must decide on carry
``ACTION``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from ..client.documents import parse_timestamp
from ..reconciler import validate_inputs
from ..resources import SPECS
from ..resources.certificate import DEFAULT_RENEW_BEFORE_DAYS, in_renewal_window
from ..resources.profile import DEVICE_LIST_SUFFIXES
from . import naming
from .snapshot import (
    KINDS,
    Account,
    BundleIdRecord,
    CapabilityRecord,
    CertificateRecord,
    DeviceRecord,
    ProfileRecord,
)

WIDTH = 100  # comment lines are wrapped to this width
NOT_DECLARED = "NOT DECLARED"
ACTION = "ACTION"

LABELS = {
    "bundleIds": "bundle ID",
    "bundleIdCapabilities": "capability",
    "devices": "device",
    "certificates": "certificate",
    "profiles": "profile",
}
PLURALS = {kind: "capabilities" if kind == "bundleIdCapabilities" else f"{label}s" for kind, label in LABELS.items()}
CLASSES = {spec.rest_type: token for token, spec in SPECS.items() if spec.rest_type in KINDS}  # kind → class name

UNIVERSAL_NOTE = "UNIVERSAL: one App ID for iOS and macOS (made in the web portal). Apple cannot change a platform: keep it."
DISABLED_NOTE = (
    "{status} in App Store Connect, and declared so: up leaves it that way (a disabled device still "
    'counts against the yearly device limit). status="ENABLED" enables it again.'
)

NO_CERTIFICATE = f"{ACTION}: no certificate left (Apple drops revoked ones): a new profile needs one"
WEB_UI_NOTE = "{assignment} assignments are made in the web UI (the API cannot): this keeps the capability enabled."

# Capabilities whose assignments only the web UI can make (the resource refuses them).
WEB_UI_ASSIGNMENTS = {
    "APP_GROUPS": "App Group",
    "ICLOUD": "iCloud container",
    "APPLE_PAY": "Apple Pay merchant ID",
}


@dataclass(frozen=True)
class Program:
    """The rendered ``__main__.py`` and what it declares (or leaves commented out), per kind."""

    source: str
    declared: dict[str, int]
    not_declared: dict[str, int]


@dataclass
class _Plan:
    """One object to render: its name, inputs (Apple ids for references) and whether it is
    declared or left commented out (``reason``)."""

    kind: str
    record: Any
    var: str
    inputs: dict[str, Any]
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    # False where uncommenting means letting the next up replace it (protect would refuse that).
    protect: bool = True

    @property
    def declared(self) -> bool:
        return self.reason is None


# -- values as Python source -------------------------------------------------------------------


def py_literal(value: Any) -> str:
    """``value`` (str, bool, int, None, lists and dicts of them) as Python source, strings in
    double quotes where that needs no escaping of single quotes."""
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'"):
            text = '"' + text[1:-1].replace('"', '\\"') + '"' if "'" not in value else text
        return text
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot render {type(value).__name__} as a literal")


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False, break_long_words=False)


def _day(timestamp: str) -> str:
    return parse_timestamp(timestamp).date().isoformat()


@dataclass(frozen=True)
class _Ref:
    """A value referring to another object: ``var.id``, or its Apple id with a comment."""

    source: str
    comment: str | None = None


def _list(items: list[_Ref], indent: str) -> str:
    if not items:
        return "[]"
    inner = [f"{indent}    {item.source},{f'  # {item.comment}' if item.comment else ''}" for item in items]
    return "\n".join(["[", *inner, f"{indent}]"])


# -- the renderer ------------------------------------------------------------------------------


class _Renderer:
    def __init__(self, account: Account, now: datetime) -> None:
        self.account = account
        self.now = now
        self.bundles = {b.id: b for b in account.bundle_ids}
        self.plans: dict[tuple[str, str], _Plan] = {}
        self._plan_all()

    # -- plans: names, inputs, what is left out --------------------------------------------------

    def _names(self) -> dict[tuple[str, str], str]:
        """(kind, Apple id) → resource name. A capability's name extends its bundle ID's."""
        account = self.account
        bundles = naming.unique({f"bundleIds/{b.id}": naming.name("bundle", b.identifier) for b in account.bundle_ids})
        wanted: dict[str, str] = {}
        for c in account.capabilities:
            bundle = bundles.get(f"bundleIds/{c.bundle_id}", f"bundle_{naming.slug(c.bundle_id)}")
            wanted[f"bundleIdCapabilities/{c.id}"] = naming.name("cap", bundle.removeprefix("bundle_"), c.capability_type)
        for d in account.devices:
            wanted[f"devices/{d.id}"] = naming.name("device", d.name if naming.slug(d.name) else d.udid)
        for c in account.certificates:
            wanted[f"certificates/{c.id}"] = naming.name("cert", c.certificate_type, c.display_name or "")
        for p in account.profiles:
            wanted[f"profiles/{p.id}"] = naming.name("profile", p.name if naming.slug(p.name) else p.id)
        names = {**bundles, **naming.unique(wanted)}  # the kind prefixes keep the kinds apart
        return {tuple(key.split("/", 1)): n for key, n in names.items()}  # type: ignore[misc]

    def _plan_all(self) -> None:
        account = self.account
        var = self._names()
        for b in account.bundle_ids:
            self._add(_Plan("bundleIds", b, var[("bundleIds", b.id)], {
                "identifier": b.identifier, "platform": b.platform, "name": b.name, "adopt": True,
            }, notes=[UNIVERSAL_NOTE] if b.platform == "UNIVERSAL" else []))
        for c in account.capabilities:
            assignment = WEB_UI_ASSIGNMENTS.get(c.capability_type)
            self._add(_Plan("bundleIdCapabilities", c, var[("bundleIdCapabilities", c.id)], {
                "bundle_id": c.bundle_id, "capability_type": c.capability_type, "settings": c.settings, "adopt": True,
            }, notes=[WEB_UI_NOTE.format(assignment=assignment)] if assignment else []))
        for d in account.devices:
            self._add(_Plan("devices", d, var[("devices", d.id)], {
                "udid": d.udid, "platform": d.platform, "name": d.name, "status": d.status, "adopt": True,
            }, notes=[DISABLED_NOTE.format(status=d.status)] if d.status != "ENABLED" else []))
        for c in account.certificates:
            self._add(self._certificate_plan(c, var[("certificates", c.id)]))
        for p in account.profiles:
            self._add(self._profile_plan(p, var[("profiles", p.id)]))

    def _add(self, plan: _Plan) -> None:
        if plan.kind not in self.account.kinds:
            plan.reason = "not imported"  # read only to name and describe references
        elif plan.reason is None:
            refused = validate_inputs(SPECS[CLASSES[plan.kind]], plan.inputs)
            if refused:
                plan.reason = (
                    "this version of the provider would refuse it at preview: "
                    + "; ".join(reason for _name, reason in refused)
                    + ". Manage it in App Store Connect, or declare it once the provider supports it."
                )
        self.plans[(plan.kind, plan.record.id)] = plan

    def _certificate_plan(self, c: CertificateRecord, var: str) -> _Plan:
        days = DEFAULT_RENEW_BEFORE_DAYS
        what = self.describe(c)
        plan = _Plan("certificates", c, var, {"certificate_type": c.certificate_type, "adopt": c.id})
        if c.expiration_date is None:
            plan.notes.append(f"{what}; Apple reports no expiration date.")
        elif parse_timestamp(c.expiration_date) <= self.now:
            plan.protect = False
            plan.reason = (
                f"expired on {_day(c.expiration_date)}: nothing can be signed with it. Declared, the "
                "first up would take it over and the next would replace it with a new certificate (a POST, "
                "then the revocation of this one). Uncomment it to have the stack make its successor (it is written "
                "with protect=False: protect would refuse the replacement)."
            )
        elif in_renewal_window(c.expiration_date, days, self.now):
            days = 0
            plan.notes.append(
                f"{ACTION}: {what} expires on {_day(c.expiration_date)}, within {DEFAULT_RENEW_BEFORE_DAYS} "
                f"days: renew_before_days=0 keeps the first up from renewing it; once it has expired, up "
                f"renews it (a new certificate and key made by the provider; the profiles using it are "
                f"regenerated, then this one is revoked), once protect allows it. Renew it yourself before "
                f"then, or set renew_before_days={DEFAULT_RENEW_BEFORE_DAYS} and protect=False to let the next up do it."
            )
        else:
            renews = parse_timestamp(c.expiration_date) - timedelta(days=days)
            plan.notes.append(
                f"{what} expires on {_day(c.expiration_date)}; the first up on or after "
                f"{renews.date().isoformat()} renews it (renew_before_days), once protect allows it."
            )
        plan.inputs["renew_before_days"] = days
        return plan

    def _profile_plan(self, p: ProfileRecord, var: str) -> _Plan:
        inputs: dict[str, Any] = {
            "name": p.name,
            "profile_type": p.profile_type,
            "bundle_id": p.bundle_id,
            "certificates": sorted(p.certificates),
            "adopt": True,
        }
        if p.devices or p.profile_type.endswith(DEVICE_LIST_SUFFIXES):
            inputs["devices"] = sorted(p.devices)
        plan = _Plan("profiles", p, var, inputs)
        consequence = (
            "Declared, the first up would take it over and the next would delete it and create a "
            "valid one with the same name (a DELETE and a POST): uncomment it to have the stack "
            "regenerate it (it is written with protect=False: protect would refuse the replacement; check "
            "that its certificates and devices are ones you keep), or delete it in App Store Connect."
        )
        if p.profile_state == "INVALID":
            plan.protect = False
            plan.reason = (
                "Apple marked this profile INVALID (a certificate in it was revoked or has expired, or a "
                f"capability of its App ID changed after it was made): nothing can be signed with it. {consequence}"
            )
        elif p.expiration_date and parse_timestamp(p.expiration_date) <= self.now:
            plan.protect = False
            plan.reason = f"this profile expired on {_day(p.expiration_date)}. {consequence}"
        elif p.xcode_managed:
            plan.reason = (
                "Xcode manages this profile (automatic signing) and makes it again whenever its devices or "
                "certificates change: the stack would see it replaced under it. Leave it to Xcode, or switch "
                "the target to manual signing and declare a profile of your own."
            )
        return plan

    # -- references ------------------------------------------------------------------------------

    def ref(self, kind: str, apple_id: str | None) -> _Ref:
        if apple_id is None:
            return _Ref("None", f"App Store Connect reports no {LABELS[kind]}")
        plan = self.plans.get((kind, apple_id))
        if plan is None and kind not in self.account.kinds:
            return _Ref(py_literal(apple_id), f"a {LABELS[kind]}: {PLURALS[kind]} not imported (--types)")
        if plan is None:
            return _Ref(py_literal(apple_id), f"not among the account's {PLURALS[kind]}")
        if plan.declared:
            return _Ref(f"{plan.var}.id")
        why = f"{PLURALS[kind]} not imported (--types)" if plan.kind not in self.account.kinds else "not declared above"
        return _Ref(py_literal(apple_id), f"{self.describe(plan.record)}: {why}")

    def describe(self, record: Any) -> str:
        """What a person knows the object by, for comments."""
        if isinstance(record, BundleIdRecord):
            return record.identifier
        if isinstance(record, CapabilityRecord):
            bundle = self.bundles.get(record.bundle_id)
            return f"{record.capability_type} on {bundle.identifier if bundle else record.bundle_id}"
        if isinstance(record, DeviceRecord):
            return f"{record.name} ({record.udid})"
        if isinstance(record, CertificateRecord):
            serial = f" (serial {record.serial_number})" if record.serial_number else ""
            return f"{record.name or record.certificate_type}{serial}"
        return f"profile {record.name!r}"

    # -- statements ------------------------------------------------------------------------------

    def statement(self, plan: _Plan) -> list[str]:
        args = getattr(self, f"_args_{plan.kind}")(plan)
        lines = [f"{plan.var} = {CLASSES[plan.kind]}(", f"    {py_literal(plan.var)},"]
        for keyword, value, comment in args:
            lines.append(f"    {keyword}={value},{f'  # {comment}' if comment else ''}")
        lines = "\n".join([*lines, ")"]).splitlines()  # values may span lines
        notes = [line for note in plan.notes for line in _comment(note)]
        if plan.declared:
            return notes + lines
        reason = _comment(f"{NOT_DECLARED}: {self.describe(plan.record)}: {plan.reason}")
        return reason + notes + [f"# {line}" for line in lines]

    def _args_bundleIds(self, plan: _Plan) -> list[tuple[str, str, str | None]]:
        b: BundleIdRecord = plan.record
        return [
            ("identifier", py_literal(b.identifier), None),
            ("platform", py_literal(b.platform), None),
            ("name", py_literal(b.name), None),
            *self._adopted(plan, True),
        ]

    def _args_bundleIdCapabilities(self, plan: _Plan) -> list[tuple[str, str, str | None]]:
        c: CapabilityRecord = plan.record
        bundle = self.ref("bundleIds", c.bundle_id)
        args = [
            ("bundle_id", bundle.source, bundle.comment),
            ("capability_type", py_literal(c.capability_type), None),
        ]
        if c.settings is not None:
            args.append(("settings", py_literal(c.settings), None))
        return [*args, *self._adopted(plan, True)]

    def _args_devices(self, plan: _Plan) -> list[tuple[str, str, str | None]]:
        d: DeviceRecord = plan.record
        args = [
            ("udid", py_literal(d.udid), d.model),
            ("platform", py_literal(d.platform), None),
            ("name", py_literal(d.name), None),
        ]
        if d.status != "ENABLED":
            args.append(("status", py_literal(d.status), None))
        return [*args, *self._adopted(plan, True)]

    def _args_certificates(self, plan: _Plan) -> list[tuple[str, str, str | None]]:
        c: CertificateRecord = plan.record
        return [
            ("certificate_type", py_literal(c.certificate_type), None),
            ("renew_before_days", py_literal(plan.inputs["renew_before_days"]), None),
            *self._adopted(plan, c.id),
        ]

    def _args_profiles(self, plan: _Plan) -> list[tuple[str, str, str | None]]:
        p: ProfileRecord = plan.record
        bundle = self.ref("bundleIds", p.bundle_id)
        args = [
            ("name", py_literal(p.name), None),
            ("profile_type", py_literal(p.profile_type), None),
            ("bundle_id", bundle.source, bundle.comment),
            ("certificates", _list(self._refs("certificates", p.certificates), "    "), None if p.certificates else NO_CERTIFICATE),
        ]
        if "devices" in plan.inputs:
            args.append(("devices", _list(self._refs("devices", p.devices), "    "), None))
        capabilities = sorted(
            q.var for q in self.plans.values()
            if q.kind == "bundleIdCapabilities" and q.declared and q.record.bundle_id == p.bundle_id
        )
        if not capabilities:
            return [*args, *self._adopted(plan, True)]
        depends_on = _list([_Ref(var) for var in capabilities], "        ")
        opts = f"pulumi.ResourceOptions(\n        protect={plan.protect},\n        depends_on={depends_on},\n    )"
        return [*args, ("adopt", "True", None), ("opts", opts, None)]

    def _refs(self, kind: str, ids: Iterable[str]) -> list[_Ref]:
        refs = [self.ref(kind, i) for i in ids]
        return sorted(refs, key=lambda r: (r.source.startswith('"'), r.source))

    @staticmethod
    def _adopted(plan: _Plan, adopt: bool | str) -> list[tuple[str, str, str | None]]:
        opts = "PROTECTED" if plan.protect else "pulumi.ResourceOptions(protect=False)"
        return [("adopt", py_literal(adopt), None), ("opts", opts, None)]

    # -- the module ------------------------------------------------------------------------------

    def ordered(self) -> list[_Plan]:
        """Bundle IDs each followed by its capabilities, then devices, certificates, profiles."""
        capabilities: dict[str, list[_Plan]] = {}
        for plan in self.plans.values():
            if plan.kind == "bundleIdCapabilities":
                capabilities.setdefault(plan.record.bundle_id, []).append(plan)
        bundles = sorted((p for p in self.plans.values() if p.kind == "bundleIds"), key=lambda p: (p.record.identifier, p.record.id))
        ordered: list[_Plan] = []
        for bundle in bundles:
            ordered.append(bundle)
            ordered += sorted(capabilities.pop(bundle.record.id, []), key=lambda p: p.record.capability_type)
        ordered += sorted((p for ps in capabilities.values() for p in ps), key=lambda p: (p.record.bundle_id, p.record.capability_type))
        keys = {
            "devices": lambda p: (p.record.name.casefold(), p.record.udid.casefold(), p.record.id),
            "certificates": lambda p: (p.record.certificate_type, p.record.expiration_date or "", p.record.id),
            "profiles": lambda p: (p.record.name, p.record.id),
        }
        for kind, key in keys.items():
            ordered += sorted((p for p in self.plans.values() if p.kind == kind), key=key)
        return [p for p in ordered if p.kind in self.account.kinds]

    def render(self) -> Program:
        plans = self.ordered()
        declared = {kind: sum(1 for p in plans if p.kind == kind and p.declared) for kind in KINDS if kind in self.account.kinds}
        left_out = {kind: sum(1 for p in plans if p.kind == kind and not p.declared) for kind in declared}
        used = sorted({CLASSES[p.kind] for p in plans})
        lines = _header(declared, left_out, self.account.kinds)
        if used:
            lines += ["", "import pulumi", "", f"from pulumi_appstoreconnect import {', '.join(used)}", ""]
            lines += _comment(
                "protect=True: `pulumi destroy`, or deleting a resource from this file, fails instead of "
                "deleting, revoking or disabling the object in App Store Connect. It refuses replacements "
                "too: when a profile must be regenerated (a device added to it, a certificate renewed) or a "
                "certificate renewed, `pulumi preview` fails naming the resource and `up` changes nothing. "
                f"{ACTION}: set protect=False on what the stack should renew and regenerate (profiles, "
                "certificates) once you trust the program, and run `pulumi up`."
            )
            lines += ["PROTECTED = pulumi.ResourceOptions(protect=True)"]
        section = None
        for plan in plans:
            if _SECTIONS[plan.kind][0] != section:
                section = _SECTIONS[plan.kind][0]
                lines += ["", "", f"# -- {section} ".ljust(WIDTH, "-")]
                lines += [line for text in _SECTIONS[plan.kind][1] for line in _comment(text)]
            lines += [""] + self.statement(plan)
        return Program("\n".join(lines) + "\n", declared, left_out)


_SECTIONS: dict[str, tuple[str, list[str]]] = {
    "bundleIds": ("Bundle IDs (App IDs) and their capabilities", [
        "Game Center and In-App Purchase are on every explicit App ID: Apple enables them itself.",
    ]),
    "devices": ("Devices", [
        "Apple cannot delete a device: without protect, destroy (or removing it from this file) disables it.",
    ]),
    "certificates": ("Certificates", [
        "Adopted by id: Apple has no other key for them. The state holds no private key for an adopted "
        "certificate (Apple never had it): keep signing with the key from the machine that made its CSR "
        "(export a .p12 from its keychain). When a certificate comes within renew_before_days of its "
        "expiry, up renews it: a new certificate with a key the provider makes (outputs private_key_pem, "
        "p12, p12_password), the profiles using it regenerated, then the old one revoked; protect=True "
        "refuses that until you lift it.",
    ]),
    "profiles": ("Provisioning profiles", [
        "Apple cannot edit a profile: any change to one below (a device added to its list, a renewed "
        "certificate) deletes it and creates it again with the same name and a new UUID, which "
        "protect=True refuses until you lift it. depends_on lists its App ID's capabilities: an up "
        "that changes one of them (which invalidates the profile at Apple) regenerates the profile too.",
    ]),
}
_SECTIONS["bundleIdCapabilities"] = _SECTIONS["bundleIds"]


def count_words(counts: dict[str, int]) -> str:
    """``4 bundle IDs, 1 device`` for the kinds counted more than zero times."""
    return ", ".join(f"{n} {LABELS[k] if n == 1 else PLURALS[k]}" for k, n in counts.items() if n)


def _header(declared: dict[str, int], left_out: dict[str, int], kinds: frozenset[str]) -> list[str]:
    counts = count_words(declared)
    skipped = sum(left_out.values())
    lines = [
        '"""The App Store Connect account as `pulumi-appstoreconnect import` read it.',
        "",
        f"Declared: {counts or 'nothing'}" + (f"; {skipped} more left commented out." if skipped else "."),
    ]
    if set(kinds) != set(KINDS):
        lines.append(f"Kinds imported: {', '.join(k for k in KINDS if k in kinds)} (--types).")
    lines += [
        "",
        "Every resource has adopt=True (adopt=\"<id>\" for certificates): the first `pulumi up` takes the",
        "existing objects over instead of creating them, and sends no POST. Before it, review:",
        f'- "{ACTION}" comments: decisions to make;',
        f'- "{NOT_DECLARED}" comments: objects left out of the program, and why.',
        "",
        "Then: `pulumi stack init`, set the credentials (`pulumi config set appstoreconnect:keyId ...`,",
        "see the package README), `pulumi preview` (each resource shows as a create: that is the",
        "adoption), `pulumi up`, and `pulumi preview --expect-no-changes` to see the stack match the account.",
        '"""',
    ]
    return lines


def render_program(account: Account, *, now: datetime) -> Program:
    """The ``__main__.py`` declaring ``account``. ``now`` decides what has expired or is due for
    renewal; everything else depends on the account only."""
    return _Renderer(account, now).render()


def render_project(program: Program, *, project_name: str, version: str) -> dict[str, str]:
    """Every file of the generated project: file name → text."""
    return {
        "Pulumi.yaml": (
            f"name: {project_name}\n"
            "description: App Store Connect account, generated by pulumi-appstoreconnect import\n"
            "runtime:\n"
            "  name: python\n"
            "  options:\n"
            "    toolchain: pip\n"
            "    virtualenv: venv\n"
        ),
        "requirements.txt": f"pulumi-appstoreconnect=={version}\n",
        ".gitignore": "venv/\n__pycache__/\n",
        "__main__.py": program.source,
    }
