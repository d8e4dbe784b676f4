"""The API key's role and the account's agreements: Apple's 403s, set through the admin API."""

from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest

from .support import error

READS = ["/v1/bundleIds", "/v1/devices", "/v1/certificates", "/v1/profiles"]
BUNDLE_ID = {"data": {"type": "bundleIds", "attributes": {"identifier": "com.example.role", "name": "Role", "platform": "IOS"}}}


def set_access(admin: httpx.Client, **body: Any) -> dict[str, Any]:
    response = admin.patch("/_emulator/access", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_default_key_is_an_admin_key_with_agreements_in_effect(admin: httpx.Client, api: httpx.Client) -> None:
    assert admin.get("/_emulator/access").json() == {"roles": ["ADMIN"], "agreementsInEffect": True}
    assert [api.get(path).status_code for path in READS] == [200, 200, 200, 200]


def test_developer_key_reads_but_cannot_write(
    admin: httpx.Client, api: httpx.Client, create_bundle_id: Callable[..., dict[str, Any]]
) -> None:
    existing = create_bundle_id("com.example.existing")
    assert set_access(admin, roles=["DEVELOPER"])["roles"] == ["DEVELOPER"]

    assert [api.get(path).status_code for path in READS] == [200, 200, 200, 200]
    assert api.get(f"/v1/bundleIds/{existing['id']}/bundleIdCapabilities").status_code == 200
    refused = [
        api.post("/v1/bundleIds", json=BUNDLE_ID),
        api.patch(f"/v1/bundleIds/{existing['id']}", json={"data": {"type": "bundleIds", "id": existing["id"], "attributes": {"name": "X"}}}),
        api.delete(f"/v1/bundleIds/{existing['id']}"),
    ]
    for response in refused:
        assert response.status_code == 403
        item = error(response)
        assert item["code"] == "FORBIDDEN_ERROR"
        assert item["title"] == "This request is forbidden for security reasons"
        assert item["detail"] == "The API key in use does not allow this request"
        assert "user-hour-rem" in response.headers["x-rate-limit"]
    assert [o["id"] for o in admin.get("/_emulator/objects/bundleIds").json()["data"]] == [existing["id"]]  # nothing changed


@pytest.mark.parametrize("role", ["APP_MANAGER", "ADMIN", "ACCOUNT_HOLDER"])
def test_admin_and_app_manager_keys_write(admin: httpx.Client, api: httpx.Client, role: str) -> None:
    set_access(admin, roles=[role])
    assert api.post("/v1/bundleIds", json=BUNDLE_ID).status_code == 201


@pytest.mark.parametrize("role", ["FINANCE", "SALES", "MARKETING", "CUSTOMER_SUPPORT"])
def test_roles_without_provisioning_access_cannot_even_read(admin: httpx.Client, api: httpx.Client, role: str) -> None:
    set_access(admin, roles=[role])
    for path in READS:
        response = api.get(path)
        assert response.status_code == 403 and error(response)["code"] == "FORBIDDEN_ERROR"


def test_roles_combine(admin: httpx.Client, api: httpx.Client) -> None:
    set_access(admin, roles=["FINANCE", "APP_MANAGER"])
    assert api.post("/v1/bundleIds", json=BUNDLE_ID).status_code == 201


def test_expired_agreement_refuses_every_request_with_apples_document(admin: httpx.Client, api: httpx.Client) -> None:
    set_access(admin, agreementsInEffect=False)
    for response in [*(api.get(path) for path in READS), api.post("/v1/bundleIds", json=BUNDLE_ID)]:
        assert response.status_code == 403
        item = error(response)
        assert item["code"] == "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"
        assert item["title"] == "A required agreement is missing or has expired."
        assert item["detail"] == "This request requires an in-effect agreement that has not been signed or has expired."
        assert item["links"] == {"see": "/business"}
    assert admin.get("/_emulator/objects/bundleIds").json()["data"] == []


def test_agreements_come_before_the_role_and_a_reset_restores_the_defaults(admin: httpx.Client, api: httpx.Client) -> None:
    set_access(admin, roles=["FINANCE"], agreementsInEffect=False)
    assert error(api.get("/v1/bundleIds"))["code"] == "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"
    assert admin.post("/_emulator/reset").status_code == 200
    assert admin.get("/_emulator/access").json() == {"roles": ["ADMIN"], "agreementsInEffect": True}
    assert api.get("/v1/bundleIds").status_code == 200


def test_unauthenticated_requests_still_get_the_401(admin: httpx.Client, anonymous: httpx.Client) -> None:
    set_access(admin, agreementsInEffect=False)
    assert anonymous.get("/v1/bundleIds").status_code == 401


@pytest.mark.parametrize(
    "body, message",
    [
        ({"roles": ["BOSS"]}, "'BOSS' is not a role"),
        ({"roles": []}, "at least one role"),
        ({"roles": "ADMIN"}, "a list of roles"),
        ({"agreementsInEffect": "no"}, "true or false"),
        ({"role": "ADMIN"}, "unknown key"),
    ],
)
def test_bad_access_settings_are_refused(admin: httpx.Client, body: dict[str, Any], message: str) -> None:
    response = admin.patch("/_emulator/access", json=body)
    assert response.status_code == 400
    assert message in error(response)["detail"]
    assert admin.get("/_emulator/access").json() == {"roles": ["ADMIN"], "agreementsInEffect": True}
