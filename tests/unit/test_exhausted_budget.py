"""Issue 8, scenario 9: an exhausted hourly budget fails the operation, says when the budget
refills, and sends nothing that Apple would refuse anyway.

Apple's ``X-Rate-Limit: user-hour-lim:3600;user-hour-rem:N;`` counts a key's requests over a
rolling hour. Every client here runs on a fake clock starting at 2025-06-15 15:06:40 UTC.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import httpx
import pytest
from asc_client_support import START, FakeTime, fixture, limited, make_client, respond, sequence

from pulumi_appstoreconnect.client import (
    AppStoreConnectClient,
    BudgetExhausted,
    RateLimitedError,
    RetryPolicy,
    ServerError,
)
from pulumi_appstoreconnect.reconciler import SpecProvider

README = Path(__file__).parents[2] / "README.md"
BUNDLE_ID = {"identifier": "com.example.app", "name": "Example", "platform": "IOS"}


def budget(remaining: int, status: int = 200) -> httpx.Response:
    """An answer that reports ``remaining`` requests left of 3600."""
    body: Any = fixture("rate_limit_exceeded.json") if status == 429 else {"data": []}
    return respond(status, body, {"X-Rate-Limit": f"user-hour-lim:3600;user-hour-rem:{remaining};"})


def spend(client: AppStoreConnectClient, fake: FakeTime) -> None:
    """A first request at 15:06:40 UTC, then, ten minutes later, one whose answer says rem 0."""
    client.get("/v1/apps")
    fake.now += 600
    client.get("/v1/apps")
    assert client.last_rate_limit is not None and client.last_rate_limit.remaining == 0


# -- the header says nothing remains ----------------------------------------------------------


def test_exhausted_budget_fails_without_sending() -> None:
    client, recorder, fake = make_client(sequence(budget(7), budget(0), budget(3599)))
    spend(client, fake)
    fake.now += 10
    with pytest.raises(BudgetExhausted) as caught:
        client.get("/v1/bundleIds", {"filter[identifier]": "com.secret.app"})
    assert len(recorder.requests) == 2  # the third request never left
    assert fake.sleeps == []  # refused at once, not paced first
    error = caught.value
    assert isinstance(error, RateLimitedError)
    assert (error.rate_limit.limit, error.rate_limit.remaining) == (3600, 0)
    assert (error.method, error.url, error.status, error.attempts, error.ambiguous) == ("GET", "/v1/bundleIds", 0, 0, False)
    refill = error.refill
    assert refill is not None
    assert (refill.seen_at, refill.oldest_sent, refill.first_back, refill.refilled_by) == (
        START + 600, START, START + 3600, START + 600 + 3600
    )
    assert str(error) == (
        "GET /v1/bundleIds failed: not sent: the API key's hourly request budget is used up "
        "(X-Rate-Limit at 15:16:40 UTC: user-hour-lim 3600, user-hour-rem 0)\n"
        "Hint: App Store Connect counts a key's requests over a rolling hour, so capacity comes back "
        "as the requests of the last hour age out: the oldest request this run sent within that hour "
        "(at 15:06:40 UTC) ages out at 16:07 UTC (in 50 min), and the whole budget is back by "
        "16:17 UTC (in 60 min) at the latest if nothing else spends it. Nothing was sent for this "
        "request, so it changed nothing in App Store Connect. Re-run after 16:07 UTC; every job and "
        "person using this API key shares its budget."
    )
    assert "com.secret.app" not in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is BudgetExhausted and str(copy) == str(error)
    assert client.stats.gave_up == {"budget": 1}
    assert (client.stats.requests, client.stats.sent) == (3, 2)


def test_exhausted_budget_post_is_not_sent() -> None:
    client, recorder, fake = make_client(sequence(budget(7), budget(0), respond(201, {"data": {"type": "bundleIds", "id": "B"}})))
    spend(client, fake)
    with pytest.raises(BudgetExhausted) as caught:
        client.create("bundleIds", BUNDLE_ID)
    assert [r.method for r in recorder.requests] == ["GET", "GET"]
    assert (caught.value.method, caught.value.ambiguous) == ("POST", False)
    fake.now += 10
    with pytest.raises(BudgetExhausted) as later:
        client.create("bundleIds", BUNDLE_ID)
    assert str(later.value) in README.read_text()  # the README's example is the real message


def test_exhausted_budget_stale_reading_does_not_block_forever() -> None:
    # A reading of 0 stops new requests for a minute; after that one request goes out to
    # read the budget again (Apple answers, or refuses with a 429 that changes nothing).
    client, recorder, fake = make_client(sequence(budget(7), budget(0), budget(12)))
    spend(client, fake)
    fake.now += 59
    with pytest.raises(BudgetExhausted):
        client.get("/v1/apps")
    fake.now += 2
    client.get("/v1/apps")
    assert len(recorder.requests) == 3
    assert client.last_rate_limit is not None and client.last_rate_limit.remaining == 12


def test_exhausted_budget_stale_after_is_configurable() -> None:
    client, recorder, fake = make_client(
        sequence(budget(7), budget(0), budget(12)), retry=RetryPolicy(budget_reading_max_age=0)
    )
    spend(client, fake)
    client.get("/v1/apps")  # 0: a reading of 0 never stops a request
    assert len(recorder.requests) == 3


def test_exhausted_budget_refuses_until_apples_retry_after() -> None:
    # A 429 whose Retry-After is beyond the wait cap: the request gives up at once; new
    # requests are not sent before the time Apple named, and are after it.
    client, recorder, fake = make_client(sequence(limited("30"), budget(1)), retry=RetryPolicy(max_wait=10))
    with pytest.raises(RateLimitedError) as first:
        client.get("/v1/apps")
    assert type(first.value) is RateLimitedError and len(recorder.requests) == 1
    fake.now += 5
    with pytest.raises(BudgetExhausted) as caught:
        client.get("/v1/apps")
    message = str(caught.value)
    assert "Apple asked to retry after 30 s (at 15:07:10 UTC)" in message
    assert "Re-run after 15:07:10 UTC" in message
    assert len(recorder.requests) == 1
    fake.now += 26
    client.get("/v1/apps")
    assert len(recorder.requests) == 2


def test_exhausted_budget_does_not_stop_a_request_already_under_way() -> None:
    # The 429 rules govern the retries of a request that got a 429: Apple named the time.
    client, recorder, fake = make_client(sequence(limited("7"), budget(0)))
    client.get("/v1/apps")
    assert fake.sleeps == [7.0] and len(recorder.requests) == 2


# -- 429s outlast the wait cap ----------------------------------------------------------------


def test_exhausted_budget_429s_beyond_the_wait_cap_say_budget_and_refill() -> None:
    client, recorder, fake = make_client(sequence(limited("50")))
    with pytest.raises(RateLimitedError) as caught:
        client.create("bundleIds", BUNDLE_ID)
    assert [r.method for r in recorder.requests] == ["POST"] * 3 and fake.sleeps == [50.0, 50.0]
    error = caught.value
    assert error.refill is not None and error.refill.retry_at == START + 150
    message = str(error)
    assert message.startswith("POST /v1/bundleIds failed after 3 attempts (100 s waited): 429 RATE_LIMIT_EXCEEDED")
    hint = message.split("\nHint: ", 1)[1]
    assert hint.startswith(
        "App Store Connect refused the request: the API key's hourly request budget is used up "
        "(X-Rate-Limit: user-hour-lim 3600, user-hour-rem 0). Apple asked to retry after 50 s (at 15:09:10 UTC). "
        "App Store Connect counts a key's requests over a rolling hour"
    )
    assert "the whole budget is back by 16:09 UTC (in 60 min) at the latest" in hint
    assert "it gave up because Retry-After asked for 50 s, more than the 20 s left of the 120 s limit on waiting" in hint
    assert "A 429 means App Store Connect did not process the request: nothing changed, and sending it again (a POST included) is safe." in hint
    assert hint.endswith("Re-run after 15:09:10 UTC; every job and person using this API key shares its budget.")


def test_exhausted_budget_429s_beyond_the_attempt_cap_give_the_rolling_hour() -> None:
    # No Retry-After: when the budget refills follows from the rolling hour.
    client, _, fake = make_client(
        sequence(budget(1), limited()), retry=RetryPolicy(max_rate_limited_attempts=3)
    )
    client.get("/v1/apps")  # 15:06:40, the oldest request of this run
    fake.now += 1200
    with pytest.raises(RateLimitedError, match="3 attempts is the limit") as caught:
        client.get("/v1/apps")
    assert fake.sleeps == [0.25, 0.5]
    hint = str(caught.value).split("\nHint: ", 1)[1]
    assert "user-hour-rem 0" in hint and "Apple asked" not in hint
    assert (
        "the oldest request this run sent within that hour (at 15:06:40 UTC) ages out at 16:07 UTC (in 40 min), "
        "and the whole budget is back by 16:27 UTC (in 60 min) at the latest if nothing else spends it."
    ) in hint
    assert hint.endswith("Re-run after 16:07 UTC; every job and person using this API key shares its budget.")


def test_exhausted_budget_burst_429s_beyond_the_cap_say_what_is_left() -> None:
    client, _, _ = make_client(sequence(limited(None, remaining=3121)), retry=RetryPolicy(max_rate_limited_attempts=2))
    with pytest.raises(RateLimitedError) as caught:
        client.get("/v1/apps")
    hint = str(caught.value).split("\nHint: ", 1)[1]
    assert hint.startswith(
        "App Store Connect refused the request although the API key's hourly budget has 3121 requests left "
        "(X-Rate-Limit: user-hour-lim 3600, user-hour-rem 3121): Apple also limits bursts of requests"
    )
    assert "rolling hour" not in hint and "did not process the request" in hint


# -- the provider loses nothing -----------------------------------------------------------------


def test_exhausted_budget_lookup_after_an_ambiguous_post_is_not_taken_for_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    # The POST fails ambiguously and its answer says the budget is spent: the look-up that
    # would tell whether Apple created the object cannot be sent. The create must fail with
    # that (state keeps nothing), not conclude "not there" and POST again.
    failed_post = respond(503, None, {"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:0;"})
    client, recorder, _ = make_client(sequence(failed_post, respond(200, {"data": []})))
    monkeypatch.setattr(SpecProvider, "client", property(lambda self: client))
    with pytest.raises(BudgetExhausted) as caught:
        SpecProvider("bundleIds").create(dict(BUNDLE_ID))
    assert [r.method for r in recorder.requests] == ["POST"]
    assert (caught.value.method, caught.value.url) == ("GET", "/v1/bundleIds")
    assert isinstance(caught.value.__context__, ServerError)
