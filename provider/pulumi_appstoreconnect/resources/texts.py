"""What App Store Connect accepts in the texts and categories of a listing, checked at preview.

Lengths are counted as Apple counts them: in characters, not bytes (an Arabic keyword list of 91
characters and 168 UTF-8 bytes is accepted: rorkai/App-Store-Connect-CLI #1399/#1400, 2026), the
way JavaScript's and Java's ``length`` count them (App Store Connect's counter agrees with
``"…".length`` for Chinese text: wordpress-mobile/WordPress-iOS PR #17562, 2021). That is UTF-16
code units, so an emoji outside the Basic Multilingual Plane (😀, U+1F600) counts as 2 and a
flag or a family emoji as 4 or more. No published source shows Apple counting emoji as one, and
counting them as UTF-16 units never lets through a text Apple would refuse whichever way it
counts, so that is what these checks do. Apple also refuses some emoji outright in a
description or release notes ("An attribute value has invalid characters", gruprsvp/grup PR
#228, 2026; Open Radar 13753389 and 22722861): that answer comes from Apple, at ``up``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

# The categories of ``GET /v1/appCategories?include=parent&limit=100`` as Apple's documentation
# of that endpoint shows them ("List app categories", App Store Connect API; 57 in all):
# top-level categories, and the subcategories only GAMES and STICKERS have. Sticker categories
# are iOS only; every other is listed for IOS, MAC_OS and TV_OS.
TOP_CATEGORIES: tuple[str, ...] = (
    "BOOKS", "BUSINESS", "DEVELOPER_TOOLS", "EDUCATION", "ENTERTAINMENT", "FINANCE", "FOOD_AND_DRINK", "GAMES",
    "GRAPHICS_AND_DESIGN", "HEALTH_AND_FITNESS", "LIFESTYLE", "MAGAZINES_AND_NEWSPAPERS", "MEDICAL", "MUSIC",
    "NAVIGATION", "NEWS", "PHOTO_AND_VIDEO", "PRODUCTIVITY", "REFERENCE", "SHOPPING", "SOCIAL_NETWORKING", "SPORTS",
    "STICKERS", "TRAVEL", "UTILITIES", "WEATHER",
)
SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    "GAMES": tuple(f"GAMES_{n}" for n in (
        "ACTION", "ADVENTURE", "BOARD", "CARD", "CASINO", "CASUAL", "FAMILY", "MUSIC", "PUZZLE", "RACING",
        "ROLE_PLAYING", "SIMULATION", "SPORTS", "STRATEGY", "TRIVIA", "WORD",
    )),
    "STICKERS": tuple(f"STICKERS_{n}" for n in (
        "ANIMALS", "ART", "CELEBRATIONS", "CELEBRITIES", "CHARACTERS", "EATING_AND_DRINKING", "EMOJI_AND_EXPRESSIONS",
        "FASHION", "GAMING", "KIDS_AND_FAMILY", "MOVIES_AND_TV", "MUSIC", "PEOPLE", "PLACES_AND_OBJECTS",
        "SPORTS_AND_ACTIVITIES",
    )),
}
PARENT_OF: dict[str, str] = {sub: parent for parent, subs in SUBCATEGORIES.items() for sub in subs}


def apple_length(text: str) -> int:
    """The length App Store Connect counts: UTF-16 code units (see the module docstring)."""
    return len(text.encode("utf-16-le")) // 2


def text_limit(limit: int) -> Callable[[Any], str | None]:
    """A check that a text is at most ``limit`` characters as Apple counts them."""

    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        counted = apple_length(value)
        if counted <= limit:
            return None
        extra = f" ({len(value)} code points; emoji beyond U+FFFF count as 2)" if counted != len(value) else ""
        return f"is {counted} characters long as App Store Connect counts them{extra}; Apple allows at most {limit}"

    check.__name__ = f"text_limit_{limit}"
    return check


def top_category(value: Any) -> str | None:
    if value in TOP_CATEGORIES:
        return None
    if value in PARENT_OF:
        return f"{value!r} is a subcategory of {PARENT_OF[value]}: set the category to {PARENT_OF[value]!r} and this as its subcategory"
    return f"{value!r} is not an App Store category; Apple's list: {', '.join(TOP_CATEGORIES)}"


def subcategory(value: Any) -> str | None:
    if value in PARENT_OF:
        return None
    return (
        f"{value!r} is not an App Store subcategory (only GAMES and STICKERS have them: GAMES_PUZZLE, "
        f"STICKERS_ART, ...; see docs/metadata.md)"
    )


def subcategories_belong(category: str | None, first: str | None, second: str | None, slot: str) -> list[tuple[str, str]]:
    """Each subcategory sits under its slot's category (GAMES_PUZZLE under GAMES), and the two
    differ."""
    failures: list[tuple[str, str]] = []
    for name, value in ((f"{slot}_subcategory_one", first), (f"{slot}_subcategory_two", second)):
        if value is not None and PARENT_OF.get(value) != category:
            failures.append((name, f"{name}: {value} belongs to {PARENT_OF.get(value)}, not to the {slot} category {category}"))
    if first is not None and first == second:
        failures.append((f"{slot}_subcategory_two", f"{slot}_subcategory_two repeats {slot}_subcategory_one ({first})"))
    return failures


def iso_timestamp(value: Any) -> str | None:
    """A date-time as Apple's spec types it (``2026-12-01T08:00:00Z`` or with an offset)."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        return f"{value!r} is not a date-time with a time zone (expected e.g. 2026-12-01T08:00:00Z)"
    return None
