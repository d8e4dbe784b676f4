"""What Apple's live API really sends, read through the client and the reconciler.

The fixtures (``tests/contract/fixtures``, see its README) are this project's own bodies
reproducing quirks seen in recorded public-API responses. Each is served by an
``httpx.MockTransport`` to the real :class:`AppStoreConnectClient` and read by the real
:class:`SpecProvider`: mixed timestamp formats, ``links.next: null``, unknown attributes and
enum values, relationship paging that lies, nulls. The contract checker is held to the same
fixtures: the deviations the emulator reproduces on purpose (``DEVIATIONS``) must fail Apple's
raw schema and pass with the deviation, the ones it must never produce must fail both ways.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_appstoreconnect import reconciler
from pulumi_appstoreconnect.client import AppStoreConnectClient
from pulumi_appstoreconnect.client.documents import parse_timestamp
from pulumi_appstoreconnect.reconciler import SpecProvider
from tests.contract.contract import DEVIATIONS, Contract, Exchange
from tests.unit.asc_client_support import ISSUER_ID, KEY_ID, ec_pem

FIXTURES = Path(__file__).parent / "fixtures"
BASE_URL = "https://api.appstoreconnect.apple.com"
HEADERS = {"content-type": "application/json", "x-rate-limit": "user-hour-lim:3600;user-hour-rem:3599;"}


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


# -- the checker and the deviations ------------------------------------------------------------

# fixture → (method, path, status, deviations it shows; None: a quirk the emulator must not copy)
CASES: dict[str, tuple[str, str, int, set[str] | None]] = {
    "device_added_plus0000.json": ("GET", "/v1/devices/K8Q2W7N4X1", 200, {"timestamp-offset-without-colon"}),
    "capability_settings_null.json": (
        "POST", "/v1/bundleIdCapabilities", 201, {"null-attributes", "capability-bundleId-relationship"},
    ),
    "to_one_related_null.json": ("GET", "/v1/bundleIds/B7R2K9XW4P/app", 200, {"empty-to-one-is-null"}),
    "profiles_linkage_paging.json": ("GET", "/v1/profiles", 200, {"timestamp-offset-without-colon", "null-attributes"}),
    "bundle_ids_page_next_null.json": ("GET", "/v1/bundleIds", 200, None),
    "certificates_mixed_timestamps.json": ("GET", "/v1/certificates", 200, None),
    "agreements_forbidden_links_see.json": ("GET", "/v1/bundleIds", 403, {"error-links-see"}),
}


def exchange(name: str) -> Exchange:
    method, path, status, _ = CASES[name]
    body = (FIXTURES / name).read_bytes()
    request = b'{"data": {"type": "bundleIdCapabilities", "attributes": {"capabilityType": "GAME_CENTER"}, ' \
        b'"relationships": {"bundleId": {"data": {"type": "bundleIds", "id": "B7R2K9XW4P"}}}}}' if method == "POST" else b""
    return Exchange(
        method, path, request_body=request, request_content_type="application/json" if request else None,
        status=status, response_headers=HEADERS, response_body=body,
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_listed_deviation_is_real_and_each_other_quirk_is_refused(name: str) -> None:
    deviations = CASES[name][3]
    raw = Contract(deviations=False).check(exchange(name))
    assert raw.violations, f"{name} should break Apple's own schema"
    allowed = Contract().check(exchange(name))
    if deviations is None:
        # links.next null, SERVICES, MAC_OS_X...: tolerated by the client, never sent by the emulator.
        assert allowed.violations
    else:
        assert not allowed.violations, "\n".join(map(str, allowed.violations))
        assert set(allowed.deviations) == deviations


def test_the_refused_quirks_are_named() -> None:
    messages = "\n".join(v.message for v in Contract().check(exchange("bundle_ids_page_next_null.json")).violations)
    assert "None for not nullable (at /links/next)" in messages
    assert "'SERVICES' is not one of" in messages
    assert "'wildcard'" in messages  # an attribute the schema lacks
    messages = "\n".join(v.message for v in Contract().check(exchange("certificates_mixed_timestamps.json")).violations)
    assert "'MAC_OS_X' is not one of" in messages and "'DEVELOPER_ID_INSTALLER_G2' is not one of" in messages


def test_every_deviation_has_evidence_and_a_fixture() -> None:
    shown = set().union(*(d for *_, d in CASES.values() if d))
    assert shown == set(DEVIATIONS)
    for deviation in DEVIATIONS.values():
        assert "fixture" in deviation.evidence and deviation.summary


# -- the client and the reconciler read them -------------------------------------------------


def serve(routes: dict[str, str | dict[str, Any]]) -> Callable[[str], SpecProvider]:
    """Providers whose client gets ``routes`` (path → fixture file name or document) from a
    mock Apple."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = routes.get(request.url.path)
        if body is None:
            return httpx.Response(404, json={"errors": [{"status": "404", "code": "NOT_FOUND", "title": "t", "detail": "d"}]})
        content = (FIXTURES / body).read_bytes() if isinstance(body, str) else json.dumps(body).encode()
        return httpx.Response(200, content=content, headers=HEADERS)

    transport = httpx.MockTransport(handler)
    config = Config(
        {
            "appstoreconnect:keyId": KEY_ID,
            "appstoreconnect:issuerId": ISSUER_ID,
            "appstoreconnect:privateKey": ec_pem(),
            "appstoreconnect:baseUrl": BASE_URL,
        },
        project_name="tests",
    )

    def make(rest_type: str) -> SpecProvider:
        provider = SpecProvider(rest_type)
        provider.configure(ConfigureRequest(config))
        return provider

    make.requests = seen  # type: ignore[attr-defined]
    make.transport = transport  # type: ignore[attr-defined]
    return make


@pytest.fixture
def apple(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Callable[[str], SpecProvider]]:
    def install(routes: dict[str, Any]) -> Callable[[str], SpecProvider]:
        make = serve(routes)
        transport = make.transport  # type: ignore[attr-defined]
        monkeypatch.setattr(
            reconciler, "_CLIENTS", reconciler._ClientCache(lambda s: AppStoreConnectClient(s, transport=transport))
        )
        return make

    return install


def test_a_page_with_next_null_ends_the_listing_and_total_is_not_trusted(apple: Any) -> None:
    make = apple({"/v1/bundleIds": "bundle_ids_page_next_null.json"})
    provider = make("bundleIds")
    listed = provider.client.list_all("/v1/bundleIds", {"filter[identifier]": "com.example.shop"})
    assert [b["id"] for b in listed] == ["B7R2K9XW4P", "S3RV1C3S01", "UN1V3RSAL1"]  # total said 1
    assert len(make.requests) == 1  # next: null is the end, not a URL "None"
    # The natural-key lookup re-checks the prefix filter's candidates exactly.
    assert provider.find_by_natural_key("com.example.shop")["id"] == "B7R2K9XW4P"
    assert provider.find_by_natural_key("com.example") is None


def test_a_platform_outside_the_spec_and_unknown_attributes_are_read(apple: Any) -> None:
    item = fixture("bundle_ids_page_next_null.json")["data"][1]  # platform SERVICES, extra attributes
    make = apple({"/v1/bundleIds/S3RV1C3S01": {"data": item, "links": {"self": f"{BASE_URL}/v1/bundleIds/S3RV1C3S01"}}})
    provider = make("bundleIds")
    props = {"adopt": False, "identifier": "com.example.shop.services", "platform": "IOS", "name": "Shop services"}
    result = provider.read("S3RV1C3S01", props)
    assert {k: v for k, v in result.outs.items() if k != "_provenance"} == {**props, "platform": "SERVICES", "seed_id": "T3AM1D0001"}
    # Drift, not a crash, and not a replacement: the program still says IOS.
    diff = provider.diff("S3RV1C3S01", result.outs, props)
    assert diff.changes is True and diff.replaces == []


def test_certificates_with_every_timestamp_form_and_unknown_values(apple: Any) -> None:
    make = apple({"/v1/certificates": "certificates_mixed_timestamps.json"})
    provider = make("certificates")
    listed = provider.client.list_all("/v1/certificates")
    expiries = [parse_timestamp(c["attributes"]["expirationDate"]) for c in listed]
    assert expiries == [
        datetime(2027, 2, 12, 13, 17, 50, tzinfo=timezone.utc),
        datetime(2027, 4, 24, 5, 40, 26, tzinfo=timezone.utc),
        datetime(2031, 7, 18, 18, 17, 21, tzinfo=timezone.utc),
    ]
    for item in listed:
        outs = provider._outputs(item, {"certificate_type": item["attributes"]["certificateType"], "renew_before_days": 30}, from_remote=True)
        assert "csr_content" in outs and outs["csr_content"] is None  # write-only: never read back
        assert outs["expiration_date"] == item["attributes"]["expirationDate"]
        # The renewal rule parses every form (no exception) and keeps an unknown type as it is.
        provider.diff(item["id"], outs, {"certificate_type": outs["certificate_type"], "renew_before_days": 30})
    assert outs["platform"] == "MAC_OS_X" and outs["certificate_type"] == "DEVELOPER_ID_INSTALLER_G2"


def test_profile_linkage_is_read_from_data_whatever_its_paging_says(apple: Any) -> None:
    make = apple({"/v1/profiles/PR0F1L3001": "profiles_linkage_paging.json"})
    document = fixture("profiles_linkage_paging.json")
    provider = make("profiles")
    active, invalid = document["data"]
    outs = provider._outputs(active, {}, from_remote=True)
    assert outs["bundle_id"] == "B7R2K9XW4P"
    assert outs["certificates"] == ["C3RT000001"] and outs["devices"] == ["K8Q2W7N4X1", "K8Q2W7N4X2"]
    assert parse_timestamp(outs["created_date"]) == datetime(2024, 1, 22, 4, 52, 18, 921000, tzinfo=timezone.utc)
    gone = provider._outputs(invalid, {"bundle_id": "B7R2K9XW4P", "certificates": ["C3RT000001"]}, from_remote=True)
    assert gone["profile_content"] is None and gone["profile_state"] == "INVALID"
    inputs = {k: gone[k] for k in ("name", "profile_type", "bundle_id", "certificates", "devices")}
    assert provider.diff(invalid["id"], gone, inputs).replaces == ["profile_state"]


def test_a_capability_with_null_settings_and_an_older_id_is_read_through_its_bundle_id(apple: Any) -> None:
    listing = {
        "data": [fixture("capability_settings_null.json")["data"]],
        "links": {"self": f"{BASE_URL}/v1/bundleIds/B7R2K9XW4P/bundleIdCapabilities"},
        "meta": {"paging": {"total": 1, "limit": 200}},
    }
    make = apple({"/v1/bundleIds/B7R2K9XW4P/bundleIdCapabilities": listing})
    provider = make("bundleIdCapabilities")
    props = {"bundle_id": "B7R2K9XW4P", "capability_type": "GAME_CENTER", "settings": None}
    result = provider.read("B7R2K9XW4P_GAME_CENTER_IOS", props)
    assert result.id == "B7R2K9XW4P_GAME_CENTER_IOS"
    assert result.outs["settings"] is None and result.outs["capability_type"] == "GAME_CENTER"
    assert not provider.diff(result.id, result.outs, props).changes


def test_a_device_with_an_offset_without_colon(apple: Any) -> None:
    make = apple({"/v1/devices/K8Q2W7N4X1": "device_added_plus0000.json"})
    provider = make("devices")
    result = provider.read("K8Q2W7N4X1", {"udid": "x", "platform": "IOS", "name": "n"})
    assert result.outs["device_class"] == "APPLE_TV" and result.outs["platform"] == "IOS"
    assert result.outs["status"] == "DISABLED"
    assert parse_timestamp(result.outs["added_date"]) == datetime(2024, 3, 7, 13, 11, 26, tzinfo=timezone.utc)


def test_every_timestamp_in_the_fixtures_parses() -> None:
    stamps: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key.endswith("Date") and isinstance(item, str):
                    stamps.append(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in FIXTURES.glob("*.json"):
        walk(json.loads(path.read_text()))
    assert len(stamps) >= 8
    for stamp in stamps:
        assert parse_timestamp(stamp).tzinfo is not None, stamp
