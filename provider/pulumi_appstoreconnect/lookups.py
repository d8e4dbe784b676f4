"""Look-ups a Pulumi program calls for what Apple's API never creates: apps and builds.

Apps are made in App Store Connect and builds are uploaded by Xcode or Transporter, so a program
refers to them by what a person knows (a bundle ID; a version and build number) and gets their
ids here. These run in the program's own process while Pulumi evaluates it (every ``preview``
and ``up``), not in the provider: they read the same settings as the provider (stack config
``appstoreconnect:*`` of the running stack, then the environment; see :mod:`.settings`) and
answer plain data at once. Call them with plain values; with an ``Output``, use
``output.apply(lambda app_id: get_build(app_id, "1.2"))``.

Matching is exact (Apple's filters are re-checked on the client). When nothing or more than
one object matches, :class:`LookupFailed` names what was searched and what was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from .client import AppStoreConnectClient
from .client.documents import parse_timestamp
from .errors import ProviderError
from .reconciler import CONFIG_KEYS, CONFIG_NAMESPACE
from .settings import Settings, resolve_settings

__all__ = ["FoundApp", "FoundBuild", "LookupFailed", "get_app", "get_build"]


class LookupFailed(ProviderError):
    """No object, or more than one, matches what the program looked for."""


@dataclass(frozen=True)
class FoundApp:
    """An app in App Store Connect (``apps``), as :func:`get_app` finds it (the :class:`App`
    resource manages one)."""

    id: str
    bundle_id: str
    name: str | None
    sku: str | None
    primary_locale: str | None


@dataclass(frozen=True)
class FoundBuild:
    """An uploaded build (``builds``). ``version`` is the marketing version of its pre-release
    version (CFBundleShortVersionString, "1.2"); ``build_number`` is the build's own version
    (CFBundleVersion, "42")."""

    id: str
    app_id: str
    version: str
    build_number: str
    platform: str
    processing_state: str | None
    uploaded_date: str | None
    expired: bool | None


def _stack_config() -> dict[str, Any]:
    """The running stack's ``appstoreconnect:*`` config (secrets arrive decrypted), or nothing
    outside a Pulumi program."""
    from pulumi.runtime import get_config

    found = {key: get_config(f"{CONFIG_NAMESPACE}:{key}") for key in CONFIG_KEYS}
    return {key: value for key, value in found.items() if value is not None}


def _client(settings: Settings | None) -> AppStoreConnectClient:
    """One client per credential set per process, from the provider's cache (tests wire it)."""
    from . import reconciler

    return reconciler._CLIENTS.get(settings or resolve_settings(_stack_config()))


def _describe(path: str, params: Mapping[str, str]) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"GET {path}?{query}"


def get_app(bundle_id: str, *, settings: Settings | None = None) -> FoundApp:
    """The app whose bundle ID is exactly ``bundle_id``.

    Raises :class:`LookupFailed` when App Store Connect has none (apps are created in App Store
    Connect, never by this API) or, for an account in an odd state, several.
    """
    params = {"filter[bundleId]": bundle_id}
    listed = _client(settings).list_all("/v1/apps", params)
    found = [a for a in listed if (a.get("attributes") or {}).get("bundleId") == bundle_id]
    searched = _describe("/v1/apps", params)
    if not found:
        others = sorted({str((a.get("attributes") or {}).get("bundleId")) for a in listed})
        seen = f"; it listed only {', '.join(others)}" if others else ""
        raise LookupFailed(
            f"get_app: App Store Connect has no app with bundle ID {bundle_id!r} (searched {searched}{seen}). "
            "Apps are created in App Store Connect (Apps > +), not through its API: create it there, or fix the bundle ID."
        )
    if len(found) > 1:
        raise LookupFailed(
            f"get_app: {len(found)} apps have bundle ID {bundle_id!r} ({', '.join(a['id'] for a in found)}; "
            f"searched {searched}): refer to the app by its id instead."
        )
    attributes = found[0].get("attributes") or {}
    return FoundApp(
        id=found[0]["id"],
        bundle_id=bundle_id,
        name=attributes.get("name"),
        sku=attributes.get("sku"),
        primary_locale=attributes.get("primaryLocale"),
    )


def get_build(
    app_id: str,
    version: str,
    build_number: str | None = None,
    *,
    platform: str = "IOS",
    settings: Settings | None = None,
) -> FoundBuild:
    """The build ``build_number`` of ``version`` of the app, or, without ``build_number``, the
    version's latest processed build (processing state VALID, not expired, the most recently
    uploaded): a program that says ``get_build(app.id, "1.2")`` follows each new upload.

    ``version`` is the marketing version ("1.2"), ``build_number`` the build's own version
    ("42"), ``platform`` the pre-release version's (IOS, MAC_OS, TV_OS, VISION_OS). Raises
    :class:`LookupFailed` naming what was searched when no build, or several, match.
    """
    client = _client(settings)
    version_params = {"filter[app]": app_id, "filter[version]": version, "filter[platform]": platform}
    versions = [
        v for v in client.list_all("/v1/preReleaseVersions", version_params)
        if (v.get("attributes") or {}).get("version") == version and (v.get("attributes") or {}).get("platform") == platform
    ]
    if not versions:
        raise LookupFailed(
            f"get_build: app {app_id} has no version {version!r} on {platform} in TestFlight "
            f"(searched {_describe('/v1/preReleaseVersions', version_params)}). A version appears when its first "
            "build is uploaded (Xcode, Transporter)."
        )
    build_params = {"filter[preReleaseVersion]": ",".join(v["id"] for v in versions)}
    if build_number is not None:
        build_params["filter[version]"] = build_number
    listed = client.list_all("/v1/builds", build_params)
    searched = _describe("/v1/builds", build_params)
    if build_number is not None:
        found = [b for b in listed if (b.get("attributes") or {}).get("version") == build_number]
        if len(found) == 1:
            return _build(found[0], app_id, version, platform)
        if found:
            raise LookupFailed(
                f"get_build: {len(found)} builds of app {app_id} are version {version} ({build_number}) on {platform}: "
                f"{', '.join(b['id'] for b in found)} (searched {searched}); refer to the build by its id."
            )
        uploaded = client.list_all("/v1/builds", {"filter[preReleaseVersion]": build_params["filter[preReleaseVersion]"]})
        numbers = ", ".join(sorted(str((b.get("attributes") or {}).get("version")) for b in uploaded)) or "none"
        raise LookupFailed(
            f"get_build: app {app_id} has no build {build_number!r} of version {version} on {platform} "
            f"(searched {searched}; the version's builds: {numbers})."
        )
    usable = [b for b in listed if _processed(b)]
    if not usable:
        states = ", ".join(
            f"{(b.get('attributes') or {}).get('version')} {_state(b)}" for b in listed
        ) or "none uploaded"
        raise LookupFailed(
            f"get_build: version {version} of app {app_id} on {platform} has no processed build yet "
            f"(searched {searched}; its builds: {states}). Wait for processing to finish, or name a build_number."
        )
    latest = max(usable, key=_uploaded)
    return _build(latest, app_id, version, platform)


def _processed(build: Mapping[str, Any]) -> bool:
    attributes = build.get("attributes") or {}
    return attributes.get("processingState") == "VALID" and attributes.get("expired") is not True


def _state(build: Mapping[str, Any]) -> str:
    attributes = build.get("attributes") or {}
    return "expired" if attributes.get("expired") is True else str(attributes.get("processingState"))


def _uploaded(build: Mapping[str, Any]) -> datetime:
    value = (build.get("attributes") or {}).get("uploadedDate")
    return parse_timestamp(value) if isinstance(value, str) else datetime.min.replace(tzinfo=timezone.utc)


def _build(data: Mapping[str, Any], app_id: str, version: str, platform: str) -> FoundBuild:
    attributes = data.get("attributes") or {}
    return FoundBuild(
        id=data["id"],
        app_id=app_id,
        version=version,
        build_number=str(attributes.get("version")),
        platform=platform,
        processing_state=attributes.get("processingState"),
        uploaded_date=attributes.get("uploadedDate"),
        expired=attributes.get("expired"),
    )
