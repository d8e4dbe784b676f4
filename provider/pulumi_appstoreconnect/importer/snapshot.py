"""What ``import`` read from an account: plain records, the input to rendering.

Each record holds an object's Apple id and its properties in the shape a program declares them
(the shape the provider reads back and compares), plus what the generator needs to explain
itself in comments (an expiry date, a profile's state). Records are built by
:mod:`.reading` from the API, or by hand in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The kinds `--types` chooses from, in the order the program declares them (JSON:API types).
KINDS = ("bundleIds", "bundleIdCapabilities", "devices", "certificates", "profiles")


@dataclass(frozen=True)
class BundleIdRecord:
    id: str
    identifier: str
    platform: str
    name: str


@dataclass(frozen=True)
class CapabilityRecord:
    id: str
    bundle_id: str
    capability_type: str
    settings: list[dict[str, Any]] | None = None  # as declared: [{key, options: [{key, enabled}]}]


@dataclass(frozen=True)
class DeviceRecord:
    id: str
    udid: str
    platform: str
    name: str
    status: str = "ENABLED"
    model: str | None = None


@dataclass(frozen=True)
class CertificateRecord:
    id: str
    certificate_type: str
    display_name: str | None = None
    name: str | None = None
    serial_number: str | None = None
    expiration_date: str | None = None


@dataclass(frozen=True)
class ProfileRecord:
    id: str
    name: str
    profile_type: str
    bundle_id: str | None
    certificates: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    profile_state: str | None = None
    expiration_date: str | None = None
    xcode_managed: bool = False  # IsXcodeManaged in the profile: Xcode regenerates it itself


@dataclass(frozen=True)
class Account:
    """One reading of an account. ``kinds`` are the kinds to declare (``--types``); records of
    other kinds may be present because reading needed them (bundle IDs, to list capabilities)
    and serve only to name and describe what is referenced."""

    kinds: frozenset[str] = frozenset(KINDS)
    bundle_ids: tuple[BundleIdRecord, ...] = ()
    capabilities: tuple[CapabilityRecord, ...] = ()
    devices: tuple[DeviceRecord, ...] = ()
    certificates: tuple[CertificateRecord, ...] = ()
    profiles: tuple[ProfileRecord, ...] = ()
    # Requests the reading sent (for the summary; not part of the program).
    requests: int = field(default=0, compare=False)
