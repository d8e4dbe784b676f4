"""One module per App Store Connect type family.

``RESOURCES`` maps each public resource class name (its token) to its class and ``SPECS`` to its
spec: two classes may manage one JSON:API type. ``SPECS_BY_TYPE`` maps each JSON:API type that
one class manages to that spec (the emulator's routes). The reconciler, the emulator and the
generated reference read these.
"""

from __future__ import annotations

from ..reconciler import SpecResource
from ..spec import ResourceSpec
from .app import APPS, App, ContentRightsDeclaration
from .app_media import APP_PREVIEW_SETS, APP_SCREENSHOT_SETS, AppPreviewSet, AppScreenshotSet, PreviewFile
from .app_info import (
    AGE_RATING_DECLARATIONS,
    APP_INFO_LOCALIZATIONS,
    APP_INFOS,
    AgeRatingDeclaration,
    AppInfo,
    AppInfoLocalization,
)
from .app_store_version import (
    APP_STORE_REVIEW_DETAILS,
    APP_STORE_VERSION_LOCALIZATIONS,
    APP_STORE_VERSIONS,
    AppStoreReviewDetail,
    AppStoreVersion,
    AppStoreVersionLocalization,
)
from .beta_group import BETA_GROUPS, BetaGroup
from .beta_test_information import (
    BETA_APP_LOCALIZATIONS,
    BETA_APP_REVIEW_DETAILS,
    BETA_BUILD_LOCALIZATIONS,
    BETA_LICENSE_AGREEMENTS,
    BetaAppLocalization,
    BetaAppReviewDetail,
    BetaBuildLocalization,
    BetaLicenseAgreement,
)
from .beta_tester import BETA_TESTERS, BetaTester
from .bundle_id import BUNDLE_IDS, BundleId, BundleIdInputs, BundleIdPlatform
from .capability import (
    BUNDLE_ID_CAPABILITIES,
    BundleIdCapability,
    CapabilityOption,
    CapabilitySetting,
    CapabilityType,
)
from .certificate import CERTIFICATES, Certificate, CertificateType
from .device import DEVICES, Device, DevicePlatform, DeviceStatus
from .profile import PROFILES, AllEnabledDevices, AllValidCertificates, DeviceClass, Profile, ProfileType

_CLASSES: tuple[type[SpecResource], ...] = (
    # signing
    BundleId, BundleIdCapability, Device, Certificate, Profile,
    # TestFlight
    BetaGroup, BetaTester, BetaAppLocalization, BetaBuildLocalization, BetaAppReviewDetail, BetaLicenseAgreement,
    # App Store metadata
    App, AppInfo, AgeRatingDeclaration, AppInfoLocalization, AppStoreVersion, AppStoreVersionLocalization,
    AppStoreReviewDetail,
    # screenshots and app previews
    AppScreenshotSet, AppPreviewSet,
)

RESOURCES: dict[str, type[SpecResource]] = {cls.__name__: cls for cls in _CLASSES}
SPECS: dict[str, ResourceSpec] = {name: cls.spec for name, cls in RESOURCES.items()}
_TYPES = [spec.rest_type for spec in SPECS.values()]
SPECS_BY_TYPE: dict[str, ResourceSpec] = {
    spec.rest_type: spec for spec in SPECS.values() if _TYPES.count(spec.rest_type) == 1
}

__all__ = [
    "APP_PREVIEW_SETS", "APP_SCREENSHOT_SETS", "AppPreviewSet", "AppScreenshotSet", "PreviewFile",
    "AGE_RATING_DECLARATIONS", "APPS", "APP_INFOS", "APP_INFO_LOCALIZATIONS", "APP_STORE_REVIEW_DETAILS",
    "APP_STORE_VERSIONS", "APP_STORE_VERSION_LOCALIZATIONS", "AgeRatingDeclaration", "App", "AppInfo",
    "AppInfoLocalization", "AppStoreReviewDetail", "AppStoreVersion", "AppStoreVersionLocalization",
    "ContentRightsDeclaration",
    "BETA_APP_LOCALIZATIONS", "BETA_APP_REVIEW_DETAILS", "BETA_BUILD_LOCALIZATIONS", "BETA_GROUPS",
    "BETA_LICENSE_AGREEMENTS", "BETA_TESTERS", "BetaAppLocalization", "BetaAppReviewDetail",
    "BetaBuildLocalization", "BetaGroup", "BetaLicenseAgreement", "BetaTester",
    "BUNDLE_IDS", "BUNDLE_ID_CAPABILITIES", "CERTIFICATES", "DEVICES", "PROFILES", "RESOURCES", "SPECS", "SPECS_BY_TYPE",
    "AllEnabledDevices", "AllValidCertificates", "BundleId", "BundleIdCapability", "BundleIdInputs",
    "BundleIdPlatform", "CapabilityOption", "CapabilitySetting", "CapabilityType", "Certificate",
    "CertificateType", "Device", "DeviceClass", "DevicePlatform", "DeviceStatus", "Profile", "ProfileType",
]
