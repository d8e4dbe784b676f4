"""Bundle IDs (App IDs): ``/v1/bundleIds``."""

from __future__ import annotations

import enum
import re
from typing import Annotated

import pulumi

from ..reconciler import SpecResource
from .checks import non_blank
from ..spec import (
    Adoptable,
    COMPUTED,
    CREATE_ONLY,
    DELETE,
    UPDATABLE,
    Check,
    Equivalent,
    NaturalKey,
    ResourceSpec,
)


class BundleIdPlatform(str, enum.Enum):
    """Apple's ``BundleIdPlatform`` (spec 4.4.1). The live API also returns values outside it
    (``SERVICES``, seen by other clients); reads tolerate those, inputs do not."""

    IOS = "IOS"
    MAC_OS = "MAC_OS"
    UNIVERSAL = "UNIVERSAL"


# Apple's rule for an App ID: letters, digits, hyphens and periods; a wildcard App ID ends
# in ".*" (or is "*" alone). No empty components, no leading/trailing period.
_COMPONENT = r"[A-Za-z0-9-]+"
_IDENTIFIER = re.compile(rf"(?:{_COMPONENT}(?:\.{_COMPONENT})*(?:\.\*)?|\*)")
_MAX_IDENTIFIER_LENGTH = 255


def bundle_identifier(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be a non-empty string such as 'com.example.app'"
    if len(value) > _MAX_IDENTIFIER_LENGTH:
        return f"is {len(value)} characters long; Apple allows at most {_MAX_IDENTIFIER_LENGTH}"
    if not _IDENTIFIER.fullmatch(value):
        return (
            f"{value!r} is not a valid bundle identifier: use letters, digits, hyphens and "
            "periods (e.g. 'com.example.app'); a wildcard '*' may only be the last component"
        )
    return None


# A team id or App ID prefix: ten uppercase letters and digits (e.g. "A1B2C3D4E5").
_SEED_ID = re.compile(r"[A-Z0-9]{10}")


def app_id_prefix(value: object) -> str | None:
    if not isinstance(value, str) or not _SEED_ID.fullmatch(value):
        return f"{value!r} is not an App ID prefix: expected the ten letters and digits of a team id (e.g. 'A1B2C3D4E5')"
    return None


def universal_covers(at_apple: object, declared: object) -> bool:
    """A UNIVERSAL App ID serves iOS and macOS alike. Apple has answered UNIVERSAL to a POST
    that asked for IOS (codemagic-ci-cd/cli-tools#45, 2020) and App IDs made in the web UI are
    UNIVERSAL (Tinder/sign-here#19, 2024): a program that says IOS or MAC_OS is satisfied."""
    return at_apple == BundleIdPlatform.UNIVERSAL.value and declared in (
        BundleIdPlatform.IOS.value, BundleIdPlatform.MAC_OS.value,
    )


class BundleIdInputs(Adoptable):
    identifier: Annotated[str, CREATE_ONLY, NaturalKey(), Check(bundle_identifier)]
    platform: Annotated[BundleIdPlatform, CREATE_ONLY, Equivalent(universal_covers)]
    name: Annotated[str, UPDATABLE, Check(non_blank)]
    # Apple's create accepts the App ID prefix (teams with a legacy prefix); left out, Apple
    # uses the team id.
    seed_id: Annotated[str | None, CREATE_ONLY, COMPUTED, Check(app_id_prefix)] = None


BUNDLE_IDS = ResourceSpec(
    rest_type="bundleIds",
    inputs=BundleIdInputs,
    delete=DELETE,
    filters=("name", "platform", "identifier", "seedId", "id"),
    includes={"bundleIdCapabilities": 50},
)


class BundleId(SpecResource, spec=BUNDLE_IDS):
    """An App ID (``bundleIds``).

    Changing ``identifier`` or ``platform`` in the program replaces it (Apple cannot change
    them); ``name`` is updated in place. ``seed_id`` is the App ID prefix: give it for a team
    with a legacy prefix, or leave it out and Apple uses the team id. A ``platform`` Apple reports
    as UNIVERSAL satisfies IOS or MAC_OS (Apple makes App IDs UNIVERSAL itself). A difference a
    refresh reads in a create-only property is reported, never "fixed" by a replacement: that
    would delete the App ID's capabilities and profiles. Destroy deletes it.
    """

    identifier: pulumi.Output[str]
    platform: pulumi.Output[str]
    name: pulumi.Output[str]
    seed_id: pulumi.Output[str]
