"""Reading an account for ``import``: one paged listing per kind, capabilities per bundle ID.

Every object goes through the provider's own read conversion
(:meth:`~..reconciler.SpecProvider.as_declared`), so a record holds exactly what a refresh of
the declared resource would read back. Nothing here writes.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Callable, Iterable

from ..client import AppStoreConnectClient
from ..client.paging import iter_pages
from ..reconciler import SpecProvider
from .snapshot import (
    KINDS,
    Account,
    BundleIdRecord,
    CapabilityRecord,
    CertificateRecord,
    DeviceRecord,
    ProfileRecord,
)

# progress(what, done, total): objects read so far (total None: a listing's length is not known
# until its last page), or bundle IDs whose capabilities were read out of ``total``.
Progress = Callable[[str, int, "int | None"], None]


def _quiet(_what: str, _done: int, _total: int | None) -> None:
    pass


def read_account(
    client: AppStoreConnectClient, kinds: Iterable[str] = KINDS, *, progress: Progress = _quiet
) -> Account:
    """Read the objects of ``kinds`` (and the bundle IDs capabilities are listed through)."""
    wanted = frozenset(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kind(s) {', '.join(sorted(unknown))}; choose from {', '.join(KINDS)}")
    before = client.stats.requests
    reader = _Reader(client, progress)
    bundle_ids: tuple[BundleIdRecord, ...] = ()
    capabilities: tuple[CapabilityRecord, ...] = ()
    if wanted & {"bundleIds", "bundleIdCapabilities"}:
        bundle_ids = tuple(reader.bundle_id(o) for o in reader.listing("/v1/bundleIds", "bundle IDs"))
    if "bundleIdCapabilities" in wanted:
        capabilities = reader.capabilities([b.id for b in bundle_ids])
    listed = {
        kind: reader.listing(f"/v1/{kind}", kind) if kind in wanted else []
        for kind in ("devices", "certificates", "profiles")
    }
    return Account(
        kinds=wanted,
        bundle_ids=bundle_ids,
        capabilities=capabilities,
        devices=tuple(reader.device(o) for o in listed["devices"]),
        certificates=tuple(reader.certificate(o) for o in listed["certificates"]),
        profiles=tuple(reader.profile(o) for o in listed["profiles"]),
        requests=client.stats.requests - before,
    )


# The signed plist inside a .mobileprovision is stored as it is: its XML is readable in the DER.
_XCODE_MANAGED = re.compile(rb"<key>IsXcodeManaged</key>\s*<true\s*/>")


def xcode_managed(profile_content: str | None) -> bool:
    """Whether a profile (base64 ``.mobileprovision``) says Xcode manages it."""
    if not profile_content:
        return False
    try:
        return _XCODE_MANAGED.search(base64.b64decode(profile_content)) is not None
    except (binascii.Error, ValueError):
        return False


class _Reader:
    def __init__(self, client: AppStoreConnectClient, progress: Progress) -> None:
        self.client = client
        self.progress = progress

    def listing(self, path: str, what: str) -> list[dict[str, Any]]:
        """Every object of a collection, reporting progress after each page."""
        found: list[dict[str, Any]] = []
        for page in iter_pages(self.client.get, path, base_url=self.client.settings.base_url):
            found += page.get("data") or []
            self.progress(what, len(found), None)
        return found

    def capabilities(self, bundle_ids: list[str]) -> tuple[CapabilityRecord, ...]:
        found: list[CapabilityRecord] = []
        for done, bundle_id in enumerate(bundle_ids, 1):
            listed = self.client.list_all(f"/v1/bundleIds/{bundle_id}/bundleIdCapabilities")
            found += [self.capability(o, bundle_id) for o in listed]
            self.progress("capabilities", done, len(bundle_ids))
        return tuple(found)

    # -- one object each, through the provider's read conversion --------------------------

    def bundle_id(self, data: dict[str, Any]) -> BundleIdRecord:
        v = SpecProvider("BundleId").as_declared(data)
        return BundleIdRecord(id=data["id"], identifier=v["identifier"], platform=v["platform"], name=v["name"])

    def capability(self, data: dict[str, Any], listed_under: str) -> CapabilityRecord:
        v = SpecProvider("BundleIdCapability").as_declared(data)
        return CapabilityRecord(
            id=data["id"],
            bundle_id=v["bundle_id"] or listed_under,
            capability_type=v["capability_type"],
            settings=v["settings"],
        )

    def device(self, data: dict[str, Any]) -> DeviceRecord:
        v = SpecProvider("Device").as_declared(data)
        return DeviceRecord(
            id=data["id"], udid=v["udid"], platform=v["platform"], name=v["name"], status=v["status"], model=v["model"]
        )

    def certificate(self, data: dict[str, Any]) -> CertificateRecord:
        v = SpecProvider("Certificate").as_declared(data)
        return CertificateRecord(
            id=data["id"],
            certificate_type=v["certificate_type"],
            display_name=v["display_name"],
            name=v["name"],
            serial_number=v["serial_number"],
            expiration_date=v["expiration_date"],
        )

    def profile(self, data: dict[str, Any]) -> ProfileRecord:
        v = SpecProvider("Profile").as_declared(data)
        # Apple may send relationship links without linkage: then read the linkage itself.
        bundle_id = v["bundle_id"] if v["bundle_id"] is not None else self._related_id(data["id"], "bundleId")
        certificates = v["certificates"] if v["certificates"] is not None else self._related_ids(data["id"], "certificates")
        devices = v["devices"] if v["devices"] is not None else self._related_ids(data["id"], "devices")
        return ProfileRecord(
            id=data["id"],
            name=v["name"],
            profile_type=v["profile_type"],
            bundle_id=bundle_id,
            certificates=tuple(certificates),
            devices=tuple(devices),
            profile_state=v["profile_state"],
            expiration_date=v["expiration_date"],
            xcode_managed=xcode_managed(v["profile_content"]),
        )

    def _related_id(self, profile_id: str, relationship: str) -> str | None:
        linkage = self.client.get(f"/v1/profiles/{profile_id}/relationships/{relationship}").get("data")
        return linkage["id"] if isinstance(linkage, dict) else None

    def _related_ids(self, profile_id: str, relationship: str) -> list[str]:
        return [item["id"] for item in self.client.list_all(f"/v1/profiles/{profile_id}/relationships/{relationship}")]
