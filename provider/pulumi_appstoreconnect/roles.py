"""What an API key's role lets the provider do, as ``pulumi-appstoreconnect doctor`` probes it.

Apple publishes no per-endpoint permission table for API keys. What this module says comes from:

- "Program Roles" (developer.apple.com/support/roles): Account Holder and Admin have full access
  to Certificates, Identifiers & Profiles; App Manager and Developer act there only as far as
  their role allows (for users, with the "Access to Certificates, Identifiers & Profiles"
  permission); Finance, Sales, Marketing and Customer Support have none.
- "Creating API Keys for App Store Connect API" (developer.apple.com/documentation/
  appstoreconnectapi): "Individual keys aren't able to use Provisioning endpoints".
- fastlane/docs#1050: a Developer team key gets 403 FORBIDDEN_ERROR "The API key in use does
  not allow this request" where an App Manager key works; codemagic's code-signing docs
  recommend an App Manager key for creating certificates and profiles.
- Apple Developer Forums thread 819390: while an agreement awaits the Account Holder, reads of
  ``/v1/bundleIds`` and ``/v1/certificates`` get 403
  FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED with ``links.see: "/business"``;
  "Role permissions" (App Store Connect Help): only the Account Holder signs legal agreements.

The probes never change the account: one ``GET ...?limit=1`` per type the provider manages, and
one ``PATCH`` of a bundle ID id Apple never issues (its ids are 10 uppercase letters and digits),
which a key allowed to write gets a 404 for and any other key a 403, assuming Apple checks the
role before it looks the object up (as the emulator does). Should Apple look first, a
Developer key passes this probe and ``pulumi up`` still fails with the 403 its message explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .client import AppStoreConnectClient
from .client.errors import AGREEMENTS_CODE, AppStoreConnectError, ForbiddenError

__all__ = ["AGREEMENTS_EXPLANATION", "Probe", "explain", "is_agreements", "is_role_refusal", "probe_access"]

# An id no App ID can have: the write probe can never change anything.
NO_SUCH_ID = "pulumi-appstoreconnect-doctor-probe"
READS = ("devices", "certificates", "profiles")  # bundleIds: doctor's first request

AGREEMENTS_EXPLANATION = (
    "A required agreement is missing or has expired, and until it is accepted App Store Connect "
    "refuses every request of every key, reads included. Only the Account Holder can accept it: "
    "sign in to App Store Connect as the Account Holder, open Business "
    "(https://appstoreconnect.apple.com/business, the page Apple's answer points to) and accept "
    "what is pending there, often an updated Apple Developer Program License Agreement (also "
    "offered at https://developer.apple.com/account). The API cannot accept agreements, and no "
    "other role can. Then run doctor again."
)
NEEDED = (
    "Needed: a team key with the App Manager or Admin role (Developer reads only). Apple's "
    "Program Roles (developer.apple.com/support/roles): Admin and App Manager register App IDs, "
    "devices, certificates and profiles; Developer can view them; Finance, Sales, Marketing and "
    "Customer Support have no access to Certificates, Identifiers & Profiles."
)
NEW_KEY = (
    "A key's role cannot be changed: the Account Holder or an Admin creates a team key in App "
    "Store Connect > Users and Access > Integrations > App Store Connect API; put its key id and "
    ".p8 in ASC_KEY_ID / ASC_PRIVATE_KEY (or appstoreconnect:keyId / appstoreconnect:privateKey) "
    "and revoke the old key."
)
INDIVIDUAL = (
    "Individual keys cannot use the provisioning endpoints (bundle IDs, devices, certificates, "
    "profiles) whatever their user's role (Apple: \"Creating API Keys for App Store Connect "
    "API\"): use a team key (it has an issuer id)."
)


def is_agreements(error: AppStoreConnectError | None) -> bool:
    """Apple's 403 for an unsigned or expired agreement."""
    return isinstance(error, ForbiddenError) and any(e.code == AGREEMENTS_CODE for e in error.errors)


def is_role_refusal(error: AppStoreConnectError | None) -> bool:
    """A 403 that is the key's role (any 403 but the agreements one)."""
    return isinstance(error, ForbiddenError) and not is_agreements(error)


@dataclass
class Probe:
    """One request doctor sent to learn what the key may do, and how it ended."""

    what: str  # "read devices", "write"
    request: str  # "GET /v1/devices?limit=1"
    error: AppStoreConnectError | None = None

    @property
    def refused(self) -> bool:
        """The key's role refused it (a 403 other than the agreements one)."""
        return is_role_refusal(self.error)

    @property
    def passed(self) -> bool:
        """Not refused, and (for a read) answered: a write's 404 is its expected answer."""
        if self.error is None:
            return True
        return self.what == "write" and not isinstance(self.error, ForbiddenError) and self.error.status >= 400

    def describe(self) -> str:
        if self.error is None:
            return f"{self.what}: {self.request}: OK"
        if self.passed:
            answer = " ".join(part for part in (str(self.error.status), self.error.code or "") if part)
            return f"{self.what}: {self.request}: {answer}, nothing to change: the role does not refuse writes"
        return f"{self.what}: {str(self.error).splitlines()[0]}"


def _read(client: AppStoreConnectClient, what: str, path: str) -> tuple[Probe, dict[str, Any] | None]:
    probe = Probe(what, f"GET {path}?limit=1")
    try:
        return probe, client.request("GET", path, params={"limit": 1})
    except AppStoreConnectError as exc:
        probe.error = exc
        return probe, None


def probe_access(client: AppStoreConnectClient, first: Probe, bundle_id: str | None) -> list[Probe]:
    """The reads of every type the provider manages and the write probe; ``first`` is doctor's
    own ``GET /v1/bundleIds`` (not sent again), ``bundle_id`` an App ID it found, if any."""
    probes = [first]
    if bundle_id is not None:
        probes.append(_read(client, "read bundleIdCapabilities", f"/v1/bundleIds/{bundle_id}/bundleIdCapabilities")[0])
    probes += [_read(client, f"read {rest_type}", f"/v1/{rest_type}")[0] for rest_type in READS]
    write = Probe("write", f"PATCH /v1/bundleIds/{NO_SUCH_ID}")
    body = {"data": {"type": "bundleIds", "id": NO_SUCH_ID, "attributes": {"name": "doctor probe"}}}
    try:
        client.request("PATCH", f"/v1/bundleIds/{NO_SUCH_ID}", json=body)
    except AppStoreConnectError as exc:
        write.error = exc
    probes.append(write)
    return probes


def explain(probes: list[Probe], *, individual: bool) -> list[str]:
    """What the failed probes mean for ``pulumi preview``/``up`` and what to do; [] when none failed."""
    unreadable = [p.what.removeprefix("read ") for p in probes if p.what.startswith("read ") and p.refused]
    write_refused = any(p.what == "write" and p.refused for p in probes)
    if not unreadable and not write_refused:
        return []
    lines = []
    if unreadable:
        lines.append(
            f"The key's role cannot read: {', '.join(unreadable)}; `pulumi preview`, `refresh` and `up` fail "
            "with 403 FORBIDDEN_ERROR."
        )
    else:
        lines.append(
            "The key's role cannot create, change or delete App Store Connect objects: `pulumi up` and "
            "`pulumi destroy` fail with 403 FORBIDDEN_ERROR (preview and refresh work)."
        )
    if individual and unreadable:
        lines.append(INDIVIDUAL)
    return [*lines, NEEDED, NEW_KEY]
