"""Credentials and base URL, from stack config, environment variables or a key file.

Each setting takes the first place that has a non-empty value:

============  ===========================  ====================================================
setting       stack config                 environment (ours, then fastlane's, then codemagic's)
============  ===========================  ====================================================
issuer id     ``appstoreconnect:issuerId`` ASC_ISSUER_ID, APP_STORE_CONNECT_API_KEY_ISSUER_ID,
                                           APP_STORE_CONNECT_ISSUER_ID
key id        ``appstoreconnect:keyId``    ASC_KEY_ID, APP_STORE_CONNECT_API_KEY_KEY_ID,
                                           APP_STORE_CONNECT_KEY_IDENTIFIER
private key   ``privateKey``,              ASC_PRIVATE_KEY, ASC_PRIVATE_KEY_PATH,
              ``privateKeyPath``           APP_STORE_CONNECT_API_KEY_KEY,
                                           APP_STORE_CONNECT_API_KEY_KEY_FILEPATH,
                                           APP_STORE_CONNECT_PRIVATE_KEY
base URL      ``appstoreconnect:baseUrl``  ASC_BASE_URL (default https://api.appstoreconnect.apple.com)
============  ===========================  ====================================================

Key contents may be the PEM itself, base64 of it (as fastlane allows), the PEM with literal
``\\n`` escapes (CI secrets), or codemagic's ``@file:<path>`` / ``@env:<VAR>`` references.
No issuer id means an individual key (the token then carries ``sub: "user"``).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .client.auth import KeyFormatError, load_private_key

__all__ = ["ConfigurationError", "DEFAULT_BASE_URL", "Settings", "resolve_settings"]

DEFAULT_BASE_URL = "https://api.appstoreconnect.apple.com"
CONFIG_NAMESPACE = "appstoreconnect"
STACK_CONFIG_LABEL = "stack config " + CONFIG_NAMESPACE + ":{key}"

ISSUER_ENV = ("ASC_ISSUER_ID", "APP_STORE_CONNECT_API_KEY_ISSUER_ID", "APP_STORE_CONNECT_ISSUER_ID")
KEY_ID_ENV = ("ASC_KEY_ID", "APP_STORE_CONNECT_API_KEY_KEY_ID", "APP_STORE_CONNECT_KEY_IDENTIFIER")
# (variable, holds a path?) in precedence order
PRIVATE_KEY_ENV = (
    ("ASC_PRIVATE_KEY", False),
    ("ASC_PRIVATE_KEY_PATH", True),
    ("APP_STORE_CONNECT_API_KEY_KEY", False),
    ("APP_STORE_CONNECT_API_KEY_KEY_FILEPATH", True),
    ("APP_STORE_CONNECT_PRIVATE_KEY", False),
)
BASE_URL_ENV = ("ASC_BASE_URL",)

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
KEY_FILE_NAME = re.compile(r"AuthKey_([A-Za-z0-9]+)\.p8$")


class ConfigurationError(ValueError):
    """A setting is missing or malformed; the message says which, where it was looked for and
    how to set it. ``problems`` lists one line per setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Resolved connection settings. ``repr``/``str`` never show the private key.

    ``sources`` says where each setting came from (``"env ASC_KEY_ID"``,
    ``"file /keys/AuthKey_X.p8 (from stack config appstoreconnect:privateKeyPath)"``); it is
    not part of equality, so two resolutions of the same credentials compare (and hash) equal.
    """

    issuer_id: str | None
    key_id: str
    private_key_pem: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    private_key_path: str | None = None
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return repr(self)


@dataclass(frozen=True)
class _Found:
    value: str
    source: str
    is_path: bool = False


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _first(candidates: list[tuple[str, Any, bool]]) -> _Found | None:
    """The first (source, value, is_path) candidate with a non-empty value."""
    for source, value, is_path in candidates:
        text = _clean(value)
        if text is not None:
            return _Found(text, source, is_path)
    return None


def _key_text(found: _Found, env: Mapping[str, str]) -> tuple[str, str | None, str]:
    """(PEM text, file path or None, source description) for the private key found."""
    value, source, path = found.value, found.source, None
    if not found.is_path and value.startswith("@env:"):
        name = value[len("@env:") :]
        value = _clean(env.get(name)) or ""
        source = f"env {name} (via {source})"
        if not value:
            raise ValueError(f"App Store Connect private key from {found.source} refers to {name}, which is not set")
    if found.is_path or value.startswith("@file:"):
        path = str(Path(value.removeprefix("@file:")).expanduser())
        source = f"file {path} (from {source})"
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise ValueError(f"App Store Connect private key {source} does not exist") from None
        except OSError as exc:
            raise ValueError(f"App Store Connect private key {source} cannot be read: {exc.strerror}") from None
        try:
            value = data.decode("ascii").strip()
        except UnicodeDecodeError:
            raise ValueError(
                f"App Store Connect private key {source} is not usable: binary data (a .p12 or DER "
                "certificate by mistake?); expected the .p8 PEM file downloaded from App Store Connect"
            ) from None
    return _normalise_pem(value), path, source


def _normalise_pem(text: str) -> str:
    """The PEM from raw PEM, PEM with literal ``\\n`` escapes, or base64 of either."""
    if "-----BEGIN" not in text:
        try:
            decoded = base64.b64decode("".join(text.split()), validate=True).decode("ascii")
        except (binascii.Error, ValueError):
            decoded = ""
        if "-----BEGIN" in decoded:
            text = decoded.strip()
    if "\\n" in text and "\n" not in text:
        text = text.replace("\\n", "\n")
    return text if text.endswith("\n") else text + "\n"


def _base_url(found: _Found | None) -> str:
    if found is None:
        return DEFAULT_BASE_URL
    url = found.value.rstrip("/")
    if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", url):
        raise ValueError(
            f"App Store Connect base URL {found.value!r} from {found.source} is not an http(s) URL "
            f"such as {DEFAULT_BASE_URL} or http://127.0.0.1:8900"
        )
    return url


def resolve_settings(
    config: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    config_label: str = STACK_CONFIG_LABEL,
) -> Settings:
    """Resolve the settings (see the module docstring) or raise :class:`ConfigurationError`.

    ``config`` holds the short stack-config names (``keyId``…; ``appstoreconnect:keyId`` is
    accepted too). ``env`` defaults to ``os.environ``. ``config_label`` names the config in
    sources and messages (``{key}`` is the short name).
    """
    config = config or {}
    env = os.environ if env is None else env

    def from_config(key: str, is_path: bool = False) -> tuple[str, Any, bool]:
        value = config.get(key)
        if value is None:
            value = config.get(f"{CONFIG_NAMESPACE}:{key}")
        return config_label.format(key=key), value, is_path

    def lookup(key: str, names: tuple[str, ...]) -> _Found | None:
        return _first([from_config(key)] + [(f"env {name}", env.get(name), False) for name in names])

    problems: list[str] = []
    sources: dict[str, str] = {}

    issuer = lookup("issuerId", ISSUER_ENV)
    sources["issuer_id"] = issuer.source if issuer else "not set (individual key: the token uses sub=user)"

    key_id = lookup("keyId", KEY_ID_ENV)
    if key_id is None:
        problems.append(
            f"App Store Connect key id is not set: set `pulumi config set {CONFIG_NAMESPACE}:keyId <id>` "
            f"or {KEY_ID_ENV[0]} (also looked at {', '.join(KEY_ID_ENV[1:])})"
        )
    else:
        sources["key_id"] = key_id.source
        named = KEY_FILE_NAME.search(key_id.value)
        if named:
            problems.append(
                f"App Store Connect key id {key_id.value!r} from {key_id.source} is a file name; "
                f"the key id is {named.group(1)!r}"
            )
        elif not _KEY_ID.match(key_id.value):
            problems.append(
                f"App Store Connect key id {key_id.value!r} from {key_id.source} is malformed: expected "
                "the 10-character id shown next to the key in Users and Access > Integrations"
            )

    key = _first(
        [from_config("privateKey"), from_config("privateKeyPath", is_path=True)]
        + [(f"env {name}", env.get(name), is_path) for name, is_path in PRIVATE_KEY_ENV]
    )
    pem = key_path = None
    if key is None:
        names = [name for name, _ in PRIVATE_KEY_ENV]
        problems.append(
            "App Store Connect private key is not set: set `cat AuthKey_<KEYID>.p8 | pulumi config set "
            f"--secret {CONFIG_NAMESPACE}:privateKey` or `pulumi config set {CONFIG_NAMESPACE}:privateKeyPath "
            f"<path>`, or {names[0]} / {names[1]} (also looked at {', '.join(names[2:])})"
        )
    else:
        try:
            pem, key_path, sources["private_key"] = _key_text(key, env)
            load_private_key(pem)
        except KeyFormatError as exc:
            problems.append(f"App Store Connect private key from {sources['private_key']} is not usable: {exc}")
        except ValueError as exc:
            problems.append(str(exc))

    base = lookup("baseUrl", BASE_URL_ENV)
    sources["base_url"] = base.source if base else "default"
    try:
        base_url = _base_url(base)
    except ValueError as exc:
        problems.append(str(exc))

    if problems:
        raise ConfigurationError(problems)
    assert key_id is not None and pem is not None
    return Settings(
        issuer_id=issuer.value if issuer else None,
        key_id=key_id.value,
        private_key_pem=pem,
        base_url=base_url,
        private_key_path=key_path,
        sources=sources,
    )
