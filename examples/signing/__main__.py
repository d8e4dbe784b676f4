"""Signing as code: an App ID with two capabilities, test devices, a development certificate
made by the provider, and a development profile that follows every enabled iOS device.

Register a device by adding it to DEVICES (or raising the `deviceCount` config): the next
`pulumi up` registers it and regenerates the profile, and touches nothing else.
"""

import pulumi

from pulumi_appstoreconnect import (
    AllEnabledDevices,
    BundleId,
    BundleIdCapability,
    CapabilityOption,
    CapabilitySetting,
    Certificate,
    Device,
    Profile,
)

config = pulumi.Config()
prefix = config.get("identifierPrefix") or "com.example.signing"

# The team's test devices: (resource name, UDID, device name).
DEVICES = [
    ("alice-iphone", "00008030-001A35E11A88802E", "Alice's iPhone 15"),
    ("bob-iphone", "00008101-000A1B2C3D4E5F60", "Bob's iPhone 13"),
    ("qa-ipad", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "QA iPad (2019)"),
    ("carol-iphone", "00008120-0011223344556677", "Carol's iPhone 16"),
]

app = BundleId("app", identifier=f"{prefix}.app", platform="IOS", name="Signing Example")

push = BundleIdCapability("push", bundle_id=app.id, capability_type="PUSH_NOTIFICATIONS")
icloud = BundleIdCapability(
    "icloud",
    bundle_id=app.id,
    capability_type="ICLOUD",
    settings=[CapabilitySetting(key="ICLOUD_VERSION", options=[CapabilityOption(key=config.get("icloudVersion") or "XCODE_6")])],
)

devices = [
    Device(resource, udid=udid, platform="IOS", name=label)
    for resource, udid, label in DEVICES[: config.get_int("deviceCount") or 3]
]

# No CSR given: the provider makes the key and CSR; the key, .p12 and its password are secrets.
certificate = Certificate("development", certificate_type="IOS_DEVELOPMENT", renew_before_days=30)

profile = Profile(
    "development",
    name=f"{prefix} development",
    profile_type="IOS_APP_DEVELOPMENT",
    bundle_id=app.id,
    certificates=[certificate.id],
    devices=AllEnabledDevices(platform="IOS"),
    # The selector is resolved at preview: let this stack's devices exist first. Apple marks a
    # bundle ID's profiles INVALID whenever one of its capabilities changes: make the profile
    # after the capabilities.
    opts=pulumi.ResourceOptions(depends_on=[*devices, push, icloud]),
)

pulumi.export("bundle_id", app.id)
pulumi.export("certificate_id", certificate.id)
pulumi.export("certificate_expires", certificate.expiration_date)
pulumi.export("p12", certificate.p12)
pulumi.export("p12_password", certificate.p12_password)
pulumi.export("profile_id", profile.id)
pulumi.export("profile_uuid", profile.uuid)
pulumi.export("profile_devices", profile.devices)
