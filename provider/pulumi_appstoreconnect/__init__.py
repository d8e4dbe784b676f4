"""pulumi-appstoreconnect: keep an Apple developer account in the state its code says.

Resources are Pulumi dynamic resources; :func:`get_app` and :func:`get_build` look up what
Apple's API never creates. Credentials come from stack config
(``appstoreconnect:issuerId``, ``keyId``, ``privateKey``/``privateKeyPath``, ``baseUrl``) or the
environment (see README.md). Errors raised by the API client live in
:mod:`pulumi_appstoreconnect.client`.
"""

from __future__ import annotations

import logging

from .errors import AccountMismatch, CreateOnlyDrift, ProviderError
from .lookups import FoundApp, FoundBuild, LookupFailed, get_app, get_build
from .resources import (
    AgeRatingDeclaration,
    App,
    AppInfo,
    AppInfoLocalization,
    AppPreviewSet,
    AppScreenshotSet,
    AppStoreReviewDetail,
    AppStoreVersion,
    AppStoreVersionLocalization,
    AllEnabledDevices,
    AllValidCertificates,
    BetaAppLocalization,
    BetaAppReviewDetail,
    BetaBuildLocalization,
    BetaGroup,
    BetaLicenseAgreement,
    BetaTester,
    BundleId,
    BundleIdCapability,
    BundleIdPlatform,
    CapabilityOption,
    CapabilitySetting,
    CapabilityType,
    Certificate,
    CertificateType,
    Device,
    DeviceClass,
    DevicePlatform,
    DeviceStatus,
    PreviewFile,
    Profile,
    ProfileType,
)

__all__ = [
    "AccountMismatch", "AgeRatingDeclaration", "AllEnabledDevices", "AllValidCertificates", "App", "AppInfo",
    "AppInfoLocalization", "AppPreviewSet", "AppScreenshotSet", "AppStoreReviewDetail", "AppStoreVersion", "AppStoreVersionLocalization",
    "BetaAppLocalization", "BetaAppReviewDetail", "BetaBuildLocalization", "BetaGroup", "BetaLicenseAgreement",
    "BetaTester", "BundleId", "BundleIdCapability", "BundleIdPlatform", "FoundApp", "FoundBuild",
    "CapabilityOption", "CapabilitySetting", "CapabilityType", "Certificate", "CertificateType",
    "CreateOnlyDrift", "Device", "DeviceClass", "DevicePlatform", "DeviceStatus", "PreviewFile", "Profile", "ProfileType", "ProviderError",
    "LookupFailed", "get_app", "get_build",
]

# A library's logs go where the application sends them (the provider log file, see README);
# without that, nothing is printed: user-facing warnings are written by the provider itself.
logging.getLogger(__name__).addHandler(logging.NullHandler())
