"""Error parsing, typed exceptions and their messages; request shapes; the rate-limit header."""

from __future__ import annotations

import pickle

import httpx
import pytest
from asc_client_support import Recorder, fixture, make_settings, respond
from hypothesis import given
from hypothesis import strategies as st

from pulumi_appstoreconnect.client import (
    ApiError,
    AppStoreConnectClient,
    AppStoreConnectError,
    ConflictError,
    ConnectionFailed,
    ForbiddenError,
    NotFoundError,
    ParameterError,
    ProtocolError,
    RateLimit,
    RateLimitedError,
    ServerError,
    UnprocessableEntityError,
)
from pulumi_appstoreconnect.client.errors import parse_errors, parse_retry_after
from pulumi_appstoreconnect.client.retry import RetryPolicy


def failing(status: int, body: bytes | dict | None, headers: dict[str, str] | None = None) -> tuple[AppStoreConnectError, Recorder]:
    """The exception a GET of /v1/bundleIds/X?include=... raises for this response (sent once:
    retries are tested in test_client_retries.py)."""
    recorder = Recorder(lambda r: respond(status, body, headers))
    with AppStoreConnectClient(make_settings(), transport=recorder.transport, retry=RetryPolicy.no_retries()) as client:
        with pytest.raises(AppStoreConnectError) as caught:
            client.get("/v1/bundleIds/ZZZZ999999", {"include": "bundleIdCapabilities"})
    return caught.value, recorder


def test_not_found_status_string_and_pointer_without_slash() -> None:
    error, recorder = failing(404, fixture("not_found_pointer_without_slash.json"))
    assert type(error) is NotFoundError
    assert error.status == 404
    first = error.errors[0]
    assert first.status == "404" and first.status_code == 404
    assert first.id == "0c1f7a52-9d1e-4c1b-8a55-2f7e0e6b1a01"
    assert error.pointer == "/data/id"
    assert error.code == "NOT_FOUND" and error.title == "The specified resource does not exist"
    assert error.method == "GET" and error.url == "/v1/bundleIds/ZZZZ999999"
    assert str(error) == (
        "GET /v1/bundleIds/ZZZZ999999 failed: 404 NOT_FOUND: There is no resource of type 'bundleIds' "
        "with id 'ZZZZ999999' (at /data/id)"
    )
    token = recorder.tokens()[0]
    assert token not in str(error) and token not in repr(error)
    assert "include" not in str(error)  # the query string stays out of messages


def test_associated_errors_are_flattened_with_their_paths() -> None:
    error, _ = failing(409, fixture("state_invalid_associated.json"))
    assert isinstance(error, ConflictError)
    nested = error.associated_errors
    assert [(e.path, e.pointer) for e in nested] == [
        ("/v1/appStoreVersionLocalizations/loc-en", "/data/attributes/keywords"),
        ("/v1/appStoreVersionLocalizations/loc-en", "/data/attributes/supportUrl"),
        ("/v1/appInfoLocalizations/info-de", "/data/attributes/name"),
    ]
    assert all(e.code == "ENTITY_ERROR.ATTRIBUTE.REQUIRED" and e.status_code == 409 for e in nested)
    message = str(error)
    first_line, associated = message.splitlines()[:2]
    assert first_line.startswith("GET /v1/bundleIds/ZZZZ999999 failed: 409 STATE_ERROR.ENTITY_STATE_INVALID: This resource")
    assert associated.startswith("Associated errors: /v1/appStoreVersionLocalizations/loc-en: ENTITY_ERROR.ATTRIBUTE.REQUIRED")
    assert "'supportUrl' with this request (at /data/attributes/supportUrl)" in associated
    assert "/v1/appInfoLocalizations/info-de" in associated


def test_agreements_error_keeps_links_see_and_says_to_sign_in_the_web_ui() -> None:
    error, _ = failing(403, fixture("agreements_links_see.json"))
    assert isinstance(error, ForbiddenError)
    assert error.errors[0].links == {"see": "/agreements"}
    message = str(error)
    assert "[see /agreements]" in message
    assert "sign the current agreements in the App Store Connect web UI (Business section)" in message
    assert "role" not in message  # not the key-role hint


def test_forbidden_error_hints_at_the_key_role() -> None:
    error, _ = failing(403, fixture("forbidden_role.json"))
    message = str(error)
    assert "role lacks permission" in message and "Admin" in message and "App Manager" in message
    assert "agreements" not in message


def test_parameter_error_names_the_parameter() -> None:
    error, _ = failing(400, fixture("parameter_error.json"))
    assert isinstance(error, ParameterError)
    assert error.errors[0].parameter == "filter[platform]"
    assert str(error).endswith("(at parameter filter[platform])")


def test_rate_limited_error_carries_retry_after_and_header_values() -> None:
    error, _ = failing(
        429,
        fixture("rate_limit_exceeded.json"),
        {"Retry-After": "30", "X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:0;"},
    )
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 30
    assert error.rate_limit == RateLimit(3600, 0, {"user-hour-lim": 3600, "user-hour-rem": 0}, "user-hour-lim:3600;user-hour-rem:0;")
    message = str(error)
    assert "user-hour-lim 3600, user-hour-rem 0" in message
    assert "retry after 30 s" in message


def test_html_502_is_a_server_error_with_a_readable_message() -> None:
    error, _ = failing(502, fixture("bad_gateway.html"), {"Content-Type": "text/html"})
    assert isinstance(error, ServerError)
    assert error.errors == [] and error.code is None and error.pointer is None
    assert str(error) == "GET /v1/bundleIds/ZZZZ999999 failed: 502 Bad Gateway: 502 Bad Gateway 502 Bad Gateway edge-proxy"


def test_empty_503_body() -> None:
    error, _ = failing(503, None)
    assert isinstance(error, ServerError)
    assert str(error) == "GET /v1/bundleIds/ZZZZ999999 failed: 503 Service Unavailable"


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, ParameterError), (409, ConflictError), (422, UnprocessableEntityError), (500, ServerError), (418, AppStoreConnectError)],
)
def test_status_maps_to_class(status: int, cls: type) -> None:
    error, _ = failing(status, {"errors": [{"status": str(status), "code": "X", "title": "t", "detail": "d"}]})
    assert type(error) is cls


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[]", b'{"errors": "nope"}', b'{"errors": [42, {"status": 409, "source": "x", "links": []}]}', b"\xff\xfe"],
)
def test_odd_bodies_never_crash_the_parser(body: bytes) -> None:
    errors = parse_errors(body)
    assert all(isinstance(e, ApiError) for e in errors)


def test_numeric_status_is_kept_as_text() -> None:
    (error,) = parse_errors(b'{"errors": [{"status": 409, "code": "X", "detail": "d", "title": "t"}]}')
    assert error.status == "409" and error.status_code == 409


def test_get_object_returns_none_on_404_and_delete_raises() -> None:
    recorder = Recorder(lambda r: respond(404, fixture("not_found_pointer_without_slash.json")))
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        assert client.get_object("/v1/bundleIds/ZZZZ999999") is None
        with pytest.raises(NotFoundError):
            client.delete("/v1/bundleIds/ZZZZ999999")


def test_other_errors_are_not_swallowed_by_get_object() -> None:
    recorder = Recorder(lambda r: respond(403, fixture("forbidden_role.json")))
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        with pytest.raises(ForbiddenError):
            client.get_object("/v1/bundleIds/X")


@pytest.mark.parametrize(
    ("exc", "ambiguous"),
    [(httpx.ConnectError("refused"), False), (httpx.ReadError("reset by peer"), True), (httpx.ReadTimeout("slow"), True)],
)
def test_transport_failures_become_connection_failed(exc: Exception, ambiguous: bool) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc

    with AppStoreConnectClient(make_settings(), transport=httpx.MockTransport(answer), retry=RetryPolicy.no_retries()) as client:
        with pytest.raises(ConnectionFailed) as caught:
            client.create("devices", {"name": "x"})
    error = caught.value
    assert error.ambiguous is ambiguous
    assert error.status == 0 and error.method == "POST" and error.url == "/v1/devices"
    assert str(error).startswith("POST /v1/devices failed: no response from App Store Connect (")


def test_non_json_success_body_is_a_protocol_error() -> None:
    recorder = Recorder(lambda r: respond(200, b"<html>maintenance</html>", {"Content-Type": "text/html"}))
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        with pytest.raises(ProtocolError, match="not a JSON object"):
            client.get("/v1/apps")


def test_create_update_delete_request_shapes() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return respond(204)
        return respond(201 if request.method == "POST" else 200, {"data": {"type": "profiles", "id": "P1"}, "links": {}})

    recorder = Recorder(answer)
    link = {"bundleId": {"data": {"type": "bundleIds", "id": "B1"}}}
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        assert client.create("profiles", {"name": "p"}, link) == {"type": "profiles", "id": "P1"}
        client.create("bundleIdCapabilities", {"capabilityType": "PUSH_NOTIFICATIONS"}, path="/v1/bundleIdCapabilities")
        client.update("devices", "D 1", {"name": "n"})
        client.update("devices", "D2", relationships=link)
        assert client.delete("/v1/profiles/P1") is None
    assert [(r.method, r.url.raw_path.decode()) for r in recorder.requests] == [
        ("POST", "/v1/profiles"),
        ("POST", "/v1/bundleIdCapabilities"),
        ("PATCH", "/v1/devices/D%201"),
        ("PATCH", "/v1/devices/D2"),
        ("DELETE", "/v1/profiles/P1"),
    ]
    assert recorder.bodies() == [
        {"data": {"type": "profiles", "attributes": {"name": "p"}, "relationships": link}},
        {"data": {"type": "bundleIdCapabilities", "attributes": {"capabilityType": "PUSH_NOTIFICATIONS"}}},
        {"data": {"type": "devices", "id": "D 1", "attributes": {"name": "n"}}},
        {"data": {"type": "devices", "id": "D2", "relationships": link}},
        None,
    ]
    assert all(r.headers["Content-Type"] == "application/json" for r in recorder.requests[:4])


def test_reconciler_style_construction_with_a_hint_and_pickling() -> None:
    errors = parse_errors(fixture("state_invalid_associated.json"))
    error = ConflictError(409, errors, method="POST", url="/v1/bundleIds", hint="bundleIds with identifier 'x' exists (id B1)")
    assert "Hint: bundleIds with identifier 'x' exists (id B1)" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ConflictError
    assert (copy.status, copy.url, copy.code, str(copy)) == (409, "/v1/bundleIds", error.code, str(error))


def test_last_rate_limit_is_recorded_from_every_response() -> None:
    remaining = iter(["3599", "3598"])
    recorder = Recorder(
        lambda r: respond(200, {"data": []}, {"X-Rate-Limit": f"user-hour-lim:3600;user-hour-rem:{next(remaining)};"})
    )
    with AppStoreConnectClient(make_settings(), transport=recorder.transport) as client:
        assert client.last_rate_limit is None
        client.get("/v1/apps")
        assert client.last_rate_limit.remaining == 3599
        client.get("/v1/apps")
        assert (client.last_rate_limit.limit, client.last_rate_limit.remaining) == (3600, 3598)


@pytest.mark.parametrize(
    ("header", "limit", "remaining"),
    [
        ("user-hour-lim:3600;user-hour-rem:12;", 3600, 12),
        ("user-hour-rem:7", None, 7),
        ("user-hour-lim:abc;user-hour-rem:;", None, None),
        ("garbage", None, None),
        ("", None, None),
    ],
)
def test_rate_limit_header_parsing_is_tolerant(header: str, limit: int | None, remaining: int | None) -> None:
    parsed = RateLimit.parse(header)
    assert (parsed.limit, parsed.remaining) == (limit, remaining)
    assert RateLimit.parse(None) is None


@given(st.text())
def test_rate_limit_parse_never_raises(header: str) -> None:
    assert RateLimit.parse(header).raw == header


def test_retry_after_forms() -> None:
    assert parse_retry_after("12") == 12
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
