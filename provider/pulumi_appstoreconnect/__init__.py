"""pulumi-appstoreconnect: keep an Apple developer account in the state its code says.

Resources are Pulumi dynamic resources; credentials come from stack config
(``appstoreconnect:issuerId``, ``keyId``, ``privateKey``/``privateKeyPath``, ``baseUrl``) or the
environment (see README.md). Errors raised by the API client live in
:mod:`pulumi_appstoreconnect.client`.
"""

from __future__ import annotations

import logging

from .errors import AccountMismatch, CreateOnlyDrift, ProviderError
from .resources import (
    AgeRatingDeclaration,
    App,
    AppInfo,
    AppInfoLocalization,
    AppStoreReviewDetail,
    AppStoreVersion,
    AppStoreVersionLocalization,
    AllEnabledDevices,
    AllValidCertificates,
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
    Profile,
    ProfileType,
)

__all__ = [
    "AgeRatingDeclaration", "App", "AppInfo", "AppInfoLocalization", "AppStoreReviewDetail", "AppStoreVersion",
    "AppStoreVersionLocalization",
    "AccountMismatch", "AllEnabledDevices", "AllValidCertificates", "BundleId", "BundleIdCapability", "BundleIdPlatform",
    "CapabilityOption", "CapabilitySetting", "CapabilityType", "Certificate", "CertificateType",
    "CreateOnlyDrift", "Device", "DeviceClass", "DevicePlatform", "DeviceStatus", "Profile", "ProfileType", "ProviderError",
]

# A library's logs go where the application sends them (the provider log file, see README);
# without that, nothing is printed: user-facing warnings are written by the provider itself.
logging.getLogger(__name__).addHandler(logging.NullHandler())
