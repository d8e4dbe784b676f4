"""Bad inputs for the App Store metadata resources (issue 12), added to the table in
test_badinput.py: over-long texts counted as App Store Connect counts them (an emoji beyond
U+FFFF is 2), bad URLs, unknown locales and categories, enum typos."""

from __future__ import annotations

from typing import Any

from pulumi_appstoreconnect.resources import SPECS

# The demo seed's app, the app info Apple makes with it (emulator: first_app_info_id) and its
# version: adopt-only types must find what they adopt for a valid input to pass.
APP = "6450000001"
APP_INFO = "0b357eab-1474-5614-8f2f-4d8a2582d78d"
VERSION = "DEMOVERSION0001"

VALID: dict[str, dict[str, Any]] = {
    "apps": {"bundle_id": "com.example.demo"},
    "appInfos": {"app": APP, "primary_category": "GAMES"},
    "ageRatingDeclarations": {"app_info": APP_INFO},
    "appInfoLocalizations": {"app_info": APP_INFO, "locale": "en-US", "name": "Demo"},
    "appStoreVersions": {"app": APP, "platform": "IOS", "version_string": "1.0"},
    "appStoreVersionLocalizations": {"app_store_version": VERSION, "locale": "en-US"},
    "appStoreReviewDetails": {"app_store_version": VERSION},
}

_EMOJI = "\N{GRINNING FACE}"  # U+1F600: 1 code point, 2 UTF-16 units, 4 UTF-8 bytes

TABLE: list[tuple[str, str, Any, str]] = [
    ("apps", "bundle_id", None, "required"),
    ("apps", "primary_locale", "en_US", "spelt 'en-US'"),
    ("apps", "content_rights_declaration", "USES_3RD_PARTY_CONTENT", "must be one of"),
    ("apps", "accessibility_url", "example.com/a11y", "not a web address"),
    ("apps", "subscription_status_url", "ftp://example.com/s", "not a web address"),
    ("apps", "subscription_status_url_version", "V3", "must be one of"),
    ("apps", "subscription_status_url_for_sandbox", "https://", "not a web address"),
    ("apps", "subscription_status_url_version_for_sandbox", "v2", "must be one of"),
    ("appInfos", "app", None, "required"),
    ("appInfos", "primary_category", "GAMES_PUZZLE", "is a subcategory of GAMES"),
    ("appInfos", "primary_category", "KIDS", "not an App Store category"),
    ("appInfos", "primary_subcategory_one", "PUZZLE", "not an App Store subcategory"),
    ("appInfos", "primary_subcategory_two", "BUSINESS", "not an App Store subcategory"),
    ("appInfos", "secondary_category", "GAME", "not an App Store category"),
    ("appInfos", "secondary_subcategory_one", "GAMES", "not an App Store subcategory"),
    ("appInfos", "secondary_subcategory_two", "STICKERS_EMOJI", "not an App Store subcategory"),
    ("ageRatingDeclarations", "app_info", None, "required"),
    ("ageRatingDeclarations", "developer_age_rating_info_url", "www.example.com", "not a web address"),
    ("appInfoLocalizations", "app_info", None, "required"),
    ("appInfoLocalizations", "locale", "english", "not a locale App Store Connect takes"),
    ("appInfoLocalizations", "locale", "de", "for this language Apple takes de-DE"),
    ("appInfoLocalizations", "name", "x" * 31, "at most 30"),
    ("appInfoLocalizations", "name", _EMOJI * 16, "32 characters long as App Store Connect counts them"),
    ("appInfoLocalizations", "subtitle", "é" * 31, "at most 30"),
    ("appInfoLocalizations", "privacy_policy_url", "https://exa mple.com", "not a web address"),
    ("appInfoLocalizations", "privacy_choices_url", "mailto:privacy@example.com", "not a web address"),
    ("appStoreVersions", "app", None, "required"),
    ("appStoreVersions", "platform", "WATCH_OS", "must be one of"),
    ("appStoreVersions", "version_string", "1." * 130, "at most 255"),
    ("appStoreVersions", "release_type", "AUTOMATIC", "must be one of"),
    ("appStoreVersions", "earliest_release_date", "2026-12-01", "not a date-time with a time zone"),
    ("appStoreVersions", "review_type", "APPSTORE", "must be one of"),
    ("appStoreVersionLocalizations", "app_store_version", None, "required"),
    ("appStoreVersionLocalizations", "locale", "en-UK", "for this language Apple takes"),
    ("appStoreVersionLocalizations", "description", "x" * 4001, "at most 4000"),
    ("appStoreVersionLocalizations", "keywords", "ü" * 99 + _EMOJI, "101 characters long"),
    ("appStoreVersionLocalizations", "promotional_text", "x" * 171, "at most 170"),
    ("appStoreVersionLocalizations", "whats_new", "x" * 4001, "at most 4000"),
    ("appStoreVersionLocalizations", "marketing_url", "example.com", "not a web address"),
    ("appStoreVersionLocalizations", "support_url", "https//example.com", "not a web address"),
    ("appStoreReviewDetails", "app_store_version", None, "required"),
    ("appStoreReviewDetails", "contact_email", "review at example.com", "not an e-mail address"),
    ("appStoreReviewDetails", "notes", "x" * 4001, "at most 4000"),
] + [
    # Every answer of the age rating questionnaire with an enum: a typo names Apple's values.
    ("ageRatingDeclarations", f.name, "SOMETIMES", "must be one of")
    for f in SPECS["AgeRatingDeclaration"].fields
    if f.enum_values
]
