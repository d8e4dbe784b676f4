"""Errors the provider raises on its own account (not answers from App Store Connect).

``client.errors`` holds what Apple answered (status, code, detail, pointer). The errors here are
the provider refusing to do something unsafe with a production account; each message says what
was found, why nothing was changed, and what to do.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AccountMismatch", "CreateOnlyDrift", "ProviderError"]


class ProviderError(Exception):
    """The provider stopped an operation to protect the account or the state."""


class CreateOnlyDrift(ProviderError):
    """A property Apple cannot change in place differs at Apple from the program, and the
    program did not change it: the difference was read by a refresh.

    The provider never replaces an object because of what a refresh read (replacing an App ID
    deletes its capabilities and profiles). ``drifts`` maps each property to
    ``(value at Apple, value in the program)``.
    """

    def __init__(self, resource: str, object_id: str, drifts: dict[str, tuple[Any, Any]], *, key_kept: bool) -> None:
        self.resource = resource
        self.object_id = object_id
        self.drifts = drifts
        found = "; ".join(
            f"{name}: App Store Connect has {remote!r}, the program says {declared!r}"
            for name, (remote, declared) in drifts.items()
        )
        accept = ", ".join(f"{name}={remote!r}" for name, (remote, _) in drifts.items())
        replace = "`pulumi up --replace <URN of this resource>`"
        if key_kept:
            replace += (
                " together with `delete_before_replace=True` in its ResourceOptions (the replacement "
                "keeps its identifying key, which Apple allows only once)"
            )
        super().__init__(
            f"{resource} {object_id} differs from the program in properties Apple cannot change in "
            f"place ({found}). A refresh read this; the program did not change it, so nothing was "
            f"replaced or changed. To accept Apple's value, set {accept} in the program. To replace "
            f"the object deliberately (deleting whatever depends on it at Apple), run {replace}."
        )


class AccountMismatch(ProviderError):
    """An object the state holds is not found, and the credentials belong to another account
    than the one that created it: the object is not treated as deleted."""

    def __init__(self, resource: str, object_id: str, recorded: str, current: str, operation: str) -> None:
        self.resource = resource
        self.object_id = object_id
        self.recorded = recorded
        self.current = current
        super().__init__(
            f"{operation} {resource} {object_id}: App Store Connect answered 404 Not Found, but the "
            f"object was created with {describe_account(recorded)} and the provider now uses "
            f"{describe_account(current)}. Another team's key cannot see this team's objects, so "
            f"the object is not treated as gone and nothing was removed from the state. Check "
            f"appstoreconnect:issuerId / keyId / privateKey (or ASC_ISSUER_ID / ASC_KEY_ID) and run "
            f"again. If the object really was deleted and the stack moved to this account on "
            f"purpose, remove it from the state with `pulumi state delete <URN>`."
        )


def describe_account(account: str) -> str:
    """``issuer:<id>`` / ``key:<id>`` as words."""
    kind, _, value = account.partition(":")
    if kind == "issuer":
        return f"the API keys of issuer {value}"
    if kind == "key":
        return f"the individual API key {value}"
    return account
