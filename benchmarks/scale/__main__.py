"""A stack of many resources for the request-budget benchmark (``make bench``).

Devices, App IDs each with a capability, development certificates, development profiles
(each with its App ID, the certificates and a few devices), beta groups of the apps the
benchmark seeded (``scale:apps``) and testers, one group each. The counts come from stack
config (``scale:devices`` …); the defaults make 1,000 resources.
"""

import pulumi

from pulumi_appstoreconnect import BetaGroup, BetaTester, BundleId, BundleIdCapability, Certificate, Device, Profile

config = pulumi.Config("scale")
DEVICES = config.get_int("devices") or 400
BUNDLE_IDS = config.get_int("bundleIds") or 150  # each with one capability
CERTIFICATES = config.get_int("certificates") or 10
PROFILES = config.get_int("profiles") or 100
GROUPS = config.get_int("groups") or 40
TESTERS = config.get_int("testers") or 150
APPS = (config.get("apps") or "").split(",")

devices = [
    Device(f"device-{n}", udid=f"00008030-{n:016X}", platform="IOS", name=f"Bench device {n}")
    for n in range(DEVICES)
]
bundle_ids = [
    BundleId(f"app-id-{n}", identifier=f"com.example.bench.app{n}", platform="IOS", name=f"Bench app {n}")
    for n in range(BUNDLE_IDS)
]
capabilities = [
    BundleIdCapability(f"push-{n}", bundle_id=bundle.id, capability_type="PUSH_NOTIFICATIONS")
    for n, bundle in enumerate(bundle_ids)
]
certificates = [Certificate(f"cert-{n}", certificate_type="IOS_DEVELOPMENT") for n in range(CERTIFICATES)]
profiles = [
    Profile(
        f"profile-{n}",
        name=f"Bench profile {n}",
        profile_type="IOS_APP_DEVELOPMENT",
        bundle_id=bundle_ids[n % BUNDLE_IDS].id,
        certificates=[certificates[n % CERTIFICATES].id],
        devices=[devices[(n * 4 + k) % DEVICES].id for k in range(4)],
        opts=pulumi.ResourceOptions(depends_on=[capabilities[n % BUNDLE_IDS]]),
    )
    for n in range(PROFILES)
]
groups = [
    BetaGroup(f"group-{n}", app=APPS[n % len(APPS)], name=f"Bench group {n}") for n in range(GROUPS)
]
testers = [
    BetaTester(f"tester-{n}", email=f"tester{n}@example.com", first_name="Bench", last_name=f"Tester {n}",
               groups=[groups[n % GROUPS].id])
    for n in range(TESTERS)
]
pulumi.export("resources", DEVICES + 2 * BUNDLE_IDS + CERTIFICATES + PROFILES + GROUPS + TESTERS)
