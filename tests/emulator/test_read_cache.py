"""The read cache (issue 14) through the provider and the real client against the emulator.

Each test is one or more provider processes: ``READS.forget()`` starts a new one (a new Pulumi
operation), as the engine does. Request counts come from the emulator's request log; nothing
here is timed.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.emulator.seeding import load_seed
from pulumi_appstoreconnect.readcache import CACHE_ENV, READS, TTL_ENV
from pulumi_appstoreconnect.reconciler import _MEMORY, SpecProvider

from ..media_support import LOCALIZATION, PREVIEW, iphone_shots, media_account, mp4, write
from ..providers import connect, stored
from .support import FakeTime

Provider = Callable[[str], SpecProvider]
APP = "6450000001"  # the demo seed's app


def udid(n: int) -> str:
    return f"00008030-{n:016X}"


def gets(admin: httpx.Client) -> list[str]:
    """The paths of the GETs the emulator served since the log was cleared."""
    return [r["path"] for r in admin.get("/_emulator/requests").json()["data"] if r["method"] == "GET"]


def new_process() -> None:
    """A new Pulumi operation: a new provider process, with nothing listed or learnt."""
    READS.forget()
    _MEMORY.forget()


def create(provider: SpecProvider, news: dict[str, Any]) -> Any:
    result = provider.check({}, dict(news))
    assert result.failures == [], [(f.property, f.reason) for f in result.failures]
    return provider.create(result.inputs)


@pytest.fixture
def provider(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Provider:
    return connect(emulator, monkeypatch, sleep=lambda _s: None)


def test_a_refresh_lists_each_type_once_and_includes_the_capabilities(provider: Provider, admin: httpx.Client) -> None:
    bundle_ids, capabilities, devices = provider("BundleId"), provider("BundleIdCapability"), provider("Device")
    made = [create(bundle_ids, {"identifier": f"com.example.cache{n}", "platform": "IOS", "name": f"Cache {n}"}) for n in range(3)]
    caps = [create(capabilities, {"bundle_id": b.id, "capability_type": "PUSH_NOTIFICATIONS"}) for b in made]
    phones = [create(devices, {"udid": udid(n), "platform": "IOS", "name": f"Phone {n}"}) for n in range(5)]

    new_process()
    admin.delete("/_emulator/requests")
    read = [p.read(r.id, stored(r.outs)) for p, rs in ((bundle_ids, made), (capabilities, caps), (devices, phones)) for r in rs]
    assert [r.id for r in read] == [r.id for r in (*made, *caps, *phones)]
    assert read[0].outs["name"] == "Cache 0" and read[3].outs["capability_type"] == "PUSH_NOTIFICATIONS"
    # Eleven objects, two requests: the capabilities came included with their bundle IDs.
    assert gets(admin) == ["/v1/bundleIds", "/v1/devices"]


def test_a_capability_read_before_its_app_id_comes_from_the_app_ids_listing(provider: Provider, admin: httpx.Client) -> None:
    """The engine reads in any order: a capability read first lists the App IDs (with their
    capabilities included), not its own App ID's capabilities."""
    bundle_ids, capabilities = provider("BundleId"), provider("BundleIdCapability")
    made = [create(bundle_ids, {"identifier": f"com.example.first{n}", "platform": "IOS", "name": f"First {n}"}) for n in range(3)]
    caps = [create(capabilities, {"bundle_id": b.id, "capability_type": "PUSH_NOTIFICATIONS"}) for b in made]
    new_process()
    admin.delete("/_emulator/requests")
    assert [capabilities.read(c.id, stored(c.outs)).id for c in caps] == [c.id for c in caps]
    assert [bundle_ids.read(b.id, stored(b.outs)).id for b in made] == [b.id for b in made]
    assert gets(admin) == ["/v1/bundleIds"]


def test_no_read_after_a_write_of_this_process_is_stale(provider: Provider, admin: httpx.Client) -> None:
    bundle_ids, capabilities = provider("BundleId"), provider("BundleIdCapability")
    first = create(bundle_ids, {"identifier": "com.example.fresh", "platform": "IOS", "name": "Before"})
    assert bundle_ids.read(first.id, stored(first.outs)).outs["name"] == "Before"  # the listing is read here
    admin.delete("/_emulator/requests")

    renamed = bundle_ids.update(first.id, stored(first.outs), {**first.outs, "name": "After"})
    second = create(bundle_ids, {"identifier": "com.example.fresh.two", "platform": "IOS", "name": "Two"})
    cap = create(capabilities, {"bundle_id": second.id, "capability_type": "ICLOUD",
                                "settings": [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_5"}]}]})
    assert bundle_ids.read(first.id, stored(renamed.outs)).outs["name"] == "After"  # the PATCH's answer
    assert bundle_ids.read(second.id, stored(second.outs)).id == second.id  # the POST's
    assert bundle_ids.find_by_natural_key("com.example.fresh.two")["id"] == second.id
    assert capabilities.read(cap.id, stored(cap.outs)).outs["settings"][0]["options"][0]["key"] == "XCODE_5"
    changed = capabilities.update(cap.id, stored(cap.outs), {**cap.outs, "settings": [
        {"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6"}]}]})
    assert capabilities.read(cap.id, stored(changed.outs)).outs["settings"][0]["options"][0]["key"] == "XCODE_6"
    bundle_ids.delete(second.id, stored(second.outs))
    assert bundle_ids.read(second.id, stored(second.outs)).id is None
    assert capabilities.read(cap.id, stored(changed.outs)).id is None  # gone with its App ID
    # The bundle IDs were served from the listing the first read made, kept up to date by the
    # writes; the capabilities were listed afresh after each write to them.
    assert "/v1/bundleIds" not in gets(admin)


def test_a_write_that_ends_while_its_type_is_listed_is_not_lost(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A device registered while another thread's first look-up is reading the device listing
    (which Apple answered before the POST): the listing kept must hold the new device."""
    inner = httpx.WSGITransport(app=emulator.app)
    devices: list[SpecProvider] = []
    registered: list[Any] = []

    class RegisterDuringListing(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = inner.handle_request(request)  # Apple's answer, before the POST below
            if request.method == "GET" and request.url.path == "/v1/devices" and not registered:
                registered.append(None)
                # The write alone (a create's look-up would wait for this very listing).
                worker = threading.Thread(target=lambda: registered.append(devices[0].client.create(
                    "devices", {"udid": udid(7), "platform": "IOS", "name": "Mid-listing"})))
                worker.start()
                worker.join()
            return response

    from pulumi_appstoreconnect import reconciler
    from pulumi_appstoreconnect.client import AppStoreConnectClient

    provider = connect(emulator, monkeypatch)
    monkeypatch.setattr(reconciler, "_CLIENTS", reconciler._ClientCache(
        lambda s: AppStoreConnectClient(s, transport=RegisterDuringListing(), sleep=lambda _s: None)))
    devices.append(provider("Device"))
    assert devices[0].find_by_natural_key(udid(1)) is None  # lists the devices; the POST lands meanwhile
    made = registered[1]
    assert devices[0].find_by_natural_key(udid(7))["id"] == made["id"]
    props = {"udid": udid(7), "platform": "IOS", "name": "Mid-listing", "status": "ENABLED"}
    assert devices[0].read(made["id"], props).outs["name"] == "Mid-listing"


def test_a_child_made_while_its_parents_are_listed_is_in_the_parents_child_listing(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A capability enabled while another thread reads the App IDs' listing (with their
    capabilities included, answered by Apple before the POST): the App ID's capability listing
    the cache then serves must hold it, as Apple's does."""
    from pulumi_appstoreconnect import reconciler
    from pulumi_appstoreconnect.client import AppStoreConnectClient

    provider = connect(emulator, monkeypatch, sleep=lambda _s: None)
    app_id = create(provider("BundleId"), {"identifier": "com.example.race", "platform": "IOS", "name": "Race"})
    new_process()
    inner = httpx.WSGITransport(app=emulator.app)
    capabilities: list[SpecProvider] = []
    enabled: list[Any] = []

    class EnableDuringListing(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = inner.handle_request(request)  # Apple's answer, before the POST below
            if request.method == "GET" and request.url.path == "/v1/bundleIds" and not enabled:
                enabled.append(None)
                worker = threading.Thread(target=lambda: enabled.append(capabilities[0].client.create(
                    "bundleIdCapabilities", {"capabilityType": "PUSH_NOTIFICATIONS"},
                    {"bundleId": {"data": {"type": "bundleIds", "id": app_id.id}}})))
                worker.start()
                worker.join()
            return response

    monkeypatch.setattr(reconciler, "_CLIENTS", reconciler._ClientCache(
        lambda s: AppStoreConnectClient(s, transport=EnableDuringListing(), sleep=lambda _s: None)))
    bundle_ids = provider("BundleId")
    capabilities.append(provider("BundleIdCapability"))
    bundle_ids.read(app_id.id, stored(app_id.outs))  # lists the App IDs; the capability lands meanwhile
    path = f"/v1/bundleIds/{app_id.id}/bundleIdCapabilities"
    apples = {c["id"] for c in capabilities[0].client._client.list_all(path)}
    assert enabled[1]["id"] in apples
    assert {c["id"] for c in capabilities[0].client.list_all(path)} == apples


def test_an_object_this_process_made_is_looked_up_with_its_linkages(provider: Provider, emulator: Emulator) -> None:
    """Apple's answer to a POST carries no linkage data; a look-up through a listing read with
    ``include=`` must still show the tester's groups and apps, as Apple's listing does."""
    load_seed(emulator, "demo")
    groups, testers = provider("BetaGroup"), provider("BetaTester")
    group = create(groups, {"app": APP, "name": "Linkage"})
    create(testers, {"email": "linkage@example.com", "groups": [group.id]})
    query = {"filter[email]": "linkage@example.com", "include": "apps,betaGroups", "limit[apps]": 50, "limit[betaGroups]": 50}

    def linkages(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v.get("data") for k, v in (c.get("relationships") or {}).items() if k in ("apps", "betaGroups")} for c in found]

    apples = linkages(testers.client._client.list_all("/v1/betaTesters", query))
    assert apples[0]["betaGroups"] == [{"type": "betaGroups", "id": group.id}]
    assert linkages(testers.client.look_up("/v1/betaTesters", query)) == apples


def test_concurrent_readers_wait_for_one_listing(provider: Provider, admin: httpx.Client) -> None:
    devices = provider("Device")
    phones = [create(devices, {"udid": udid(n), "platform": "IOS", "name": f"Phone {n}"}) for n in range(12)]
    new_process()
    admin.post("/_emulator/faults", json={"kind": "latency", "seconds": 0.2, "methods": ["GET"], "path": "/v1/devices"})
    admin.delete("/_emulator/requests")
    start = threading.Barrier(len(phones))
    results: dict[str, Any] = {}
    failures: list[BaseException] = []

    def read(made: Any) -> None:
        try:
            start.wait()
            results[made.id] = devices.read(made.id, stored(made.outs))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=read, args=(made,)) for made in phones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert {id_: r.outs["name"] for id_, r in results.items()} == {m.id: m.outs["name"] for m in phones}
    assert gets(admin) == ["/v1/devices"]  # one listing, however the threads met


def test_a_resource_deleted_out_of_band_is_still_seen_as_gone(provider: Provider, admin: httpx.Client) -> None:
    bundle_ids = provider("BundleId")
    kept = create(bundle_ids, {"identifier": "com.example.kept", "platform": "IOS", "name": "Kept"})
    gone = create(bundle_ids, {"identifier": "com.example.gone", "platform": "IOS", "name": "Gone"})
    admin.delete(f"/_emulator/objects/bundleIds/{gone.id}")  # in the web UI, between two runs

    new_process()
    admin.delete("/_emulator/requests")
    assert bundle_ids.read(kept.id, stored(kept.outs)).id == kept.id
    assert bundle_ids.read(gone.id, stored(gone.outs)).id is None
    # Not in the listing: confirmed by its own GET (Apple's listings may trail its writes).
    assert gets(admin) == ["/v1/bundleIds", f"/v1/bundleIds/{gone.id}"]


def test_an_object_the_listing_has_not_caught_up_with_is_read_by_its_own_get(
    provider: Provider, admin: httpx.Client
) -> None:
    bundle_ids = provider("BundleId")
    admin.put("/_emulator/listing-lag", json={"seconds": 300})
    made = create(bundle_ids, {"identifier": "com.example.lagging", "platform": "IOS", "name": "Lagging"})
    new_process()
    assert bundle_ids.read(made.id, stored(made.outs)).id == made.id  # not listed yet, but there


def test_listings_expire(provider: Provider, admin: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi_appstoreconnect import readcache

    now = [1000.0]
    monkeypatch.setattr(readcache.time, "monotonic", lambda: now[0])
    monkeypatch.setenv(TTL_ENV, "60")
    bundle_ids = provider("BundleId")
    made = create(bundle_ids, {"identifier": "com.example.expiring", "platform": "IOS", "name": "Before"})
    assert bundle_ids.read(made.id, stored(made.outs)).outs["name"] == "Before"
    admin.patch(f"/_emulator/objects/bundleIds/{made.id}", json={"attributes": {"name": "Renamed in the web UI"}})
    now[0] += 59
    assert bundle_ids.read(made.id, stored(made.outs)).outs["name"] == "Before"  # within the bound
    now[0] += 2
    assert bundle_ids.read(made.id, stored(made.outs)).outs["name"] == "Renamed in the web UI"


def test_the_off_switch_sends_every_read(provider: Provider, admin: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    devices = provider("Device")
    phones = [create(devices, {"udid": udid(n), "platform": "IOS", "name": f"Phone {n}"}) for n in range(3)]
    monkeypatch.setenv(CACHE_ENV, "off")
    new_process()
    admin.delete("/_emulator/requests")
    served = devices.client.counts["served"]
    assert [devices.read(p.id, stored(p.outs)).id for p in phones] == [p.id for p in phones]
    assert devices.find_by_natural_key(udid(1))["id"] == phones[1].id
    assert gets(admin) == [*(f"/v1/devices/{p.id}" for p in phones), "/v1/devices"]
    assert devices.client.counts["served"] == served


def test_creates_look_up_their_keys_in_one_listing(provider: Provider, admin: httpx.Client) -> None:
    devices = provider("Device")
    admin.delete("/_emulator/requests")
    for n in range(6):  # each create first looks for a disabled device with its UDID
        create(devices, {"udid": udid(n), "platform": "IOS", "name": f"Phone {n}"})
    log = [(r["method"], r["path"]) for r in admin.get("/_emulator/requests").json()["data"]]
    assert log == [("GET", "/v1/devices")] + [("POST", "/v1/devices")] * 6


def test_a_refresh_costs_the_same_listings_whatever_the_stack_size(
    provider: Provider, admin: httpx.Client, emulator: Emulator
) -> None:
    """The scale run's claim (benchmarks/README.md) at a size a test can afford: a refresh of every
    signing and TestFlight type sends one listing per type (and per app for the groups' look-up
    listing, none here), however many resources the stack has."""
    kinds = ("Device", "BundleId", "BundleIdCapability", "Certificate", "Profile", "BetaGroup", "BetaTester")
    refreshed: dict[int, list[str]] = {}
    for size in (2, 5):
        admin.post("/_emulator/reset")
        load_seed(emulator, "demo")
        new_process()
        p = {kind: provider(kind) for kind in kinds}
        made: list[tuple[str, Any]] = []
        cert = create(p["Certificate"], {"certificate_type": "IOS_DEVELOPMENT"})
        made.append(("Certificate", cert))
        for n in range(size):
            phone = create(p["Device"], {"udid": udid(n), "platform": "IOS", "name": f"Phone {n}"})
            bundle = create(p["BundleId"], {"identifier": f"com.example.size{n}", "platform": "IOS", "name": f"Size {n}"})
            push = create(p["BundleIdCapability"], {"bundle_id": bundle.id, "capability_type": "PUSH_NOTIFICATIONS"})
            profile = create(p["Profile"], {"name": f"Size {n}", "profile_type": "IOS_APP_DEVELOPMENT", "bundle_id": bundle.id,
                                            "certificates": [cert.id], "devices": [phone.id]})
            group = create(p["BetaGroup"], {"app": APP, "name": f"Size group {n}"})
            tester = create(p["BetaTester"], {"email": f"size{n}@example.com", "groups": [group.id]})
            made += [("Device", phone), ("BundleId", bundle), ("BundleIdCapability", push), ("Profile", profile),
                     ("BetaGroup", group), ("BetaTester", tester)]
        new_process()
        admin.delete("/_emulator/requests")
        assert all(p[kind].read(r.id, stored(r.outs)).id == r.id for kind, r in made)
        refreshed[size] = sorted(gets(admin))
    assert refreshed[2] == refreshed[5] == sorted(
        ["/v1/devices", "/v1/bundleIds", "/v1/certificates", "/v1/profiles", "/v1/betaGroups", "/v1/betaTesters"]
    )


def test_selectors_are_resolved_from_the_type_listing(provider: Provider, admin: httpx.Client) -> None:
    """Every profile following AllEnabledDevices / AllValidCertificates resolves its selector at
    check, on every preview and up: from the listing, one request per type, not per profile.
    Devices registered or disabled by this run are selected as Apple would."""
    devices, certificates, bundle_ids, profiles = (provider(k) for k in ("Device", "Certificate", "BundleId", "Profile"))
    phones = [create(devices, {"udid": udid(n), "platform": "IOS", "name": f"Phone {n}"}) for n in range(3)]
    mac = create(devices, {"udid": f"00008103-{5:016X}", "platform": "MAC_OS", "name": "Mac"})
    cert = create(certificates, {"certificate_type": "IOS_DEVELOPMENT"})
    create(certificates, {"certificate_type": "IOS_DISTRIBUTION"})
    bundles = [create(bundle_ids, {"identifier": f"com.example.sel{n}", "platform": "IOS", "name": f"Sel {n}"}) for n in range(4)]
    new_process()
    admin.delete("/_emulator/requests")
    selected = [
        profiles.check({}, {"name": f"Sel {n}", "profile_type": "IOS_APP_DEVELOPMENT", "bundle_id": b.id,
                            "devices": {"platform": "IOS"}, "certificates": {"certificate_types": ["IOS_DEVELOPMENT"]}}).inputs
        for n, b in enumerate(bundles)
    ]
    assert {tuple(i["devices"]) for i in selected} == {tuple(sorted(p.id for p in phones))}
    assert {tuple(i["certificates"]) for i in selected} == {(cert.id,)}
    assert sorted(gets(admin)) == ["/v1/certificates", "/v1/devices"]
    # A device this run disables, and one it registers: the next check selects what Apple would.
    devices.update(phones[0].id, stored(phones[0].outs), {**phones[0].outs, "status": "DISABLED"})
    added = create(devices, {"udid": udid(9), "platform": "IOS", "name": "Phone 9"})
    again = profiles.check({}, {"name": "Sel 0", "profile_type": "IOS_APP_DEVELOPMENT", "bundle_id": bundles[0].id,
                                "devices": {"platform": "IOS"}, "certificates": [cert.id]}).inputs
    assert sorted(again["devices"]) == sorted([phones[1].id, phones[2].id, added.id]) and mac.id not in again["devices"]


def test_memberships_are_read_from_the_included_linkage(provider: Provider, admin: httpx.Client, emulator: Emulator) -> None:
    load_seed(emulator, "demo")
    groups, testers = provider("BetaGroup"), provider("BetaTester")
    group = create(groups, {"app": APP, "name": "Cache group"})
    people = [create(testers, {"email": f"t{n}@example.com", "groups": [group.id]}) for n in range(3)]
    with_members = groups.update(group.id, stored(group.outs), {**group.outs, "testers": [p.id for p in people]})
    new_process()
    admin.delete("/_emulator/requests")
    assert sorted(groups.read(group.id, stored(with_members.outs)).outs["testers"]) == sorted(p.id for p in people)
    assert all(testers.read(p.id, stored(p.outs)).outs["groups"] == [group.id] for p in people)
    assert gets(admin) == ["/v1/betaGroups", "/v1/betaTesters"]

    # A tester leaves the group: both sides' linkages are read again, not served stale.
    left = testers.update(people[0].id, stored(people[0].outs), {**people[0].outs, "groups": []})
    assert testers.read(people[0].id, stored(left.outs)).outs["groups"] == []
    read = groups.read(group.id, stored(with_members.outs)).outs["testers"]
    assert sorted(read) == sorted(p.id for p in people[1:])


def test_the_log_says_what_was_listed_served_and_dropped(provider: Provider, caplog: pytest.LogCaptureFixture) -> None:
    devices = provider("Device")
    caplog.set_level(logging.DEBUG, logger="pulumi_appstoreconnect.readcache")
    phone = create(devices, {"udid": udid(1), "platform": "IOS", "name": "Phone"})
    devices.read(phone.id, stored(phone.outs))
    devices.update(phone.id, stored(phone.outs), {**phone.outs, "status": "DISABLED"})
    text = caplog.text
    assert "listed devices (0 objects in 1 request(s))" in text
    assert f"served devices {phone.id}" in text
    assert "PATCH /v1/devices/" in text and "listings of devices brought up to date" in text


def test_every_include_is_one_apple_lists_for_that_listing() -> None:
    import json

    from pulumi_appstoreconnect.resources import SPECS

    spec_file = Path(__file__).parents[2] / "provider/pulumi_appstoreconnect/emulator/openapi/appstoreconnect-openapi-4.4.1-excerpt.json"
    paths = json.loads(spec_file.read_text())["paths"]
    declared = {spec.path: dict(spec.includes) for spec in SPECS.values() if spec.includes}
    assert declared  # bundle IDs, groups, testers
    for path, includes in declared.items():
        parameters = {p["name"]: p for p in paths[path]["get"]["parameters"] if "name" in p}
        allowed = set(parameters["include"]["schema"]["items"]["enum"])
        for name, limit in includes.items():
            assert name in allowed, (path, name)
            assert limit <= parameters[f"limit[{name}]"]["schema"]["maximum"], (path, name)
    # Child listings read with include= (an app's app infos with their categories).
    from pulumi_appstoreconnect.readcache import READS

    children = [t for t in READS.catalogue.children if t.params.get("include")]
    assert {t.item_type for t in children} == {"appInfos", "appStoreVersions"}
    for template in children:
        path = template.pattern.pattern.replace("(?P<parent>[^/]+)", "{id}").replace("\\", "")
        parameters = {p["name"]: p for p in paths[path]["get"]["parameters"] if "name" in p}
        assert set(template.params["include"].split(",")) <= set(parameters["include"]["schema"]["items"]["enum"]), path


# -- screenshot and preview sets (issue 13's types): listed per localization, their files per set


@pytest.fixture
def media(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, Provider, FakeTime]]:
    time_ = FakeTime()
    emu = media_account(tmp_path / "state", time_.clock, part_size=6000, processing_seconds=3)
    try:
        yield emu, connect(emu, monkeypatch, sleep=time_.sleep, clock=time_.clock), time_
    finally:
        emu.close()


def media_gets(emulator: Emulator) -> list[str]:
    requests = emulator.store.requests()
    emulator.store.clear_requests()
    return [r["path"] for r in requests if r["method"] == "GET"]


def test_screenshot_and_preview_sets_and_their_files_are_read_from_listings(
    media: tuple[Emulator, Provider, FakeTime], tmp_path: Path
) -> None:
    emulator, make, _ = media
    screenshots, previews = make("AppScreenshotSet"), make("AppPreviewSet")
    shots = create(screenshots, {"app_store_version_localization": LOCALIZATION, "screenshot_display_type": "APP_IPHONE_67",
                                 "screenshots": iphone_shots(tmp_path / "media", 2)})
    movie = write(tmp_path / "media", "preview.mp4", mp4(*PREVIEW, 20.0))
    movies = create(previews, {"app_store_version_localization": LOCALIZATION, "preview_type": "IPHONE_67", "previews": [movie]})

    new_process()
    media_gets(emulator)
    for _ in range(2):  # the engine may read a resource more than once in an operation
        assert [s["state"] for s in screenshots.read(shots.id, stored(shots.outs)).outs["screenshots"]] == ["COMPLETE"] * 2
        assert [p["state"] for p in previews.read(movies.id, stored(movies.outs)).outs["previews"]] == ["COMPLETE"]
    # One listing of each kind of set in the localization, one of each set's files: each once.
    assert media_gets(emulator) == [
        f"/v1/appStoreVersionLocalizations/{LOCALIZATION}/appScreenshotSets", f"/v1/appScreenshotSets/{shots.id}/appScreenshots",
        f"/v1/appStoreVersionLocalizations/{LOCALIZATION}/appPreviewSets", f"/v1/appPreviewSets/{movies.id}/appPreviews",
    ]


def test_uploads_wait_for_apples_processing_and_later_reads_see_what_they_made(
    media: tuple[Emulator, Provider, FakeTime], tmp_path: Path
) -> None:
    """The files' listing is served from the cache, but the wait for Apple's processing (a
    change no write of this process makes) reads it afresh each time."""
    _, make, _ = media
    screenshots = make("AppScreenshotSet")
    first, second, third = iphone_shots(tmp_path / "media", 3)
    news = {"app_store_version_localization": LOCALIZATION, "screenshot_display_type": "APP_IPHONE_67", "screenshots": [first]}
    made = create(screenshots, news)
    assert screenshots.read(made.id, stored(made.outs)).outs["screenshots"][0]["state"] == "COMPLETE"  # listed now
    changed = screenshots.check(stored(made.outs), {**news, "screenshots": [third, second]}).inputs
    outs = screenshots.update(made.id, stored(made.outs), changed).outs
    assert [(s["file"], s["state"]) for s in outs["screenshots"]] == [(third, "COMPLETE"), (second, "COMPLETE")]
    read = screenshots.read(made.id, stored(outs)).outs["screenshots"]
    assert [(s["file"], s["state"]) for s in read] == [(third, "COMPLETE"), (second, "COMPLETE")]
    reordered = screenshots.update(made.id, stored(outs), {**changed, "screenshots": list(reversed(changed["screenshots"]))}).outs
    assert [s["file"] for s in screenshots.read(made.id, stored(reordered)).outs["screenshots"]] == [second, third]


# -- app metadata: app infos and versions carry linkages (categories, build) a read needs


def test_app_infos_and_versions_are_read_from_the_apps_listings_with_their_linkages(
    provider: Provider, admin: httpx.Client
) -> None:
    admin.post("/_emulator/objects/appCategories", json=[
        {"id": "GAMES", "attributes": {"platforms": ["IOS"]}},
        {"id": "EDUCATION", "attributes": {"platforms": ["IOS"]}},
    ])
    admin.post("/_emulator/objects/apps", json=[
        {"id": "6450007777", "attributes": {"name": "Meta", "bundleId": "com.cache.meta", "sku": "M1", "primaryLocale": "en-US"}}])
    admin.post("/_emulator/objects/builds", json=[
        {"id": "CACHEBUILD", "attributes": {"version": "3", "processingState": "VALID"}, "relationships": {"app": "6450007777"}}])
    infos, versions = provider("AppInfo"), provider("AppStoreVersion")
    info = infos.create({"app": "6450007777", "primary_category": "GAMES"})
    version = versions.create({"app": "6450007777", "platform": "IOS", "version_string": "1.0"})
    built = versions.update(version.id, stored(version.outs), {**version.outs, "build": "CACHEBUILD"})

    new_process()
    admin.delete("/_emulator/requests")
    for _ in range(2):
        assert infos.read(info.id, stored(info.outs)).outs["primary_category"] == "GAMES"
        assert versions.read(version.id, stored(built.outs)).outs["build"] == "CACHEBUILD"
    assert gets(admin) == ["/v1/apps/6450007777/appInfos", "/v1/apps/6450007777/appStoreVersions"]

    # A PATCH of one linkage: Apple's answer carries none; the read shows the one sent and keeps the other.
    admin.delete("/_emulator/requests")
    changed = infos.update(info.id, stored(info.outs), {**info.outs, "secondary_category": "EDUCATION"})
    read = infos.read(info.id, stored(changed.outs)).outs
    assert (read["primary_category"], read["secondary_category"]) == ("GAMES", "EDUCATION")
    assert gets(admin) == []
