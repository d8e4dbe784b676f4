"""Registered devices: ``/v1/devices``. Apple has no DELETE for devices."""

from __future__ import annotations

import enum
import re
from typing import Annotated, Any

import pulumi

from ..reconciler import SpecResource
from ..spec import (
    COMPUTED,
    CREATE_ONLY,
    DISABLE,
    PATCH_ONLY,
    UPDATABLE,
    Check,
    Hooks,
    NaturalKey,
    ResourceSpec,
    SpecModel,
    casefold_match,
)
from .bundle_id import BundleIdPlatform
from .checks import max_length, non_blank


class DeviceStatus(str, enum.Enum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


# UDID formats Apple registers: 40 hex digits (devices before iPhone XS), 8-16 hex digits
# with a dash (iPhone XS and later, Apple silicon), and the 8-4-4-4-12 provisioning UUID of
# Intel Macs.
_UDID = re.compile(
    r"(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{8}-[0-9a-fA-F]{16}"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)


def udid_format(value: object) -> str | None:
    if not isinstance(value, str) or not _UDID.fullmatch(value):
        return (
            f"{value!r} is not a device UDID: expected 40 hex digits, 8 and 16 hex digits "
            "joined by a dash (e.g. 00008030-001A35E11A88802E), or a Mac's 8-4-4-4-12 UUID"
        )
    return None


class DeviceInputs(SpecModel):
    udid: Annotated[str, CREATE_ONLY, NaturalKey(casefold_match), Check(udid_format)]
    platform: Annotated[BundleIdPlatform, CREATE_ONLY]
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
    wanted = DeviceStatus(inputs.get("status") or DeviceStatus.ENABLED).value
    return provider.client.update("devices", existing["id"], {"status": wanted, "name": inputs["name"]})


DEVICES = ResourceSpec(
    rest_type="devices",
    inputs=DeviceInputs,
    delete=DISABLE,
    filters=("name", "platform", "udid", "status", "id"),
    hooks=Hooks(before_create=reenable_registered_device),
)


class Device(SpecResource, spec=DEVICES):
    """A device registered for development and ad-hoc distribution.

    Apple cannot delete devices: **destroy disables the device** (it stays on the team's list and
    still counts against the yearly device limit). Declaring a UDID that is registered but
    disabled re-enables that device instead of registering it again. ``udid`` and ``platform``
    replace it when changed (Apple keeps the old one); ``name`` and ``status`` are updated in
    place. UDIDs compare case-insensitively.
    """

    udid: pulumi.Output[str]
    platform: pulumi.Output[str]
    name: pulumi.Output[str]
    status: pulumi.Output[str]
    device_class: pulumi.Output[str]
    model: pulumi.Output[str | None]
    added_date: pulumi.Output[str]
