"""Bundle IDs (App IDs): ``/v1/bundleIds``."""

from __future__ import annotations

import enum
import re
from typing import Annotated

import pulumi

from ..reconciler import SpecResource
from .checks import non_blank
from ..spec import (
    COMPUTED,
    CREATE_ONLY,
    DELETE,
    UPDATABLE,
    Check,
    NaturalKey,
    ResourceSpec,
    SpecModel,
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


class BundleIdInputs(SpecModel):
    identifier: Annotated[str, CREATE_ONLY, NaturalKey(), Check(bundle_identifier)]
    platform: Annotated[BundleIdPlatform, CREATE_ONLY]
    name: Annotated[str, UPDATABLE, Check(non_blank)]
    seed_id: Annotated[str | None, COMPUTED] = None


BUNDLE_IDS = ResourceSpec(
    rest_type="bundleIds",
    inputs=BundleIdInputs,
    delete=DELETE,
    filters=("name", "platform", "identifier", "seedId", "id"),
)


class BundleId(SpecResource, spec=BUNDLE_IDS):
    """An App ID (``bundleIds``).

    Changing ``identifier`` or ``platform`` replaces it (Apple cannot change them); ``name`` is
    updated in place. ``seed_id`` is the team prefix Apple assigns. Destroy deletes it.
    """

    identifier: pulumi.Output[str]
    platform: pulumi.Output[str]
    name: pulumi.Output[str]
    seed_id: pulumi.Output[str]
