"""An app's App Store listing as code: what fastlane deliver keeps in its metadata folder.

Adopts the app com.example.demo (the API cannot create apps), sets its categories, age rating,
names in two locales, the current version's texts in two locales, the build, the review
details, and the English listing's screenshots for two display types and an app preview.
Against the emulator: `pulumi-appstoreconnect emulator --seed demo`.

The screenshots and the preview are files in ``media/``; ``placeholders.py`` writes stand-ins
there on the first run (they are not kept in git). Replace them with your own: a changed file is
uploaded again, an unchanged one never.

Config: ``buildNumber`` (the build of version 1.0 to attach; default: the latest processed one),
``extraLocale`` (a third locale of the version's texts, to try adding and removing one),
``description`` (the English description), ``iphoneOrder`` (the iPhone screenshots' order, e.g.
``3,1,2``).
"""

from __future__ import annotations

import pulumi

from placeholders import ensure as placeholder_media  # this example's stand-in files

from pulumi_appstoreconnect import (
    AgeRatingDeclaration,
    App,
    AppInfo,
    AppInfoLocalization,
    AppPreviewSet,
    AppScreenshotSet,
    AppStoreReviewDetail,
    AppStoreVersion,
    AppStoreVersionLocalization,
    PreviewFile,
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
localizations = {
    locale: AppStoreVersionLocalization(f"texts-{locale}", app_store_version=version.id, locale=locale,
                                        description=description, keywords="puzzle,daily,brain",
                                        support_url="https://example.com/support")
    for locale, description in texts.items()
}

# Screenshots and a preview of the English listing: paths relative to this directory, in the
# order the App Store shows them.
media = placeholder_media("media")
iphone = media["iphone"]
if config.get("iphoneOrder"):
    iphone = [iphone[int(n) - 1] for n in config.require("iphoneOrder").split(",")]
english = localizations["en-US"].id
AppScreenshotSet("screenshots-iphone", app_store_version_localization=english,
                 screenshot_display_type="APP_IPHONE_67", screenshots=iphone)
AppScreenshotSet("screenshots-ipad", app_store_version_localization=english,
                 screenshot_display_type="APP_IPAD_PRO_3GEN_129", screenshots=media["ipad"])
AppPreviewSet("preview-iphone", app_store_version_localization=english, preview_type="IPHONE_67",
              previews=[PreviewFile(file=media["preview"][0], preview_frame_time_code="00:00:02:00")])

AppStoreReviewDetail("review", app_store_version=version.id, contact_first_name="Ada",
                     contact_last_name="Lovelace", contact_phone="+44 20 7946 0000",
                     contact_email="review@example.com", demo_account_required=False,
                     notes="No sign-in needed.")

pulumi.export("app_info", info.id)
pulumi.export("version_state", version.app_version_state)
