"""Apps: ``/v1/apps``. The API cannot create or delete apps: an App adopts one by bundle ID."""

from __future__ import annotations

import enum
from typing import Annotated

import pulumi
from pydantic import StrictBool

from ..reconciler import SpecResource
from ..spec import ADOPT_ONLY, COMPUTED, CREATE_ONLY, RELEASE, UPDATABLE, Check, NaturalKey, ResourceSpec, SpecModel
from .checks import web_url
from .locales import app_store_locale


class ContentRightsDeclaration(str, enum.Enum):
    DOES_NOT_USE_THIRD_PARTY_CONTENT = "DOES_NOT_USE_THIRD_PARTY_CONTENT"
    USES_THIRD_PARTY_CONTENT = "USES_THIRD_PARTY_CONTENT"


class SubscriptionStatusUrlVersion(str, enum.Enum):
    V1 = "V1"
    V2 = "V2"


# Optional properties are flagged UPDATABLE and COMPUTED: left out of the program, Apple's value
# stays and is not managed; given, it is set and kept (drift shows and is PATCHed back).
class AppInputs(SpecModel):
    bundle_id: Annotated[str, CREATE_ONLY, NaturalKey()]
    primary_locale: Annotated[str | None, UPDATABLE, COMPUTED, Check(app_store_locale)] = None
    content_rights_declaration: Annotated[ContentRightsDeclaration | None, UPDATABLE, COMPUTED] = None
    accessibility_url: Annotated[str | None, UPDATABLE, COMPUTED, Check(web_url)] = None
    subscription_status_url: Annotated[str | None, UPDATABLE, COMPUTED, Check(web_url)] = None
    subscription_status_url_version: Annotated[SubscriptionStatusUrlVersion | None, UPDATABLE, COMPUTED] = None
    subscription_status_url_for_sandbox: Annotated[str | None, UPDATABLE, COMPUTED, Check(web_url)] = None
    subscription_status_url_version_for_sandbox: Annotated[SubscriptionStatusUrlVersion | None, UPDATABLE, COMPUTED] = None
    streamlined_purchasing_enabled: Annotated[StrictBool | None, UPDATABLE, COMPUTED] = None
    name: Annotated[str | None, COMPUTED] = None
    sku: Annotated[str | None, COMPUTED] = None


APPS = ResourceSpec(rest_type="apps", inputs=AppInputs, create=ADOPT_ONLY, delete=RELEASE, filters=("bundleId", "id"))


class App(SpecResource, spec=APPS):
    """An app in App Store Connect, taken over by its bundle ID (compared exactly).

    The API cannot create or delete apps: create it in App Store Connect first; ``up`` looks it
    up and sets the properties the program gives, and **destroy releases it** (it leaves the
    stack; nothing changes at Apple). Properties left out are not managed. Setting
    ``content_rights_declaration`` needs a key with the Admin role or the Account Holder's
    (Apple answers 403 FORBIDDEN_ERROR to App Manager keys since late 2023: see
    docs/metadata.md).
    """

    bundle_id: pulumi.Output[str]
    primary_locale: pulumi.Output[str]
    content_rights_declaration: pulumi.Output[str | None]
    accessibility_url: pulumi.Output[str | None]
    subscription_status_url: pulumi.Output[str | None]
    subscription_status_url_version: pulumi.Output[str | None]
    subscription_status_url_for_sandbox: pulumi.Output[str | None]
    subscription_status_url_version_for_sandbox: pulumi.Output[str | None]
    streamlined_purchasing_enabled: pulumi.Output[bool | None]
    name: pulumi.Output[str]
    sku: pulumi.Output[str]
