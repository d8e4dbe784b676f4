"""The TestFlight resources' checks: Apple's locales, e-mail addresses, URLs, group kinds."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_appstoreconnect.emulator.testflight import APP_STORE_LOCALES as EMULATOR_LOCALES
from pulumi_appstoreconnect.reconciler import SpecProvider
from pulumi_appstoreconnect.resources.checks import email_address, same_email, web_url
from pulumi_appstoreconnect.resources.locales import APP_STORE_LOCALES, app_store_locale


def reasons(token: str, news: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in SpecProvider(token).check({}, news).failures}


def test_the_locale_table_is_apples_list() -> None:
    # Two transcriptions of Apple's "App Store localizations" reference: the provider's (with
    # Apple's language names) and the emulator's (fastlane's code list) must not drift apart.
    assert set(APP_STORE_LOCALES) == EMULATOR_LOCALES and len(APP_STORE_LOCALES) == 50
    assert {"bn-BD", "gu-IN", "sl-SI", "ur-PK"} <= set(APP_STORE_LOCALES)  # Apple's 2025 additions
    assert APP_STORE_LOCALES["zh-Hans"] == "Chinese (Simplified)"


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en-us", "spelt 'en-US'"),
        ("zh_hant", "spelt 'zh-Hant'"),
        ("de", "for this language Apple takes de-DE"),
        ("en-IE", "for this language Apple takes en-AU, en-CA, en-GB, en-US"),
        ("tlh", "is not a locale App Store Connect takes (Apple's list"),
    ],
)
def test_a_locale_apple_does_not_take_names_the_close_ones(locale: str, words: str) -> None:
    reason = app_store_locale(locale)
    assert reason is not None and words in reason
    assert app_store_locale("pt-PT") is None


@pytest.mark.parametrize("good", ["ada@example.com", "first.last+beta@mail.example.co.uk", "x@y.io"])
def test_email_addresses_accepted(good: str) -> None:
    assert email_address(good) is None


@pytest.mark.parametrize("bad", ["", "ada", "ada@", "@example.com", "ada@example", "ada@example.", "a b@example.com", "a@b@c.com"])
def test_email_addresses_refused(bad: str) -> None:
    assert "is not an e-mail address" in (email_address(bad) or "")


def test_email_addresses_compare_ignoring_case() -> None:
    assert same_email("Ada@Example.com", "ada@example.COM") and not same_email("ada@example.com", "bob@example.com")
    assert not same_email(None, "ada@example.com")


@pytest.mark.parametrize(("url", "ok"), [
    ("https://example.com", True), ("http://example.com/privacy?x=1", True), ("example.com", False),
    ("https://", False), ("mailto:ada@example.com", False), ("https://exa mple.com", False),
])
def test_web_addresses(url: str, ok: bool) -> None:
    assert (web_url(url) is None) is ok


@pytest.mark.parametrize(
    ("group", "named"),
    [
        ({"is_internal_group": True, "public_link_enabled": True}, {"public_link_enabled"}),
        ({"is_internal_group": True, "public_link_limit_enabled": True, "public_link_limit": 5}, {"public_link_limit_enabled", "public_link_limit"}),
        ({"is_internal_group": True, "public_link_enabled": False}, set()),  # saying "off" is fine
        ({"is_internal_group": True, "has_access_to_all_builds": True, "builds": ["B1"]}, {"builds"}),
        ({"is_internal_group": True, "has_access_to_all_builds": False, "builds": ["B1"]}, set()),
        ({"has_access_to_all_builds": True}, {"has_access_to_all_builds"}),
        ({"public_link_enabled": True, "public_link_limit": 10_000}, set()),
    ],
)
def test_what_only_one_kind_of_group_takes(group: dict[str, Any], named: set[str]) -> None:
    assert set(reasons("BetaGroup", {"app": "A1", "name": "G", **group})) == named
