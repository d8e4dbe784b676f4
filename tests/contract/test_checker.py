"""The contract checker itself: it reads the pinned excerpt and catches what it should."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.contract.contract import EXCERPT, SPEC_SHA256, Contract, Exchange, load_excerpt

HEADERS = {"content-type": "application/json", "x-rate-limit": "user-hour-lim:3600;user-hour-rem:3500;"}
DEVICE = {
    "data": {
        "type": "devices",
        "id": "D1",
        "attributes": {"udid": "00008030-001A35E11A88802E", "name": "Phone", "platform": "IOS", "status": "ENABLED"},
        "links": {"self": "https://api.appstoreconnect.apple.com/v1/devices/D1"},
    },
    "links": {"self": "https://api.appstoreconnect.apple.com/v1/devices/D1"},
}
ERROR = {"errors": [{"id": "x", "status": "404", "code": "NOT_FOUND", "title": "t", "detail": "d"}]}


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract()


def ex(method: str, path: str, status: int, body: Any = None, *, request: Any = None, origin: str = "test",
       headers: dict[str, str] | None = None, seeded: frozenset[str] = frozenset()) -> Exchange:
    return Exchange(
        method, path,
        request_body=json.dumps(request).encode() if request is not None else b"",
        request_content_type="application/json" if request is not None else None,
        status=status,
        response_headers=HEADERS if headers is None else headers,
        response_body=json.dumps(body).encode() if body is not None else b"",
        origin=origin,
        seeded=seeded,
    )


def messages(contract: Contract, exchange: Exchange) -> list[str]:
    return [f"{v.part}: {v.message}" for v in contract.check(exchange).violations]


def test_the_excerpt_is_apples_pinned_spec() -> None:
    document = load_excerpt()
    info = document["info"]
    assert (document["openapi"], info["version"]) == ("3.0.1", "4.4.1")
    assert info["x-excerpt"]["sourceSha256"] == SPEC_SHA256
    assert info["x-excerpt"]["operations"] == [
        f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item if m in ("get", "post", "patch", "delete")
    ]
    assert EXCERPT.name == "appstoreconnect-openapi-4.4.1-excerpt.json"


SIGNING_TYPES = ("bundleIds", "bundleIdCapabilities", "devices", "certificates", "profiles")


def test_apple_has_no_relationship_writes_for_the_signing_types(contract: Contract) -> None:
    # The signing types change relationships by creating and deleting objects; TestFlight's
    # memberships (a beta group's testers and builds) are written through relationship endpoints.
    writes = [op for op in contract.operations() if "/relationships/" in op and not op.startswith("GET ")]
    assert [op for op in writes if op.split(" ")[1].split("/")[2] in SIGNING_TYPES] == []
    assert "POST /v1/betaGroups/{id}/relationships/betaTesters" in writes


def test_a_valid_exchange_passes(contract: Contract) -> None:
    assert messages(contract, ex("GET", "/v1/devices/D1", 200, DEVICE, origin="provider")) == []


def test_an_attribute_the_schema_lacks_is_caught_in_requests_and_responses(contract: Contract) -> None:
    request = {"data": {"type": "devices", "attributes": {"udid": "u", "name": "n", "platform": "IOS", "colour": "red"}}}
    found = messages(contract, ex("POST", "/v1/devices", 201, DEVICE, request=request, origin="provider"))
    assert any(m.startswith("request:") and "colour" in m for m in found)
    leaky = json.loads(json.dumps(DEVICE))
    leaky["data"]["attributes"]["enabled"] = True  # hidden state must never reach /v1
    assert any("enabled" in m for m in messages(contract, ex("GET", "/v1/devices/D1", 200, leaky)))


def test_wrong_enum_types_and_dates_are_caught(contract: Contract) -> None:
    bad = json.loads(json.dumps(DEVICE))
    bad["data"]["attributes"].update(status="GONE", addedDate="yesterday")
    found = messages(contract, ex("GET", "/v1/devices/D1", 200, bad))
    assert any("'GONE' is not one of" in m for m in found) and any("is not a 'date-time'" in m for m in found)


def test_status_content_type_and_rate_limit_header(contract: Contract) -> None:
    assert any("409" in m for m in messages(contract, ex("GET", "/v1/devices/D1", 409, ERROR)))  # not declared
    assert messages(contract, ex("GET", "/v1/devices/D1", 200, DEVICE, headers={"content-type": "application/json"})) == [
        "header: X-Rate-Limit is None, not 'user-hour-lim:N;user-hour-rem:M;'"
    ]
    html = {**HEADERS, "content-type": "text/html"}
    assert messages(contract, ex("GET", "/v1/devices/D1", 200, DEVICE, headers=html))


def test_error_answers_must_be_error_documents(contract: Contract) -> None:
    assert messages(contract, ex("GET", "/v1/devices/NOPE", 404, ERROR)) == []
    numeric = {"errors": [{**ERROR["errors"][0], "status": 404}]}  # Apple's status is a string
    assert messages(contract, ex("GET", "/v1/devices/NOPE", 404, numeric))


def test_operations_apple_lacks(contract: Contract) -> None:
    # A test's probe must be refused with an error document; the provider must never send one.
    assert messages(contract, ex("DELETE", "/v1/devices/D1", 405, ERROR)) == []
    assert messages(contract, ex("DELETE", "/v1/devices/D1", 405, {"message": "no"}))
    assert messages(contract, ex("DELETE", "/v1/devices/D1", 204))
    assert messages(contract, ex("DELETE", "/v1/devices/D1", 405, ERROR, origin="provider"))


def test_parameters_are_checked(contract: Contract) -> None:
    listing = {"data": [], "links": {"self": "x"}, "meta": {"paging": {"total": 0, "limit": 200}}}
    assert messages(contract, ex("GET", "/v1/devices", 200, listing, origin="provider")) == []
    too_many = Exchange("GET", "/v1/devices", query="limit=300", status=200, response_headers=HEADERS,
                        response_body=json.dumps(listing).encode(), origin="provider")
    assert any("300" in m for m in messages(contract, too_many))


def test_injected_faults(contract: Contract) -> None:
    page = {**HEADERS, "content-type": "text/html"}
    html = Exchange("GET", "/v1/devices", status=503, response_headers=page, response_body=b"<html>busy</html>")
    assert messages(contract, html) == []
    assert messages(contract, ex("GET", "/v1/devices", 500, {"oops": 1}))


def test_off_spec_values_a_test_seeded_are_told_apart(contract: Contract) -> None:
    odd = json.loads(json.dumps(DEVICE))
    odd["data"]["attributes"]["platform"] = "VISION_OS"
    report = contract.check(ex("GET", "/v1/devices/D1", 200, odd, seeded=frozenset({"VISION_OS"})))
    assert not report.violations and len(report.seeded) == 1
    report = contract.check(ex("GET", "/v1/devices/D1", 200, odd))
    assert report.violations


def test_a_conflict_with_associated_errors_is_a_valid_error_document(contract: Contract) -> None:
    # Apple's 409 may nest the errors of related objects under meta.associatedErrors (keyed by
    # resource path); ErrorResponse allows any meta, so such an answer conforms.
    conflict = {"errors": [{
        "id": "x", "status": "409", "code": "STATE_ERROR.ENTITY_STATE_INVALID", "title": "t", "detail": "d",
        "meta": {"associatedErrors": {"/v1/bundleIds/B1": [
            {"id": "y", "status": "409", "code": "ENTITY_ERROR.ATTRIBUTE.REQUIRED", "title": "t", "detail": "d",
             "source": {"pointer": "/data/attributes/name"}},
        ]}},
    }]}
    request = {"data": {"type": "bundleIds", "attributes": {"identifier": "com.a", "name": "A", "platform": "IOS"}}}
    assert messages(contract, ex("POST", "/v1/bundleIds", 409, conflict, request=request)) == []
    # links.see is Apple's (the agreements 403): a listed deviation, refused by the bare spec.
    see = {"errors": [{**ERROR["errors"][0], "status": "403", "links": {"see": "/agreements"}}]}
    assert messages(contract, ex("GET", "/v1/devices/D1", 403, see)) == []
    assert any("see" in m for m in messages(Contract(deviations=False), ex("GET", "/v1/devices/D1", 403, see)))
