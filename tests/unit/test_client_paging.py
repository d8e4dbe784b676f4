"""list_all: limit=200, links.next followed as given, loops and truncation refused."""

from __future__ import annotations

import httpx
import pytest
from asc_client_support import Recorder, make_settings, respond

from pulumi_appstoreconnect.client import AppStoreConnectClient, ProtocolError

ORIGIN = "http://127.0.0.1:8900"


def paged_collection(total: int, *, last_next: object = None, omit_last_next: bool = False):
    """A fake /v1/bundleIds that pages by a numeric cursor, like Apple (absolute next URLs)."""
    items = [{"type": "bundleIds", "id": f"ID{i:04d}"} for i in range(total)]

    def answer(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        limit = int(params["limit"])
        start = int(params.get("cursor", "0"))
        page = items[start : start + limit]
        end = start + limit
        links: dict[str, object] = {"self": str(request.url)}
        if end < total:
            query = httpx.QueryParams({**dict(params), "cursor": str(end)})
            links["next"] = f"{ORIGIN}/v1/bundleIds?{query}"
        elif not omit_last_next:
            links["next"] = last_next
        return respond(200, {"data": page, "links": links, "meta": {"paging": {"total": total, "limit": limit}}})

    return items, answer


@pytest.mark.parametrize("omit_last_next", [False, True], ids=["next-null", "next-absent"])
def test_450_items_over_three_pages(omit_last_next: bool) -> None:
    items, answer = paged_collection(450, omit_last_next=omit_last_next)
    recorder = Recorder(answer)
    settings = make_settings(base_url=ORIGIN)
    with AppStoreConnectClient(settings, transport=recorder.transport) as client:
        got = client.list_all("/v1/bundleIds", {"filter[platform]": ["IOS", "MAC_OS"], "sort": "name"})

    assert got == items
    assert len(recorder.requests) == 3
    for request in recorder.requests:
        keys = [key for key, _ in request.url.params.multi_items()]
        assert len(keys) == len(set(keys)), f"duplicated query parameters in {request.url}"
        assert request.url.params["limit"] == "200"
        assert request.url.params["filter[platform]"] == "IOS,MAC_OS"
    assert "cursor" not in recorder.requests[0].url.params
    assert [r.url.params.get("cursor") for r in recorder.requests[1:]] == ["200", "400"]


def test_next_url_is_followed_exactly_as_given() -> None:
    next_url = f"{ORIGIN}/v1/bundleIds?cursor=opaque%3D%3D&limit=200&fields%5BbundleIds%5D=name"
    pages = iter(
        [
            respond(200, {"data": [{"id": "1"}], "links": {"self": "x", "next": next_url}}),
            respond(200, {"data": [{"id": "2"}], "links": {"self": next_url}}),
        ]
    )
    recorder = Recorder(lambda r: next(pages))
    with AppStoreConnectClient(make_settings(base_url=ORIGIN), transport=recorder.transport) as client:
        assert client.list_all("/v1/bundleIds", {"fields[bundleIds]": "name"}) == [{"id": "1"}, {"id": "2"}]
    assert str(recorder.requests[1].url) == next_url


def test_relative_next_is_resolved_against_the_server_origin() -> None:
    pages = iter(
        [
            respond(200, {"data": [{"id": "1"}], "links": {"next": "/v1/devices?cursor=AB&limit=200"}}),
            respond(200, {"data": [{"id": "2"}], "links": {}}),
        ]
    )
    recorder = Recorder(lambda r: next(pages))
    with AppStoreConnectClient(make_settings(base_url=ORIGIN), transport=recorder.transport) as client:
        assert len(client.list_all("/v1/devices")) == 2
    assert str(recorder.requests[1].url) == f"{ORIGIN}/v1/devices?cursor=AB&limit=200"


def test_caller_limit_wins_over_the_default() -> None:
    recorder = Recorder(lambda r: respond(200, {"data": [], "links": {}}))
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        client.list_all("/v1/apps/1/appInfos", {"limit": 50})
    assert recorder.requests[0].url.params.get_list("limit") == ["50"]


def test_repeating_next_raises_instead_of_looping_or_truncating() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        nxt = f"{ORIGIN}/v1/devices?cursor=B&limit=200" if cursor in (None, "A") else f"{ORIGIN}/v1/devices?cursor=A&limit=200"
        return respond(200, {"data": [{"id": cursor or "first"}], "links": {"next": nxt}})

    recorder = Recorder(answer)
    with AppStoreConnectClient(make_settings(base_url=ORIGIN), transport=recorder.transport) as client:
        with pytest.raises(ProtocolError, match="paging loop") as caught:
            client.list_all("/v1/devices")
    assert len(recorder.requests) <= 4
    assert caught.value.url == "/v1/devices"


def test_next_equal_to_self_is_a_loop() -> None:
    url = f"{ORIGIN}/v1/devices?limit=200"
    recorder = Recorder(lambda r: respond(200, {"data": [], "links": {"self": url, "next": url}}))
    with AppStoreConnectClient(make_settings(base_url=ORIGIN), transport=recorder.transport) as client:
        with pytest.raises(ProtocolError, match="paging loop"):
            client.list_all("/v1/devices")
    assert len(recorder.requests) == 1


def test_next_on_another_host_is_refused_without_sending_the_token() -> None:
    recorder = Recorder(
        lambda r: respond(200, {"data": [{"id": "1"}], "links": {"next": "https://evil.test/v1/devices?cursor=1"}})
    )
    with AppStoreConnectClient(make_settings(base_url=ORIGIN), transport=recorder.transport) as client:
        with pytest.raises(ProtocolError, match="evil.test"):
            client.list_all("/v1/devices")
    assert [r.url.host for r in recorder.requests] == ["127.0.0.1"]


def test_page_limit_guard_raises() -> None:
    from pulumi_appstoreconnect.client.paging import collect

    counter = iter(range(10_000))

    def fetch(url: str, params: object) -> dict:
        return {"data": [1], "links": {"next": f"{ORIGIN}/v1/x?cursor={next(counter)}"}}

    with pytest.raises(ProtocolError, match="more than 5 pages"):
        collect(fetch, "/v1/x", base_url=ORIGIN, max_pages=5)


def test_non_collection_response_is_an_error() -> None:
    recorder = Recorder(lambda r: respond(200, {"data": {"id": "1"}, "links": {}}))
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        with pytest.raises(ProtocolError, match="not a collection"):
            client.list_all("/v1/apps/1")


def test_base_url_with_a_path_prefix() -> None:
    recorder = Recorder(lambda r: respond(200, {"data": [], "links": {}}))
    with AppStoreConnectClient(make_settings(base_url="http://proxy.test/asc"), transport=recorder.transport) as client:
        client.list_all("/v1/profiles")
    assert str(recorder.requests[0].url) == "http://proxy.test/asc/v1/profiles?limit=200"
