"""Registered devices: ``/v1/devices``. Apple has no DELETE for devices."""

from __future__ import annotations

import enum
import re
from typing import Annotated, Any

import pulumi

from ..errors import ProviderError
from ..reconciler import SpecResource
from ..spec import (
    Adoptable,
    COMPUTED,
    CREATE_ONLY,
    DISABLE,
    PATCH_ONLY,
    UPDATABLE,
    Check,
    Hooks,
    NaturalKey,
    ResourceSpec,
    casefold_match,
)
from .checks import max_length, non_blank


class DeviceStatus(str, enum.Enum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class DevicePlatform(str, enum.Enum):
    """A device is an iOS-family device (iPhone, iPad, Apple TV, Apple Watch, Vision Pro) or a
    Mac. Apple's spec types it as ``BundleIdPlatform``, but UNIVERSAL describes App IDs, not
    devices: Apple refuses ``filter[platform]=UNIVERSAL`` on devices (fastlane #29497, 2025)."""

    IOS = "IOS"
    MAC_OS = "MAC_OS"


# UDID formats Apple registers: 40 hex digits (devices before iPhone XS), 8-16 hex digits
# with a dash (iPhone XS and later, Apple silicon), and the 8-4-4-4-12 provisioning UUID of
# Intel Macs.
_UDID = re.compile(
    r"(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{8}-[0-9a-fA-F]{16}"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)


_MAC_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def mac_udids_are_macs(model: Any) -> list[tuple[str, str]]:
    """An 8-4-4-4-12 UDID is an Intel Mac's provisioning UUID (or a simulator's, which Apple
    never registers): Apple refuses it for any platform but MAC_OS ("An invalid value ... was
    provided for the parameter 'udid'", bitrise-steplib/steps-ios-auto-provision#130, 2020)."""
    if isinstance(model.udid, str) and _MAC_UUID.fullmatch(model.udid) and model.platform != DevicePlatform.MAC_OS.value:
        return [("platform", f"platform: {model.udid} is shaped like a Mac's UDID (8-4-4-4-12), which Apple "
                             f"registers only with platform MAC_OS (a simulator's UDID cannot be registered at all)")]
    return []


def udid_format(value: object) -> str | None:
    if not isinstance(value, str) or not _UDID.fullmatch(value):
        return (
            f"{value!r} is not a device UDID: expected 40 hex digits, 8 and 16 hex digits "
            "joined by a dash (e.g. 00008030-001A35E11A88802E), or a Mac's 8-4-4-4-12 UUID"
        )
    return None


class DeviceInputs(Adoptable):
    udid: Annotated[str, CREATE_ONLY, NaturalKey(casefold_match), Check(udid_format)]
    platform: Annotated[DevicePlatform, CREATE_ONLY]
    name: Annotated[str, UPDATABLE, Check(non_blank), Check(max_length(50))]
    status: Annotated[DeviceStatus, PATCH_ONLY] = DeviceStatus.ENABLED
    device_class: Annotated[str | None, COMPUTED] = None
    model: Annotated[str | None, COMPUTED] = None
    added_date: Annotated[str | None, COMPUTED] = None


def reenable_registered_device(provider: Any, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """A UDID already registered but disabled is enabled again (and renamed), not POSTed.

    Apple refuses a second registration of a UDID, and a device disabled by an earlier
    ``destroy`` is the common case when a stack is re-created. An enabled device registered
    outside this stack is left alone: the POST then fails with Apple's 409, named by
    ``on_conflict``.
    """
    existing = provider.find_by_natural_key(inputs["udid"])
    if existing is None or (existing.get("attributes") or {}).get("status") != DeviceStatus.DISABLED.value:
        return None
    registered_as = (existing.get("attributes") or {}).get("platform")
    if registered_as != inputs["platform"]:
        raise ProviderError(
            f"Device {inputs['udid']} is registered (disabled, id {existing['id']}) as {registered_as}, and "
            f"Apple never changes the platform of a registered UDID: declare platform={registered_as!r} "
            f"to enable it again."
        )
    wanted = DeviceStatus(inputs.get("status") or DeviceStatus.ENABLED).value
    return provider.client.update("devices", existing["id"], {"status": wanted, "name": inputs["name"]})


def platform_fixed_per_udid(olds: dict[str, Any], news: dict[str, Any]) -> list[tuple[str, str]]:
    """Apple registers a UDID once, on the platform it was registered with, and never changes
    it: re-registering is refused and re-enabling keeps the old platform. A new platform for the
    same UDID could never converge (each ``up`` would disable and re-enable the device)."""
    old_udid, new_udid = olds.get("udid"), news.get("udid")
    old_platform, new_platform = olds.get("platform"), news.get("platform")
    if not (isinstance(old_udid, str) and isinstance(new_udid, str) and casefold_match(old_udid, new_udid)):
        return []
    if old_platform is None or new_platform is None or old_platform == new_platform:
        return []
    return [(
        "platform",
        f"platform: device {new_udid} is registered as {old_platform} and Apple never changes the "
        f"platform of a registered UDID (it is registered once, on the platform it was registered "
        f"with). Keep platform={old_platform!r}.",
    )]


DEVICES = ResourceSpec(
    rest_type="devices",
    inputs=DeviceInputs,
    delete=DISABLE,
    filters=("name", "platform", "udid", "status", "id"),
    hooks=Hooks(
        validate=mac_udids_are_macs, before_create=reenable_registered_device, validate_change=platform_fixed_per_udid
    ),
)


class Device(SpecResource, spec=DEVICES):
    """A device registered for development and ad-hoc distribution.

    Apple cannot delete devices: **destroy disables the device** (it stays on the team's list and
    still counts against the yearly device limit). Declaring a UDID that is registered but
    disabled re-enables that device instead of registering it again. A new ``udid`` is a new
    device (the old one is disabled); ``name`` and ``status`` are updated in place. ``platform``
    (IOS or MAC_OS) cannot change for a UDID: Apple keeps the platform a UDID was first
    registered with, so a change fails at preview. UDIDs compare case-insensitively and the
    state keeps Apple's spelling. Destroying a device that is already gone counts as done.
    """

    udid: pulumi.Output[str]
    platform: pulumi.Output[str]
    name: pulumi.Output[str]
    status: pulumi.Output[str]
    device_class: pulumi.Output[str]
    model: pulumi.Output[str | None]
    added_date: pulumi.Output[str]
