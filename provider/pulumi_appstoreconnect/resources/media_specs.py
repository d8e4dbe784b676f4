"""What App Store Connect takes for screenshots and app previews, checked at preview before any
request: pixel sizes per display type, formats, a preview's length and size, how many per set.

Sources:

- Screenshots: App Store Connect Help, "Screenshot specifications"
  (https://developer.apple.com/help/app-store-connect/reference/screenshot-specifications):
  1 to 10 per set, ``.jpeg``/``.jpg``/``.png``, "72 dpi, RGB, flattened, no transparency". The
  pixel sizes per display type are the ones fastlane deliver checks
  (``deliver/lib/deliver/app_screenshot.rb``, whose table cites that help page); Apple Watch
  Series 10 (416x496), Apple Watch Ultra 3 (422x514) and Apple Vision Pro (3840x2160), which
  fastlane's table lacks, are from the same help page as quoted by rorkai/App-Store-Connect-CLI.
  App Store Connect refuses an image with an alpha channel (``IMAGE_ALPHA_NOT_ALLOWED``, seen
  live by teams uploading through the API) and one of other dimensions
  (``IMAGE_INCORRECT_DIMENSIONS``) only after the upload, while processing it: that is why they
  are refused here first.
- App previews: App Store Connect Help, "App preview specifications"
  (https://developer.apple.com/help/app-store-connect/reference/app-preview-specifications):
  up to 3 per set, ``.mov``/``.m4v``/``.mp4``, 15 to 30 seconds, at most 500 MB, and the
  resolutions below (886x1920 for the 5.8" to 6.9" iPhones, 1080x1920 for 5.5" and 4",
  750x1334 for 4.7", 1200x1600 for the iPad Pros and 10.5", 900x1200 for 9.7", 1920x1080 for
  Mac and Apple TV, 3840x2160 for Apple Vision Pro), each turned for landscape where the device
  turns.
"""

from __future__ import annotations

import enum

SCREENSHOT_SPECIFICATIONS = "https://developer.apple.com/help/app-store-connect/reference/screenshot-specifications"
PREVIEW_SPECIFICATIONS = "https://developer.apple.com/help/app-store-connect/reference/app-preview-specifications"

MAX_SCREENSHOTS = 10
MAX_PREVIEWS = 3
PREVIEW_SECONDS = (15.0, 30.0)
MAX_PREVIEW_BYTES = 500 * 1000 * 1000
PREVIEW_EXTENSIONS = (".mov", ".m4v", ".mp4")
SCREENSHOT_EXTENSIONS = (".png", ".jpg", ".jpeg")


class ScreenshotDisplayType(str, enum.Enum):
    """Apple's ``ScreenshotDisplayType`` (OpenAPI 4.4.1). APP_IPHONE_67 is App Store Connect's
    6.9" slot too, APP_IPAD_PRO_3GEN_129 its 13" iPad slot."""

    APP_IPHONE_67 = "APP_IPHONE_67"
    APP_IPHONE_61 = "APP_IPHONE_61"
    APP_IPHONE_65 = "APP_IPHONE_65"
    APP_IPHONE_58 = "APP_IPHONE_58"
    APP_IPHONE_55 = "APP_IPHONE_55"
    APP_IPHONE_47 = "APP_IPHONE_47"
    APP_IPHONE_40 = "APP_IPHONE_40"
    APP_IPHONE_35 = "APP_IPHONE_35"
    APP_IPAD_PRO_3GEN_129 = "APP_IPAD_PRO_3GEN_129"
    APP_IPAD_PRO_3GEN_11 = "APP_IPAD_PRO_3GEN_11"
    APP_IPAD_PRO_129 = "APP_IPAD_PRO_129"
    APP_IPAD_105 = "APP_IPAD_105"
    APP_IPAD_97 = "APP_IPAD_97"
    APP_DESKTOP = "APP_DESKTOP"
    APP_WATCH_ULTRA = "APP_WATCH_ULTRA"
    APP_WATCH_SERIES_10 = "APP_WATCH_SERIES_10"
    APP_WATCH_SERIES_7 = "APP_WATCH_SERIES_7"
    APP_WATCH_SERIES_4 = "APP_WATCH_SERIES_4"
    APP_WATCH_SERIES_3 = "APP_WATCH_SERIES_3"
    APP_APPLE_TV = "APP_APPLE_TV"
    APP_APPLE_VISION_PRO = "APP_APPLE_VISION_PRO"
    IMESSAGE_APP_IPHONE_67 = "IMESSAGE_APP_IPHONE_67"
    IMESSAGE_APP_IPHONE_61 = "IMESSAGE_APP_IPHONE_61"
    IMESSAGE_APP_IPHONE_65 = "IMESSAGE_APP_IPHONE_65"
    IMESSAGE_APP_IPHONE_58 = "IMESSAGE_APP_IPHONE_58"
    IMESSAGE_APP_IPHONE_55 = "IMESSAGE_APP_IPHONE_55"
    IMESSAGE_APP_IPHONE_47 = "IMESSAGE_APP_IPHONE_47"
    IMESSAGE_APP_IPHONE_40 = "IMESSAGE_APP_IPHONE_40"
    IMESSAGE_APP_IPAD_PRO_3GEN_129 = "IMESSAGE_APP_IPAD_PRO_3GEN_129"
    IMESSAGE_APP_IPAD_PRO_3GEN_11 = "IMESSAGE_APP_IPAD_PRO_3GEN_11"
    IMESSAGE_APP_IPAD_PRO_129 = "IMESSAGE_APP_IPAD_PRO_129"
    IMESSAGE_APP_IPAD_105 = "IMESSAGE_APP_IPAD_105"
    IMESSAGE_APP_IPAD_97 = "IMESSAGE_APP_IPAD_97"


class PreviewType(str, enum.Enum):
    """Apple's ``PreviewType`` (OpenAPI 4.4.1)."""

    IPHONE_67 = "IPHONE_67"
    IPHONE_61 = "IPHONE_61"
    IPHONE_65 = "IPHONE_65"
    IPHONE_58 = "IPHONE_58"
    IPHONE_55 = "IPHONE_55"
    IPHONE_47 = "IPHONE_47"
    IPHONE_40 = "IPHONE_40"
    IPHONE_35 = "IPHONE_35"
    IPAD_PRO_3GEN_129 = "IPAD_PRO_3GEN_129"
    IPAD_PRO_3GEN_11 = "IPAD_PRO_3GEN_11"
    IPAD_PRO_129 = "IPAD_PRO_129"
    IPAD_105 = "IPAD_105"
    IPAD_97 = "IPAD_97"
    DESKTOP = "DESKTOP"
    APPLE_TV = "APPLE_TV"
    APPLE_VISION_PRO = "APPLE_VISION_PRO"


Size = tuple[int, int]


def _both_ways(*portrait: Size) -> tuple[Size, ...]:
    """Each portrait size and its landscape turn, in that order."""
    return tuple(size for width, height in portrait for size in ((width, height), (height, width)))


_IPHONE_67 = _both_ways((1290, 2796), (1260, 2736), (1320, 2868))
_IPAD_129 = _both_ways((2048, 2732), (2064, 2752))

SCREENSHOT_SIZES: dict[str, tuple[Size, ...]] = {
    "APP_IPHONE_67": _IPHONE_67,
    "APP_IPHONE_65": _both_ways((1242, 2688), (1284, 2778)),
    "APP_IPHONE_61": _both_ways((1179, 2556), (1206, 2622)),
    "APP_IPHONE_58": _both_ways((1125, 2436), (1170, 2532)),
    "APP_IPHONE_55": _both_ways((1242, 2208)),
    "APP_IPHONE_47": _both_ways((750, 1334)),
    "APP_IPHONE_40": ((640, 1096), (640, 1136), (1136, 600), (1136, 640)),
    "APP_IPHONE_35": ((640, 920), (640, 960), (960, 600), (960, 640)),
    "APP_IPAD_PRO_3GEN_129": _IPAD_129,
    "APP_IPAD_PRO_129": _IPAD_129,
    "APP_IPAD_PRO_3GEN_11": _both_ways((1668, 2388), (1668, 2420)),
    "APP_IPAD_105": _both_ways((1668, 2224)),
    "APP_IPAD_97": (
        (1024, 748), (1024, 768), (2048, 1496), (2048, 1536), (768, 1004), (768, 1024), (1536, 2008), (1536, 2048),
    ),
    "APP_DESKTOP": ((1280, 800), (1440, 900), (2560, 1600), (2880, 1800)),
    "APP_WATCH_ULTRA": ((410, 502), (422, 514)),
    "APP_WATCH_SERIES_10": ((416, 496),),
    "APP_WATCH_SERIES_7": ((396, 484),),
    "APP_WATCH_SERIES_4": ((368, 448),),
    "APP_WATCH_SERIES_3": ((312, 390),),
    "APP_APPLE_TV": ((1920, 1080), (3840, 2160)),
    "APP_APPLE_VISION_PRO": ((3840, 2160),),
}
# iMessage apps take the sizes of the App Store slot of the same device (fastlane's
# device_messages table).
SCREENSHOT_SIZES.update({
    member.value: SCREENSHOT_SIZES[member.value.removeprefix("IMESSAGE_")]
    for member in ScreenshotDisplayType
    if member.value.startswith("IMESSAGE_")
})

_PHONE_TALL = _both_ways((886, 1920))
_PHONE_HD = _both_ways((1080, 1920))
_IPAD = _both_ways((1200, 1600))

PREVIEW_SIZES: dict[str, tuple[Size, ...]] = {
    "IPHONE_67": _PHONE_TALL, "IPHONE_65": _PHONE_TALL, "IPHONE_61": _PHONE_TALL, "IPHONE_58": _PHONE_TALL,
    "IPHONE_55": _PHONE_HD, "IPHONE_40": _PHONE_HD, "IPHONE_47": _both_ways((750, 1334)),
    "IPAD_PRO_3GEN_129": _IPAD, "IPAD_PRO_129": _IPAD, "IPAD_PRO_3GEN_11": _IPAD, "IPAD_105": _IPAD,
    "IPAD_97": _both_ways((900, 1200)),
    "DESKTOP": ((1920, 1080),), "APPLE_TV": ((1920, 1080),), "APPLE_VISION_PRO": ((3840, 2160),),
    # IPHONE_35: Apple publishes no app preview size for 3.5" iPhones; not checked.
}


def sizes_in_words(sizes: tuple[Size, ...]) -> str:
    return ", ".join(f"{width}x{height}" for width, height in sizes)
