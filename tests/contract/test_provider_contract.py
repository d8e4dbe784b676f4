"""The provider's own requests and the emulator's answers against Apple's OpenAPI 4.4.1.

Self-contained (it does not depend on what other tiers ran): one representative scenario
drives every resource through the real reconciler and client against an in-process emulator,
touching every operation the provider uses (:data:`PROVIDER_OPERATIONS`), happy paths and
the conflicts the provider explains; then a battery of Apple's error answers. Each recorded
exchange is validated strictly; an operation the checker cannot match fails the test.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from pulumi_appstoreconnect import get_app, get_build
from pulumi_appstoreconnect.client import AppStoreConnectClient, ConflictError
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.readcache import CACHE_ENV
from pulumi_appstoreconnect.reconciler import _MEMORY, SpecProvider
from pulumi_appstoreconnect.settings import Settings
from tests.contract.contract import PROVIDER_OPERATIONS, Contract, Report
from tests.contract.media_scenario import run_media_scenario
from tests.contract.metadata_scenario import run_metadata_scenario
from tests.contract.recording import RECORDER
from tests.emulator.support import BASE_URL, mint_token
from tests.providers import connect


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    emu = Emulator(tmp_path / "state")
    yield emu
    emu.close()


def checked(provider: SpecProvider, props: dict[str, Any], olds: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the engine hands to create (no ``olds``) or update: the props after ``check``."""
    result = provider.check(olds or {}, props)
    assert not result.failures, [(f.property, f.reason) for f in result.failures]
    return dict(result.inputs)


def run_scenario(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    make: Callable[[str], SpecProvider] = connect(emulator, monkeypatch)
    bundle_ids, capabilities, devices = make("bundleIds"), make("bundleIdCapabilities"), make("devices")
    certificates, profiles = make("certificates"), make("profiles")
    admin = httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL)

    # Bundle IDs: create, read, rename; a second create of the identifier is Apple's 409, which
    # the provider explains after an exact-match lookup (filter[identifier] is a prefix match).
    app = checked(bundle_ids, {"identifier": "com.contract.app", "platform": "IOS", "name": "Contract"})
    bundle = bundle_ids.create(app)
    bundle_ids.read(bundle.id, bundle.outs)
    renamed = bundle_ids.update(bundle.id, bundle.outs, {**app, "name": "Contract renamed"})
    with pytest.raises(ConflictError):
        bundle_ids.create(checked(bundle_ids, {"identifier": "com.contract.app", "platform": "IOS", "name": "Again"}))

    # Capabilities: read and looked up through the bundle ID (they have no GET of their own).
    icloud = checked(capabilities, {
        "bundle_id": bundle.id,
        "capability_type": "ICLOUD",
        "settings": [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_5", "enabled": True}]}],
    })
    capability = capabilities.create(icloud)
    capabilities.read(capability.id, capability.outs)
    moved = {**icloud, "settings": [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6", "enabled": True}]}]}
    capabilities.update(capability.id, capability.outs, moved)
    assert capabilities.find_existing(moved) is not None

    # Devices: the create looks the UDID up first (re-enabling a disabled one), read, rename.
    phone = checked(devices, {"udid": "00008030-001A35E11A88802E", "platform": "IOS", "name": "Phone"})
    device = devices.create(phone)
    devices.read(device.id, device.outs)
    devices.update(device.id, device.outs, {**phone, "name": "Phone 2"})

    # Certificates: the provider makes the key and CSR; at the distribution limit Apple's 409
    # is explained with the team's current certificates (a listing by type).
    development = certificates.create(checked(certificates, {"certificate_type": "IOS_DEVELOPMENT"}))
    certificates.read(development.id, development.outs)
    for n in range(3):
        admin.post("/_emulator/objects/certificates", json={"attributes": {"certificateType": "IOS_DISTRIBUTION"}})
    with pytest.raises(ConflictError, match="limits how many IOS_DISTRIBUTION"):
        certificates.create(checked(certificates, {"certificate_type": "IOS_DISTRIBUTION"}))

    # Profiles: selectors resolve to the enabled devices and valid certificates (two listings).
    dev_profile = {
        "name": "Contract Development",
        "profile_type": "IOS_APP_DEVELOPMENT",
        "bundle_id": bundle.id,
        "certificates": {"kind": "allValidCertificates", "certificate_types": ["IOS_DEVELOPMENT"]},
        "devices": {"kind": "allEnabledDevices", "platform": "IOS"},
    }
    profile = profiles.create(checked(profiles, dev_profile))
    profiles.read(profile.id, profile.outs)
    with pytest.raises(ConflictError):  # names are unique: explained after a filter[name] lookup
        profiles.create(checked(profiles, dev_profile))

    # Destroy in dependency order: delete, revoke, disable, delete; then reads see them gone.
    profiles.delete(profile.id, profile.outs)
    certificates.delete(development.id, development.outs)
    devices.delete(device.id, device.outs)
    capabilities.delete(capability.id, capability.outs)
    bundle_ids.delete(bundle.id, renamed.outs)
    assert profiles.read(profile.id, profile.outs).id is None
    assert certificates.read(development.id, development.outs).id is None
    assert bundle_ids.read(bundle.id, renamed.outs).id is None
    admin.close()


def run_testflight_scenario(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11: the look-ups, groups and memberships, testers, test information."""
    make: Callable[[str], SpecProvider] = connect(emulator, monkeypatch)
    with httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL) as admin:
        admin.post("/_emulator/objects/apps", json={"id": "6450000001", "attributes": {"name": "Demo", "bundleId": "com.example.demo"}})
        for number in ("41", "42"):
            admin.post("/_emulator/builds", json={"app": "6450000001", "version": "1.0", "buildNumber": number, "processingState": "VALID"})
    settings = Settings(issuer_id=emulator.issuer_id, key_id=emulator.key_id, private_key_pem=emulator.private_key_pem, base_url=BASE_URL)
    app = get_app("com.example.demo", settings=settings)
    first, latest = get_build(app.id, "1.0", "41", settings=settings), get_build(app.id, "1.0", settings=settings)
    groups, testers = make("BetaGroup"), make("BetaTester")

    # Groups: created with their builds; a second one of the name is looked up in the app first.
    external = groups.create(checked(groups, {"app": app.id, "name": "Friends", "public_link_enabled": True, "builds": [first.id]}))
    internal = groups.create(checked(groups, {"app": app.id, "name": "Team", "is_internal_group": True}))
    groups.read(external.id, external.outs)

    # Testers: looked up by e-mail, created with their groups; groups changed by difference.
    ada = testers.create(checked(testers, {"email": "ada@example.com", "groups": [external.id]}))
    ada_news = checked(testers, {"email": "ada@example.com", "groups": [internal.id]}, ada.outs)
    ada_outs = testers.update(ada.id, ada.outs, ada_news).outs
    testers.read(ada.id, ada_outs)
    bob = testers.create(checked(testers, {"email": "bob@example.com", "delete_on_destroy": True, "groups": [internal.id]}))

    # Group memberships by difference: builds and testers added and removed.
    news = checked(groups, {"app": app.id, "name": "Friends 2", "public_link_enabled": False, "builds": [latest.id], "testers": [bob.id]}, external.outs)
    external_outs = groups.update(external.id, external.outs, news).outs
    groups.read(external.id, external_outs)
    groups.update(external.id, external_outs, {**news, "testers": []})

    # Test information: localizations looked up within their parent, review detail and agreement taken over.
    for token, parent in (("BetaAppLocalization", {"app": app.id}), ("BetaBuildLocalization", {"build": latest.id})):
        localizations = make(token)
        text = {"description": "Try it"} if token == "BetaAppLocalization" else {"whats_new": "Try it"}
        made = localizations.create(checked(localizations, {**parent, "locale": "en-US", **text}))
        localizations.read(made.id, made.outs)
        changed = {**parent, "locale": "en-US", **{k: "Try it again" for k in text}}
        outs = localizations.update(made.id, made.outs, checked(localizations, changed, made.outs)).outs
        with pytest.raises(ConflictError):  # explained after a look-up in the parent's listing
            localizations.create(checked(localizations, {**parent, "locale": "en-US"}))
        localizations.delete(made.id, outs)
    for token, values in (("BetaAppReviewDetail", {"contact_email": "a@example.com"}), ("BetaLicenseAgreement", {"agreement_text": "T"})):
        adopted = make(token)
        taken = adopted.create(checked(adopted, {"app": app.id, **values}))
        adopted.read(taken.id, taken.outs)
        adopted.update(taken.id, taken.outs, checked(adopted, {"app": app.id}, taken.outs))

    # Destroy: testers leave the stack's groups (or their apps), groups go.
    testers.delete(ada.id, ada_outs)
    testers.delete(bob.id, bob.outs)
    groups.delete(external.id, external_outs)
    groups.delete(internal.id, internal.outs)


def test_every_provider_operation_conforms(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, contract: Contract, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # Once as a run reads (listings, the read cache on), once with the cache off (every read
    # its own GET), on a second account: between them, every operation the provider can send.
    run_scenario(emulator, monkeypatch)
    run_testflight_scenario(emulator, monkeypatch)
    run_metadata_scenario(emulator, monkeypatch)
    run_media_scenario(emulator, monkeypatch, tmp_path / "media")
    uncached = Emulator(tmp_path / "uncached")
    try:
        monkeypatch.setenv(CACHE_ENV, "off")
        _MEMORY.forget()
        run_scenario(uncached, monkeypatch)
        run_testflight_scenario(uncached, monkeypatch)
        run_metadata_scenario(uncached, monkeypatch)
        run_media_scenario(uncached, monkeypatch, tmp_path / "media-uncached")
    finally:
        uncached.close()
    exchanges = RECORDER.of_test(request.node.nodeid)
    assert exchanges and all(e.origin == "provider" for e in exchanges)
    report = contract.check_all(exchanges)
    assert not report.violations, "\n".join(map(str, report.violations))
    assert not report.seeded
    assert report.requests_validated == report.responses_validated == len(exchanges)
    used = set(report.operations)
    assert used <= set(PROVIDER_OPERATIONS), f"operations outside PROVIDER_OPERATIONS: {sorted(used - set(PROVIDER_OPERATIONS))}"
    assert used == set(PROVIDER_OPERATIONS), f"not exercised: {sorted(set(PROVIDER_OPERATIONS) - used)}"
    # The scenario's answers include Apple's errors: 409s (conflicts) and 404s (reads after delete).
    statuses = {e.status for e in exchanges}
    assert {200, 201, 204, 404, 409} <= statuses, statuses


def test_every_provider_operation_is_in_apples_spec(contract: Contract) -> None:
    assert set(PROVIDER_OPERATIONS) <= set(contract.operations())


# -- Apple's error answers -------------------------------------------------------------------


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    settings = Settings(
        issuer_id=emulator.issuer_id, key_id=emulator.key_id, private_key_pem=emulator.private_key_pem, base_url=BASE_URL
    )
    with AppStoreConnectClient(settings, transport=httpx.WSGITransport(app=emulator.app)) as client:
        yield client._http


def bundle_id_document(identifier: str) -> dict[str, Any]:
    return {"data": {"type": "bundleIds", "attributes": {"identifier": identifier, "name": "App", "platform": "IOS"}}}


def test_error_answers_are_apples_error_documents(
    api: httpx.Client, emulator: Emulator, contract: Contract, request: pytest.FixtureRequest
) -> None:
    created = api.post("/v1/bundleIds", json=bundle_id_document("com.contract.errors"))
    assert created.status_code == 201
    device = api.post("/v1/devices", json={"data": {"type": "devices", "attributes": {
        "udid": "00008030-001A35E11A88802F", "name": "Phone", "platform": "IOS"}}}).json()["data"]
    too_long = mint_token(emulator, exp=int(time.time()) + 21 * 60)
    answers = {
        "duplicate": api.post("/v1/bundleIds", json=bundle_id_document("com.contract.errors")),
        "limit": api.get("/v1/bundleIds", params={"limit": "201"}),
        "unknown filter": api.get("/v1/bundleIds", params={"filter[colour]": "red"}),
        "unknown id": api.get("/v1/bundleIds/NOSUCHID00"),
        "no device DELETE": api.delete(f"/v1/devices/{device['id']}"),
        "no profile PATCH": api.patch("/v1/profiles/ANY", json={"data": {"type": "profiles", "id": "ANY"}}),
        "not JSON": api.post("/v1/bundleIds", content=b"{", headers={"Content-Type": "application/json"}),
    }
    with httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL) as raw:
        # exp 21 minutes ahead: Apple refuses tokens that live longer than 20 minutes.
        answers["long-lived token"] = raw.get("/v1/bundleIds", headers={"Authorization": f"Bearer {too_long}"})
    expected = {
        "duplicate": (409, "ENTITY_ERROR.ATTRIBUTE.INVALID"),
        "limit": (400, "PARAMETER_ERROR.INVALID"),
        "unknown filter": (400, "PARAMETER_ERROR.INVALID"),
        "unknown id": (404, "NOT_FOUND"),
        "no device DELETE": (405, "METHOD_NOT_ALLOWED"),
        "no profile PATCH": (405, "METHOD_NOT_ALLOWED"),
        "not JSON": (422, "ENTITY_UNPROCESSABLE"),
        "long-lived token": (401, "NOT_AUTHORIZED"),
    }
    for name, response in answers.items():
        status, code = expected[name]
        assert (response.status_code, response.json()["errors"][0]["code"]) == (status, code), name
        assert response.json()["errors"][0]["status"] == str(status), name
    report: Report = contract.check_all(RECORDER.of_test(request.node.nodeid))
    assert not report.violations, "\n".join(map(str, report.violations))
    assert report.probes == {"DELETE 405": 1, "PATCH 405": 1}  # operations Apple does not have
    assert report.responses_validated == len(answers) + 2
