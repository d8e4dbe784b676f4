"""An app's App Store listing as code: what fastlane deliver keeps in its metadata folder.

Adopts the app com.example.demo (the API cannot create apps), sets its categories, age rating,
names in two locales, the current version's texts in two locales, the build and the review
details. Against the emulator: `pulumi-appstoreconnect emulator --seed demo`.

Config: ``buildNumber`` (the build of version 1.0 to attach; default: the latest processed one),
``extraLocale`` (a third locale of the version's texts, to try adding and removing one),
``description`` (the English description).
"""

from __future__ import annotations

import pulumi

from pulumi_appstoreconnect import (
    AgeRatingDeclaration,
    App,
    AppInfo,
    AppInfoLocalization,
    AppStoreReviewDetail,
    AppStoreVersion,
    AppStoreVersionLocalization,
    get_app,
    get_build,
)

config = pulumi.Config()

app = App("app", bundle_id="com.example.demo", primary_locale="en-US",
          content_rights_declaration="DOES_NOT_USE_THIRD_PARTY_CONTENT")

info = AppInfo("info", app=app.id, primary_category="GAMES", primary_subcategory_one="GAMES_PUZZLE",
               secondary_category="EDUCATION")

AgeRatingDeclaration("age-rating", app_info=info.id, violence_cartoon_or_fantasy="INFREQUENT_OR_MILD",
                     gambling=False, unrestricted_web_access=False, user_generated_content=False)

names = {"en-US": ("Demo", "Puzzles for the commute"), "de-DE": ("Demo", "Rätsel für unterwegs")}
for locale, (name, subtitle) in names.items():
    AppInfoLocalization(f"name-{locale}", app_info=info.id, locale=locale, name=name, subtitle=subtitle,
                        privacy_policy_url=f"https://example.com/{locale}/privacy")

# Builds are uploaded by Xcode or Transporter, never made here: look the one to submit up (the
# given build number of version 1.0, or its latest processed build).
build = get_build(get_app(bundle_id="com.example.demo").id, "1.0", config.get("buildNumber"))
version = AppStoreVersion("version", app=app.id, platform="IOS", version_string="1.0",
                          copyright="2026 Example Ltd", release_type="MANUAL", build=build.id)

texts = {
    "en-US": config.get("description") or "Small puzzles, one a day.",
    "de-DE": "Kleine Rätsel, eines pro Tag.",
}
if config.get("extraLocale"):
    texts[config.require("extraLocale")] = "Petites énigmes, une par jour."
for locale, description in texts.items():
    AppStoreVersionLocalization(f"texts-{locale}", app_store_version=version.id, locale=locale,
                                description=description, keywords="puzzle,daily,brain",
                                support_url="https://example.com/support")

AppStoreReviewDetail("review", app_store_version=version.id, contact_first_name="Ada",
                     contact_last_name="Lovelace", contact_phone="+44 20 7946 0000",
                     contact_email="review@example.com", demo_account_required=False,
                     notes="No sign-in needed.")

pulumi.export("app_info", info.id)
pulumi.export("version_state", version.app_version_state)
