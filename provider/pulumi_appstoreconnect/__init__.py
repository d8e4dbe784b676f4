"""pulumi-appstoreconnect: keep an Apple developer account in the state its code says.

Resources are Pulumi dynamic resources; credentials come from stack config
(``appstoreconnect:issuerId``, ``keyId``, ``privateKey``/``privateKeyPath``, ``baseUrl``) or the
environment (see README.md). Errors raised by the API client live in
:mod:`pulumi_appstoreconnect.client`.
"""

from __future__ import annotations

from .errors import AccountMismatch, CreateOnlyDrift, ProviderError
from .resources import (
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
    "AccountMismatch", "AllEnabledDevices", "AllValidCertificates", "BundleId", "BundleIdCapability", "BundleIdPlatform",
    "CapabilityOption", "CapabilitySetting", "CapabilityType", "Certificate", "CertificateType",
    "CreateOnlyDrift", "Device", "DeviceClass", "DevicePlatform", "DeviceStatus", "Profile", "ProfileType", "ProviderError",
]
