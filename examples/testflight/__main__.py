"""TestFlight as code: who tests which build of an app, and what they are told.

An external group with a public link gets two builds (the first build of version 1.0 and the
version's latest processed one); an internal group of the team gets every build. Three testers
are in groups, and the test information (beta app description, feedback e-mail, review contact,
license agreement) and the latest build's "What to Test" are set.

The app and its builds come from App Store Connect (apps are made there, builds by Xcode or
Transporter): `get_app` and `get_build` look them up while the program runs, so a build
uploaded later is picked up by the next `pulumi up`. Against the emulator
(`pulumi-appstoreconnect emulator --seed demo`) it runs as it is; for a real account set
`bundleId` and `version` in the stack config.
"""

import pulumi

from pulumi_appstoreconnect import (
    BetaAppLocalization,
    BetaAppReviewDetail,
    BetaBuildLocalization,
    BetaGroup,
    BetaLicenseAgreement,
    BetaTester,
    get_app,
    get_build,
)

config = pulumi.Config()
app = get_app(bundle_id=config.get("bundleId") or "com.example.demo")
version = config.get("version") or "1.0"
first = get_build(app.id, version, config.get("firstBuild") or "41")
latest = get_build(app.id, version)  # the latest processed build of the version

team = BetaGroup(
    "team",
    app=app.id,
    name="Team",
    is_internal_group=True,
    has_access_to_all_builds=True,  # every build, as soon as Apple has processed it
)

friends = BetaGroup(
    "friends",
    app=app.id,
    name="Friends & Family",
    feedback_enabled=True,
    public_link_enabled=config.get_bool("publicLink") is not False,
    public_link_limit_enabled=True,
    public_link_limit=config.get_int("publicLinkLimit") or 200,
    builds=[first.id, latest.id],
)

# The testers: (resource name, e-mail, first name, last name, groups).
TESTERS = [
    ("ada", "ada@example.com", "Ada", "Lovelace", [team, friends]),
    ("grace", "grace@example.com", "Grace", "Hopper", [friends]),
    ("alan", "alan@example.com", "Alan", "Turing", [friends, *([team] if config.get_bool("alanInTeam") else [])]),
]
if config.get_bool("addKatherine"):
    TESTERS.append(("katherine", "katherine@example.com", "Katherine", "Johnson", [friends]))

testers = [
    BetaTester(name, email=email, first_name=first_name, last_name=last_name, groups=[g.id for g in groups])
    for name, email, first_name, last_name, groups in TESTERS
]

BetaAppLocalization(
    "test-information",
    app=app.id,
    locale="en-US",
    description="The Demo app, before everyone else: try it and tell us what breaks.",
    feedback_email="beta@example.com",
    marketing_url="https://example.com/demo",
    privacy_policy_url="https://example.com/privacy",
)

what_to_test = BetaBuildLocalization(
    "what-to-test",
    build=latest.id,
    locale="en-US",
    whats_new=f"Build {latest.build_number}: the new search, and sign-in with a passkey.",
)

BetaAppReviewDetail(
    "review",
    app=app.id,
    contact_first_name="Ada",
    contact_last_name="Lovelace",
    contact_phone="+44 20 7946 0000",
    contact_email="review@example.com",
    demo_account_required=True,
    demo_account_name="reviewer@example.com",
    demo_account_password=config.get_secret("demoAccountPassword") or pulumi.Output.secret("not-a-real-password"),
    notes="Sign in with the demo account; the passkey flow needs no real device.",
)

BetaLicenseAgreement(
    "license",
    app=app.id,
    agreement_text="This is a beta. It will break; please tell us when it does.",
)

pulumi.export("app_id", app.id)
pulumi.export("latest_build", f"{latest.version} ({latest.build_number})")
pulumi.export("public_link", friends.public_link)
pulumi.export("friends_id", friends.id)
pulumi.export("team_id", team.id)
pulumi.export("friends_builds", friends.builds)
pulumi.export("testers", {name: t.id for (name, *_), t in zip(TESTERS, testers)})
pulumi.export("tester_states", {name: t.state for (name, *_), t in zip(TESTERS, testers)})
pulumi.export("what_to_test_id", what_to_test.id)
