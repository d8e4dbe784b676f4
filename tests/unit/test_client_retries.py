"""Retries, backoff, rate-limit waits and slow-down of the client; its stats; thread safety.

Every client here gets a fake clock and a fake sleep (sleeping advances the clock and records
the wait) and a fixed jitter, so waits are asserted exactly and nothing sleeps for real.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from asc_client_support import START, FakeTime, fixture, limited, make_client, respond, sequence

from pulumi_appstoreconnect.client import (
    AppStoreConnectClient,
    AuthenticationError,
    ConnectionFailed,
    RateLimit,
    RateLimitedError,
    ServerError,
)
from pulumi_appstoreconnect.client.retry import RequestStats, RetryPolicy, Throttle

HIGH = {"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3500;"}
OK_DATA = {"data": {"type": "bundleIds", "id": "B1"}}


def call(client: AppStoreConnectClient, method: str) -> Any:
    """One request of ``method`` through the public API."""
    if method == "GET":
        return client.get("/v1/bundleIds/B1")
    if method == "PATCH":
        return client.update("bundleIds", "B1", {"name": "n"})
    if method == "DELETE":
        return client.delete("/v1/bundleIds/B1")
    return client.create("bundleIds", {"identifier": "com.example.app", "name": "n", "platform": "IOS"})


def success(method: str) -> httpx.Response:
    if method == "DELETE":
        return respond(204, None, HIGH)
    return respond(201 if method == "POST" else 200, OK_DATA, HIGH)


# -- 429 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE", "POST"])
def test_429_waits_exactly_retry_after_seconds_then_resends(method: str) -> None:
    client, recorder, fake = make_client(sequence(limited("7"), success(method)))
    call(client, method)
    assert fake.sleeps == [7.0]
    assert [r.method for r in recorder.requests] == [method, method]
    assert recorder.bodies()[0] == recorder.bodies()[1]
    stats = client.stats
    assert (stats.requests, stats.sent, stats.retries, stats.waits) == (1, 2, {"429": 1}, {"429": 7.0})


def test_429_retry_after_as_http_date() -> None:
    date = email.utils.formatdate(START + 12, usegmt=True)
    client, recorder, fake = make_client(sequence(limited(date), success("GET")))
    client.get("/v1/apps")
    assert fake.sleeps == [12.0]
    assert len(recorder.requests) == 2


def test_429_without_retry_after_backs_off_exponentially() -> None:
    # rand() at the top of its range shows the ceilings: 0.5 * 2 ** n, capped at backoff_cap.
    client, recorder, fake = make_client(
        sequence(*[limited() for _ in range(7)], success("GET")), rand=lambda: 1.0
    )
    client.get("/v1/apps")
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    assert len(recorder.requests) == 8


def test_429_without_retry_after_jitter_stays_within_bounds() -> None:
    rng = random.Random(1234)
    client, _, fake = make_client(sequence(*[limited() for _ in range(7)], success("GET")), rand=rng.random)
    client.get("/v1/apps")
    ceilings = [0.5, 1, 2, 4, 8, 16, 30]
    assert len(fake.sleeps) == 7
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(fake.sleeps, ceilings))
    assert any(wait < ceiling * 0.9 for wait, ceiling in zip(fake.sleeps, ceilings))  # jittered, not fixed
    assert len(set(fake.sleeps)) == 7


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_429_with_budget_left_is_handled_the_same(method: str) -> None:
    # A burst limit: plenty of hourly budget left, Apple still says 429.
    client, recorder, fake = make_client(sequence(limited("3", remaining=3400), limited(None, remaining=3399), success(method)))
    call(client, method)
    assert fake.sleeps == [3.0, 0.5]  # Retry-After, then backoff (rand 0.5 * ceiling 1.0)
    assert [r.method for r in recorder.requests] == [method] * 3
    assert client.stats.retries == {"429": 2}


def test_429_gives_up_when_the_next_wait_would_cross_max_wait() -> None:
    client, recorder, fake = make_client(sequence(limited("50")))
    with pytest.raises(RateLimitedError) as caught:
        client.get("/v1/apps", {"filter[name]": "secret-query"})
    assert fake.sleeps == [50.0, 50.0]  # a third wait would make 150 s > 120 s
    assert len(recorder.requests) == 3
    error = caught.value
    assert (error.attempts, error.waited, error.retry_after) == (3, 100.0, 50.0)
    message = str(error)
    assert message.startswith("GET /v1/apps failed after 3 attempts (100 s waited): 429 RATE_LIMIT_EXCEEDED")
    assert "X-Rate-Limit: user-hour-lim 3600, user-hour-rem 0" in message
    assert "retry after 50 s" in message
    assert "sent the request 3 times and waited 100 s in all" in message
    assert "Retry-After asked for 50 s, more than the 20 s left of the 120 s limit on waiting" in message
    assert "secret-query" not in message
    for token in recorder.tokens():
        assert token not in message
    assert client.stats.gave_up == {"429": 1}


def test_429_gives_up_at_once_when_retry_after_exceeds_the_budget() -> None:
    client, recorder, fake = make_client(sequence(limited("3600")))
    with pytest.raises(RateLimitedError) as caught:
        client.create("devices", {"name": "x"})
    assert fake.sleeps == []
    assert len(recorder.requests) == 1
    assert "Retry-After asked for 3600 s, more than the 120 s left" in str(caught.value)
    assert caught.value.attempts == 1


def test_429_gives_up_after_max_rate_limited_attempts() -> None:
    client, recorder, fake = make_client(
        sequence(limited("1")), retry=RetryPolicy(max_rate_limited_attempts=3)
    )
    with pytest.raises(RateLimitedError, match="3 attempts is the limit") as caught:
        client.get("/v1/apps")
    assert len(recorder.requests) == 3
    assert fake.sleeps == [1.0, 1.0]
    assert caught.value.waited == 2.0


def test_max_wait_is_configurable() -> None:
    client, recorder, fake = make_client(sequence(limited("10")), retry=RetryPolicy(max_wait=25))
    with pytest.raises(RateLimitedError, match="limit on waiting"):
        client.get("/v1/apps")
    assert fake.sleeps == [10.0, 10.0]
    assert len(recorder.requests) == 3


def test_a_429_holds_the_other_requests_of_the_client() -> None:
    # While one request waits out its 429, another request of the same client (here issued
    # from inside the fake sleep, i.e. during the wait) waits until the same moment.
    fake = FakeTime()
    side: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/a" and not side:
            return limited("5", remaining=100)
        return respond(200, {"data": []}, HIGH)

    client, recorder, _ = make_client(answer, fake=fake)
    real_sleep = fake.sleep

    def sleep(seconds: float) -> None:
        if not side:
            side.append(fake.now)
            client.get("/v1/b")  # another caller, during the 429 wait
            side.append(fake.now)
        real_sleep(seconds)

    client._sleep = sleep
    client.get("/v1/a")
    assert side == [START, START + 5]  # /v1/b went out when Apple allowed /v1/a again
    assert [r.url.path for r in recorder.requests] == ["/v1/a", "/v1/b", "/v1/a"]
    assert client.stats.waits == {"hold": 5.0, "429": 5.0}


# -- slow-down ----------------------------------------------------------------------------


def test_slowdown_waits_grow_as_remaining_budget_falls() -> None:
    remaining = iter([3000, 400, 360, 359, 180, 36, 5, 0])

    def answer(request: httpx.Request) -> httpx.Response:
        return respond(200, {"data": []}, {"X-Rate-Limit": f"user-hour-lim:3600;user-hour-rem:{next(remaining)};"})

    client, _, fake = make_client(answer)
    for _ in range(8):
        client.get("/v1/apps")
    # No wait while rem >= 10 % of the limit; then 1 s x 360 / rem, capped at 30 s.
    assert fake.sleeps == pytest.approx([360 / 359, 2.0, 10.0, 30.0])
    assert fake.sleeps == sorted(fake.sleeps)
    assert set(client.stats.waits) == {"slowdown"}
    assert client.stats.retries == {}


def test_no_slowdown_when_the_budget_is_high_or_unknown() -> None:
    client, _, fake = make_client(sequence(respond(200, {"data": []}, HIGH), respond(200, {"data": []})))
    for _ in range(5):
        client.get("/v1/apps")
    assert fake.sleeps == []


def test_slowdown_can_be_turned_off() -> None:
    low = {"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3;"}
    client, _, fake = make_client(sequence(respond(200, {"data": []}, low)), retry=RetryPolicy(slowdown_below=0))
    for _ in range(3):
        client.get("/v1/apps")
    assert fake.sleeps == []


def test_slowdown_spaces_requests_across_threads() -> None:
    # The clock stands still: every thread reserves its own slot 2 s after the previous one.
    low = {"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:180;"}
    fake = FakeTime(advance=False)
    client, recorder, _ = make_client(sequence(respond(200, {"data": []}, low)), fake=fake)
    client.get("/v1/apps")  # learns rem 180: interval 2 s
    barrier = threading.Barrier(5)

    def work(_: int) -> None:
        barrier.wait()
        client.get("/v1/apps")

    with ThreadPoolExecutor(5) as pool:
        list(pool.map(work, range(5)))
    assert sorted(fake.sleeps) == pytest.approx([2.0, 4.0, 6.0, 8.0, 10.0])
    assert len(recorder.requests) == 6


def test_pace_interval_formula() -> None:
    policy = RetryPolicy()

    def pace(lim: int | None, rem: int | None) -> float:
        return policy.pace_interval(RateLimit(lim, rem))

    assert pace(3600, 3600) == pace(3600, 360) == 0.0
    assert pace(3600, 180) == pytest.approx(2.0)
    assert pace(3600, 0) == pace(3600, 1) == 30.0
    assert pace(360, 18) == pytest.approx(20.0)  # a smaller limit: 10 s per request at its sustainable rate, x2
    assert pace(None, 5) == pace(3600, None) == policy.pace_interval(None) == 0.0


def test_throttle_never_waits_beyond_the_budget_or_max_pace() -> None:
    throttle = Throttle(RetryPolicy(max_pace=30))
    low = RateLimit(3600, 0)
    waits = [throttle.reserve(0.0, low, budget=1000)[0] for _ in range(4)]
    assert waits == [0.0, 30.0, 30.0, 30.0]  # the queue never reaches past now + max_pace
    throttle.hold(500.0)
    assert throttle.reserve(0.0, None, budget=120) == (120.0, "hold")


# -- 5xx and transport errors ---------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_idempotent_methods_are_retried_on_5xx(method: str, status: int) -> None:
    client, recorder, fake = make_client(sequence(respond(status), respond(status), success(method)))
    call(client, method)
    assert [r.method for r in recorder.requests] == [method] * 3
    assert fake.sleeps == [0.25, 0.5]  # rand 0.5 x ceilings 0.5, 1
    assert client.stats.retries == {str(status): 2}
    assert client.stats.sent == 3


@pytest.mark.parametrize(
    "exc", [httpx.ReadError("reset"), httpx.RemoteProtocolError("peer closed"), httpx.ReadTimeout("slow"), httpx.WriteError("pipe")]
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_idempotent_methods_are_retried_on_transport_errors(method: str, exc: Exception) -> None:
    client, recorder, fake = make_client(sequence(exc, success(method)))
    call(client, method)
    assert len(recorder.requests) == 2
    assert client.stats.retries == {type(exc).__name__: 1}
    assert fake.sleeps == [0.25]


def test_5xx_retries_are_bounded() -> None:
    client, recorder, fake = make_client(sequence(respond(503)))
    with pytest.raises(ServerError) as caught:
        client.get("/v1/apps")
    assert len(recorder.requests) == 4
    assert fake.sleeps == [0.25, 0.5, 1.0]
    error = caught.value
    assert (error.attempts, error.waited) == (4, 1.75)
    assert str(error) == "GET /v1/apps failed after 4 attempts (1.8 s waited): 503 Service Unavailable"
    assert client.stats.gave_up == {"503": 1}


def test_transport_error_retries_are_bounded() -> None:
    client, recorder, _ = make_client(sequence(httpx.ReadError("reset")), retry=RetryPolicy(max_attempts=2))
    with pytest.raises(ConnectionFailed) as caught:
        client.delete("/v1/profiles/P1")
    assert len(recorder.requests) == 2
    assert caught.value.attempts == 2
    assert str(caught.value).startswith("DELETE /v1/profiles/P1 failed after 2 attempts (0.2 s waited): no response")


def test_503_retry_after_is_honoured() -> None:
    client, _, fake = make_client(sequence(respond(503, None, {"Retry-After": "4"}), success("GET")))
    client.get("/v1/apps")
    assert fake.sleeps == [4.0]


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    client, recorder, fake = make_client(sequence(respond(status, {"errors": [{"status": str(status), "code": "X"}]})))
    with pytest.raises(Exception):
        client.get("/v1/apps")
    assert len(recorder.requests) == 1
    assert fake.sleeps == []


# -- POST -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "expected", "reason"),
    [
        (respond(500), ServerError, "500"),
        (respond(502), ServerError, "502"),
        (respond(503, None, {"Retry-After": "1"}), ServerError, "503"),
        (respond(504), ServerError, "504"),
        (httpx.ReadTimeout("timed out"), ConnectionFailed, "ReadTimeout"),
        (httpx.WriteTimeout("timed out"), ConnectionFailed, "WriteTimeout"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), ConnectionFailed, "RemoteProtocolError"),
        (httpx.ReadError("reset by peer"), ConnectionFailed, "ReadError"),
    ],
)
def test_post_is_never_resent_after_it_may_have_been_sent(failure: Any, expected: type, reason: str) -> None:
    client, recorder, fake = make_client(sequence(failure, success("POST")))
    with pytest.raises(expected) as caught:
        call(client, "POST")
    assert len(recorder.requests) == 1
    assert fake.sleeps == []
    error = caught.value
    assert type(error) is expected
    assert error.ambiguous is True
    assert (error.method, error.url, error.attempts) == ("POST", "/v1/bundleIds", 1)
    stats = client.stats
    assert (stats.sent, stats.retries, stats.ambiguous) == (1, {}, {reason: 1})


@pytest.mark.parametrize(
    "exc", [httpx.ConnectError("refused"), httpx.ConnectTimeout("connect timed out"), httpx.PoolTimeout("pool")]
)
def test_post_is_resent_when_the_connection_failed_before_sending(exc: Exception) -> None:
    client, recorder, fake = make_client(sequence(exc, exc, success("POST")))
    assert call(client, "POST") == OK_DATA["data"]
    assert [r.method for r in recorder.requests] == ["POST"] * 3
    assert recorder.bodies()[0] == recorder.bodies()[2]
    assert fake.sleeps == [0.25, 0.5]
    assert client.stats.retries == {type(exc).__name__: 2}


def test_post_connect_failures_are_bounded_and_not_ambiguous() -> None:
    client, recorder, _ = make_client(sequence(httpx.ConnectError("refused")))
    with pytest.raises(ConnectionFailed) as caught:
        call(client, "POST")
    assert len(recorder.requests) == 4
    assert caught.value.ambiguous is False
    assert client.stats.gave_up == {"ConnectError": 1}


def test_unsupported_protocol_is_never_retried() -> None:
    client, recorder, _ = make_client(sequence(httpx.UnsupportedProtocol("ftp")))
    with pytest.raises(ConnectionFailed):
        client.get("/v1/apps")
    assert len(recorder.requests) == 1


def test_no_retries_policy_sends_once() -> None:
    client, recorder, fake = make_client(sequence(limited("1")), retry=RetryPolicy.no_retries())
    with pytest.raises(RateLimitedError):
        client.get("/v1/apps")
    assert len(recorder.requests) == 1 and fake.sleeps == []


# -- 401 together with retries ------------------------------------------------------------


def test_401_refresh_then_503_retry() -> None:
    client, recorder, _ = make_client(
        sequence(respond(401, fixture("not_authorized.json")), respond(503), success("GET"))
    )
    client.get("/v1/apps")
    first, second, third = recorder.tokens()
    assert first != second and second == third  # one refresh; the retry reuses the new token
    assert client.tokens.mint_count == 2
    stats = client.stats
    assert (stats.requests, stats.sent, stats.auth_refreshes, stats.retries) == (1, 3, 1, {"503": 1})


def test_503_retry_then_401_refresh() -> None:
    client, recorder, _ = make_client(
        sequence(respond(503), respond(401, fixture("not_authorized.json")), success("GET"))
    )
    client.get("/v1/apps")
    first, second, third = recorder.tokens()
    assert first == second != third
    stats = client.stats
    assert (stats.sent, stats.auth_refreshes, stats.retried) == (3, 1, 1)


def test_401_resend_of_a_post_is_not_counted_as_a_retry() -> None:
    client, recorder, _ = make_client(sequence(respond(401, fixture("not_authorized.json")), success("POST")))
    call(client, "POST")
    stats = client.stats
    assert (len(recorder.requests), stats.sent, stats.auth_refreshes, stats.retries) == (2, 2, 1, {})


def test_second_401_is_still_final() -> None:
    client, recorder, fake = make_client(sequence(respond(401, fixture("not_authorized.json"))))
    with pytest.raises(AuthenticationError):
        client.get("/v1/apps")
    assert len(recorder.requests) == 2
    assert fake.sleeps == [] and client.stats.retries == {}


# -- logging and stats --------------------------------------------------------------------


def test_retries_are_logged_without_query_or_token(caplog: pytest.LogCaptureFixture) -> None:
    client, recorder, _ = make_client(sequence(limited("2", remaining=10), success("GET")))
    with caplog.at_level(logging.DEBUG, logger="pulumi_appstoreconnect.client"):
        client.get("/v1/bundleIds", {"filter[identifier]": "com.secret.app"})
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == [
        "GET /v1/bundleIds: 429 Too Many Requests (Retry-After: 2, X-Rate-Limit: user-hour-lim:3600;user-hour-rem:10;); "
        "retrying in 2.0 s (attempt 2 of at most 8)"
    ]
    text = caplog.text
    assert "com.secret.app" not in text and "filter" not in text
    assert "Bearer" not in text and recorder.tokens()[0] not in text


def test_ambiguous_post_and_give_up_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    client, _, _ = make_client(sequence(httpx.ReadTimeout("slow")))
    with caplog.at_level(logging.INFO, logger="pulumi_appstoreconnect.client"), pytest.raises(ConnectionFailed):
        client.create("devices", {"name": "x"})
    assert "POST /v1/devices: ReadTimeout after the request may have reached App Store Connect; not re-sending it" in caplog.text


def test_stats_snapshots_subtract_and_serialise() -> None:
    client, _, _ = make_client(sequence(respond(503), success("GET")))
    before = client.stats
    client.get("/v1/apps")
    client.get("/v1/apps")
    delta = client.stats - before
    assert delta == RequestStats(requests=2, sent=3, retries={"503": 1}, waits={"503": 0.25})
    assert delta.as_dict() == {
        "requests": 2,
        "sent": 3,
        "retried": 1,
        "retries": {"503": 1},
        "waited": 0.25,
        "waits": {"503": 0.25},
        "auth_refreshes": 0,
        "gave_up": {},
        "ambiguous": {},
    }
    client.reset_stats()
    assert client.stats == RequestStats()


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(slowdown_below=1.5)
    with pytest.raises(ValueError):
        RetryPolicy(max_wait=-1)


# -- threads ------------------------------------------------------------------------------


def test_threads_sharing_one_client_all_complete_and_stats_add_up() -> None:
    threads, per_thread = 8, 40
    seen: set[str] = set()
    lock = threading.Lock()

    def answer(request: httpx.Request) -> httpx.Response:
        # The first attempt of each object fails in one of four ways, by its number.
        path = request.url.path
        number = int(path.rsplit("-", 1)[1])
        with lock:
            first = path not in seen
            seen.add(path)
        if first and number % 4 == 0:
            return respond(503)
        if first and number % 4 == 1:
            raise httpx.ReadError("reset")
        if first and number % 4 == 2:
            return limited("0", remaining=3000)
        return respond(200, {"data": {"type": "apps", "id": path.rsplit("/", 1)[1]}}, HIGH)

    client, recorder, fake = make_client(answer)
    barrier = threading.Barrier(threads)

    def work(t: int) -> list[str]:
        barrier.wait()
        return [client.get_object(f"/v1/apps/{t}-{i}")["id"] for i in range(per_thread)]

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(work, range(threads)))
    assert results == [[f"{t}-{i}" for i in range(per_thread)] for t in range(threads)]

    total, each = threads * per_thread, threads * per_thread // 4
    stats = client.stats
    assert stats.requests == total
    assert stats.sent == len(recorder.requests) == total + 3 * each
    assert stats.retries == {"503": each, "ReadError": each, "429": each}
    assert stats.waits["503"] == pytest.approx(each * 0.25)
    assert stats.waits["ReadError"] == pytest.approx(each * 0.25)
    assert set(stats.waits) <= {"503", "ReadError", "hold"}
    assert stats.waited == pytest.approx(sum(fake.sleeps))
    assert stats.gave_up == {} and stats.ambiguous == {} and stats.auth_refreshes == 0
    assert client.tokens.mint_count == 1
