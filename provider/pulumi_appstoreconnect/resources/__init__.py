"""One module per App Store Connect type family.

``RESOURCES`` maps each public resource class name to its class, ``SPECS`` each JSON:API type
to its spec; the reconciler, the emulator's routes and the generated reference read these.
"""

from __future__ import annotations

from ..reconciler import SpecResource
from ..spec import ResourceSpec
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

_CLASSES: tuple[type[SpecResource], ...] = (BundleId, BundleIdCapability, Device, Certificate, Profile)

RESOURCES: dict[str, type[SpecResource]] = {cls.__name__: cls for cls in _CLASSES}
SPECS: dict[str, ResourceSpec] = {cls.spec.rest_type: cls.spec for cls in _CLASSES}

__all__ = [
    "BUNDLE_IDS", "BUNDLE_ID_CAPABILITIES", "CERTIFICATES", "DEVICES", "PROFILES", "RESOURCES", "SPECS",
    "AllEnabledDevices", "AllValidCertificates", "BundleId", "BundleIdCapability", "BundleIdInputs",
    "BundleIdPlatform", "CapabilityOption", "CapabilitySetting", "CapabilityType", "Certificate",
    "CertificateType", "Device", "DeviceClass", "DevicePlatform", "DeviceStatus", "Profile", "ProfileType",
]
