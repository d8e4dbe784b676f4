"""App infos (``/v1/appInfos``: categories), their localizations and the age rating declaration.

Apple makes an app info with the app, and a second, editable one while a new version is
prepared; neither can be created or deleted through the API. Names and subtitles live in the
app info's localizations; the age rating declaration hangs off the app info and has no GET of
its own (``GET /v1/appInfos/{id}/ageRatingDeclaration``).
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

import pulumi
from pydantic import StrictBool

from ..errors import ProviderError
from ..reconciler import SpecResource
from ..spec import (
    ADOPT_ONLY,
    ADOPT_OR_POST,
    COMPUTED,
    CREATE_ONLY,
    RELEASE,
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
from .checks import web_url
from .locales import app_store_locale
from .texts import subcategories_belong, subcategory, text_limit, top_category

# App info states in which Apple accepts edits (the info of a version being prepared or sent
# back); READY_FOR_DISTRIBUTION is the live one ("The field 'name' can not be modified in the
# current state.", rorkai/App-Store-Connect-CLI #434, 2026).
EDITABLE_INFO_STATES = frozenset({"PREPARE_FOR_SUBMISSION", "DEVELOPER_REJECTED", "REJECTED"})
_NEXT_VERSION = (
    "The live app info changes only with a new version: create the next AppStoreVersion, and "
    "Apple makes an editable app info (PREPARE_FOR_SUBMISSION) to take over."
)


def _info_editable(holder: str) -> EditableStates:
    return EditableStates(holder, "state", EDITABLE_INFO_STATES, _NEXT_VERSION)


def _category(wire: str, check: Any) -> Any:
    return Annotated[str | None, UPDATABLE, Relationship(wire, "appCategories"), Check(check)]


class AppInfoInputs(SpecModel):
    app: Annotated[str, CREATE_ONLY, Relationship("app", "apps"), Parent("/v1/apps/{id}/appInfos")]
    primary_category: Annotated[str, UPDATABLE, Relationship("primaryCategory", "appCategories"), Check(top_category)]
    primary_subcategory_one: _category("primarySubcategoryOne", subcategory) = None
    primary_subcategory_two: _category("primarySubcategoryTwo", subcategory) = None
    secondary_category: _category("secondaryCategory", top_category) = None
    secondary_subcategory_one: _category("secondarySubcategoryOne", subcategory) = None
    secondary_subcategory_two: _category("secondarySubcategoryTwo", subcategory) = None
    state: Annotated[str | None, COMPUTED] = None


def categories_fit(model: Any) -> list[tuple[str, str]]:
    """Subcategories sit under their slot's category; the two categories differ."""
    failures = subcategories_belong(model.primary_category, model.primary_subcategory_one, model.primary_subcategory_two, "primary")
    failures += subcategories_belong(model.secondary_category, model.secondary_subcategory_one, model.secondary_subcategory_two, "secondary")
    if model.secondary_category is not None and model.secondary_category == model.primary_category:
        failures.append(("secondary_category", f"secondary_category repeats primary_category ({model.primary_category})"))
    return failures


def editable_app_info(provider: Any, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """The app's editable app info. An app has one app info per state of its listing (the live
    one, READY_FOR_DISTRIBUTION, and the one being prepared with the next version): changes go to
    the editable one. None editable fails naming the states found."""
    app = inputs.get("app")
    if not isinstance(app, str):
        return []
    infos = provider.client.list_all(f"/v1/apps/{app}/appInfos")
    editable = [i for i in infos if (i.get("attributes") or {}).get("state") in EDITABLE_INFO_STATES]
    if infos and not editable:
        found = ", ".join(f"{i['id']} ({(i.get('attributes') or {}).get('state')})" for i in infos)
        raise ProviderError(f"app {app} has no editable app info (found {found}). {_NEXT_VERSION}")
    return editable


APP_INFOS = ResourceSpec(
    rest_type="appInfos",
    inputs=AppInfoInputs,
    create=ADOPT_ONLY,
    delete=RELEASE,
    editable=_info_editable("/v1/appInfos/{id}"),
    hooks=Hooks(validate=categories_fit, find_existing=editable_app_info),
)


class AppInfo(SpecResource, spec=APP_INFOS):
    """The app's categories, on its **editable** app info (the one in PREPARE_FOR_SUBMISSION,
    DEVELOPER_REJECTED or REJECTED; the live one cannot change). Adopt-only: Apple makes app
    infos; **destroy releases it**. Categories are App Store Connect's ids (``GAMES``,
    ``GAMES_PUZZLE``; see docs/metadata.md), changed in place; a subcategory left out is
    cleared. When the app has no editable app info, ``up`` fails naming the states it found.
    """

    app: pulumi.Output[str]
    primary_category: pulumi.Output[str]
    primary_subcategory_one: pulumi.Output[str | None]
    primary_subcategory_two: pulumi.Output[str | None]
    secondary_category: pulumi.Output[str | None]
    secondary_subcategory_one: pulumi.Output[str | None]
    secondary_subcategory_two: pulumi.Output[str | None]
    state: pulumi.Output[str]


class AppInfoLocalizationInputs(SpecModel):
    app_info: Annotated[
        str, CREATE_ONLY, Relationship("appInfo", "appInfos"), Parent("/v1/appInfos/{id}/appInfoLocalizations")
    ]
    locale: Annotated[str, CREATE_ONLY, NaturalKey(), Check(app_store_locale)]
    name: Annotated[str, UPDATABLE, Check(text_limit(30))]
    subtitle: Annotated[str | None, UPDATABLE, COMPUTED, Check(text_limit(30))] = None
    privacy_policy_url: Annotated[str | None, UPDATABLE, COMPUTED, Check(web_url)] = None
    privacy_choices_url: Annotated[str | None, UPDATABLE, COMPUTED, Check(web_url)] = None
    privacy_policy_text: Annotated[str | None, UPDATABLE, COMPUTED] = None


def release_primary_locale(app_path: str) -> Any:
    """Destroy hook: the localization in the app's primary locale cannot be deleted (Apple makes
    it with the app): it is released. ``app_path`` reads the app through the parent."""

    def delete(provider: Any, id_: str, props: dict[str, Any]) -> bool:
        path = app_path.format(**props)
        document = provider.client.get(path, {"include": "app"})
        apps = [o for o in document.get("included") or [] if o.get("type") == "apps"]
        primary = (apps[0].get("attributes") or {}).get("primaryLocale") if apps else None
        return primary is not None and primary == props.get("locale")

    return delete


APP_INFO_LOCALIZATIONS = ResourceSpec(
    rest_type="appInfoLocalizations",
    inputs=AppInfoLocalizationInputs,
    create=ADOPT_OR_POST,
    editable=_info_editable("/v1/appInfos/{app_info}"),
    hooks=Hooks(delete=release_primary_locale("/v1/appInfos/{app_info}")),
)


class AppInfoLocalization(SpecResource, spec=APP_INFO_LOCALIZATIONS):
    """The app's name, subtitle and privacy links in one locale, on an app info. The locale
    Apple already has (the primary one, made with the app) is taken over, never duplicated;
    others are created. Destroy deletes a localization, except the primary locale's, which
    Apple cannot delete: it is released. Optional texts left out are not managed.
    """

    app_info: pulumi.Output[str]
    locale: pulumi.Output[str]
    name: pulumi.Output[str]
    subtitle: pulumi.Output[str | None]
    privacy_policy_url: pulumi.Output[str | None]
    privacy_choices_url: pulumi.Output[str | None]
    privacy_policy_text: pulumi.Output[str | None]


class Frequency(str, enum.Enum):
    """How often content appears (Apple's values; INFREQUENT and FREQUENT are the 2025 names)."""

    NONE = "NONE"
    INFREQUENT_OR_MILD = "INFREQUENT_OR_MILD"
    FREQUENT_OR_INTENSE = "FREQUENT_OR_INTENSE"
    INFREQUENT = "INFREQUENT"
    FREQUENT = "FREQUENT"


class KidsAgeBand(str, enum.Enum):
    FIVE_AND_UNDER = "FIVE_AND_UNDER"
    SIX_TO_EIGHT = "SIX_TO_EIGHT"
    NINE_TO_ELEVEN = "NINE_TO_ELEVEN"


class AgeRatingOverride(str, enum.Enum):
    NONE = "NONE"
    NINE_PLUS = "NINE_PLUS"
    THIRTEEN_PLUS = "THIRTEEN_PLUS"
    SIXTEEN_PLUS = "SIXTEEN_PLUS"
    SEVENTEEN_PLUS = "SEVENTEEN_PLUS"
    UNRATED = "UNRATED"


class AgeRatingOverrideV2(str, enum.Enum):
    NONE = "NONE"
    NINE_PLUS = "NINE_PLUS"
    THIRTEEN_PLUS = "THIRTEEN_PLUS"
    SIXTEEN_PLUS = "SIXTEEN_PLUS"
    EIGHTEEN_PLUS = "EIGHTEEN_PLUS"
    UNRATED = "UNRATED"


class KoreaAgeRatingOverride(str, enum.Enum):
    NONE = "NONE"
    FIFTEEN_PLUS = "FIFTEEN_PLUS"
    NINETEEN_PLUS = "NINETEEN_PLUS"


# Every answer is optional: left out, Apple's stays and is not managed.
_Freq = Annotated[Frequency | None, UPDATABLE, COMPUTED]
_Flag = Annotated[StrictBool | None, UPDATABLE, COMPUTED]


class AgeRatingDeclarationInputs(SpecModel):
    app_info: Annotated[str, CREATE_ONLY, Parent("/v1/appInfos/{id}/ageRatingDeclaration", to_one=True)]
    advertising: _Flag = None
    age_assurance: _Flag = None
    alcohol_tobacco_or_drug_use_or_references: _Freq = None
    contests: _Freq = None
    gambling: _Flag = None
    gambling_simulated: _Freq = None
    guns_or_other_weapons: _Freq = None
    health_or_wellness_topics: _Flag = None
    horror_or_fear_themes: _Freq = None
    kids_age_band: Annotated[KidsAgeBand | None, UPDATABLE, COMPUTED] = None
    loot_box: _Flag = None
    mature_or_suggestive_themes: _Freq = None
    medical_or_treatment_information: _Freq = None
    messaging_and_chat: _Flag = None
    parental_controls: _Flag = None
    profanity_or_crude_humor: _Freq = None
    sexual_content_graphic_and_nudity: _Freq = None
    sexual_content_or_nudity: _Freq = None
    social_media: _Flag = None
    social_media_age_restricted: _Flag = None
    unrestricted_web_access: _Flag = None
    user_generated_content: _Flag = None
    violence_cartoon_or_fantasy: _Freq = None
    violence_realistic: _Freq = None
    violence_realistic_prolonged_graphic_or_sadistic: _Freq = None
    age_rating_override: Annotated[AgeRatingOverride | None, UPDATABLE, COMPUTED] = None  # deprecated by Apple
    age_rating_override_v2: Annotated[AgeRatingOverrideV2 | None, UPDATABLE, COMPUTED] = None
    korea_age_rating_override: Annotated[KoreaAgeRatingOverride | None, UPDATABLE, COMPUTED] = None
    developer_age_rating_info_url: Annotated[str | None, UPDATABLE, COMPUTED, Check(web_url)] = None


AGE_RATING_DECLARATIONS = ResourceSpec(
    rest_type="ageRatingDeclarations",
    inputs=AgeRatingDeclarationInputs,
    create=ADOPT_ONLY,
    delete=RELEASE,
    read_through_parent=True,
    editable=_info_editable("/v1/appInfos/{app_info}"),
)


class AgeRatingDeclaration(SpecResource, spec=AGE_RATING_DECLARATIONS):
    """The age rating questionnaire of an app info (use the editable one's id, ``AppInfo.id``).

    Adopt-only: Apple makes it with the app info and has no GET of its own, so it is read
    through ``/v1/appInfos/{id}/ageRatingDeclaration``; answers are PATCHed in place and enum
    values checked at preview. **Destroy releases it**. Answers left out are not managed.
    """

    app_info: pulumi.Output[str]
