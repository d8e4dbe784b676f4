"""Bad inputs that must fail at preview, naming the property, before any request is sent."""

import base64
from pathlib import Path

import pulumi

from pulumi_appstoreconnect import (
    AppScreenshotSet,
    BetaAppLocalization,
    BetaGroup,
    BetaTester,
    BundleIdCapability,
    Certificate,
    Device,
    Profile,
)

# A 1x1 RGB PNG: a real image, of a size no display type takes.
TINY_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"

case = pulumi.Config().require("case")

if case == "bad_udid":
    Device("phone", udid="not-a-udid-1234", platform="IOS", name="Phone")
elif case == "unknown_capability":
    BundleIdCapability("cap", bundle_id="ABCDE12345", capability_type="TELEPORTATION")
elif case == "unsupported_assignment":
    BundleIdCapability("cap", bundle_id="ABCDE12345", capability_type="APP_GROUPS", app_groups=["group.com.example"])
elif case == "setting_of_another_capability":
    BundleIdCapability(
        "cap",
        bundle_id="ABCDE12345",
        capability_type="ICLOUD",
        settings=[{"key": "DATA_PROTECTION_PERMISSION_LEVEL", "options": [{"key": "COMPLETE_PROTECTION"}]}],
    )
elif case == "unknown_profile_type":
    Profile("profile", name="P", profile_type="IOS_APP_SIDELOAD", bundle_id="ABCDE12345", certificates=["C1"])
elif case == "not_a_csr":
    Certificate("cert", certificate_type="IOS_DEVELOPMENT", csr_content="-----BEGIN CERTIFICATE REQUEST-----\nbm9wZQ==\n-----END CERTIFICATE REQUEST-----\n")
elif case == "bad_tester_email":
    BetaTester("tester", email="ada.example.com", groups=["GROUP1"])
elif case == "unknown_locale":
    BetaAppLocalization("test-information", app="6450000001", locale="en-XX", description="Try it")
elif case == "public_link_on_internal_group":
    BetaGroup("team", app="6450000001", name="Team", is_internal_group=True, public_link_enabled=True)
elif case == "public_link_limit_above_maximum":
    BetaGroup("friends", app="6450000001", name="Friends", public_link_enabled=True, public_link_limit=20_000)
elif case == "missing_screenshot":
    AppScreenshotSet("shots", app_store_version_localization="LOCALIZATION1", screenshot_display_type="APP_IPHONE_67",
                     screenshots=["media/missing.png"])
elif case == "screenshot_of_another_size":
    Path("tiny.png").write_bytes(base64.b64decode(TINY_PNG))
    AppScreenshotSet("shots", app_store_version_localization="LOCALIZATION1", screenshot_display_type="APP_IPHONE_67",
                     screenshots=["tiny.png"])
else:
    raise ValueError(f"unknown case {case!r}")
