"""Screenshot sets (``/v1/appScreenshotSets``) and app preview sets (``/v1/appPreviewSets``) of a
version localization, with their files uploaded through Apple's asset flow
(:mod:`pulumi_appstoreconnect.assets`)."""

from __future__ import annotations

from typing import Annotated, Any, Mapping, Union

import pulumi
from pydantic import StringConstraints
from pydantic.alias_generators import to_camel

from .. import assets
from ..media_files import JPEG, MPEG4, PNG, MediaFile
from ..reconciler import SpecResource
from ..spec import (
    ADOPT_OR_POST,
    CREATE_ONLY,
    LOCAL,
    UPDATABLE,
    Assets,
    Check,
    Hooks,
    NaturalKey,
    Parent,
    Relationship,
    ResourceSpec,
    SpecModel,
)
from .checks import WholeNumber
from .media_specs import (
    MAX_PREVIEW_BYTES,
    MAX_PREVIEWS,
    MAX_SCREENSHOTS,
    PREVIEW_EXTENSIONS,
    PREVIEW_SECONDS,
    PREVIEW_SIZES,
    PREVIEW_SPECIFICATIONS,
    SCREENSHOT_SIZES,
    SCREENSHOT_SPECIFICATIONS,
    PreviewType,
    ScreenshotDisplayType,
    sizes_in_words,
)

_LOCALIZATION = Relationship("appStoreVersionLocalization", "appStoreVersionLocalizations")


MAX_PROCESSING_TIMEOUT = 86_400  # a day: longer is a typo, not a wait


def _a_bound_in_seconds(value: object) -> str | None:
    if isinstance(value, int) and 1 <= value <= MAX_PROCESSING_TIMEOUT:
        return None
    return f"must be a whole number of seconds, at least 1 and at most {MAX_PROCESSING_TIMEOUT:,} (a day)"


def _wrong_size(media: MediaFile, slot: Any, table: Mapping[str, tuple[tuple[int, int], ...]], source: str) -> str | None:
    allowed = table.get(slot) if isinstance(slot, str) else None
    if allowed and (media.width, media.height) not in allowed:
        return f"is {media.width}x{media.height} pixels; {slot} takes {sizes_in_words(allowed)} (Apple's specifications: {source})"
    return None


def screenshot_problem(media: MediaFile, inputs: Mapping[str, Any]) -> str | None:
    """Why App Store Connect would refuse ``media`` as a screenshot of the set, or None."""
    if media.format not in (PNG, JPEG):
        return f"is a movie; screenshots are PNG or JPEG images ({SCREENSHOT_SPECIFICATIONS})"
    if media.alpha:
        return (
            "has an alpha channel (transparency), which App Store Connect refuses once uploaded "
            "(IMAGE_ALPHA_NOT_ALLOWED): save it flattened, without alpha"
        )
    return _wrong_size(media, inputs.get("screenshot_display_type"), SCREENSHOT_SIZES, SCREENSHOT_SPECIFICATIONS)


def preview_problem(media: MediaFile, inputs: Mapping[str, Any]) -> str | None:
    """Why App Store Connect would refuse ``media`` as an app preview of the set, or None."""
    if media.format != MPEG4 or not media.name.lower().endswith(PREVIEW_EXTENSIONS):
        return f"is not a .mov, .m4v or .mp4 movie, the formats App Store Connect takes for app previews ({PREVIEW_SPECIFICATIONS})"
    if media.size > MAX_PREVIEW_BYTES:
        return f"is {media.size:,} bytes; app previews are at most 500 MB"
    low, high = PREVIEW_SECONDS
    if media.seconds is not None and not low <= media.seconds <= high:
        return f"is {media.seconds:.1f} s long; app previews are 15 to 30 seconds long"
    return _wrong_size(media, inputs.get("preview_type"), PREVIEW_SIZES, PREVIEW_SPECIFICATIONS)


def _set_conflict(kind: Assets, display: str) -> Any:
    """A set's 409: a version that cannot change, or a display type (input ``display``) of
    another platform (refused although the localization has no set of it; one it has is named
    by the reconciler's own explanation)."""

    def explain(provider: Any, error: Exception, inputs: dict[str, Any]) -> Exception | None:
        codes = " ".join(str(e.code or "") for e in getattr(error, "errors", []))
        if "STATE_ERROR" in codes:
            return assets.explain(error, kind, f"localization {inputs.get('app_store_version_localization')}", "the set")  # type: ignore[arg-type]
        if getattr(error, "pointer", None) == f"/data/attributes/{to_camel(display)}" and provider.find_existing(inputs) is None:
            return error.with_hint(  # type: ignore[attr-defined]
                f"App Store Connect offers {inputs.get(display)!r} only for apps of another platform: an iOS version "
                "takes the iPhone, iPad, Apple Watch and iMessage types, a macOS version the desktop one, tvOS Apple TV, "
                "visionOS Apple Vision Pro. Choose one of this version's platform."
            )
        return None

    return explain


SCREENSHOTS = Assets(
    child_type="appScreenshots",
    relationship="appScreenshots",
    back="appScreenshotSet",
    limit=MAX_SCREENSHOTS,
    state="assetDeliveryState",
    inspect=screenshot_problem,
)


class AppScreenshotSetInputs(SpecModel):
    app_store_version_localization: Annotated[
        str, CREATE_ONLY, _LOCALIZATION, Parent("/v1/appStoreVersionLocalizations/{id}/appScreenshotSets")
    ]
    screenshot_display_type: Annotated[ScreenshotDisplayType, CREATE_ONLY, NaturalKey()]
    screenshots: Annotated[list[str], UPDATABLE, SCREENSHOTS]
    processing_timeout: Annotated[WholeNumber, LOCAL, Check(_a_bound_in_seconds)] = assets.DEFAULT_PROCESSING_TIMEOUT


APP_SCREENSHOT_SETS = ResourceSpec(
    rest_type="appScreenshotSets",
    inputs=AppScreenshotSetInputs,
    create=ADOPT_OR_POST,
    hooks=Hooks(on_conflict=_set_conflict(SCREENSHOTS, "screenshot_display_type")),
)


class AppScreenshotSet(SpecResource, spec=APP_SCREENSHOT_SETS):
    """The screenshots of one version localization for one display type (``APP_IPHONE_67``,
    ``APP_IPAD_PRO_3GEN_129``, …): an ordered list of PNG or JPEG files, paths relative to the
    program's directory.

    Each file is read at preview: it must exist, be a PNG or JPEG without transparency, have a
    pixel size the display type takes (Apple's screenshot specifications), and a set holds at
    most 10. A file's MD5 checksum (Apple's ``sourceFileChecksum``) is its identity: an unchanged
    file is never uploaded again, a changed or new one is uploaded, a removed one deleted, and a
    new order is applied with Apple's reorder request, uploading nothing. ``up`` waits for App
    Store Connect to process what it uploaded (``processing_timeout`` seconds at most, progress
    on the way) and fails naming any file Apple could not process. The set Apple already has for
    the display type is taken over, and its screenshots the program does not list are deleted.
    Output ``screenshots``: per file its ``file``, ``checksum``, ``file_size``, ``file_name``,
    Apple ``id`` and delivery ``state``. Destroy deletes the set and its screenshots.
    """

    app_store_version_localization: pulumi.Output[str]
    screenshot_display_type: pulumi.Output[str]
    screenshots: pulumi.Output[list[dict[str, Any]]]
    processing_timeout: pulumi.Output[int]


# A poster frame's time code: hours, minutes, seconds and frames (Apple's "00:00:05:00").
TimeCode = Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}:\d{2}:\d{2}$")]


class PreviewFile(SpecModel):
    """One app preview: the movie and, optionally, the frame App Store Connect shows before it
    plays (``HH:MM:SS:FF``; Apple's default is five seconds in), changed in place."""

    file: str
    preview_frame_time_code: TimeCode | None = None


PREVIEWS = Assets(
    child_type="appPreviews",
    relationship="appPreviews",
    back="appPreviewSet",
    limit=MAX_PREVIEWS,
    state="videoDeliveryState",
    inspect=preview_problem,
    item_attributes={"preview_frame_time_code": "previewFrameTimeCode"},
    mime_type=True,
)


class AppPreviewSetInputs(SpecModel):
    app_store_version_localization: Annotated[
        str, CREATE_ONLY, _LOCALIZATION, Parent("/v1/appStoreVersionLocalizations/{id}/appPreviewSets")
    ]
    preview_type: Annotated[PreviewType, CREATE_ONLY, NaturalKey()]
    previews: Annotated[list[Union[str, PreviewFile]], UPDATABLE, PREVIEWS]
    processing_timeout: Annotated[WholeNumber, LOCAL, Check(_a_bound_in_seconds)] = assets.DEFAULT_PROCESSING_TIMEOUT


APP_PREVIEW_SETS = ResourceSpec(
    rest_type="appPreviewSets",
    inputs=AppPreviewSetInputs,
    create=ADOPT_OR_POST,
    hooks=Hooks(on_conflict=_set_conflict(PREVIEWS, "preview_type")),
)


class AppPreviewSet(SpecResource, spec=APP_PREVIEW_SETS):
    """The app previews of one version localization for one preview type (``IPHONE_67``, …): an
    ordered list of at most 3 movies (``.mov``, ``.m4v``, ``.mp4``), each a path or a
    :class:`PreviewFile` with its poster frame's time code.

    Checked at preview like screenshots: the file exists, is an MP4/QuickTime movie of 15 to 30
    seconds and at most 500 MB, with the resolution Apple's app preview specifications give for
    the type. Identity, uploads, order, processing and take-over work as for
    :class:`AppScreenshotSet`; a changed poster-frame time code is set in place without
    uploading the movie again. Output ``previews``: per file its ``file``, ``checksum``,
    ``file_size``, ``file_name``, ``preview_frame_time_code``, Apple ``id`` and video delivery
    ``state``. Destroy deletes the set and its previews.
    """

    app_store_version_localization: pulumi.Output[str]
    preview_type: pulumi.Output[str]
    previews: pulumi.Output[list[dict[str, Any]]]
    processing_timeout: pulumi.Output[int]
