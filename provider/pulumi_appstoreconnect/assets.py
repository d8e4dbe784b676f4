"""Local files as App Store Connect assets (a screenshot set's screenshots, a preview set's
previews): what ``check`` records of them, and how ``create``, ``update`` and ``read`` bring an
object's assets to the program's files (fields marked :class:`~.spec.Assets`).

Identity is the file's MD5, which Apple records as ``sourceFileChecksum``. A sync lists the
object's assets (one GET) and plans (:func:`plan`):

- an asset with a declared checksum, usable (not ``AWAITING_UPLOAD``, not ``FAILED``), is kept:
  nothing is sent for it;
- a reservation left ``AWAITING_UPLOAD`` by an interrupted run, with the file name and size of
  a file still to upload, is completed (its parts sent again, then committed): no second
  reservation; any other reservation, and every ``FAILED`` asset, is deleted first;
- the files left are reserved, their parts sent in parallel (:mod:`.client.uploads`) and
  committed with their checksum, one file after the other; a reservation this run cannot
  complete (a part that will not go, a refused commit) is deleted before the error is raised;
- assets the program no longer lists are deleted: before the uploads when the set would
  otherwise exceed Apple's limit, after them otherwise (a failed upload leaves the old ones);
- then it waits, bounded by ``processing_timeout``, for Apple to process what is not
  ``COMPLETE`` yet (one listing per poll, progress on stderr), deletes what failed and fails
  naming the file and Apple's errors, and finally sets the order with one PATCH of the
  relationship when Apple's differs from the program's.

A reservation POST whose answer was lost (a 5xx, a dropped connection) is looked up in the
listing (a new reservation of that name and size) before it is sent again; a commit PATCH that
Apple refuses because an earlier attempt already committed it is confirmed by reading the
asset. Reservations a lagging listing hid are swept on the final listing.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import quote

from . import readcache
from .client.errors import AppStoreConnectError, ConflictError, ConnectionFailed, NotFoundError, ServerError, UploadFailed
from .errors import ProviderError
from .media_files import MediaError, md5_of, read_media, resolve
from .spec import UNUSABLE_ASSET_STATES, Assets, FieldSpec

if TYPE_CHECKING:
    from .reconciler import SpecProvider

log = logging.getLogger(__name__)

AWAITING_UPLOAD = "AWAITING_UPLOAD"
COMPLETE = "COMPLETE"
FAILED = "FAILED"
DEFAULT_PROCESSING_TIMEOUT = 600  # seconds; Apple: "from a few seconds up to a few minutes"
# Seconds between polls while Apple processes (the last one repeats).
POLL_WAITS = (1.0, 1.0, 2.0, 3.0, 5.0, 10.0)
PROGRESS_EVERY = 10.0  # seconds of waiting between progress lines
RESERVE_ATTEMPTS = 3


# -- check ----------------------------------------------------------------------------------------


def describe(f: FieldSpec, value: list[Any], inputs: Mapping[str, Any]) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """(the files as the state records them, reasons to refuse them): each file read from disk,
    checked against what Apple takes, and given its checksum, size and name."""
    kind = f.assets
    assert kind is not None
    items = [dict(v) if isinstance(v, dict) else {"file": v} for v in value]
    problems: list[str] = []
    if len(items) > kind.limit:
        problems.append(f"{f.name} lists {len(items)} files; App Store Connect keeps at most {kind.limit} per set")
    described: list[dict[str, Any]] = []
    for n, item in enumerate(items):
        try:
            media = read_media(str(item["file"]))
        except MediaError as exc:
            problems.append(f"{f.name}[{n}]: {exc}")
            continue
        reason = kind.inspect(media, inputs)
        if reason:
            problems.append(f"{f.name}[{n}] ({item['file']}): {reason}")
            continue
        kept = {k: v for k, v in item.items() if v is not None}
        described.append({**kept, "checksum": media.md5, "file_size": media.size, "file_name": media.name})
    return (None if problems else described), problems


# -- the plan -------------------------------------------------------------------------------------


def _state(kind: Assets, asset: Mapping[str, Any]) -> str | None:
    delivery = (asset.get("attributes") or {}).get(kind.state)
    return delivery.get("state") if isinstance(delivery, dict) else None


def _checksum(asset: Mapping[str, Any]) -> str:
    return str((asset.get("attributes") or {}).get("sourceFileChecksum") or "").lower()


@dataclass
class Plan:
    """What a sync does, by declared position (see the module docstring)."""

    keep: dict[int, dict[str, Any]] = field(default_factory=dict)
    resume: dict[int, dict[str, Any]] = field(default_factory=dict)
    upload: list[int] = field(default_factory=list)
    junk: list[dict[str, Any]] = field(default_factory=list)
    stale: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sends(self) -> list[int]:
        """Declared positions whose file is sent, in the program's order."""
        return sorted([*self.resume, *self.upload])


def plan(kind: Assets, declared: list[Mapping[str, Any]], remote: list[dict[str, Any]]) -> Plan:
    """Match Apple's assets (``remote``, in Apple's order) to the declared files by checksum,
    then interrupted reservations by file name and size (pure: no requests)."""
    result = Plan()
    free = list(remote)
    for n, item in enumerate(declared):
        wanted = str(item.get("checksum") or "").lower()
        match = next((a for a in free if _checksum(a) == wanted and _state(kind, a) not in UNUSABLE_ASSET_STATES), None)
        if match is not None:
            result.keep[n] = match
            free.remove(match)
    for n, item in enumerate(declared):
        if n in result.keep:
            continue
        match = next((a for a in free if _resumable(kind, a, item)), None)
        if match is not None:
            result.resume[n] = match
            free.remove(match)
        else:
            result.upload.append(n)
    for asset in free:
        (result.junk if _state(kind, asset) in UNUSABLE_ASSET_STATES else result.stale).append(asset)
    return result


def _resumable(kind: Assets, asset: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    attributes = asset.get("attributes") or {}
    return (
        _state(kind, asset) == AWAITING_UPLOAD
        and bool(attributes.get("uploadOperations"))
        and attributes.get("fileName") == item.get("file_name")
        and attributes.get("fileSize") == item.get("file_size")
    )


# -- the sync -------------------------------------------------------------------------------------


def sync(provider: SpecProvider, owner_id: str, f: FieldSpec, declared: list[dict[str, Any]], inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Bring the object's assets to ``declared`` (in order); the state's record of them."""
    return _Sync(provider, owner_id, f, inputs).run(declared)


def read(provider: SpecProvider, owner_id: str, f: FieldSpec, declared: list[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Apple's assets of the object, in Apple's order, as the state records them: each with
    the declared file of the same checksum (None for one the program does not list)."""
    work = _Sync(provider, owner_id, f, {})
    return work.recorded(work.listing(), declared or [])


class _Sync:
    def __init__(self, provider: SpecProvider, owner_id: str, f: FieldSpec, inputs: Mapping[str, Any]) -> None:
        assert f.assets is not None
        self.kind = f.assets
        self.client = provider.client
        self.owner_type = provider.spec.rest_type
        self.owner_id = owner_id
        self.timeout = float(inputs.get("processing_timeout") or DEFAULT_PROCESSING_TIMEOUT)
        self.known: set[str] = set()  # ids of the assets listed or made so far: none of them is a lost reservation

    @property
    def what(self) -> str:
        return f"{self.owner_type} {self.owner_id}"

    def listing(self, *, fresh: bool = False) -> list[dict[str, Any]]:
        """The object's assets in Apple's order, from the read cache unless ``fresh`` (Apple's
        processing changes them without a write of ours: a wait reads them again each time)."""
        path = f"/v1/{self.owner_type}/{quote(self.owner_id, safe='')}/{self.kind.relationship}"
        if fresh:
            readcache.forget_listing(self.client, path)
        return self.client.list_all(path)

    def run(self, declared: list[dict[str, Any]]) -> list[dict[str, Any]]:
        remote = self.listing()
        self.known = {a["id"] for a in remote}
        steps = plan(self.kind, declared, remote)
        log.info(
            "%s: %d kept, %d to complete, %d to upload, %d to delete (%d unusable)",
            self.what, len(steps.keep), len(steps.resume), len(steps.upload), len(steps.junk) + len(steps.stale), len(steps.junk),
        )
        for asset in steps.junk:
            self.delete(asset)
        room = self.kind.limit - (len(steps.keep) + len(steps.stale))
        stale_first = len(steps.sends) > room
        if stale_first:
            for asset in steps.stale:
                self.delete(asset)
        ids = {n: a["id"] for n, a in steps.keep.items()}
        for n in steps.sends:
            ids[n] = self.send(declared[n], steps.resume.get(n))
        if not stale_first:
            for asset in steps.stale:
                self.delete(asset)
        untouched = not (steps.sends or steps.junk or steps.stale)
        final = self.wait(declared, ids, remote if untouched else None)
        return self.recorded(self.arrange(declared, ids, final), declared)

    # -- one file --------------------------------------------------------------------------------

    def send(self, item: Mapping[str, Any], leftover: dict[str, Any] | None) -> str:
        """Upload one file (completing ``leftover``, an interrupted reservation, if given); the
        asset's id once committed."""
        path = resolve(str(item["file"]))
        if md5_of(path) != item["checksum"]:
            raise ProviderError(
                f"{item['file']} changed since `pulumi preview` read it (its MD5 is no longer {item['checksum']}): "
                "run `pulumi up` again so that the preview and the upload see the same file."
            )
        if leftover is not None:
            try:
                self.client.uploads.upload(path, leftover["attributes"]["uploadOperations"])
                log.info("%s: completed the interrupted reservation %s of %s", self.what, leftover["id"], item["file"])
                return self.commit(leftover["id"], item)
            except UploadFailed as exc:  # an expired reservation: start afresh
                log.info("%s: the reservation %s cannot be completed (%s); reserving again", self.what, leftover["id"], exc)
                self.delete(leftover)
        asset = self.reserve(item)
        try:
            report = self.client.uploads.upload(path, asset["attributes"]["uploadOperations"])
            log.info("%s: %s sent in %d part(s), %d bytes, %d attempt(s)", self.what, item["file"], report.parts, report.bytes, report.attempts)
            return self.commit(asset["id"], item)
        except (AppStoreConnectError, OSError):
            self.abandon(asset)
            raise

    def abandon(self, asset: Mapping[str, Any]) -> None:
        """Delete a reservation this run made and could not complete, so that the set holds
        nothing half-done (when even that fails, the next sync completes or deletes it)."""
        try:
            self.delete(asset)
        except AppStoreConnectError as exc:
            log.info("%s: the unfinished reservation %s stays (%s); the next `pulumi up` completes or deletes it", self.what, asset["id"], exc)

    def reserve(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """POST the reservation. After an ambiguous failure the listing is searched for the
        reservation that POST made (a new one of this name and size) before sending it again."""
        # The engine hands numbers back as doubles (14930.0); Apple's fileSize is an integer.
        attributes: dict[str, Any] = {"fileName": item["file_name"], "fileSize": int(item["file_size"])}
        attributes.update({wire: item[name] for name, wire in self.kind.item_attributes.items() if item.get(name) is not None})
        if self.kind.mime_type:
            attributes["mimeType"] = _mime_type(str(item["file_name"]))
        relationships = {self.kind.back: {"data": {"type": self.owner_type, "id": self.owner_id}}}
        for attempt in range(1, RESERVE_ATTEMPTS + 1):
            try:
                made = self.client.create(self.kind.child_type, attributes, relationships)
                self.known.add(made["id"])
                return made
            except ConflictError as exc:
                raise explain(exc, self.kind, self.what, str(item["file"])) from exc
            except (ServerError, ConnectionFailed) as exc:
                if not exc.ambiguous or attempt == RESERVE_ATTEMPTS:
                    raise
                found = [a for a in self.listing() if a["id"] not in self.known and _resumable(self.kind, a, item)]
                if found:
                    log.info("%s: the reservation POST failed ambiguously (%s); taking over %s", self.what, exc.status, found[0]["id"])
                    self.known.add(found[0]["id"])
                    return found[0]
        raise AssertionError("unreachable")

    def commit(self, asset_id: str, item: Mapping[str, Any]) -> str:
        """PATCH ``uploaded`` with the checksum. A 409 because an earlier attempt of this PATCH
        committed already (its answer lost) is confirmed by reading the asset."""
        try:
            self.client.update(self.kind.child_type, asset_id, {"uploaded": True, "sourceFileChecksum": item["checksum"]})
        except ConflictError as exc:
            current = self.client.get_object(f"/v1/{self.kind.child_type}/{quote(asset_id, safe='')}") or {}
            if _checksum(current) != str(item["checksum"]).lower() or _state(self.kind, current) in (AWAITING_UPLOAD, None):
                raise explain(exc, self.kind, self.what, str(item["file"])) from exc
        return asset_id

    def delete(self, asset: Mapping[str, Any]) -> None:
        try:
            self.client.delete(f"/v1/{self.kind.child_type}/{quote(asset['id'], safe='')}")
        except NotFoundError:
            pass  # gone already: the desired end

    # -- processing, order, per-file attributes ---------------------------------------------------

    def wait(self, declared: list[dict[str, Any]], ids: dict[int, str], listed: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """Poll the listing until every declared asset is processed; the last listing (``listed``:
        one read already, when nothing changed since). Failed ones are deleted and reported; a
        bound on the waiting is reported too."""
        waited, said, waits = 0.0, 0.0, iter(POLL_WAITS)
        files = {ids[n]: declared[n]["file"] for n in ids}
        while True:
            listed = listed if listed is not None else self.listing(fresh=True)
            by_id = {a["id"]: a for a in listed}
            missing = [files[i] for i in files if i not in by_id]
            if missing:
                raise ProviderError(f"{self.what}: App Store Connect no longer lists the uploads of {', '.join(missing)} (deleted meanwhile?); run `pulumi up` again.")
            for stray in [a for a in listed if a["id"] not in files and _state(self.kind, a) == AWAITING_UPLOAD]:
                self.delete(stray)  # a reservation a lagging listing hid from an earlier look-up
            failed = [by_id[i] for i in files if _state(self.kind, by_id[i]) == FAILED]
            if failed:
                for asset in failed:
                    self.delete(asset)
                raise ProviderError(self._failure(failed, files))
            pending = [i for i in files if _state(self.kind, by_id[i]) != COMPLETE]
            if not pending:
                return [a for a in listed if a["id"] in files]
            if waited >= self.timeout:
                raise ProviderError(self._still_processing(pending, by_id, files, waited))
            if waited - said >= PROGRESS_EVERY:
                said = waited
                _say(f"{self.what}: App Store Connect has processed {len(files) - len(pending)} of {len(files)} files "
                     f"({waited:.0f} s waited, at most {self.timeout:.0f} s)")
            pause = min(next(waits, POLL_WAITS[-1]), self.timeout - waited)
            self.client.pause(pause, "asset processing")
            waited += pause
            listed = None

    def _failure(self, failed: list[dict[str, Any]], files: Mapping[str, str]) -> str:
        lines = []
        for asset in failed:
            errors = ((asset.get("attributes") or {}).get(self.kind.state) or {}).get("errors") or []
            said = "; ".join(" - ".join(str(e[k]) for k in ("code", "description") if e.get(k)) for e in errors) or "no reason given"
            lines.append(f"{files[asset['id']]} ({self.kind.child_type} {asset['id']}): {said}")
        return (
            f"App Store Connect could not process {len(failed)} file(s) of {self.what}: " + "; ".join(lines) + ". "
            "The failed uploads were deleted (Apple's FAILED is final); fix the file(s) and run `pulumi up` again."
        )

    def _still_processing(self, pending: list[str], by_id: Mapping[str, Any], files: Mapping[str, str], waited: float) -> str:
        which = ", ".join(f"{files[i]} ({_state(self.kind, by_id[i])})" for i in pending)
        return (
            f"{self.what}: App Store Connect is still processing {which} after {waited:.0f} s. They are uploaded and "
            "committed and will not be sent again: the next `pulumi up` waits for them (raise processing_timeout to "
            "wait longer in one run)."
        )

    def arrange(self, declared: list[dict[str, Any]], ids: dict[int, str], listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One PATCH of the relationship when Apple's order is not the program's, then the
        per-file attributes (a preview's poster frame) Apple holds otherwise; the assets as
        they are then, in the program's order."""
        wanted = [ids[n] for n in range(len(declared))]
        if [a["id"] for a in listed] != wanted:
            path = f"/v1/{self.owner_type}/{quote(self.owner_id, safe='')}/relationships/{self.kind.relationship}"
            self.client.request("PATCH", path, json={"data": [{"type": self.kind.child_type, "id": i} for i in wanted]})
        by_id = {a["id"]: a for a in listed}
        for n, item in enumerate(declared):
            held = by_id[ids[n]].get("attributes") or {}
            changes = {
                wire: item[name] for name, wire in self.kind.item_attributes.items()
                if item.get(name) is not None and held.get(wire) != item[name]
            }
            if changes:
                by_id[ids[n]] = self.client.update(self.kind.child_type, ids[n], changes)
        return [by_id[i] for i in wanted]

    def recorded(self, listed: list[dict[str, Any]], declared: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Apple's assets as the state records them: checksum, id, state, name, size, the
        per-file attributes, and the declared file of the same checksum."""
        unclaimed = list(declared)
        items = []
        for asset in listed:
            attributes = asset.get("attributes") or {}
            source = next((d for d in unclaimed if str(d.get("checksum") or "").lower() == _checksum(asset)), None)
            if source is not None:
                unclaimed.remove(source)
            items.append({
                "file": source.get("file") if source else None,
                "checksum": attributes.get("sourceFileChecksum"),
                "file_size": attributes.get("fileSize"),
                "file_name": attributes.get("fileName"),
                **{name: attributes.get(wire) for name, wire in self.kind.item_attributes.items()},
                "id": asset["id"],
                "state": _state(self.kind, asset),
            })
        return items


def explain(exc: AppStoreConnectError, kind: Assets, what: str, file: str) -> AppStoreConnectError:
    """Apple's 409 for an asset of ``what`` with what it means and what to change."""
    codes = " ".join(str(e.code or "") for e in exc.errors)
    detail = " ".join(str(e.detail or "") for e in exc.errors)
    if "STATE_ERROR" in codes:
        hint = (
            "App Store Connect takes screenshots and previews only while their version is being prepared (or was sent "
            "back); this one is waiting for review, in review or live. Create the next AppStoreVersion and its "
            "localizations and point the sets at them, or remove this version from review first. Nothing was uploaded."
        )
    elif "RELATIONSHIP" in codes and "maximum" in detail:
        hint = (
            f"{what} already holds the {kind.limit} {kind.child_type} Apple allows, reservations left by interrupted "
            "uploads included. The provider deletes what the program does not list before reserving more, so something "
            "else added to this set meanwhile (another run, the web UI): run `pulumi up` again."
        )
    elif "RELATIONSHIP" in codes:
        hint = (
            f"App Store Connect would not attach {file} to {what}: the set is gone (deleted in App Store Connect?) or "
            "belongs to a version that cannot change. Run `pulumi refresh`, then `pulumi up` to make the set again."
        )
    elif "ATTRIBUTE" in codes and exc.method == "PATCH" and kind.child_type in str(exc.url):  # the commit
        hint = (
            f"App Store Connect refused to commit {file}: the bytes it received do not match the file's size or MD5 "
            "checksum (the file changed during the upload, or a part was lost). The reservation stays awaiting upload; "
            "the next `pulumi up` sends the file again."
        )
    else:
        return exc
    return exc.with_hint(hint)


_MIME_TYPES = {".mov": "video/quicktime", ".m4v": "video/x-m4v", ".mp4": "video/mp4"}


def _mime_type(file_name: str) -> str:
    """A preview's MIME type by its extension (Apple's formats: .mov, .m4v, .mp4)."""
    return next((t for ext, t in _MIME_TYPES.items() if file_name.lower().endswith(ext)), "video/mp4")


def _say(message: str) -> None:
    """Progress the user sees in the engine's output (the provider's stderr) and the log."""
    log.info("%s", message)
    print(message, file=sys.stderr, flush=True)
