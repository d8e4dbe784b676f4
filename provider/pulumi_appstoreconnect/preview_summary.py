"""Markdown summaries of ``pulumi preview --json`` for CI: what a pull request changes, and what
drifted in App Store Connect.

``pulumi-appstoreconnect preview-summary`` and ``drift-summary`` read the JSON document the
CLI prints (stdin or a file) and write Markdown for a pull-request comment or
``$GITHUB_STEP_SUMMARY``. Per resource step (create, update, delete, replace) it shows the
properties that differ, before and after, from the step's old and new inputs (or its
``diffReasons`` when secrets hide the values). The provider's warnings about properties Apple
cannot change in place (``warning: <type> <id> differs from the program ...``, which reach the
JSON as diagnostics) mark those properties: ``pulumi up`` refuses them instead of replacing the
object. Errors (a 401, a 403, a program that does not run) are shown instead, with the
provider's hint.

Values are shown as the JSON holds them: secrets stay ``[secret]`` (``--show-secrets`` is
never needed) and unknown values read "known after up". The fixtures in
``tests/unit/fixtures/preview_json/`` are real output of the pinned CLI.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, TextIO

__all__ = ["CreateOnlyDrift", "Preview", "PreviewUnreadable", "ResourceChange", "render", "summary_command"]

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's sentinel for a value known after up
OPS = {"create": "create", "update": "update", "delete": "delete", "replace": "replace",
       "create-replacement": "replace", "delete-replaced": "replace", "import": "import"}  # fmt: skip
MAX_ROWS = 200
MAX_VALUE = 80

_WARNING = re.compile(
    r"(?:warning: )?(?P<type>\w+) (?P<id>\S+) differs from the program in properties Apple cannot change "
    r"in place \((?P<found>.*?)\)\. A refresh read this",
    re.S,
)
_FOUND = re.compile(r"(?P<name>\w+): App Store Connect has (?P<remote>.+?), the program says (?P<declared>.+?)(?=; \w+: App Store Connect has |$)", re.S)
_ERROR_PREFIX = re.compile(r"^(error: )?(Preview failed: )?(Exception calling application: )?")


class PreviewUnreadable(ValueError):
    """The input is not the document ``pulumi preview --json`` prints."""


@dataclass
class CreateOnlyDrift:
    """One property the provider warned about: Apple's value differs, and Apple cannot change it."""

    rest_type: str
    object_id: str
    name: str
    remote: str
    declared: str


@dataclass
class ResourceChange:
    """One resource the preview would touch, and how."""

    op: str
    type: str  # "BundleId"
    name: str  # the Pulumi resource name
    id: str | None
    properties: list[tuple[str, Any, Any]] = field(default_factory=list)  # (name, before, after)
    reasons: list[str] = field(default_factory=list)  # replaceReasons


@dataclass
class Preview:
    stack: str | None
    changes: list[ResourceChange]
    drifts: list[CreateOnlyDrift]
    errors: list[tuple[str | None, str]]  # (resource name, message)
    summary: dict[str, int]

    @classmethod
    def parse(cls, text: str) -> Preview:
        """Read the JSON document (raises :class:`PreviewUnreadable`)."""
        if not text.strip():
            raise PreviewUnreadable("no preview output: pulumi failed before it could preview (see the job log)")
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise PreviewUnreadable(f"not the JSON of `pulumi preview --json`: {exc}") from None
        if not isinstance(document, dict) or not ({"steps", "diagnostics"} & set(document)):
            raise PreviewUnreadable("not the JSON of `pulumi preview --json` (no steps, no diagnostics)")
        steps = [s for s in document.get("steps") or [] if isinstance(s, dict)]
        diagnostics = [d for d in document.get("diagnostics") or [] if isinstance(d, dict)]
        summary = {k: v for k, v in (document.get("changeSummary") or {}).items() if k != "same" and v}
        return cls(_stack(steps), _changes(steps), _drifts(diagnostics), _errors(diagnostics), summary)

    def create_only(self, change: ResourceChange, name: str) -> bool:
        return any(d.object_id == change.id and d.name == name for d in self.drifts)


def _stack(steps: list[dict[str, Any]]) -> str | None:
    for step in steps:
        urn = str(step.get("urn", ""))
        if urn.startswith("urn:pulumi:"):
            return urn.split("::")[0].removeprefix("urn:pulumi:")
    return None


def _inputs(state: Any) -> dict[str, Any]:
    inputs = state.get("inputs") if isinstance(state, dict) else None
    return {k: v for k, v in (inputs or {}).items() if not k.startswith("_")}  # __provider, _provenance


def _changes(steps: list[dict[str, Any]]) -> list[ResourceChange]:
    by_urn: dict[str, ResourceChange] = {}
    for step in steps:
        op = OPS.get(str(step.get("op")))
        urn = str(step.get("urn", ""))
        old, new = step.get("oldState") or {}, step.get("newState") or {}
        kind = str(new.get("type") or old.get("type") or "")
        if op is None or kind.startswith("pulumi:"):  # the stack itself, providers
            continue
        change = by_urn.get(urn)
        if change is None:
            change = by_urn[urn] = ResourceChange(op, kind.rsplit(":", 1)[-1], urn.split("::")[-1], old.get("id") or new.get("id"))
        change.op = "replace" if op == "replace" else change.op
        change.reasons = sorted({*change.reasons, *(step.get("replaceReasons") or [])})
        if change.properties:
            continue
        before, after = _inputs(old), _inputs(new)
        names = step.get("diffReasons") or sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
        if op in ("create", "delete"):  # the whole object comes or goes
            names = []
        change.properties = [(n, before.get(n), after.get(n)) for n in names]
    return list(by_urn.values())


def _drifts(diagnostics: list[dict[str, Any]]) -> list[CreateOnlyDrift]:
    found: list[CreateOnlyDrift] = []
    for diagnostic in diagnostics:
        for match in _WARNING.finditer(str(diagnostic.get("message", ""))):
            for item in _FOUND.finditer(match.group("found")):
                drift = CreateOnlyDrift(match.group("type"), match.group("id"), item.group("name"), item.group("remote"), item.group("declared"))
                if drift not in found:
                    found.append(drift)
    return found


def _errors(diagnostics: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    errors: list[tuple[str | None, str]] = []
    for diagnostic in diagnostics:
        if diagnostic.get("severity") != "error":
            continue
        message = _ERROR_PREFIX.sub("", str(diagnostic.get("message", "")).strip())
        urn = diagnostic.get("urn")
        if message and message not in ("preview failed", "update failed"):
            errors.append((str(urn).split("::")[-1] if urn else None, message))
    return errors


# -- Markdown ----------------------------------------------------------------------------


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if value == UNKNOWN:
        return "*known after up*"
    text = json.dumps(value, ensure_ascii=False) if not (isinstance(value, str) and value == "[secret]") else value
    if len(text) > MAX_VALUE:
        text = text[: MAX_VALUE - 1] + "…"
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _resource(change: ResourceChange) -> str:
    return f"{change.type} `{change.name}`" + (f" (`{change.id}`)" if change.id else "")


def _rows(preview: Preview, *, drift: bool) -> Iterable[list[str]]:
    for change in preview.changes:
        who = _resource(change)
        if change.op == "create":
            yield [who, "—", "*nothing*" if drift else "*not created yet*", "*declared*", "create it"]
        elif change.op == "delete":
            yield [who, "—", "*exists*", "*not declared*", "delete it (devices: disable; certificates: revoke)"]
        elif change.op == "replace" and not change.properties:
            reasons = ", ".join(f"`{r}`" for r in change.reasons) or "see the log"
            yield [who, "—", "", "", f"**replace** it (because of {reasons})"]
        for name, before, after in change.properties:
            if change.op == "replace":
                action = "**replace** it: cannot change in place" if name in change.reasons else "set on the replacement"
            elif preview.create_only(change, name):
                action = "**refuse**: Apple cannot change it in place (see below)"
            else:
                action = "set the program's value" if drift else "update it in place"
            yield [who, f"`{name}`", _value(before), _value(after), action]


def render(preview: Preview, *, drift: bool) -> str:
    """Markdown: a heading, the table of what differs, the provider's warnings and any errors."""
    stack = f" `{preview.stack}`" if preview.stack else ""
    title = f"## App Store Connect drift:{stack}" if drift else f"## Pulumi preview:{stack}"
    lines = [title, ""]
    if preview.errors:
        lines += [
            "**The drift check could not run**: the preview failed, so nothing is known about drift."
            if drift else "**The preview failed.**",
            "",
        ]
        for resource, message in preview.errors:
            lines += [f"- {'`' + resource + '`: ' if resource else ''}" + _cell(message.splitlines()[0])]
            lines += [f"  > {_cell(extra)}" for extra in message.splitlines()[1:] if extra.strip()]
        lines.append("")
    rows = list(_rows(preview, drift=drift))
    if not rows:
        if not preview.errors:
            lines.append("No drift: App Store Connect matches the program." if drift else "No changes: `pulumi up` would change nothing.")
        return "\n".join(lines).rstrip() + "\n"
    counts = ", ".join(f"{n} to {op}" for op, n in sorted(preview.summary.items())) or f"{len(preview.changes)} changes"
    if drift:
        lines += [f"App Store Connect differs from the program in {len(preview.changes)} resource(s) ({counts}), "
                  "found by `pulumi preview --refresh --expect-no-changes`.", ""]
        header = ["resource", "property", "App Store Connect has", "the program says", "`pulumi up` will"]
    else:
        lines += [f"`pulumi up` would make {counts}.", ""]
        header = ["resource", "property", "now", "after `pulumi up`", "how"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n… and {len(rows) - MAX_ROWS} more rows: see the job log.")
    replaced = [c for c in preview.changes if c.op == "replace"]
    if replaced:
        lines += [
            "",
            f"**{len(replaced)} resource(s) would be replaced**: the new object is made and the old one deleted "
            "(an App ID with its capabilities and profiles; a certificate is revoked; a device is disabled). "
            "Protect what must never go with `protect=True`.",
        ]
    if preview.drifts:
        lines += [
            "",
            "**Properties Apple cannot change in place** were changed outside Pulumi. The provider never replaces "
            "an object because of what a refresh read (replacing an App ID deletes its capabilities and profiles), "
            "so `pulumi up` fails for these resources and changes nothing there. Either set Apple's value in the "
            "program, or replace the object deliberately with `pulumi up --replace <URN>`:",
            "",
        ]
        lines += [f"- {d.rest_type} `{d.object_id}`: `{d.name}` is {d.remote} at Apple, {d.declared} in the program" for d in preview.drifts]
    if drift:
        lines += ["", "`pulumi up --refresh` sets the program's values back; to keep Apple's, change the program."]
    return "\n".join(lines).rstrip() + "\n"


def summary_command(text: str, out: TextIO, *, drift: bool) -> int:
    """Write the summary of a preview's JSON; the exit code says what it found: 0 nothing to
    report (``preview-summary``: it rendered), 1 drift (``drift-summary`` only), 2 the preview
    failed or the input is not a preview."""
    try:
        preview = Preview.parse(text)
    except PreviewUnreadable as exc:
        title = "## App Store Connect drift" if drift else "## Pulumi preview"
        out.write(f"{title}\n\n**No summary**: {exc}.\n")
        return 2
    out.write(render(preview, drift=drift))
    if preview.errors:
        return 2
    return 1 if drift and preview.changes else 0
