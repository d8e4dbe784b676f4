"""App Store versions (``/v1/appStoreVersions``), their localizations and review details."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import pulumi
from pydantic import StrictBool

from ..reconciler import SpecResource
from ..spec import (
    ADOPT_OR_POST,
    COMPUTED,
    CREATE_ONLY,
    RELEASE,
    SECRET,
    UPDATABLE,
    Check,
    EditableStates,
    Hooks,
    NaturalKey,
    Parent,
    Relationship,
    ResourceSpec,
    SpecModel,
)
from .app_info import release_primary_locale
from .checks import email_address, web_url
from .locales import app_store_locale
from .texts import iso_timestamp, text_limit

# Version states whose metadata Apple lets you edit (App Store Connect Help, "App Store
# version states": a version can be edited while being prepared or after it was sent back);
# WAITING_FOR_REVIEW, IN_REVIEW and every later state refuse edits ("Attribute 'description'
# cannot be edited at this time", fastlane #16626, 2020).
EDITABLE_VERSION_STATES = frozenset(
    {"PREPARE_FOR_SUBMISSION", "DEVELOPER_REJECTED", "REJECTED", "METADATA_REJECTED", "INVALID_BINARY"}
)
_NEXT_VERSION = (
    "A version in review or on the App Store cannot change: create the next AppStoreVersion "
    "(a higher version_string) and point the localizations and review details at it, or remove "
    "this version from review in App Store Connect first."
)


def _version_editable(holder: str) -> EditableStates:
    return EditableStates(holder, "appVersionState", EDITABLE_VERSION_STATES, _NEXT_VERSION)


class Platform(str, enum.Enum):
    IOS = "IOS"
    MAC_OS = "MAC_OS"
    TV_OS = "TV_OS"
    VISION_OS = "VISION_OS"


class ReleaseType(str, enum.Enum):
    MANUAL = "MANUAL"
    AFTER_APPROVAL = "AFTER_APPROVAL"
    SCHEDULED = "SCHEDULED"


class ReviewType(str, enum.Enum):
    APP_STORE = "APP_STORE"
    NOTARIZATION = "NOTARIZATION"


class AppStoreVersionInputs(SpecModel):
    app: Annotated[str, CREATE_ONLY, Relationship("app", "apps"), Parent("/v1/apps/{id}/appStoreVersions")]
    platform: Annotated[Platform, CREATE_ONLY, NaturalKey()]
    version_string: Annotated[str, UPDATABLE, NaturalKey(), Check(text_limit(255))]
    copyright: Annotated[str | None, UPDATABLE, COMPUTED] = None
    release_type: Annotated[ReleaseType | None, UPDATABLE, COMPUTED] = None
    earliest_release_date: Annotated[str | None, UPDATABLE, COMPUTED, Check(iso_timestamp)] = None
    review_type: Annotated[ReviewType | None, UPDATABLE, COMPUTED] = None
    build: Annotated[str | None, UPDATABLE, COMPUTED, Relationship("build", "builds", own_endpoint=True)] = None
    app_version_state: Annotated[str | None, COMPUTED] = None
    app_store_state: Annotated[str | None, COMPUTED] = None


def scheduled_needs_a_date(model: Any) -> list[tuple[str, str]]:
    if model.release_type == ReleaseType.SCHEDULED.value and model.earliest_release_date is None:
        return [("earliest_release_date", "earliest_release_date is required when release_type is SCHEDULED")]
    return []


APP_STORE_VERSIONS = ResourceSpec(
    rest_type="appStoreVersions",
    inputs=AppStoreVersionInputs,
    create=ADOPT_OR_POST,
    delete=RELEASE,
    editable=_version_editable("/v1/appStoreVersions/{id}"),
    hooks=Hooks(validate=scheduled_needs_a_date),
)


class AppStoreVersion(SpecResource, spec=APP_STORE_VERSIONS):
    """A version of the app on one platform (app + platform + version string).

    The version Apple already has with that string is taken over; otherwise it is created.
    ``build`` is a build id (from ``get_build``), attached through Apple's relationship endpoint
    and changed in place. Only a version being prepared (or sent back) accepts changes: a change
    to a version waiting for review, in review or live fails naming its state. **Destroy releases
    the version** (Apple deletes only a version never submitted, and with it everything prepared
    for it). Optional properties left out are not managed.
    """

    app: pulumi.Output[str]
    platform: pulumi.Output[str]
    version_string: pulumi.Output[str]
    copyright: pulumi.Output[str | None]
    release_type: pulumi.Output[str]
    earliest_release_date: pulumi.Output[str | None]
    review_type: pulumi.Output[str]
    build: pulumi.Output[str | None]
    app_version_state: pulumi.Output[str]
    app_store_state: pulumi.Output[str]


class AppStoreVersionLocalizationInputs(SpecModel):
    app_store_version: Annotated[
        str,
        CREATE_ONLY,
        Relationship("appStoreVersion", "appStoreVersions"),
        Parent("/v1/appStoreVersions/{id}/appStoreVersionLocalizations"),
    ]
    locale: Annotated[str, CREATE_ONLY, NaturalKey(), Check(app_store_locale)]
    description: Annotated[str | None, UPDATABLE, COMPUTED, Check(text_limit(4000))] = None
    keywords: Annotated[str | None, UPDATABLE, COMPUTED, Check(text_limit(100))] = None
    promotional_text: Annotated[str | None, UPDATABLE, COMPUTED, Check(text_limit(170))] = None
    whats_new: Annotated[str | None, UPDATABLE, COMPUTED, Check(text_limit(4000))] = None
    marketing_url: Annotated[str | None, UPDATABLE, COMPUTED, Check(web_url)] = None
    support_url: Annotated[str | None, UPDATABLE, COMPUTED, Check(web_url)] = None


APP_STORE_VERSION_LOCALIZATIONS = ResourceSpec(
    rest_type="appStoreVersionLocalizations",
    inputs=AppStoreVersionLocalizationInputs,
    create=ADOPT_OR_POST,
    editable=_version_editable("/v1/appStoreVersions/{app_store_version}"),
    hooks=Hooks(delete=release_primary_locale("/v1/appStoreVersions/{app_store_version}")),
)


class AppStoreVersionLocalization(SpecResource, spec=APP_STORE_VERSION_LOCALIZATIONS):
    """A version's texts in one locale: description, keywords (comma-separated), promotional
    text, what's new, marketing and support URLs; lengths counted as App Store Connect counts
    them. The primary locale's one is made by Apple with the version: it is taken over, never
    duplicated, and destroy releases it; other locales are created and deleted. Texts left out
    are not managed.
    """

    app_store_version: pulumi.Output[str]
    locale: pulumi.Output[str]
    description: pulumi.Output[str | None]
    keywords: pulumi.Output[str | None]
    promotional_text: pulumi.Output[str | None]
    whats_new: pulumi.Output[str | None]
    marketing_url: pulumi.Output[str | None]
    support_url: pulumi.Output[str | None]


class AppStoreReviewDetailInputs(SpecModel):
    app_store_version: Annotated[
        str,
        CREATE_ONLY,
        Relationship("appStoreVersion", "appStoreVersions"),
        Parent("/v1/appStoreVersions/{id}/appStoreReviewDetail", to_one=True),
    ]
    contact_first_name: Annotated[str | None, UPDATABLE, COMPUTED] = None
    contact_last_name: Annotated[str | None, UPDATABLE, COMPUTED] = None
    contact_phone: Annotated[str | None, UPDATABLE, COMPUTED] = None
    contact_email: Annotated[str | None, UPDATABLE, COMPUTED, Check(email_address)] = None
    demo_account_required: Annotated[StrictBool | None, UPDATABLE, COMPUTED] = None
    demo_account_name: Annotated[str | None, UPDATABLE, COMPUTED] = None
    demo_account_password: Annotated[str | None, UPDATABLE, COMPUTED, SECRET] = None
    notes: Annotated[str | None, UPDATABLE, COMPUTED, Check(text_limit(4000))] = None


def demo_account_complete(model: Any) -> list[tuple[str, str]]:
    """App Review signs in with the demo account: a required one needs a name and password."""
    if not model.demo_account_required:
        return []
    return [
        (name, f"{name} is required when demo_account_required is true")
        for name in ("demo_account_name", "demo_account_password")
        if not getattr(model, name)
    ]


APP_STORE_REVIEW_DETAILS = ResourceSpec(
    rest_type="appStoreReviewDetails",
    inputs=AppStoreReviewDetailInputs,
    create=ADOPT_OR_POST,
    delete=RELEASE,
    editable=_version_editable("/v1/appStoreVersions/{app_store_version}"),
    hooks=Hooks(validate=demo_account_complete),
)


class AppStoreReviewDetail(SpecResource, spec=APP_STORE_REVIEW_DETAILS):
    """What App Review needs for one version: contact, demo account (the password is a secret
    output) and notes. One per version: the existing one is taken over, else created. Apple has
    no DELETE for it: **destroy releases it**. Properties left out are not managed.
    """

    app_store_version: pulumi.Output[str]
    contact_first_name: pulumi.Output[str | None]
    contact_last_name: pulumi.Output[str | None]
    contact_phone: pulumi.Output[str | None]
    contact_email: pulumi.Output[str | None]
    demo_account_required: pulumi.Output[bool | None]
    demo_account_name: pulumi.Output[str | None]
    demo_account_password: pulumi.Output[str | None]
    notes: pulumi.Output[str | None]
