"""X-Rate-Limit on every response, the 429 when the budget is spent, and the admin API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from pulumi_appstoreconnect.emulator import Emulator

from .support import error, mint_token

RATE = re.compile(r"^user-hour-lim:(\d+);user-hour-rem:(\d+);$")


def _remaining(response: httpx.Response) -> int:
    match = RATE.match(response.headers["x-rate-limit"])
    assert match, response.headers
    assert match.group(1) == "3600"
    return int(match.group(2))


def test_every_response_carries_x_rate_limit(
    api: httpx.Client, anonymous: httpx.Client, create_bundle_id: Callable[..., dict[str, Any]]
) -> None:
    created = create_bundle_id("com.example.app")
    responses = [
        api.get("/v1/bundleIds"),  # 200
        api.get("/v1/bundleIds/NOPE"),  # 404
        api.get("/v1/nothing"),  # 404 path
        api.get("/v1/bundleIds?limit=900"),  # 400
        api.put("/v1/bundleIds"),  # 405
        api.post("/v1/bundleIds", json={"data": {"type": "bundleIds", "attributes": {}}}),  # 409
        api.post("/v1/bundleIds", content=b"nope"),  # 422
        api.delete(f"/v1/bundleIds/{created['id']}"),  # 204
        anonymous.get("/v1/bundleIds"),  # 401
        anonymous.get("/_emulator/health"),  # admin
    ]
    assert [r.status_code for r in responses] == [200, 404, 404, 400, 405, 409, 422, 204, 401, 200]
    for response in responses:
        _remaining(response)
        # A 204 has no body, so no content type (Apple's relationship writes and deletes).
        assert response.headers.get("content-type") == (None if response.status_code == 204 else "application/json")


def test_remaining_counts_down_per_authenticated_request(api: httpx.Client, anonymous: httpx.Client) -> None:
    first = _remaining(api.get("/v1/bundleIds"))
    second = _remaining(api.get("/v1/bundleIds/NOPE"))
    assert second == first - 1
    # A rejected (unauthenticated) request does not spend the key's budget.
    assert _remaining(anonymous.get("/v1/bundleIds")) == second
    assert _remaining(api.get("/v1/bundleIds")) == second - 1


def test_spent_budget_answers_429_with_retry_after(tmp_path: Path) -> None:
    emu = Emulator(tmp_path / "s", rate_limit=3)
    try:
        token = mint_token(emu)
        with httpx.Client(
            transport=httpx.WSGITransport(app=emu.app), base_url="http://x", headers={"Authorization": f"Bearer {token}"}
        ) as client:
            statuses = [client.get("/v1/bundleIds") for _ in range(4)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        assert [r.headers["x-rate-limit"] for r in statuses] == [
            "user-hour-lim:3;user-hour-rem:2;",
            "user-hour-lim:3;user-hour-rem:1;",
            "user-hour-lim:3;user-hour-rem:0;",
            "user-hour-lim:3;user-hour-rem:0;",
        ]
        limited = statuses[-1]
        assert 1 <= int(limited.headers["retry-after"]) <= 3600
        assert error(limited)["code"] == "RATE_LIMIT_EXCEEDED"
    finally:
        emu.close()


def test_rolling_hour(tmp_path: Path) -> None:
    now = [1_000_000.0]
    emu = Emulator(tmp_path / "s", rate_limit=2, clock=lambda: now[0])
    try:
        limiter = emu.app.rate_limiter
        assert limiter.consume("K") == (1, None)
        now[0] += 1800
        assert limiter.consume("K") == (0, None)
        remaining, retry_after = limiter.consume("K")
        assert remaining == 0 and retry_after == pytest.approx(1800)
        now[0] += 1801  # the first request left the window
        assert limiter.consume("K") == (0, None)
        assert limiter.remaining("other key") == 2
    finally:
        emu.close()


# -- admin API -------------------------------------------------------------------------------


def test_health(admin: httpx.Client, emulator: Emulator) -> None:
    body = admin.get("/_emulator/health").json()
    assert body["ok"] is True
    assert (body["key_id"], body["issuer_id"], body["team_id"]) == (emulator.key_id, emulator.issuer_id, emulator.team_id)


def test_out_of_band_create_fills_computed_attributes(admin: httpx.Client, api: httpx.Client, emulator: Emulator) -> None:
    created = admin.post(
        "/_emulator/objects/bundleIds",
        json={"id": "MYID000001", "attributes": {"identifier": "com.oob", "name": "OOB", "platform": "IOS"}},
    )
    assert created.status_code == 201
    data = api.get("/v1/bundleIds/MYID000001").json()["data"]
    assert data["attributes"] == {"identifier": "com.oob", "name": "OOB", "platform": "IOS", "seedId": emulator.team_id}
    listing = admin.get("/_emulator/objects/bundleIds").json()["data"]
    assert [o["id"] for o in listing] == ["MYID000001"]
    assert listing[0]["links"]["self"].endswith("/v1/bundleIds/MYID000001")


def test_out_of_band_values_are_stored_as_given(admin: httpx.Client, api: httpx.Client) -> None:
    # Apple returns enum values outside its spec (platform SERVICES); the admin API can imitate that.
    admin.post(
        "/_emulator/objects/bundleIds",
        json={"id": "SERVICES01", "attributes": {"identifier": "com.svc", "name": "S", "platform": "SERVICES", "wildcard": False}},
    )
    attributes = api.get("/v1/bundleIds/SERVICES01").json()["data"]["attributes"]
    assert attributes["platform"] == "SERVICES"
    assert attributes["wildcard"] is False


def test_drift_is_visible_through_the_api(admin: httpx.Client, api: httpx.Client, create_bundle_id: Callable[..., dict[str, Any]]) -> None:
    created = create_bundle_id("com.example.app", name="Declared")
    changed = admin.patch(f"/_emulator/objects/bundleIds/{created['id']}", json={"attributes": {"name": "Clicked in the web UI"}})
    assert changed.status_code == 200
    assert api.get(f"/v1/bundleIds/{created['id']}").json()["data"]["attributes"]["name"] == "Clicked in the web UI"
    assert admin.delete(f"/_emulator/objects/bundleIds/{created['id']}").status_code == 204
    assert api.get(f"/v1/bundleIds/{created['id']}").status_code == 404
    assert admin.delete(f"/_emulator/objects/bundleIds/{created['id']}").status_code == 404


def test_out_of_band_duplicates_are_refused(admin: httpx.Client, create_bundle_id: Callable[..., dict[str, Any]]) -> None:
    create_bundle_id("com.example.app")
    response = admin.post(
        "/_emulator/objects/bundleIds", json={"attributes": {"identifier": "com.example.app", "name": "x", "platform": "IOS"}}
    )
    assert response.status_code == 409
    assert error(response)["source"] == {"pointer": "/data/attributes/identifier"}


def test_admin_errors(admin: httpx.Client) -> None:
    assert admin.get("/_emulator/objects/widgets").status_code == 404
    assert admin.get("/_emulator/nothing").status_code == 404
    assert admin.post("/_emulator/objects/bundleIds", content=b"{").status_code == 400
    assert admin.patch("/_emulator/objects/bundleIds/NOPE", json={"attributes": {}}).status_code == 404


def test_request_log(api: httpx.Client, admin: httpx.Client, create_bundle_id: Callable[..., dict[str, Any]]) -> None:
    created = create_bundle_id("com.example.app")
    api.get("/v1/bundleIds", params={"filter[identifier]": "com.example", "limit": "5"})
    api.get("/v1/bundleIds/NOPE")
    admin.get("/_emulator/health")  # the admin API is not logged
    log = admin.get("/_emulator/requests").json()["data"]
    assert [(e["method"], e["path"], e["query"], e["status"]) for e in log] == [
        ("POST", "/v1/bundleIds", "", 201),
        ("GET", "/v1/bundleIds", "filter%5Bidentifier%5D=com.example&limit=5", 200),
        ("GET", "/v1/bundleIds/NOPE", "", 404),
    ]
    assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)
    assert all(e["time"].endswith("Z") for e in log)
    assert "Bearer" not in str(log) and "authorization" not in str(log).lower()
    assert admin.delete("/_emulator/requests").status_code == 204
    assert admin.get("/_emulator/requests").json()["data"] == []
    assert created["id"]


def test_reset_forgets_objects_but_keeps_the_key(admin: httpx.Client, api: httpx.Client, emulator: Emulator, create_bundle_id: Callable[..., dict[str, Any]]) -> None:
    create_bundle_id("com.example.app")
    assert admin.post("/_emulator/reset").json() == {"ok": True}
    assert admin.get("/_emulator/requests").json()["data"] == []
    response = api.get("/v1/bundleIds")  # the same token still works
    assert response.status_code == 200 and response.json()["data"] == []
    assert admin.get("/_emulator/health").json()["key_id"] == emulator.key_id
