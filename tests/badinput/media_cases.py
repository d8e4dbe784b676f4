"""Bad inputs for screenshot and app preview sets (issue 13), added to the table in
test_badinput.py: files that do not exist, are not what Apple takes (format, transparency,
pixel size per display type, a preview's length), too many per set. The files are written
once into a temporary folder (absolute paths)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from tests.media_support import IPAD, IPHONE, PREVIEW, jpeg, mp4, png, write

# A localization of the demo seed's version with a known id (the seed's own has a random one),
# added to the module's emulator by test_badinput.py.
LOCALIZATION = "BADINPUTLOCALIZATION"
SEED = {"appStoreVersionLocalizations": [
    {"id": LOCALIZATION, "attributes": {"locale": "fr-FR"}, "relationships": {"appStoreVersion": "DEMOVERSION0001"}},
]}

_FILES = Path(tempfile.mkdtemp(prefix="asc-badinput-media-"))
SHOT = write(_FILES, "shot.png", png(*IPHONE, (1, 2, 3)))
IPAD_SHOT = write(_FILES, "ipad.png", png(*IPAD, (1, 2, 3)))
TRANSPARENT = write(_FILES, "transparent.png", png(*IPHONE, (1, 2, 3), alpha=True))
SMALL_JPEG = write(_FILES, "small.jpg", jpeg(1170, 2532))
TEXT = write(_FILES, "notes.png", b"not an image at all")
MOVIE = write(_FILES, "preview.mp4", mp4(*PREVIEW, 20.0))
SHORT_MOVIE = write(_FILES, "short.mp4", mp4(*PREVIEW, 10.0))
WIDE_MOVIE = write(_FILES, "wide.mov", mp4(1920, 1080, 20.0))
MOVIE_AS_AVI = write(_FILES, "preview.avi", mp4(*PREVIEW, 20.0))
MISSING = str(_FILES / "missing.png")

VALID: dict[str, dict[str, Any]] = {
    "appScreenshotSets": {"app_store_version_localization": LOCALIZATION, "screenshot_display_type": "APP_IPHONE_67", "screenshots": [SHOT]},
    "appPreviewSets": {"app_store_version_localization": LOCALIZATION, "preview_type": "IPHONE_67", "previews": [MOVIE]},
}

TABLE: list[tuple[str, str, Any, str]] = [
    ("appScreenshotSets", "app_store_version_localization", None, "required"),
    ("appScreenshotSets", "screenshot_display_type", "IPHONE_67", "must be one of"),
    ("appScreenshotSets", "screenshots", None, "required"),
    ("appScreenshotSets", "screenshots", SHOT, "valid list"),
    ("appScreenshotSets", "screenshots", [MISSING], "does not exist"),
    ("appScreenshotSets", "screenshots", ["relative/missing.png"], "resolved against"),
    ("appScreenshotSets", "screenshots", [TEXT], "is not a PNG, JPEG or MP4/QuickTime file"),
    ("appScreenshotSets", "screenshots", [MOVIE], "screenshots are PNG or JPEG"),
    ("appScreenshotSets", "screenshots", [TRANSPARENT], "IMAGE_ALPHA_NOT_ALLOWED"),
    ("appScreenshotSets", "screenshots", [SMALL_JPEG], "is 1170x2532 pixels; APP_IPHONE_67 takes 1290x2796"),
    ("appScreenshotSets", "screenshots", [SHOT, IPAD_SHOT], "screenshots[1]"),
    ("appScreenshotSets", "screenshots", [SHOT] * 11, "at most 10 per set"),
    ("appScreenshotSets", "processing_timeout", 0, "at least 1"),
    ("appScreenshotSets", "processing_timeout", 10**18, "at most 86,400"),  # found by hypothesis
    ("appPreviewSets", "app_store_version_localization", None, "required"),
    ("appPreviewSets", "preview_type", "APP_IPHONE_67", "must be one of"),
    ("appPreviewSets", "previews", None, "required"),
    ("appPreviewSets", "previews", [SHOT], "not a .mov, .m4v or .mp4 movie"),
    ("appPreviewSets", "previews", [MOVIE_AS_AVI], "not a .mov, .m4v or .mp4 movie"),
    ("appPreviewSets", "previews", [SHORT_MOVIE], "is 10.0 s long; app previews are 15 to 30 seconds"),
    ("appPreviewSets", "previews", [WIDE_MOVIE], "is 1920x1080 pixels; IPHONE_67 takes 886x1920"),
    ("appPreviewSets", "previews", [MOVIE] * 4, "at most 3 per set"),
    ("appPreviewSets", "previews", [{"file": MOVIE, "preview_frame_time_code": "5s"}], "preview_frame_time_code"),
    ("appPreviewSets", "previews", [{"file": MOVIE, "poster": "00:00:01:00"}], "not a known key"),
    ("appPreviewSets", "processing_timeout", -5, "at least 1"),
]
