"""Provisioning profiles: ``/v1/profiles``. Apple cannot change a profile: any change replaces it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, Literal, Union

import pulumi
from pydantic import Field

from ..client.documents import parse_timestamp
from ..reconciler import SpecResource
from ..spec import Adoptable, COMPUTED, CREATE_ONLY, DELETE, Check, Hooks, NaturalKey, Relationship, ResourceSpec, SpecModel
from .certificate import DEFAULT_RENEW_BEFORE_DAYS, CertificateType, in_renewal_window
from .checks import WholeNumber, non_blank


class ProfileType(str, enum.Enum):
    IOS_APP_DEVELOPMENT = "IOS_APP_DEVELOPMENT"
    IOS_APP_STORE = "IOS_APP_STORE"
    IOS_APP_ADHOC = "IOS_APP_ADHOC"
    IOS_APP_INHOUSE = "IOS_APP_INHOUSE"
    MAC_APP_DEVELOPMENT = "MAC_APP_DEVELOPMENT"
    MAC_APP_STORE = "MAC_APP_STORE"
    MAC_APP_DIRECT = "MAC_APP_DIRECT"
    TVOS_APP_DEVELOPMENT = "TVOS_APP_DEVELOPMENT"
    TVOS_APP_STORE = "TVOS_APP_STORE"
    TVOS_APP_ADHOC = "TVOS_APP_ADHOC"
    TVOS_APP_INHOUSE = "TVOS_APP_INHOUSE"
    MAC_CATALYST_APP_DEVELOPMENT = "MAC_CATALYST_APP_DEVELOPMENT"
    MAC_CATALYST_APP_STORE = "MAC_CATALYST_APP_STORE"
    MAC_CATALYST_APP_DIRECT = "MAC_CATALYST_APP_DIRECT"


class DeviceClass(str, enum.Enum):
    APPLE_VISION_PRO = "APPLE_VISION_PRO"
    APPLE_WATCH = "APPLE_WATCH"
    IPAD = "IPAD"
    IPHONE = "IPHONE"
    IPOD = "IPOD"
    APPLE_TV = "APPLE_TV"
    MAC = "MAC"


class AllEnabledDevices(SpecModel):
    """Selects every ENABLED device of ``platform`` (optionally only some device classes).

    Resolved when the profile is checked, so registering a device makes the next ``up``
    regenerate the profile. Apple files Apple TVs under platform IOS: use ``device_classes``.
    """

    kind: Literal["allEnabledDevices"] = "allEnabledDevices"
    # Apple refuses filter[platform]=UNIVERSAL on devices (400, seen by fastlane users in
    # 2025), although its spec lists it: a device is either an iOS-family device or a Mac.
    platform: Literal["IOS", "MAC_OS"]
    device_classes: list[DeviceClass] | None = None


class AllValidCertificates(SpecModel):
    """Selects every certificate of the given types that is outside its renewal window.

    A certificate within ``renew_before_days`` of its expiry is left out: its renewal revokes
    it, which would make the profile INVALID. Use the same ``renew_before_days`` as your
    :class:`Certificate` resources (default 30, as theirs).
    """

    kind: Literal["allValidCertificates"] = "allValidCertificates"
    certificate_types: list[CertificateType] = Field(min_length=1)
    renew_before_days: WholeNumber = Field(default=DEFAULT_RENEW_BEFORE_DAYS, ge=0, le=365)


DeviceSelection = Union[list[str], AllEnabledDevices]
CertificateSelection = Union[list[str], AllValidCertificates]


class ProfileInputs(Adoptable):
    name: Annotated[str, CREATE_ONLY, NaturalKey(), Check(non_blank)]
    profile_type: Annotated[ProfileType, CREATE_ONLY]
    bundle_id: Annotated[str, CREATE_ONLY, Relationship("bundleId", "bundleIds")]
    certificates: Annotated[CertificateSelection, CREATE_ONLY, Relationship("certificates", "certificates", to_many=True)]
    devices: Annotated[DeviceSelection | None, CREATE_ONLY, Relationship("devices", "devices", to_many=True)] = None
    platform: Annotated[str | None, COMPUTED] = None
    profile_state: Annotated[str | None, COMPUTED] = None
    profile_content: Annotated[str | None, COMPUTED] = None
    uuid: Annotated[str | None, COMPUTED] = None
    created_date: Annotated[str | None, COMPUTED] = None
    expiration_date: Annotated[str | None, COMPUTED] = None


# Only development and ad hoc profiles list devices. App Store, in-house (Enterprise) and
# Developer ID ("direct") profiles run on any device, and Apple answers a device list for them
# with 409 ENTITY_ERROR.RELATIONSHIP.NOT_ALLOWED ("No devices can be associated to Provisioning
# Profiles for the App Store.", logged from the live API in codemagic cli-tools PR #26).
DEVICE_LIST_SUFFIXES = ("_DEVELOPMENT", "_ADHOC")


def devices_match_profile_type(model: Any) -> list[tuple[str, str]]:
    """Refuse devices on a profile type that provisions every device, before Apple does."""
    profile_type = str(model.profile_type)
    if not model.devices or profile_type.endswith(DEVICE_LIST_SUFFIXES):
        return []
    return [(
        "devices",
        f"devices cannot be given for a {profile_type} profile: App Store, in-house and Developer ID "
        "profiles run on any device and Apple refuses a device list for them. Remove devices, or "
        "use a development or ad hoc profile type to provision listed devices.",
    )]


def resolve_selectors(provider: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """Replace device/certificate selectors by the sorted ids they select right now."""
    resolved = dict(inputs)
    devices = inputs.get("devices")
    if isinstance(devices, dict):
        selector = AllEnabledDevices.model_validate(devices)
        found = provider.client.list_all(
            "/v1/devices", {"filter[platform]": selector.platform, "filter[status]": "ENABLED"}
        )
        classes = set(selector.device_classes or [])
        resolved["devices"] = sorted(
            d["id"] for d in found if not classes or (d.get("attributes") or {}).get("deviceClass") in classes
        )
    certificates = inputs.get("certificates")
    if isinstance(certificates, dict):
        selector = AllValidCertificates.model_validate(certificates)
        found = provider.client.list_all(
            "/v1/certificates", {"filter[certificateType]": ",".join(selector.certificate_types)}
        )
        now = provider.now()
        resolved["certificates"] = sorted(
            c["id"]
            for c in found
            if (expiry := (c.get("attributes") or {}).get("expirationDate"))
            and not in_renewal_window(expiry, selector.renew_before_days, now)
        )
    return resolved


def replace_unusable(olds: dict[str, Any], now: datetime) -> list[str]:
    """An INVALID profile (a certificate or device it used is gone) or an expired one is drift."""
    if olds.get("profile_state") == "INVALID":
        return ["profile_state"]
    expiry = olds.get("expiration_date")
    if expiry and parse_timestamp(expiry) <= now:
        return ["expiration_date"]
    return []


PROFILES = ResourceSpec(
    rest_type="profiles",
    inputs=ProfileInputs,
    delete=DELETE,
    filters=("name", "profileType", "profileState", "id"),
    # Profile names are unique per team: the old profile must go before its successor.
    delete_before_replace=True,
    # Apple marks an App ID's profiles INVALID when one of its capabilities is enabled or
    # reconfigured (Technical Q&A QA1878): one changed earlier in the same run regenerates it.
    regenerate_after=(("bundleIdCapabilities", "bundle_id", "profile_state"),),
    hooks=Hooks(validate=devices_match_profile_type, resolve=resolve_selectors, replace_reasons=replace_unusable),
)


class Profile(SpecResource, spec=PROFILES):
    """A provisioning profile. Apple cannot edit profiles, so **any change replaces it**, deleting
    the old one first (names are unique).

    ``devices`` and ``certificates`` take ids, or a selector (:class:`AllEnabledDevices`,
    :class:`AllValidCertificates`) resolved at preview: registering a new device then
    regenerates the profile (a new ``uuid``) on the next ``up`` and touches nothing else.
    ``AllValidCertificates`` leaves out certificates within ``renew_before_days`` (default 30) of
    their expiry, which their renewal is about to revoke: give it the same value as your
    ``Certificate`` resources. When the selected devices or certificates are managed in the same
    stack, add them to ``depends_on`` so they exist before the selector is resolved.

    Apple marks a profile INVALID when a capability of its App ID changes: put the App ID's
    ``BundleIdCapability`` resources in ``depends_on`` too, and a capability enabled or
    reconfigured by an ``up`` regenerates the profile in that same ``up``. (Pulumi deletes
    removed resources last, so a capability removed from the program leaves the profile INVALID;
    the next ``up --refresh`` replaces it.) A profile Apple marks INVALID for any other reason (a
    certificate in it was revoked) or that has expired shows as drift after ``refresh`` and is
    replaced by the next ``up``. ``profile_content`` is the base64 ``.mobileprovision``.

    Only development and ad hoc profiles list ``devices``; App Store, in-house and Developer ID
    (``*_DIRECT``) profiles run on any device, and giving them devices fails at preview.
    """

    name: pulumi.Output[str]
    profile_type: pulumi.Output[str]
    bundle_id: pulumi.Output[str]
    certificates: pulumi.Output[Any]  # ids (a selector is resolved to ids at preview)
    devices: pulumi.Output[Any]
    platform: pulumi.Output[str]
    profile_state: pulumi.Output[str]
    profile_content: pulumi.Output[str]
    uuid: pulumi.Output[str]
    created_date: pulumi.Output[str]
    expiration_date: pulumi.Output[str]
