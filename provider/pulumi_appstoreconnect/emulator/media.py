"""Apple's rules for screenshots and app previews: the sets of a version localization, the
assets in them, and Apple's upload flow for their files, as :class:`TypeRules` plus the
emulator's own upload URLs (:class:`Uploads`).

The request surface (operations, attributes, enums) is Apple's OpenAPI excerpt like every
type's; these are the rules it cannot say, each with where it is documented or observed
("assumed" where no source shows Apple's answer).

The flow, from Apple's "Uploading Assets to App Store Connect" (App Store Connect API
documentation):

- **Reserve**: ``POST /v1/appScreenshots`` (``appPreviews``) with ``fileName``, ``fileSize`` and
  the set answers the asset in ``AWAITING_UPLOAD`` with ``uploadOperations``: method, URL,
  offset, length and request headers of each part ("If your asset is large, you may receive
  multiple operations"). The URLs "are unauthenticated and time-limited. You don't need to
  supply a JWT"; their ``Expires`` parameter is a Unix time about a week away ("plan to finish
  an upload within a week"). Here they point at this emulator's own host under
  :data:`UPLOAD_PREFIX` (not ``/v1``, not the admin API), split into parts of
  ``partSize`` bytes (``PUT /_emulator/media``; default :data:`DEFAULT_PART_SIZE`, assumed: the
  S3-style ``uploadId``/``partNumber`` of Apple's blobstore URLs suggests S3's 5 MiB parts).
- **Upload**: a ``PUT`` per part, "concurrently and in any order"; a part may be sent again
  "at any time before you commit". An ``Authorization`` header is refused (400, S3's
  "Only one auth mechanism allowed": the URLs carry their own credentials), as are a wrong
  length and a missing header the operation lists (assumed strictness).
- **Commit**: ``PATCH`` with ``uploaded: true`` and ``sourceFileChecksum``, "the MD5 checksum
  of your original, entire asset file". Apple "compares the bytes received with the total bytes
  you described ... If the total bytes received don't match ... the commit request fails";
  it validates the checksum while processing, the emulator at the commit (the 409s' codes and
  words are assumed). A commit moves the asset to ``UPLOAD_COMPLETE``, "Once you commit the
  asset, you can no longer upload component parts."
- **Processing** "can take from a few seconds up to a few minutes": ``processingSeconds`` after
  the commit (default :data:`DEFAULT_PROCESSING_SECONDS`; previews pass through ``PROCESSING``
  halfway, Apple's ``AppMediaVideoState``) the asset is ``COMPLETE`` or ``FAILED``, "a
  terminal state" with errors. The emulator fails a screenshot that is not a PNG or JPEG
  (``IMAGE_TOOL_FAILURE``, assumed), carries an alpha channel (``IMAGE_ALPHA_NOT_ALLOWED``)
  or has other pixel dimensions than its display type takes (``IMAGE_INCORRECT_DIMENSIONS``;
  both codes seen live, Bagbutik's AppMediaStateError tests and teams' upload notes), a
  preview that is not an MP4/QuickTime file (``VIDEO_TOOL_FAILURE``, assumed), and whatever
  ``POST /_emulator/media/failures`` asks to fail.

Other rules: a set holds at most 10 screenshots or 3 previews (App Store Connect Help, the
screenshot and app preview specifications), reservations left awaiting upload included: the
next is a 409 ``ENTITY_ERROR.RELATIONSHIP.INVALID`` on the set (wording assumed). One set per
display type within a localization (409, assumed). A set's display type must belong to its
version's platform (assumed). Sets and assets change only while their version is editable,
like its texts (409 ``STATE_ERROR``, :mod:`.metadata`). The order of a set's assets is Apple's
to keep: new ones are appended, ``PATCH …/relationships/appScreenshots`` replaces the order and
must name exactly the set's assets (409 otherwise, assumed). Deleting a set deletes its assets.

The pixel sizes each display type takes (:data:`SCREENSHOT_SIZES`) come from the table in
rorkai/App-Store-Connect-CLI (``internal/asc/screenshot_sizes.go``), corrected where live
uploads say otherwise, and widened to the other public table (fastlane deliver's, which cites
Apple's help page) where the two disagree and nothing live decides: the emulator is as liberal
as Apple is known to be.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import struct
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

from .metadata import EDITABLE_VERSION_STATES, state_error
from .rules import CREATE, UPDATE, Context, Relation, TypeRules, exact, inverse, stored
from .store import ApiError, ErrorItem, StoredObject, attribute_invalid, attribute_required, relationship_invalid

UPLOAD_PREFIX = "/_uploads"
DEFAULT_PART_SIZE = 5 * 1024 * 1024
DEFAULT_PROCESSING_SECONDS = 0.5
RESERVATION_LIFETIME = 7 * 24 * 3600  # "plan to finish an upload within a week"

AWAITING_UPLOAD = "AWAITING_UPLOAD"
UPLOAD_COMPLETE = "UPLOAD_COMPLETE"
PROCESSING = "PROCESSING"
COMPLETE = "COMPLETE"
FAILED = "FAILED"

_PART_SIZE_KEY = "media.partSize"
_PROCESSING_KEY = "media.processingSeconds"
_FAILURES_KEY = "media.failures"
# Stored on an asset, shown by the admin API only.
_UPLOAD_ID = "uploadId"
_EXPIRES = "uploadExpires"
_DUE = "processingDue"
_INJECTED = "processingFailure"


@dataclass(frozen=True)
class Family:
    """Screenshots or app previews: the set type, the asset type and how they link."""

    set_type: str
    asset_type: str
    to_set: str  # the asset's relationship to its set
    to_assets: str  # the set's relationship to its assets
    kind: str  # the set's display-type attribute
    limit: int
    video: bool

    @property
    def state(self) -> str:
        """The attribute that carries an asset's delivery state (previews: the video's)."""
        return "videoDeliveryState" if self.video else "assetDeliveryState"


SCREENSHOTS = Family("appScreenshotSets", "appScreenshots", "appScreenshotSet", "appScreenshots", "screenshotDisplayType", 10, False)
PREVIEWS = Family("appPreviewSets", "appPreviews", "appPreviewSet", "appPreviews", "previewType", 3, True)
FAMILIES = (SCREENSHOTS, PREVIEWS)
_BY_ASSET = {f.asset_type: f for f in FAMILIES}


# -- the pixel sizes Apple takes -------------------------------------------------------------


def _turned(*sizes: tuple[int, int]) -> frozenset[tuple[int, int]]:
    """Portrait sizes and their landscape turns."""
    return frozenset(sizes) | frozenset((h, w) for w, h in sizes)


_IPHONE_69 = _turned((1260, 2736), (1290, 2796), (1320, 2868))  # 1284x2778 refused live for APP_IPHONE_67
_IPHONE_65 = _turned((1242, 2688), (1284, 2778))  # 1284x2778 accepted live for APP_IPHONE_65
_IPHONE_61 = _turned((1179, 2556), (1170, 2532), (1206, 2622))
_IPHONE_58 = _turned((1125, 2436), (1170, 2532))
_IPHONE_55 = _turned((1242, 2208))
_IPHONE_47 = _turned((750, 1334))
_IPHONE_40 = _turned((640, 1136)) | {(640, 1096), (1136, 600)}
_IPHONE_35 = _turned((640, 960)) | {(640, 920), (960, 600)}
_IPAD_13 = _turned((2048, 2732), (2064, 2752))  # 2064x2752 accepted live for APP_IPAD_PRO_3GEN_129
_IPAD_11 = _turned((1668, 2388), (1668, 2420))
_IPAD_105 = _turned((1668, 2224))
_IPAD_97 = _turned((1536, 2048), (768, 1024)) | {(1024, 748), (2048, 1496), (768, 1004), (1536, 2008)}

SCREENSHOT_SIZES: dict[str, frozenset[tuple[int, int]]] = {
    "APP_IPHONE_67": _IPHONE_69, "APP_IPHONE_65": _IPHONE_65, "APP_IPHONE_61": _IPHONE_61,
    "APP_IPHONE_58": _IPHONE_58, "APP_IPHONE_55": _IPHONE_55, "APP_IPHONE_47": _IPHONE_47,
    "APP_IPHONE_40": _IPHONE_40, "APP_IPHONE_35": _IPHONE_35,
    "APP_IPAD_PRO_3GEN_129": _IPAD_13, "APP_IPAD_PRO_129": _IPAD_13, "APP_IPAD_PRO_3GEN_11": _IPAD_11,
    "APP_IPAD_105": _IPAD_105, "APP_IPAD_97": _IPAD_97,
    "APP_DESKTOP": frozenset({(1280, 800), (1440, 900), (2560, 1600), (2880, 1800)}),
    "APP_WATCH_ULTRA": frozenset({(410, 502), (422, 514)}), "APP_WATCH_SERIES_10": frozenset({(416, 496)}),
    "APP_WATCH_SERIES_7": frozenset({(396, 484)}), "APP_WATCH_SERIES_4": frozenset({(368, 448)}),
    "APP_WATCH_SERIES_3": frozenset({(312, 390)}),
    "APP_APPLE_TV": frozenset({(1920, 1080), (3840, 2160)}), "APP_APPLE_VISION_PRO": frozenset({(3840, 2160)}),
}
for _name in [n for n in SCREENSHOT_SIZES if n.startswith("APP_IPHONE") or n.startswith("APP_IPAD")]:
    SCREENSHOT_SIZES[f"IMESSAGE_{_name}"] = SCREENSHOT_SIZES[_name]

# Which display types a version's platform takes (assumed: App Store Connect shows each
# platform's own slots).
_PLATFORM_PREFIXES: dict[str, tuple[str, ...]] = {
    "IOS": ("APP_IPHONE", "APP_IPAD", "APP_WATCH", "IMESSAGE_", "IPHONE", "IPAD"),
    "MAC_OS": ("APP_DESKTOP", "DESKTOP"),
    "TV_OS": ("APP_APPLE_TV", "APPLE_TV"),
    "VISION_OS": ("APP_APPLE_VISION_PRO", "APPLE_VISION_PRO"),
}


# -- reading what was uploaded (the emulator's own readers, not the provider's) ----------------


def image_facts(data: bytes) -> tuple[int, int, bool] | None:
    """(width, height, has alpha) of a PNG or baseline/progressive JPEG, None otherwise."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        alpha = data[25] in (4, 6) or b"tRNS" in data[33 : data.find(b"IDAT")]
        return width, height, alpha
    if data[:2] == b"\xff\xd8":
        at = 2
        while at + 9 < len(data) and data[at] == 0xFF:
            marker, length = data[at + 1], int.from_bytes(data[at + 2 : at + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height, width = struct.unpack(">HH", data[at + 5 : at + 9])
                return width, height, False
            at += 2 + length
    return None


_QUICKTIME_ATOMS = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")


def video_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of an MP4/QuickTime file's largest track header, None for another format."""
    if data[4:8] not in _QUICKTIME_ATOMS:
        return None
    best = (0, 0)
    for found in re.finditer(b"tkhd", data):
        payload = found.end()
        offset = 76 if data[payload] == 0 else 88
        if payload + offset + 8 <= len(data):
            width, height = (v >> 16 for v in struct.unpack(">II", data[payload + offset : payload + offset + 8]))
            best = max(best, (width, height))
    return best


# -- settings and injected failures (admin API) -------------------------------------------------


def settings(ctx_store: Any) -> dict[str, Any]:
    """``{"partSize", "processingSeconds"}`` as the admin API shows them."""
    part = ctx_store.get_meta(_PART_SIZE_KEY)
    seconds = ctx_store.get_meta(_PROCESSING_KEY)
    return {
        "partSize": int(part) if part else DEFAULT_PART_SIZE,
        "processingSeconds": float(seconds) if seconds else DEFAULT_PROCESSING_SECONDS,
    }


def _admin_error(detail: str) -> ApiError:
    return ApiError(ErrorItem(400, "INVALID_BODY", "Emulator admin request failed", detail))


def update_settings(store: Any, payload: Any) -> dict[str, Any]:
    """``PUT /_emulator/media``: ``{"partSize": 1..., "processingSeconds": 0..300}`` (either)."""
    if not isinstance(payload, dict) or not payload or set(payload) - {"partSize", "processingSeconds"}:
        raise _admin_error('media takes {"partSize": bytes >= 1, "processingSeconds": 0..300}')
    part, seconds = payload.get("partSize", settings(store)["partSize"]), payload.get("processingSeconds", settings(store)["processingSeconds"])
    if isinstance(part, bool) or not isinstance(part, int) or part < 1:
        raise _admin_error("partSize must be a whole number of bytes, at least 1")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 300:
        raise _admin_error("processingSeconds must be between 0 and 300")
    store.set_meta(_PART_SIZE_KEY, str(part))
    store.set_meta(_PROCESSING_KEY, str(float(seconds)))
    return settings(store)


_FAILURE_KEYS = {"fileName", "sourceFileChecksum", "code", "description", "times"}


def failures(store: Any) -> list[dict[str, Any]]:
    return list(json.loads(store.get_meta(_FAILURES_KEY) or "[]"))


def add_failure(store: Any, payload: Any) -> list[dict[str, Any]]:
    """``POST /_emulator/media/failures``: the next commit of an asset with this ``fileName``
    or ``sourceFileChecksum`` fails its processing with ``code``/``description`` (``times``
    commits, default 1)."""
    if not isinstance(payload, dict) or set(payload) - _FAILURE_KEYS or not ({"fileName", "sourceFileChecksum"} & set(payload)):
        raise _admin_error(f"a failure takes fileName or sourceFileChecksum, and optionally code, description, times ({sorted(_FAILURE_KEYS)})")
    times = payload.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise _admin_error("times must be a whole number, at least 1")
    rule = {
        **{k: str(payload[k]) for k in ("fileName", "sourceFileChecksum") if k in payload},
        "code": str(payload.get("code") or "IMAGE_TOOL_FAILURE"),
        "description": str(payload.get("description") or "App Store Connect could not process the file."),
        "times": times,
    }
    with store.transaction():
        rules = [*failures(store), rule]
        store.set_meta(_FAILURES_KEY, json.dumps(rules))
    return rules


def clear(store: Any) -> None:
    """Back to the defaults, no injected failures (``POST /_emulator/reset``)."""
    with store.transaction():
        for key in (_PART_SIZE_KEY, _PROCESSING_KEY, _FAILURES_KEY):
            store.set_meta(key, "")


def _take_failure(ctx: Context, asset: StoredObject) -> dict[str, str] | None:
    """The first injected failure matching ``asset`` (its count spent), or None."""
    rules = failures(ctx.store)
    for rule in rules:
        names = rule.get("fileName") in (None, asset.attributes.get("fileName"))
        sums = rule.get("sourceFileChecksum") in (None, str(asset.attributes.get("sourceFileChecksum") or "").lower())
        if names and sums:
            rule["times"] -= 1
            ctx.store.set_meta(_FAILURES_KEY, json.dumps([r for r in rules if r["times"] > 0]))
            return {"code": rule["code"], "description": rule["description"]}
    return None


# -- shared pieces ---------------------------------------------------------------------------------


def _uuid(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> str:
    return str(uuid.uuid4())  # Apple's media ids are UUIDs (the documentation's examples)


def _one(ctx: Context, rest_type: str, object_id: Any) -> StoredObject | None:
    return ctx.store.get(rest_type, object_id) if isinstance(object_id, str) else None


def _version_of_set(ctx: Context, media_set: StoredObject | None) -> StoredObject | None:
    localization = _one(ctx, "appStoreVersionLocalizations", (media_set.relationships.get("appStoreVersionLocalization") if media_set else None))
    return _one(ctx, "appStoreVersions", localization.relationships.get("appStoreVersion")) if localization else None


def _not_editable(ctx: Context, media_set: StoredObject | None, what: str) -> list[ErrorItem]:
    version = _version_of_set(ctx, media_set)
    state = version.attributes.get("appVersionState") if version else None
    if version is None or state in EDITABLE_VERSION_STATES:
        return []
    return [state_error(f"The {what} of version '{version.id}' cannot be edited in state {state}.")]


def _state(family: Family, asset: StoredObject) -> str | None:
    value = asset.attributes.get(family.state)
    return value.get("state") if isinstance(value, dict) else None


def _delivery(state: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"errors": list(errors or []), "state": state}


def _assets_of(ctx: Context, family: Family, set_id: str) -> list[StoredObject]:
    return [a for a in ctx.store.all_of(family.asset_type) if a.relationships.get(family.to_set) == set_id]


def _remove(ctx: Context, family: Family, asset: StoredObject) -> None:
    ctx.store.delete(family.asset_type, asset.id)
    ctx.store.drop_parts(family.asset_type, asset.id)


# -- sets --------------------------------------------------------------------------------------


def _set_rules(family: Family) -> TypeRules:
    def validate(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
        if operation not in (CREATE, UPDATE):
            return []
        errors = _not_editable(ctx, new, family.set_type)
        version = _version_of_set(ctx, new)
        kind = str(new.attributes.get(family.kind) or "")
        prefixes = _PLATFORM_PREFIXES.get(str(version.attributes.get("platform")) if version else "", ())
        if operation == CREATE and prefixes and not kind.startswith(prefixes):
            errors.append(attribute_invalid(family.kind, f"The {family.kind} '{kind}' is not available for a {version.attributes.get('platform')} version."))  # type: ignore[union-attr]
        if operation == UPDATE and old is not None:
            wanted, held = new.relationships.get(family.to_assets) or [], old.relationships.get(family.to_assets) or []
            if sorted(wanted) != sorted(held):  # type: ignore[type-var]
                errors.append(relationship_invalid(family.to_assets, f"The order must list each of the set's {len(held)} {family.asset_type} exactly once."))
        return errors

    def after_delete(ctx: Context, obj: StoredObject) -> None:
        for asset in _assets_of(ctx, family, obj.id):
            _remove(ctx, family, asset)

    return TypeRules(
        relations=(Relation(family.to_assets, family.asset_type, True, stored(family.to_assets), ordered=True),),
        new_id=_uuid,
        unique=(family.kind, exact),
        same_scope=lambda a, b: a.relationships.get("appStoreVersionLocalization") == b.relationships.get("appStoreVersionLocalization"),
        duplicate_error=lambda wire, value: attribute_invalid(wire, f"A set with {wire} '{value}' already exists for this localization."),
        validate=validate,
        after_delete=after_delete,
    )


# -- assets ------------------------------------------------------------------------------------

_MIME_TYPES = {".mov": "video/quicktime", ".m4v": "video/x-m4v", ".mp4": "video/mp4", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_TIME_CODE = re.compile(r"\d{2}:\d{2}:\d{2}:\d{2}")


def _content_type(attributes: Mapping[str, Any]) -> str:
    name = str(attributes.get("fileName") or "").lower()
    given = attributes.get("mimeType")
    return str(given) if given else next((t for ext, t in _MIME_TYPES.items() if name.endswith(ext)), "application/octet-stream")


def _asset_rules(family: Family) -> TypeRules:
    def computed(ctx: Context, attributes: Mapping[str, Any], relationships: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "sourceFileChecksum": attributes.get("sourceFileChecksum"),
            "uploadOperations": attributes.get("uploadOperations"),
            family.state: attributes.get(family.state) or _delivery(AWAITING_UPLOAD),
        }
        if family.video:
            values.update(
                mimeType=_content_type(attributes),
                previewFrameTimeCode=attributes.get("previewFrameTimeCode") or "00:00:05:00",  # Apple's default poster frame
                assetDeliveryState=attributes.get("assetDeliveryState") or values[family.state],
            )
        else:
            token = f"PurpleSource/v4/{secrets.token_hex(2)}/{attributes.get('fileName')}"
            values.update(assetToken=attributes.get("assetToken") or token, assetType=attributes.get("assetType") or "SCREENSHOT")
        return values

    def validate(ctx: Context, operation: str, new: StoredObject, old: StoredObject | None) -> list[ErrorItem]:
        media_set = _one(ctx, family.set_type, new.relationships.get(family.to_set))
        if operation == CREATE:
            errors = _not_editable(ctx, media_set, family.asset_type)
            size = new.attributes.get("fileSize")
            if not isinstance(size, int) or size < 1:
                errors.append(attribute_invalid("fileSize", "The fileSize must be a positive number of bytes."))
            if media_set is not None and len(_assets_of(ctx, family, media_set.id)) >= family.limit:
                errors.append(relationship_invalid(
                    family.to_set, f"The {family.to_set} '{media_set.id}' already holds the maximum of {family.limit} {family.asset_type}.",
                ))
            return errors
        if operation != UPDATE or old is None:
            return []
        errors = []
        code = new.attributes.get("previewFrameTimeCode")
        if family.video and code != old.attributes.get("previewFrameTimeCode") and not (isinstance(code, str) and _TIME_CODE.fullmatch(code)):
            errors.append(attribute_invalid("previewFrameTimeCode", f"'{code}' is not a time code (HH:MM:SS:FF)."))
        if new.attributes.get("uploaded") is True:
            errors += _commit_errors(ctx, family, new, old)
        return errors

    def after_write(ctx: Context, obj: StoredObject, old: StoredObject | None) -> None:
        if old is None:
            _reserved(ctx, family, obj)
        elif obj.attributes.pop("uploaded", None) is True and _state(family, old) == AWAITING_UPLOAD:
            _committed(ctx, family, obj)
        else:
            return
        ctx.store.save(obj)

    def after_delete(ctx: Context, obj: StoredObject) -> None:
        ctx.store.drop_parts(family.asset_type, obj.id)
        media_set = _one(ctx, family.set_type, obj.relationships.get(family.to_set))
        if media_set is not None:
            media_set.relationships[family.to_assets] = [i for i in media_set.relationships.get(family.to_assets) or [] if i != obj.id]  # type: ignore[union-attr]
            ctx.store.save(media_set)

    return TypeRules(
        new_id=_uuid,
        hidden_attributes=frozenset({_UPLOAD_ID, _EXPIRES, _DUE, _INJECTED}),
        computed=computed,
        validate=validate,
        after_write=after_write,
        after_delete=after_delete,
        advance=lambda ctx, obj: _advance(ctx, family, obj),
        presented=_absolute_urls,
    )


def _reserved(ctx: Context, family: Family, asset: StoredObject) -> None:
    """A new asset joins the end of its set; a reservation gets its upload operations."""
    media_set = _one(ctx, family.set_type, asset.relationships.get(family.to_set))
    if media_set is not None:
        media_set.relationships[family.to_assets] = [*(media_set.relationships.get(family.to_assets) or []), asset.id]  # type: ignore[misc]
        ctx.store.save(media_set)
    size = asset.attributes.get("fileSize")
    if _state(family, asset) != AWAITING_UPLOAD or asset.attributes.get("uploadOperations") or not isinstance(size, int):
        return
    upload_id, expires = secrets.token_hex(16), int(ctx.clock()) + RESERVATION_LIFETIME
    part = settings(ctx.store)["partSize"]
    headers = [{"name": "Content-Type", "value": _content_type(asset.attributes)}]
    asset.attributes["uploadOperations"] = [
        {
            "method": "PUT",
            "url": f"{UPLOAD_PREFIX}/{family.asset_type}/{asset.id}/{n + 1}?uploadId={upload_id}&partNumber={n + 1}&Expires={expires}",
            "length": min(part, size - offset),
            "offset": offset,
            "requestHeaders": headers,
        }
        for n, offset in enumerate(range(0, size, part))
    ]
    asset.attributes.update({_UPLOAD_ID: upload_id, _EXPIRES: expires})


def _commit_errors(ctx: Context, family: Family, new: StoredObject, old: StoredObject) -> list[ErrorItem]:
    if _state(family, old) != AWAITING_UPLOAD:
        return [attribute_invalid("uploaded", f"The {family.asset_type} '{old.id}' has already been uploaded ({_state(family, old)}).")]
    checksum = new.attributes.get("sourceFileChecksum")
    if not isinstance(checksum, str) or not checksum:
        return [attribute_required("sourceFileChecksum")]
    expected = old.attributes.get("fileSize")
    received = sum(ctx.store.part_sizes(family.asset_type, old.id).values())
    if received != expected:
        return [attribute_invalid("uploaded", f"Received {received} of the {expected} bytes reserved (fileSize): upload every part before committing.")]
    actual = hashlib.md5(ctx.store.assembled(family.asset_type, old.id)).hexdigest()
    if checksum.lower() != actual:
        return [attribute_invalid("sourceFileChecksum", f"The checksum '{checksum}' does not match the uploaded file.")]
    return []


def _committed(ctx: Context, family: Family, asset: StoredObject) -> None:
    settled = settings(ctx.store)["processingSeconds"]
    asset.attributes.update({
        family.state: _delivery(UPLOAD_COMPLETE),
        "uploadOperations": None,
        _DUE: ctx.clock() + settled,
        _INJECTED: _take_failure(ctx, asset),
    })
    if family.video:
        asset.attributes["assetDeliveryState"] = _delivery(UPLOAD_COMPLETE)


def _advance(ctx: Context, family: Family, asset: StoredObject) -> StoredObject:
    """Processing moves on with the clock: halfway a preview is PROCESSING, at the end every
    asset is COMPLETE or FAILED."""
    due = asset.attributes.get(_DUE)
    state = _state(family, asset)
    if state not in (UPLOAD_COMPLETE, PROCESSING) or not isinstance(due, (int, float)):
        return asset
    now = ctx.clock()
    if now < due:
        halfway = due - settings(ctx.store)["processingSeconds"] / 2
        if family.video and state == UPLOAD_COMPLETE and now >= halfway:
            asset.attributes[family.state] = _delivery(PROCESSING)
            ctx.store.save(asset)
        return asset
    with ctx.store.transaction():
        failure = asset.attributes.get(_INJECTED) or _content_failure(ctx, family, asset)
        done = _delivery(FAILED, [failure]) if failure else _delivery(COMPLETE)
        asset.attributes.update({family.state: done, _DUE: None})
        if family.video:
            asset.attributes["assetDeliveryState"] = done
        if not failure:
            asset.attributes.update(_processed(ctx, family, asset))
        ctx.store.save(asset)
        ctx.store.drop_parts(family.asset_type, asset.id)
    return asset


def _content_failure(ctx: Context, family: Family, asset: StoredObject) -> dict[str, str] | None:
    data = ctx.store.assembled(family.asset_type, asset.id)
    if family.video:
        if video_size(data) is None:
            return {"code": "VIDEO_TOOL_FAILURE", "description": "The file is not an MP4 or QuickTime movie."}
        return None
    facts = image_facts(data)
    if facts is None:
        return {"code": "IMAGE_TOOL_FAILURE", "description": "The file is not a PNG or JPEG image."}
    width, height, alpha = facts
    if alpha:
        return {"code": "IMAGE_ALPHA_NOT_ALLOWED", "description": "Screenshots cannot have an alpha channel."}
    media_set = _one(ctx, family.set_type, asset.relationships.get(family.to_set))
    allowed = SCREENSHOT_SIZES.get(str(media_set.attributes.get(family.kind))) if media_set else None
    if allowed is not None and (width, height) not in allowed:
        return {"code": "IMAGE_INCORRECT_DIMENSIONS", "description": f"{width}x{height} is not a size this display type takes."}
    return None


def _processed(ctx: Context, family: Family, asset: StoredObject) -> dict[str, Any]:
    """What Apple shows of a processed asset: its image (or a preview's poster frame and video)."""
    data = ctx.store.assembled(family.asset_type, asset.id)
    template = f"https://is1-ssl.mzstatic.com/image/thumb/Emulator/v4/{asset.id}/source/{{w}}x{{h}}bb.{{f}}"
    if family.video:
        width, height = video_size(data) or (0, 0)
        frame = {"image": {"templateUrl": template, "width": width, "height": height}, "state": _delivery(COMPLETE)}
        return {"previewFrameImage": frame, "videoUrl": f"https://emulator.invalid/{asset.id}/video.m3u8"}
    width, height, _alpha = image_facts(data) or (0, 0, False)
    return {"imageAsset": {"templateUrl": template, "width": width, "height": height}}


def _absolute_urls(ctx: Context, asset: StoredObject, base_url: str) -> dict[str, Any]:
    """Upload URLs on the host the client addressed (stored as paths)."""
    operations = asset.attributes.get("uploadOperations")
    if not isinstance(operations, list):
        return {}
    return {"uploadOperations": [{**op, "url": base_url + op["url"]} if str(op.get("url", "")).startswith("/") else op for op in operations]}


# -- the upload URLs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadAnswer:
    """What a PUT to an upload URL gets: S3's answer shapes (XML errors, an ETag)."""

    status: int
    headers: dict[str, str]
    body: bytes | None


def _s3_error(status: int, code: str, message: str) -> UploadAnswer:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return UploadAnswer(status, {"Content-Type": "application/xml"}, body.encode())


class Uploads:
    """``PUT <UPLOAD_PREFIX>/<assetType>/<id>/<part>?uploadId=…&partNumber=…&Expires=…``: one
    part of a reservation's file (see the module docstring)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def handle(self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> UploadAnswer:
        parts = path[len(UPLOAD_PREFIX) :].strip("/").split("/")
        family = _BY_ASSET.get(parts[0]) if len(parts) == 3 else None
        if family is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        if method != "PUT":
            return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        if headers.get("authorization"):
            return _s3_error(400, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
        with self.ctx.store.transaction():
            asset = self.ctx.store.get(family.asset_type, parts[1])
            if asset is None or _state(family, asset) != AWAITING_UPLOAD or query.get("uploadId") != asset.attributes.get(_UPLOAD_ID):
                return _s3_error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
            if int(query.get("Expires") or 0) < self.ctx.clock():
                return _s3_error(403, "AccessDenied", "Request has expired")
            operation = next((op for n, op in enumerate(asset.attributes.get("uploadOperations") or [], 1) if str(n) == parts[2]), None)
            if operation is None:
                return _s3_error(404, "NoSuchUpload", "The specified part does not exist.")
            for header in operation.get("requestHeaders") or []:
                if headers.get(str(header["name"]).lower()) != header["value"]:
                    return _s3_error(400, "InvalidRequest", f"The upload operation's header {header['name']}: {header['value']} is missing.")
            if len(body) != operation["length"]:
                return _s3_error(400, "IncompleteBody", f"The request body has {len(body)} bytes; this part takes {operation['length']}.")
            self.ctx.store.put_part(family.asset_type, asset.id, int(parts[2]), body)
        return UploadAnswer(200, {"ETag": f'"{hashlib.md5(body).hexdigest()}"'}, None)


# -- the localization's side -------------------------------------------------------------------


def _localization_after_delete(ctx: Context, obj: StoredObject) -> None:
    """A localization's sets (and their assets) go with it."""
    for family in FAMILIES:
        for media_set in [s for s in ctx.store.all_of(family.set_type) if s.relationships.get("appStoreVersionLocalization") == obj.id]:
            for asset in _assets_of(ctx, family, media_set.id):
                _remove(ctx, family, asset)
            ctx.store.delete(family.set_type, media_set.id)


MEDIA_RULES: dict[str, TypeRules] = {
    "appStoreVersionLocalizations": TypeRules(
        relations=tuple(
            Relation(family.set_type, family.set_type, True, inverse(family.set_type, "appStoreVersionLocalization"))
            for family in FAMILIES
        ),
        after_delete=_localization_after_delete,
    ),
    **{family.set_type: _set_rules(family) for family in FAMILIES},
    **{family.asset_type: _asset_rules(family) for family in FAMILIES},
}

__all__ = ["FAMILIES", "MEDIA_RULES", "SCREENSHOT_SIZES", "UPLOAD_PREFIX", "Uploads"]
