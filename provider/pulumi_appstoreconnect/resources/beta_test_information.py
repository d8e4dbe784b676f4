"""TestFlight test information: beta app and build localizations (per locale), the beta app review
detail and the beta license agreement (one per app, made by Apple)."""

from __future__ import annotations

from typing import Annotated

import pulumi
from pydantic import StrictBool

from ..reconciler import SpecResource
from ..spec import (
    ADOPT_ONLY,
    COMPUTED,
    CREATE_ONLY,
    DELETE,
    RELEASE,
    SECRET,
    UPDATABLE,
    Adoptable,
    Check,
    Equivalent,
    NaturalKey,
    Parent,
    Relationship,
    ResourceSpec,
    SpecModel,
    casefold_match,
)
from .checks import email_address, non_blank, same_email, web_url
from .locales import app_store_locale

# A locale compares as a language tag does, ignoring case (BCP 47, RFC 5646 section 2.1.1).
LOCALE_KEY = NaturalKey(casefold_match)
LOCALE_CHECK = Check(app_store_locale)


class BetaAppLocalizationInputs(Adoptable):
    app: Annotated[str, CREATE_ONLY, Relationship("app", "apps"), Parent("/v1/apps/{id}/betaAppLocalizations"), Check(non_blank)]
    locale: Annotated[str, CREATE_ONLY, LOCALE_KEY, LOCALE_CHECK]
    description: Annotated[str | None, UPDATABLE] = None
    feedback_email: Annotated[str | None, UPDATABLE, Check(email_address), Equivalent(same_email)] = None
    marketing_url: Annotated[str | None, UPDATABLE, Check(web_url)] = None
    privacy_policy_url: Annotated[str | None, UPDATABLE, Check(web_url)] = None
    tv_os_privacy_policy: Annotated[str | None, UPDATABLE] = None


BETA_APP_LOCALIZATIONS = ResourceSpec(
    rest_type="betaAppLocalizations",
    inputs=BetaAppLocalizationInputs,
    delete=DELETE,
    filters=("locale", "app"),
)


class BetaAppLocalization(SpecResource, spec=BETA_APP_LOCALIZATIONS):
    """TestFlight test information of an app in one language (``betaAppLocalizations``): the beta
    app description, feedback e-mail, marketing and privacy-policy URLs testers see.

    ``app`` and ``locale`` (a code from Apple's list, checked at preview) identify it and replace
    it when changed; the texts are updated in place, and a text left out is cleared. ``adopt=True``
    takes over the localization the app already has for that locale. Destroy deletes it.
    """

    app: pulumi.Output[str]
    locale: pulumi.Output[str]
    description: pulumi.Output[str | None]
    feedback_email: pulumi.Output[str | None]
    marketing_url: pulumi.Output[str | None]
    privacy_policy_url: pulumi.Output[str | None]
    tv_os_privacy_policy: pulumi.Output[str | None]


class BetaBuildLocalizationInputs(Adoptable):
    build: Annotated[
        str, CREATE_ONLY, Relationship("build", "builds"), Parent("/v1/builds/{id}/betaBuildLocalizations"), Check(non_blank)
    ]
    locale: Annotated[str, CREATE_ONLY, LOCALE_KEY, LOCALE_CHECK]
    whats_new: Annotated[str | None, UPDATABLE] = None


BETA_BUILD_LOCALIZATIONS = ResourceSpec(
    rest_type="betaBuildLocalizations",
    inputs=BetaBuildLocalizationInputs,
    delete=DELETE,
    filters=("locale", "build"),
)


class BetaBuildLocalization(SpecResource, spec=BETA_BUILD_LOCALIZATIONS):
    """"What to Test" for one build in one language (``betaBuildLocalizations``).

    ``build`` (an id from :func:`~pulumi_appstoreconnect.get_build`) and ``locale`` replace it
    when changed: pointing the program at a newer build writes the text there and deletes it
    from the old one. ``whats_new`` is updated in place. Destroy deletes it.
    """

    build: pulumi.Output[str]
    locale: pulumi.Output[str]
    whats_new: pulumi.Output[str | None]


class BetaAppReviewDetailInputs(SpecModel):
    app: Annotated[
        str, CREATE_ONLY, Relationship("app", "apps"), Parent("/v1/betaAppReviewDetails?filter[app]={id}"), Check(non_blank)
    ]
    # COMPUTED: a field the program leaves out keeps what Apple has (the team fills the detail
    # in the web UI; taking it over must not wipe that), as for AppStoreReviewDetail.
    contact_first_name: Annotated[str | None, UPDATABLE, COMPUTED] = None
    contact_last_name: Annotated[str | None, UPDATABLE, COMPUTED] = None
    contact_phone: Annotated[str | None, UPDATABLE, COMPUTED] = None
    contact_email: Annotated[str | None, UPDATABLE, COMPUTED, Check(email_address), Equivalent(same_email)] = None
    demo_account_required: Annotated[StrictBool | None, UPDATABLE, COMPUTED] = None
    demo_account_name: Annotated[str | None, UPDATABLE, COMPUTED] = None
    demo_account_password: Annotated[str | None, UPDATABLE, COMPUTED, SECRET] = None
    notes: Annotated[str | None, UPDATABLE, COMPUTED] = None


BETA_APP_REVIEW_DETAILS = ResourceSpec(
    rest_type="betaAppReviewDetails",
    inputs=BetaAppReviewDetailInputs,
    create=ADOPT_ONLY,
    delete=RELEASE,
    filters=("app",),
)


class BetaAppReviewDetail(SpecResource, spec=BETA_APP_REVIEW_DETAILS):
    """What Beta App Review needs to know about an app (``betaAppReviewDetails``): a contact and
    the demo account. Apple makes one with every app and its API cannot create or delete it:
    create takes the app's over (no POST) and sets the program's values; **destroy leaves it as
    it is** (release). ``demo_account_password`` is a secret output. Fields left out are
    not managed: they keep what Apple has.
    """

    app: pulumi.Output[str]
    contact_first_name: pulumi.Output[str | None]
    contact_last_name: pulumi.Output[str | None]
    contact_phone: pulumi.Output[str | None]
    contact_email: pulumi.Output[str | None]
    demo_account_required: pulumi.Output[bool | None]
    demo_account_name: pulumi.Output[str | None]
    demo_account_password: pulumi.Output[str | None]
    notes: pulumi.Output[str | None]


class BetaLicenseAgreementInputs(SpecModel):
    app: Annotated[
        str, CREATE_ONLY, Relationship("app", "apps"), Parent("/v1/betaLicenseAgreements?filter[app]={id}"), Check(non_blank)
    ]
    agreement_text: Annotated[str | None, UPDATABLE] = None


BETA_LICENSE_AGREEMENTS = ResourceSpec(
    rest_type="betaLicenseAgreements",
    inputs=BetaLicenseAgreementInputs,
    create=ADOPT_ONLY,
    delete=RELEASE,
    filters=("app",),
)


class BetaLicenseAgreement(SpecResource, spec=BETA_LICENSE_AGREEMENTS):
    """The license agreement TestFlight testers accept (``betaLicenseAgreements``), one per app,
    made by Apple: create takes it over and sets ``agreement_text``; **destroy leaves it**
    (release).
    """

    app: pulumi.Output[str]
    agreement_text: pulumi.Output[str | None]
