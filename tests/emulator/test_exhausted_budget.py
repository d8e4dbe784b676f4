"""Issue 8, scenario 9 against the emulator: the provider spends a small hourly budget, then
fails the next create without sending it, and a re-run fails at Apple's first 429 (nothing
created, nothing recorded that did not happen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from pulumi_appstoreconnect.client import BudgetExhausted, RateLimitedError
from pulumi_appstoreconnect.emulator import Emulator

from ..providers import connect
from .support import BASE_URL

LIMIT = 3


@pytest.fixture
def small_budget(tmp_path: Path) -> Iterator[Emulator]:
    emu = Emulator(tmp_path / "state", rate_limit=LIMIT)
    yield emu
    emu.close()


def bundle_id(n: int) -> dict[str, Any]:
    return {"identifier": f"com.example.app{n}", "platform": "IOS", "name": f"App {n}", "seed_id": None}


def seen(emulator: Emulator) -> tuple[list[tuple[str, int]], list[str]]:
    """The emulator's request log (method, status) and the identifiers it holds."""
    with httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL) as admin:
        log = admin.get("/_emulator/requests").json()["data"]
        objects = admin.get("/_emulator/objects/bundleIds").json()["data"]
    return [(e["method"], e["status"]) for e in log], sorted(o["attributes"]["identifier"] for o in objects)


def test_exhausted_budget_fails_without_sending(small_budget: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = connect(small_budget, monkeypatch)("bundleIds")
    for n in range(LIMIT):
        provider.create(bundle_id(n))
    rate = provider.client.last_rate_limit
    assert rate is not None and (rate.limit, rate.remaining) == (LIMIT, 0)

    with pytest.raises(BudgetExhausted) as caught:
        provider.create(bundle_id(LIMIT))
    message = str(caught.value)
    assert message.startswith(
        "POST /v1/bundleIds failed: not sent: the API key's hourly request budget is used up (X-Rate-Limit at "
    )
    assert "user-hour-lim 3, user-hour-rem 0)" in message
    assert "at the latest if nothing else spends it. Nothing was sent for this request" in message
    log, identifiers = seen(small_budget)
    assert log == [("POST", 201)] * LIMIT  # the emulator never saw the fourth create
    assert identifiers == [f"com.example.app{n}" for n in range(LIMIT)]

    # A re-run (a new provider process: no reading yet) sends its first request; the emulator
    # refuses it with Retry-After until the oldest request leaves the rolling hour, beyond the
    # client's wait cap: the create fails at once, and nothing was created.
    rerun = connect(small_budget, monkeypatch)("bundleIds")
    with pytest.raises(RateLimitedError) as again:
        rerun.create(bundle_id(LIMIT))
    assert type(again.value) is RateLimitedError and again.value.attempts == 1
    hint = str(again.value).split("\nHint: ", 1)[1]
    assert hint.startswith(
        "App Store Connect refused the request: the API key's hourly request budget is used up "
        "(X-Rate-Limit: user-hour-lim 3, user-hour-rem 0). Apple asked to retry after "
    )
    assert "A 429 means App Store Connect did not process the request" in hint
    log, identifiers = seen(small_budget)
    assert log == [("POST", 201)] * LIMIT + [("POST", 429)]
    assert len(identifiers) == LIMIT
