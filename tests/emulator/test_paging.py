"""Paging: limits, links.next with an opaque cursor, stable order, no duplicates or gaps."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support import error


def _seed(admin: httpx.Client, count: int, prefix: str = "com.page") -> list[str]:
    """Create ``count`` bundle IDs out of band (one transaction); returns their ids in order."""
    items = [
        {"attributes": {"identifier": f"{prefix}.app{n:04d}", "name": f"App {count - n:04d}", "platform": "IOS"}}
        for n in range(count)
    ]
    response = admin.post("/_emulator/objects/bundleIds", json=items)
    assert response.status_code == 201, response.text
    return [o["id"] for o in response.json()["data"]]


def _walk(api: httpx.Client, url: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Follow links.next to the end, returning every page document."""
    pages = []
    response = api.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        next_url = page["links"].get("next")
        if next_url is None:
            return pages
        assert next_url.startswith("https://api.appstoreconnect.apple.com/v1/")
        response = api.get(next_url)


@pytest.fixture
def seeded(admin: httpx.Client) -> list[str]:
    return _seed(admin, 450)


def test_walking_450_objects_at_limit_200(api: httpx.Client, seeded: list[str]) -> None:
    pages = _walk(api, "/v1/bundleIds", {"limit": "200"})
    assert [len(p["data"]) for p in pages] == [200, 200, 50]
    ids = [o["id"] for p in pages for o in p["data"]]
    assert ids == seeded  # creation order, no duplicates, no gaps
    for page in pages:
        assert page["meta"]["paging"] == {"total": 450, "limit": 200}
    assert "next" not in pages[-1]["links"]


def test_next_link_keeps_the_query_and_puts_the_cursor_first(api: httpx.Client, seeded: list[str]) -> None:
    first = api.get("/v1/bundleIds", params={"limit": "200", "filter[platform]": "IOS"}).json()
    query = parse_qsl(urlsplit(first["links"]["next"]).query)
    assert [k for k, _ in query] == ["cursor", "limit", "filter[platform]"]
    assert dict(query)["limit"] == "200"
    assert first["links"]["self"].endswith("/v1/bundleIds?limit=200&filter%5Bplatform%5D=IOS")


def test_default_limit_is_20(api: httpx.Client, admin: httpx.Client) -> None:
    seeded = _seed(admin, 45)
    pages = _walk(api, "/v1/bundleIds")
    assert [len(p["data"]) for p in pages] == [20, 20, 5]
    assert pages[0]["meta"]["paging"] == {"total": 45, "limit": 20}
    assert [o["id"] for p in pages for o in p["data"]] == seeded


def test_exactly_one_full_page_has_no_next(api: httpx.Client, admin: httpx.Client) -> None:
    _seed(admin, 20)
    page = api.get("/v1/bundleIds").json()
    assert len(page["data"]) == 20
    assert "next" not in page["links"]


def test_limit_over_200_is_rejected(api: httpx.Client) -> None:
    response = api.get("/v1/bundleIds", params={"limit": "201"})
    assert response.status_code == 400
    item = error(response)
    assert item["code"] == "PARAMETER_ERROR.INVALID"
    assert item["source"] == {"parameter": "limit"}


def test_sorted_walk_is_in_order(api: httpx.Client, seeded: list[str]) -> None:
    pages = _walk(api, "/v1/bundleIds", {"limit": "200", "sort": "-identifier"})
    identifiers = [o["attributes"]["identifier"] for p in pages for o in p["data"]]
    assert identifiers == sorted(identifiers, reverse=True)
    assert len(set(identifiers)) == 450


def test_filtered_walk(api: httpx.Client, admin: httpx.Client, seeded: list[str]) -> None:
    _seed(admin, 30, prefix="com.other")
    pages = _walk(api, "/v1/bundleIds", {"limit": "7", "filter[identifier]": "com.other"})
    ids = [o["attributes"]["identifier"] for p in pages for o in p["data"]]
    assert ids == [f"com.other.app{n:04d}" for n in range(30)]
    assert pages[0]["meta"]["paging"]["total"] == 30


def test_changes_during_a_walk_cause_no_duplicates_or_gaps(api: httpx.Client, admin: httpx.Client, seeded: list[str]) -> None:
    """Keyset cursors: objects that exist for the whole walk are each seen exactly once."""
    first = api.get("/v1/bundleIds", params={"limit": "200", "sort": "identifier"}).json()
    seen = [o["id"] for o in first["data"]]
    # Delete ten objects already served and ten not yet served; add some that sort early and late.
    for gone in seeded[:10] + seeded[300:310]:
        assert admin.delete(f"/_emulator/objects/bundleIds/{gone}").status_code == 204
    admin.post("/_emulator/objects/bundleIds", json={"attributes": {"identifier": "com.aaa.first", "name": "n", "platform": "IOS"}})
    late = admin.post("/_emulator/objects/bundleIds", json={"attributes": {"identifier": "com.zzz.last", "name": "n", "platform": "IOS"}})
    rest = _walk(api, first["links"]["next"])
    seen += [o["id"] for p in rest for o in p["data"]]
    survivors = [i for i in seeded if i not in set(seeded[:10] + seeded[300:310])]
    assert len(seen) == len(set(seen))
    assert set(survivors) <= set(seen)
    assert late.json()["data"]["id"] in seen


def test_a_cursor_belongs_to_its_sort(api: httpx.Client, seeded: list[str]) -> None:
    next_url = api.get("/v1/bundleIds", params={"limit": "10", "sort": "name"}).json()["links"]["next"]
    cursor = dict(parse_qsl(urlsplit(next_url).query))["cursor"]
    response = api.get("/v1/bundleIds", params={"limit": "10", "sort": "identifier", "cursor": cursor})
    assert response.status_code == 400
    assert error(response)["source"] == {"parameter": "cursor"}


def test_related_listing_pages(api: httpx.Client, admin: httpx.Client) -> None:
    bundle = _seed(admin, 1)[0]
    profiles = admin.post(
        "/_emulator/objects/profiles",
        json=[{"attributes": {"name": f"P{n}"}, "relationships": {"bundleId": bundle}} for n in range(25)],
    ).json()["data"]
    pages = _walk(api, f"/v1/bundleIds/{bundle}/profiles", {"limit": "10"})
    assert [len(p["data"]) for p in pages] == [10, 10, 5]
    assert [o["id"] for p in pages for o in p["data"]] == [p["id"] for p in profiles]
    linkage = _walk(api, f"/v1/bundleIds/{bundle}/relationships/profiles", {"limit": "200"})
    assert [o["id"] for o in linkage[0]["data"]] == [p["id"] for p in profiles]
    assert api.get(f"/v1/bundleIds/{bundle}/profiles", params={"limit": "201"}).status_code == 400


SORTABLE = ["name", "platform", "identifier", "seedId", "id"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    limit=st.integers(min_value=1, max_value=60),
    keys=st.lists(st.sampled_from(SORTABLE), min_size=0, max_size=3, unique=True),
    descending=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_any_sort_and_limit_walks_everything_once_in_order(
    api: httpx.Client, ties: list[dict[str, Any]], limit: int, keys: list[str], descending: list[bool]
) -> None:
    sort = ",".join(("-" if d else "") + k for k, d in zip(keys, descending))
    params = {"limit": str(limit), **({"sort": sort} if sort else {})}
    walked = [o for page in _walk(api, "/v1/bundleIds", params) for o in page["data"]]

    def value(o: dict[str, Any], key: str) -> str:
        return o["id"] if key == "id" else o["attributes"][key]

    # The model: a stable sort of creation order, applied from the last key to the first.
    expected = list(ties)
    for key, desc in reversed(list(zip(keys, descending))):
        expected.sort(key=lambda o: value(o, key), reverse=desc)
    assert [o["id"] for o in walked] == [o["id"] for o in expected]


@pytest.fixture
def ties(admin: httpx.Client) -> list[dict[str, Any]]:
    """75 bundle IDs with many equal names and platforms (to exercise tie-breaking)."""
    platforms = ["IOS", "MAC_OS", "UNIVERSAL"]
    items = [
        {"attributes": {"identifier": f"com.tie.{n % 7}.{n}", "name": f"Name {n % 5}", "platform": platforms[n % 3]}}
        for n in range(75)
    ]
    return admin.post("/_emulator/objects/bundleIds", json=items).json()["data"]
