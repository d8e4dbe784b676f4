"""What the emulator's API key may do: its roles, and whether the account's agreements are in effect.

Set at run time through the admin API (``GET|PATCH /_emulator/access``, see
:class:`~.app.AdminApi`) as ``{"roles": [...], "agreementsInEffect": bool}``; kept in memory,
``POST /_emulator/reset`` restores the default (an Admin key, agreements signed).

Checked after the token and the hourly budget, before routing, for ``/v1`` requests:

1. Agreements not in effect: **every** request is refused with Apple's 403
   ``FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED`` (``links.see: "/business"``). Observed on
   ``/v1/bundleIds`` and ``/v1/certificates`` alike while the Apple Developer Program License
   Agreement awaited review (Apple Developer Forums thread 819390, "Is there a reliable way to
   check pending agreement status ... via API?"); the wording is the recorded document in
   ``asc-api/fixtures/codemagic/error_response_with_links.json``, whose ``see`` was the older
   ``/agreements``.
2. The key's roles against :data:`PROVISIONING` (the five types the emulator serves): a request
   no role allows gets Apple's 403 ``FORBIDDEN_ERROR`` "The API key in use does not allow this
   request" (AvdLee/appstoreconnect-swift-sdk#182, fastlane/docs#1050 with a Developer key).

The role table (Apple publishes none per endpoint for API keys; these are its role pages):

- Account Holder, Admin: full access to Certificates, Identifiers & Profiles
  (developer.apple.com/support/roles, "Program Roles"; only they create distribution
  certificates for users: developer.apple.com/help/account/create-certificates/certificates-overview).
- App Manager: creates and deletes App IDs, certificates and profiles when it has access to
  Certificates, Identifiers & Profiles (Program Roles; the "App Manager with certificates" column
  of tedgonzalez/app-store-connect-roles); team keys have no such checkbox, and codemagic's docs
  recommend an App Manager key for creating signing files, so the emulator grants it.
- Developer: reads (uploads builds, views; fastlane/docs#1050: writes are refused).
- Finance, Sales, Marketing, Customer Support, Access to Reports: no Certificates, Identifiers
  & Profiles permissions at all in Program Roles, so not even reads.

Paths outside those types are not modelled: every role may use them.
"""

from __future__ import annotations

import threading
from typing import Any

from .store import ApiError, ErrorItem

# Apple's UserRole values (OpenAPI 4.4.1) that a key can hold.
ROLES = (
    "ACCOUNT_HOLDER", "ADMIN", "APP_MANAGER", "DEVELOPER", "FINANCE", "SALES", "MARKETING",
    "CUSTOMER_SUPPORT", "ACCESS_TO_REPORTS", "CREATE_APPS", "CLOUD_MANAGED_DEVELOPER_ID",
    "CLOUD_MANAGED_APP_DISTRIBUTION", "GENERATE_INDIVIDUAL_KEYS",
)  # fmt: skip
PROVISIONING = frozenset({"bundleIds", "bundleIdCapabilities", "certificates", "devices", "profiles"})
READ, WRITE = "read", "write"
PROVISIONING_ACCESS: dict[str, frozenset[str]] = {
    "ACCOUNT_HOLDER": frozenset({READ, WRITE}),
    "ADMIN": frozenset({READ, WRITE}),
    "APP_MANAGER": frozenset({READ, WRITE}),
    "DEVELOPER": frozenset({READ}),
}
READ_METHODS = frozenset({"GET", "HEAD"})
DEFAULT_ROLES = ("ADMIN",)
_KEYS = {"roles", "agreementsInEffect"}


def forbidden() -> ErrorItem:
    """Apple's answer to a request the key's role does not allow."""
    return ErrorItem(
        403, "FORBIDDEN_ERROR", "This request is forbidden for security reasons", "The API key in use does not allow this request"
    )


def agreements_missing() -> ErrorItem:
    """Apple's answer while a required agreement is unsigned or expired."""
    return ErrorItem(
        403,
        "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
        "A required agreement is missing or has expired.",
        "This request requires an in-effect agreement that has not been signed or has expired.",
        links={"see": "/business"},
    )


def _invalid(detail: str) -> ApiError:
    return ApiError(ErrorItem(400, "INVALID_ACCESS", "Emulator admin request failed", detail))


class KeyAccess:
    """The key's roles and the agreements flag. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._roles: tuple[str, ...] = DEFAULT_ROLES
        self._agreements = True

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {"roles": list(self._roles), "agreementsInEffect": self._agreements}

    def update(self, payload: Any) -> dict[str, Any]:
        """Apply ``{"roles"?, "agreementsInEffect"?}`` (validated whole before anything changes)."""
        if not isinstance(payload, dict):
            raise _invalid("Expected an object {\"roles\"?: [...], \"agreementsInEffect\"?: bool}")
        unknown = set(payload) - _KEYS
        if unknown:
            raise _invalid(f"unknown key(s) {sorted(unknown)}; known: {sorted(_KEYS)}")
        roles = payload.get("roles")
        if roles is not None:
            if not isinstance(roles, list):
                raise _invalid("'roles' must be a list of roles, e.g. [\"DEVELOPER\"]")
            if not roles:
                raise _invalid("'roles' needs at least one role")
            for role in roles:
                if role not in ROLES:
                    raise _invalid(f"{role!r} is not a role; Apple's are {', '.join(ROLES)}")
        agreements = payload.get("agreementsInEffect")
        if agreements is not None and not isinstance(agreements, bool):
            raise _invalid("'agreementsInEffect' must be true or false")
        with self._lock:
            if roles is not None:
                self._roles = tuple(dict.fromkeys(roles))
            if agreements is not None:
                self._agreements = agreements
        return self.to_json()

    def reset(self) -> None:
        with self._lock:
            self._roles, self._agreements = DEFAULT_ROLES, True

    def check(self, method: str, path: str) -> None:
        """Raise Apple's 403 when the key may not make this ``/v1`` request."""
        with self._lock:
            roles, agreements = self._roles, self._agreements
        if not agreements:
            raise ApiError(agreements_missing())
        parts = path.split("/")
        rest_type = parts[2] if len(parts) > 2 else ""
        if rest_type not in PROVISIONING:
            return
        need = READ if method.upper() in READ_METHODS else WRITE
        if not any(need in PROVISIONING_ACCESS.get(role, frozenset()) for role in roles):
            raise ApiError(forbidden())


__all__ = ["KeyAccess", "PROVISIONING", "ROLES", "agreements_missing", "forbidden"]
