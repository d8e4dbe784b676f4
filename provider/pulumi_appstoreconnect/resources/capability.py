"""Capabilities enabled on a bundle ID: ``/v1/bundleIdCapabilities``."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import pulumi

from ..reconciler import SpecResource
from ..spec import Adoptable, CREATE_ONLY, DELETE, UPDATABLE, Equivalent, Hooks, ReadAs, Relationship, ResourceSpec, SpecModel


class CapabilityType(str, enum.Enum):
    """Apple's ``CapabilityType`` (spec 4.4.1, unchanged in 4.5.1)."""

    ICLOUD = "ICLOUD"
    IN_APP_PURCHASE = "IN_APP_PURCHASE"
    GAME_CENTER = "GAME_CENTER"
    PUSH_NOTIFICATIONS = "PUSH_NOTIFICATIONS"
    WALLET = "WALLET"
    INTER_APP_AUDIO = "INTER_APP_AUDIO"
    MAPS = "MAPS"
    ASSOCIATED_DOMAINS = "ASSOCIATED_DOMAINS"
    PERSONAL_VPN = "PERSONAL_VPN"
    APP_GROUPS = "APP_GROUPS"
    HEALTHKIT = "HEALTHKIT"
    HOMEKIT = "HOMEKIT"
    WIRELESS_ACCESSORY_CONFIGURATION = "WIRELESS_ACCESSORY_CONFIGURATION"
    APPLE_PAY = "APPLE_PAY"
    DATA_PROTECTION = "DATA_PROTECTION"
    SIRIKIT = "SIRIKIT"
    NETWORK_EXTENSIONS = "NETWORK_EXTENSIONS"
    MULTIPATH = "MULTIPATH"
    HOT_SPOT = "HOT_SPOT"
    NFC_TAG_READING = "NFC_TAG_READING"
    CLASSKIT = "CLASSKIT"
    AUTOFILL_CREDENTIAL_PROVIDER = "AUTOFILL_CREDENTIAL_PROVIDER"
    ACCESS_WIFI_INFORMATION = "ACCESS_WIFI_INFORMATION"
    NETWORK_CUSTOM_PROTOCOL = "NETWORK_CUSTOM_PROTOCOL"
    COREMEDIA_HLS_LOW_LATENCY = "COREMEDIA_HLS_LOW_LATENCY"
    SYSTEM_EXTENSION_INSTALL = "SYSTEM_EXTENSION_INSTALL"
    USER_MANAGEMENT = "USER_MANAGEMENT"
    APPLE_ID_AUTH = "APPLE_ID_AUTH"


class CapabilitySettingKey(str, enum.Enum):
    ICLOUD_VERSION = "ICLOUD_VERSION"
    DATA_PROTECTION_PERMISSION_LEVEL = "DATA_PROTECTION_PERMISSION_LEVEL"
    APPLE_ID_AUTH_APP_CONSENT = "APPLE_ID_AUTH_APP_CONSENT"


class CapabilityOptionKey(str, enum.Enum):
    XCODE_5 = "XCODE_5"
    XCODE_6 = "XCODE_6"
    COMPLETE_PROTECTION = "COMPLETE_PROTECTION"
    PROTECTED_UNLESS_OPEN = "PROTECTED_UNLESS_OPEN"
    PROTECTED_UNTIL_FIRST_USER_AUTH = "PROTECTED_UNTIL_FIRST_USER_AUTH"
    PRIMARY_APP_CONSENT = "PRIMARY_APP_CONSENT"


class CapabilityOption(SpecModel):
    key: CapabilityOptionKey
    enabled: bool = True


class CapabilitySetting(SpecModel):
    key: CapabilitySettingKey
    options: list[CapabilityOption]


# Which setting belongs to which capability, and which options it takes. Apple's spec only
# gives the shapes; these pairs are the ones Apple's portal offers (and fastlane sends).
SETTINGS_FOR: dict[str, dict[str, set[str]]] = {
    "ICLOUD": {"ICLOUD_VERSION": {"XCODE_5", "XCODE_6"}},
    "DATA_PROTECTION": {
        "DATA_PROTECTION_PERMISSION_LEVEL": {
            "COMPLETE_PROTECTION", "PROTECTED_UNLESS_OPEN", "PROTECTED_UNTIL_FIRST_USER_AUTH",
        }
    },
    "APPLE_ID_AUTH": {"APPLE_ID_AUTH_APP_CONSENT": {"PRIMARY_APP_CONSENT"}},
}


def settings_match_capability(model: Any) -> list[tuple[str, str]]:
    allowed = SETTINGS_FOR.get(model.capability_type, {})
    problems: list[tuple[str, str]] = []
    for setting in model.settings or []:
        key = setting.key if isinstance(setting.key, str) else setting.key.value
        if key not in allowed:
            takes = ", ".join(sorted(allowed)) or "no settings"
            problems.append(("settings", f"settings: {key} does not apply to {model.capability_type} (it takes {takes})"))
            continue
        for option in setting.options:
            option_key = option.key if isinstance(option.key, str) else option.key.value
            if option_key not in allowed[key]:
                problems.append((
                    "settings",
                    f"settings: option {option_key} is not valid for {key} (valid: {', '.join(sorted(allowed[key]))})",
                ))
    return problems


def settings_as_declared(value: Any) -> list[dict[str, Any]] | None:
    """Apple answers settings with names, descriptions and flags never written, and lists every
    option of a setting, the ones not chosen with ``enabled: false``: keep the parts a program
    declares (each setting's key and its enabled options)."""
    declared = [
        {
            "key": setting.get("key"),
            "options": [
                {"key": option.get("key"), "enabled": True}
                for option in setting.get("options") or []
                if isinstance(option, dict) and option.get("enabled", True) is not False
            ],
        }
        for setting in value or []
        if isinstance(setting, dict)
    ]
    return declared or None


def same_enabled_options(at_apple: Any, declared: Any) -> bool:
    """Settings are the same when the same options are enabled: options a program lists as
    ``enabled=False`` and the disabled ones Apple lists change nothing."""
    return _enabled(at_apple) == _enabled(declared)


def _enabled(settings: Any) -> list[tuple[Any, tuple[Any, ...]]]:
    return sorted(
        (setting.get("key"), tuple(sorted(option.get("key") for option in setting.get("options") or []
                                          if isinstance(option, dict) and option.get("enabled", True) is not False)))
        for setting in settings or []
        if isinstance(setting, dict)
    )


def capability_on_bundle_id(provider: Any, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """A bundle ID holds each capability type once: that pair is the natural key."""
    listed = provider.client.list_all(f"/v1/bundleIds/{inputs['bundle_id']}/bundleIdCapabilities")
    wanted = inputs["capability_type"]
    return [c for c in listed if (c.get("attributes") or {}).get("capabilityType") == wanted]


_WEB_UI_ONLY = "cannot be set through the App Store Connect API; assign it in the Certificates, Identifiers & Profiles web UI"

class BundleIdCapabilityInputs(Adoptable):
    bundle_id: Annotated[str, CREATE_ONLY, Relationship("bundleId", "bundleIds")]
    capability_type: Annotated[CapabilityType, CREATE_ONLY]
    settings: Annotated[
        list[CapabilitySetting] | None, UPDATABLE, ReadAs(settings_as_declared), Equivalent(same_enabled_options)
    ] = None


BUNDLE_ID_CAPABILITIES = ResourceSpec(
    rest_type="bundleIdCapabilities",
    inputs=BundleIdCapabilityInputs,
    delete=DELETE,
    read_via="/v1/bundleIds/{bundle_id}/bundleIdCapabilities",
    unsupported={
        "app_groups": f"App Group assignment {_WEB_UI_ONLY}",
        "icloud_containers": f"iCloud container assignment {_WEB_UI_ONLY}",
        "merchant_ids": f"Apple Pay merchant ID assignment {_WEB_UI_ONLY}",
        "associated_domains": (
            "associated domains are not a setting of the App ID; enable ASSOCIATED_DOMAINS here "
            "and list the domains in the app's entitlements file"
        ),
    },
    # Apple enables some capabilities on every new App ID (GAME_CENTER, IN_APP_PURCHASE: fastlane
    # #12853, 2018, and #21488, 2023): declaring one must converge, not fail with a 409.
    converge_on_conflict=True,
    hooks=Hooks(validate=settings_match_capability, find_existing=capability_on_bundle_id),
)


class BundleIdCapability(SpecResource, spec=BUNDLE_ID_CAPABILITIES):
    """A capability enabled on a bundle ID (id ``<bundleIdId>_<TYPE>``).

    ``bundle_id`` and ``capability_type`` replace it when changed; ``settings`` (iCloud version,
    data-protection level, Sign in with Apple consent) are updated in place. A capability the App ID
    already has (Apple enables Game Center and In-App Purchase on new App IDs) is taken over, its
    settings brought to the program's. Destroy disables the capability. Assignments the public API cannot make (App Groups, iCloud containers, merchant
    IDs) are rejected at preview rather than silently ignored.
    """

    bundle_id: pulumi.Output[str]
    capability_type: pulumi.Output[str]
    settings: pulumi.Output[list[dict[str, Any]] | None]
