"""Fault injection (``/_emulator/faults``) seen through the real client, in process
(``httpx.WSGITransport``) and over a real socket (``Emulator.serve``).

The client gets a fake ``sleep``/``clock`` so retries cost no time; the emulator's own latency
faults sleep for real over the socket and through a recorder in process.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from pulumi_appstoreconnect.client import (
    AppStoreConnectClient,
    ConnectionFailed,
    NotFoundError,
    RetryPolicy,
    ServerError,
)
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.emulator.faults import KINDS, request_identity
from pulumi_appstoreconnect.settings import Settings

from .support import BASE_URL, FakeTime, error



@dataclass
class Rig:
    """One emulator, the real client and an admin client, in process or over a socket."""

    mode: str
    emu: Emulator
    client: AppStoreConnectClient
    admin: httpx.Client
    time: FakeTime
    latency_sleeps: list[float] = field(default_factory=list)

    def add(self, *rules: dict[str, Any], seed: Any = None) -> list[str]:
        body: Any = {"rules": list(rules)} if seed is None else {"seed": seed, "rules": list(rules)}
        response = self.admin.post("/_emulator/faults", json=body)
        assert response.status_code == 201, response.text
        return response.json()["ids"]

    def faults(self) -> dict[str, Any]:
        return self.admin.get("/_emulator/faults").json()

    def rule(self, rule_id: str) -> dict[str, Any]:
        return self.admin.get(f"/_emulator/faults/{rule_id}").json()["data"]

    def log(self) -> list[dict[str, Any]]:
        return self.admin.get("/_emulator/requests").json()["data"]

    def objects(self, rest_type: str) -> list[dict[str, Any]]:
        return self.admin.get(f"/_emulator/objects/{rest_type}").json()["data"]


def _settings(emu: Emulator, base_url: str) -> Settings:
    return Settings(issuer_id=emu.issuer_id, key_id=emu.key_id, private_key_pem=emu.private_key_pem, base_url=base_url)


@pytest.fixture(params=["wsgi", "socket"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    fake = FakeTime()
    latency: list[float] = []
    if request.param == "wsgi":
        emu = Emulator(tmp_path / "state", sleep=latency.append)
        transport = httpx.WSGITransport(app=emu.app)
        client = AppStoreConnectClient(
            _settings(emu, BASE_URL), transport=transport, sleep=fake.sleep, clock=fake.clock, rand=lambda: 0.5
        )
        admin = httpx.Client(transport=httpx.WSGITransport(app=emu.app), base_url=BASE_URL)
        yield Rig("wsgi", emu, client, admin, fake, latency)
        client.close()
        admin.close()
        emu.close()
        return
    emu = Emulator(tmp_path / "state")
    server = emu.serve(port=0)
    client = AppStoreConnectClient(
        _settings(emu, server.base_url), sleep=fake.sleep, clock=fake.clock, rand=lambda: 0.5, timeout=30
    )
    admin = httpx.Client(base_url=server.base_url, timeout=30)
    try:
        yield Rig("socket", emu, client, admin, fake)
    finally:
        client.close()
        admin.close()
        server.shutdown()
        emu.close()


def _bundle(client: AppStoreConnectClient, identifier: str) -> dict[str, Any]:
    return client.create("bundleIds", {"identifier": identifier, "name": "Fault test", "platform": "IOS"})


# -- latency ---------------------------------------------------------------------------------


def test_latency_is_added_before_matching_requests_only(tmp_path: Path) -> None:
    slept: list[float] = []
    emu = Emulator(tmp_path / "s", sleep=slept.append)
    try:
        admin = httpx.Client(transport=httpx.WSGITransport(app=emu.app), base_url=BASE_URL)
        assert admin.post("/_emulator/faults", json=[
            {"kind": "latency", "seconds": 1.5, "path": "/v1/bundleIds*"},
            {"kind": "latency", "seconds": 0.25, "methods": ["GET"], "path": "/v1/bundleIds"},
        ]).status_code == 201
        client = AppStoreConnectClient(_settings(emu, BASE_URL), transport=httpx.WSGITransport(app=emu.app))
        client.list_all("/v1/bundleIds")
        assert slept == [1.75]  # matching latency rules stack
        client.list_all("/v1/devices")
        _bundle(client, "com.latency.app")
        assert slept == [1.75, 1.5]
        log = admin.get("/_emulator/requests").json()["data"]
        assert [(e["path"], e["fault"], e["delay"], e["status"], e["committed"]) for e in log] == [
            ("/v1/bundleIds", "latency", 1.75, 200, True),
            ("/v1/devices", None, 0.0, 200, True),
            ("/v1/bundleIds", "latency", 1.5, 201, True),
        ]
        assert admin.get("/_emulator/faults").json()["totals"]["latency"] == 3
    finally:
        emu.close()


def test_latency_over_a_real_socket(emulator: Emulator) -> None:
    with emulator.serve(port=0) as server, httpx.Client(base_url=server.base_url) as admin:
        client = AppStoreConnectClient(_settings(emulator, server.base_url))
        assert admin.post("/_emulator/faults", json={"kind": "latency", "seconds": 0.3, "times": 1}).status_code == 201
        started = time.monotonic()
        client.list_all("/v1/devices")
        assert time.monotonic() - started >= 0.3
        client.list_all("/v1/devices")
        client.close()
        first, second = admin.get("/_emulator/requests").json()["data"]
    assert first["fault"] == "latency" and first["delay"] == 0.3 and first["duration_ms"] >= 300
    assert second["fault"] is None and second["delay"] == 0


# -- 429 -------------------------------------------------------------------------------------


def test_429_burst_with_retry_after_is_waited_out(rig: Rig) -> None:
    rig.add({"kind": "429", "retryAfter": 7, "times": 2, "methods": ["GET"], "path": "/v1/bundleIds"})
    before = rig.client.stats
    assert rig.client.list_all("/v1/bundleIds") == []
    spent = rig.client.stats - before
    assert spent.retries == {"429": 2}
    assert rig.time.sleeps == [7.0, 7.0]
    assert [e["status"] for e in rig.log()] == [429, 429, 200]
    assert [e["fault"] for e in rig.log()] == ["429", "429", None]


def test_429_answer_keeps_x_rate_limit_with_budget_left(rig: Rig) -> None:
    rig.add({"kind": "429", "retryAfter": 3, "times": 1}, {"kind": "429", "times": 1})
    raw = rig.client._http  # the client's own HTTP stack, without its retry loop
    with_header = raw.get("/v1/bundleIds")
    without = raw.get("/v1/bundleIds")
    for response in (with_header, without):
        assert response.status_code == 429
        item = error(response)
        assert item["code"] == "RATE_LIMIT_EXCEEDED" and item["status"] == "429"
        assert response.headers["x-rate-limit"].startswith("user-hour-lim:3600;user-hour-rem:")
        assert not response.headers["x-rate-limit"].endswith("rem:0;")  # a burst limit, not the budget
    assert with_header.headers["retry-after"] == "3"
    assert "retry-after" not in without.headers


def test_429_without_retry_after_backs_off_and_a_post_is_resent(rig: Rig) -> None:
    rig.add({"kind": "429", "times": 1, "methods": "POST"})
    created = _bundle(rig.client, "com.burst.app")
    # Full jitter with rand() = 0.5: 0.5 * min(30, 0.5 * 2**0).
    assert rig.time.sleeps == [pytest.approx(0.25)]
    assert rig.client.stats.retries == {"429": 1}
    # Apple did not process the refused POST: exactly one object.
    assert [o["id"] for o in rig.objects("bundleIds")] == [created["id"]]
    assert [(e["status"], e["committed"]) for e in rig.log()] == [(429, False), (201, True)]


# -- 5xx -------------------------------------------------------------------------------------


def test_503_is_retried_for_get(rig: Rig) -> None:
    rig.add({"kind": "503", "times": 2})
    assert rig.client.list_all("/v1/devices") == []
    assert rig.client.stats.retries == {"503": 2}
    assert [e["status"] for e in rig.log()] == [503, 503, 200]


def test_503_on_post_is_not_resent_and_nothing_was_created(rig: Rig) -> None:
    rig.add({"kind": "503", "times": 1, "methods": ["POST"]})
    with pytest.raises(ServerError) as raised:
        _bundle(rig.client, "com.unavailable.app")
    assert raised.value.status == 503
    assert rig.client.stats.ambiguous == {"503": 1}
    assert rig.client.stats.sent == 1
    assert rig.objects("bundleIds") == []


def test_500_and_503_documents_are_apple_shaped(rig: Rig) -> None:
    rig.add({"kind": "500", "times": 1}, {"kind": "503", "times": 1, "retryAfter": 2}, {"kind": "503", "times": 1, "html": True})
    raw = rig.client._http
    internal, unavailable, page = raw.get("/v1/bundleIds"), raw.get("/v1/bundleIds"), raw.get("/v1/bundleIds")
    assert internal.status_code == 500 and error(internal)["code"] == "UNEXPECTED_ERROR"
    assert unavailable.status_code == 503 and error(unavailable)["code"] == "SERVICE_UNAVAILABLE"
    assert unavailable.headers["retry-after"] == "2"
    assert "retry-after" not in internal.headers
    for response in (internal, unavailable, page):
        assert "x-rate-limit" in response.headers
    # Apple's edge answers some 503s with an HTML page; the client must cope.
    assert page.status_code == 503 and page.headers["content-type"] == "text/html"
    assert b"503 Service Temporarily Unavailable" in page.content


def test_gives_up_when_every_attempt_fails(rig: Rig) -> None:
    (rule_id,) = rig.add({"kind": "500", "methods": ["GET"], "pathRegex": r"^/v1/devices$"})
    with pytest.raises(ServerError):
        rig.client.list_all("/v1/devices")
    assert rig.rule(rule_id)["fired"] == RetryPolicy().max_attempts
    assert rig.client.stats.gave_up == {"500": 1}


# -- dropped connections ---------------------------------------------------------------------


def test_drop_after_commit_on_post_creates_the_object_but_the_client_cannot_know(rig: Rig) -> None:
    rig.add({"kind": "drop_after_commit", "methods": ["POST"], "path": "/v1/bundleIds", "times": 1})
    with pytest.raises(ConnectionFailed) as raised:
        _bundle(rig.client, "com.dropped.after")
    assert raised.value.ambiguous is True
    assert isinstance(raised.value.__cause__, httpx.RemoteProtocolError)
    assert rig.client.stats.ambiguous == {"RemoteProtocolError": 1}
    assert rig.client.stats.sent == 1  # a POST is never blindly re-sent
    (stored,) = rig.objects("bundleIds")
    assert stored["attributes"]["identifier"] == "com.dropped.after"
    (entry,) = rig.log()
    assert (entry["method"], entry["status"], entry["fault"], entry["committed"]) == ("POST", 0, "drop_after_commit", True)
    # The natural-key lookup a caller does next finds it.
    found = rig.client.list_all("/v1/bundleIds", {"filter[identifier]": "com.dropped.after"})
    assert [o["id"] for o in found] == [stored["id"]]


def test_drop_before_commit_on_post_leaves_nothing_behind(rig: Rig) -> None:
    rig.add({"kind": "drop_before_commit", "methods": ["POST"], "times": 1})
    with pytest.raises(ConnectionFailed) as raised:
        _bundle(rig.client, "com.dropped.before")
    assert raised.value.ambiguous is True  # the client cannot tell the two drops apart
    assert rig.objects("bundleIds") == []
    (entry,) = rig.log()
    assert (entry["status"], entry["fault"], entry["committed"]) == (0, "drop_before_commit", False)
    # The caller's retry after finding nothing succeeds.
    assert _bundle(rig.client, "com.dropped.before")["attributes"]["identifier"] == "com.dropped.before"


def test_dropped_get_and_patch_are_retried(rig: Rig) -> None:
    created = _bundle(rig.client, "com.dropped.idempotent")
    rig.add(
        {"kind": "drop_before_commit", "methods": ["GET"], "times": 1},
        {"kind": "drop_after_commit", "methods": ["PATCH"], "times": 1},
    )
    assert [o["id"] for o in rig.client.list_all("/v1/bundleIds")] == [created["id"]]
    updated = rig.client.update("bundleIds", created["id"], {"name": "Renamed"})
    assert updated["attributes"]["name"] == "Renamed"
    assert rig.client.stats.retries == {"RemoteProtocolError": 2}
    assert [(e["method"], e["status"], e["fault"], e["committed"]) for e in rig.log()[1:]] == [
        ("GET", 0, "drop_before_commit", False),
        ("GET", 200, None, True),
        ("PATCH", 0, "drop_after_commit", True),
        ("PATCH", 200, None, True),
    ]


def test_a_drop_is_a_remote_protocol_error_for_plain_httpx(rig: Rig) -> None:
    rig.add({"kind": "drop_after_commit", "times": 3})
    raw = rig.client._http
    for _ in range(3):
        with pytest.raises(httpx.RemoteProtocolError):
            raw.get("/v1/devices")
    assert raw.get("/v1/devices").status_code == 200  # the server keeps serving


# -- matching, counts, probability -----------------------------------------------------------


def test_rules_match_on_method_and_path(rig: Rig) -> None:
    rig.add(
        {"kind": "503", "methods": ["post"], "path": "/v1/devices*"},
        {"kind": "500", "methods": ["GET"], "pathRegex": r"^/v1/bundleIds/[^/]+$"},
    )
    assert rig.client.list_all("/v1/devices") == []  # GET: not the rule's method
    created = _bundle(rig.client, "com.match.app")  # POST elsewhere: not the rule's path
    with pytest.raises(ServerError):
        rig.client.create("devices", {"udid": "00008030-0000000000000001", "name": "D", "platform": "IOS"})
    # The regex covers the instance, not the collection nor the related paths.
    assert len(rig.client.list_all("/v1/bundleIds")) == 1
    rig.client.list_all(f"/v1/bundleIds/{created['id']}/bundleIdCapabilities")
    with pytest.raises(ServerError):
        rig.client.get(f"/v1/bundleIds/{created['id']}")
    faults = rig.faults()
    assert [r["fired"] for r in faults["data"]] == [1, RetryPolicy().max_attempts]
    assert faults["totals"]["503"] == 1 and faults["totals"]["500"] == RetryPolicy().max_attempts


def test_times_applies_to_the_next_n_matching_requests(rig: Rig) -> None:
    (rule_id,) = rig.add({"kind": "503", "times": 3, "methods": ["GET"]})
    raw = rig.client._http
    statuses = [raw.get("/v1/devices").status_code for _ in range(5)]
    assert statuses == [503, 503, 503, 200, 200]
    rule = rig.rule(rule_id)
    assert (rule["fired"], rule["matched"], rule["remaining"], rule["exhausted"]) == (3, 3, 0, True)


def _pattern(emu: Emulator, seed: Any, probability: float = 0.5, n: int = 40, **extra: Any) -> list[int]:
    admin = httpx.Client(transport=httpx.WSGITransport(app=emu.app), base_url=BASE_URL)
    admin.delete("/_emulator/faults")
    rule = {"kind": "503", "probability": probability, "seed": seed, **extra}
    assert admin.post("/_emulator/faults", json=rule).status_code == 201
    client = AppStoreConnectClient(_settings(emu, BASE_URL), transport=httpx.WSGITransport(app=emu.app))
    return [client._http.get("/v1/devices").status_code for _ in range(n)]


def test_probability_is_reproducible_with_a_seed(emulator: Emulator, tmp_path: Path) -> None:
    first = _pattern(emulator, 1234)
    other = Emulator(tmp_path / "other")
    try:
        assert _pattern(other, 1234) == first  # another emulator, the same seed: the same run
        assert _pattern(other, 99) != first
    finally:
        other.close()
    assert 0 < first.count(503) < len(first)
    assert set(first) == {200, 503}
    assert _pattern(emulator, 7, probability=0.0) == [200] * 40
    capped = _pattern(emulator, 7, probability=0.5, times=3)
    assert capped.count(503) == 3
    (rule,) = httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL).get(
        "/_emulator/faults"
    ).json()["data"]
    assert rule["fired"] == 3 and rule["matched"] > 3


def test_a_call_seed_gives_each_rule_its_own_stream(admin: httpx.Client) -> None:
    body = {"seed": 42, "rules": [{"kind": "500", "probability": 0.5}, {"kind": "503", "probability": 0.5, "seed": "mine"}]}
    created = admin.post("/_emulator/faults", json=body).json()
    assert [r["seed"] for r in created["data"]] == ["42:0", "mine"]
    unseeded = admin.post("/_emulator/faults", json={"kind": "500", "probability": 0.5}).json()["data"]
    assert unseeded["seed"]  # a random seed, shown so that the run can be replayed



# Each identity three times (a request and its retries), a query in two parameter orders.
IDENTITIES = [
    *(f"/v1/devices?filter%5Budid%5D=UDID-{i}" for i in range(12)),
    *(f"/v1/bundleIds/{i}" for i in range(12)),
    "/v1/certificates?limit=200&filter%5BcertificateType%5D=IOS_DEVELOPMENT",
    "/v1/certificates?filter%5BcertificateType%5D=IOS_DEVELOPMENT&limit=200",
]
ORDER_RULES = {
    "seed": "order",
    "rules": [{"kind": "503", "probability": 0.3}, {"kind": "429", "methods": ["GET"], "probability": 0.3}],
}


def _faults_by_identity(base_url: str, order: list[str], workers: int) -> tuple[dict[str, Counter[int]], list[int]]:
    """Send ``order`` (unauthenticated: faults are decided before authentication, so an
    unfaulted request is a 401) and group the statuses by request identity."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        http.delete("/_emulator/faults")
        assert http.post("/_emulator/faults", json=ORDER_RULES).status_code == 201
        with ThreadPoolExecutor(max_workers=workers) as pool:
            statuses = list(pool.map(lambda url: http.get(url).status_code, order))
        fired = [rule["fired"] for rule in http.get("/_emulator/faults").json()["data"]]
    seen: dict[str, Counter[int]] = {}
    for url, status in zip(order, statuses):
        path, _, query = url.partition("?")
        seen.setdefault(request_identity("GET", path, query), Counter())[status] += 1
    return seen, fired


def test_probability_faults_follow_request_identity_not_arrival_order(tmp_path: Path) -> None:
    requests = [url for url in IDENTITIES for _ in range(3)]
    shuffled = list(requests)
    random.Random(5).shuffle(shuffled)
    emu = Emulator(tmp_path / "state")
    server = emu.serve(port=0)
    try:
        in_order, fired = _faults_by_identity(server.base_url, requests, workers=1)
        interleaved, fired_again = _faults_by_identity(server.base_url, shuffled, workers=8)
    finally:
        server.shutdown()
        emu.close()
    assert interleaved == in_order and fired_again == fired  # the same requests fail, whatever the order
    assert len(in_order) == len(IDENTITIES) - 1  # parameter order does not make another identity
    outcomes = Counter(status for counts in in_order.values() for status in counts.elements())
    assert set(outcomes) == {401, 429, 503}, outcomes
    # Occurrences draw separately: some identity fails once and then passes (a retry can succeed).
    assert any(counts[401] and (counts[429] or counts[503]) for counts in in_order.values()), in_order


# -- the admin API ---------------------------------------------------------------------------


def test_admin_lists_fired_counts_and_totals_by_kind(rig: Rig) -> None:
    ids = rig.add(
        {"kind": "503", "times": 1, "methods": ["GET"]},
        {"kind": "drop_before_commit", "times": 1, "methods": ["GET"]},
        {"kind": "latency", "seconds": 0.001, "times": 2, "path": "/v1/devices"},
    )
    assert ids == ["f1", "f2", "f3"]
    rig.client.list_all("/v1/devices")  # 503, then dropped, then served; latency on the first two
    listing = rig.faults()
    assert {r["id"]: r["fired"] for r in listing["data"]} == {"f1": 1, "f2": 1, "f3": 2}
    assert listing["totals"] == {**dict.fromkeys(KINDS, 0), "503": 1, "drop_before_commit": 1, "latency": 2}
    assert listing["injected"] == 4
    log = rig.log()
    assert [(e["status"], e["fault"]) for e in log] == [(503, "503"), (0, "drop_before_commit"), (200, None)]
    assert [e["delay"] for e in log] == [0.001, 0.001, 0.0]

    assert rig.admin.delete("/_emulator/faults/f1").status_code == 204
    assert rig.admin.get("/_emulator/faults/f1").status_code == 404
    assert rig.admin.delete("/_emulator/faults/f1").status_code == 404
    assert [r["id"] for r in rig.faults()["data"]] == ["f2", "f3"]
    # Clearing the rules keeps the run's totals; a reset clears both (and the objects).
    assert rig.admin.delete("/_emulator/faults").status_code == 204
    after_clear = rig.faults()
    assert after_clear["data"] == [] and after_clear["injected"] == 4
    rig.add({"kind": "500"})
    assert rig.admin.post("/_emulator/reset").status_code == 200
    after_reset = rig.faults()
    assert after_reset["data"] == [] and after_reset["injected"] == 0
    assert rig.client.list_all("/v1/devices") == []  # the 500 rule is gone


def test_one_rule_answers_one_object_and_a_list_answers_a_list(admin: httpx.Client) -> None:
    one = admin.post("/_emulator/faults", json={"kind": "latency", "seconds": 1}).json()
    assert one["ids"] == ["f1"] and one["data"]["id"] == "f1" and one["data"]["kind"] == "latency"
    many = admin.post("/_emulator/faults", json=[{"kind": 429}, {"kind": "500"}]).json()
    assert many["ids"] == ["f2", "f3"] and [r["kind"] for r in many["data"]] == ["429", "500"]
    assert many["data"][0]["methods"] is None and many["data"][0]["path"] is None


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"kind": "teapot"}, "'kind' must be one of"),
        ({"kind": "latency"}, "needs 'seconds'"),
        ({"kind": "latency", "seconds": 0}, "needs 'seconds'"),
        ({"kind": "500", "seconds": 1}, "latency rules only"),
        ({"kind": "500", "probability": 1.5}, "'probability'"),
        ({"kind": "500", "times": 0}, "'times'"),
        ({"kind": "500", "times": True}, "'times'"),
        ({"kind": "500", "probablity": 0.5}, "unknown key"),
        ({"kind": "500", "path": "/v1/*", "pathRegex": "^/v1"}, "not both"),
        ({"kind": "500", "pathRegex": "("}, "does not compile"),
        ({"kind": "500", "methods": []}, "'methods'"),
        ({"kind": "drop_after_commit", "retryAfter": 5}, "'retryAfter'"),
        ({"kind": "429", "retryAfter": -1}, "'retryAfter'"),
        ({"kind": "429", "html": True}, "'html'"),
        ({"kind": "500", "seed": 1.5}, "'seed'"),
        ([], "non-empty list"),
        ("500", "Expected a rule"),
        ({"rules": {"kind": "500"}}, "'rules' must be a list"),
        ({"rules": [], "speed": 1}, "Unknown key"),
        ([{"kind": "500"}, {"kind": "nope"}], "rule 1"),
    ],
)
def test_invalid_rules_are_refused_and_nothing_is_added(admin: httpx.Client, body: Any, detail: str) -> None:
    response = admin.post("/_emulator/faults", json=body)
    assert response.status_code == 400, response.text
    item = error(response)
    assert item["code"] == "INVALID_FAULT" and detail in item["detail"]
    assert admin.get("/_emulator/faults").json()["data"] == []


def test_admin_requests_are_never_faulted(rig: Rig) -> None:
    rig.add({"kind": "drop_before_commit"}, {"kind": "500", "path": "*"})
    assert rig.admin.get("/_emulator/health").status_code == 200
    assert rig.admin.get("/_emulator/requests").status_code == 200
    assert rig.faults()["injected"] == 0
    assert rig.admin.delete("/_emulator/faults").status_code == 204
    assert rig.admin.get("/_emulator/faults/f9").status_code == 404
    assert rig.admin.put("/_emulator/faults").status_code == 405


def test_unfaulted_requests_are_logged_as_before(api: httpx.Client, admin: httpx.Client) -> None:
    api.get("/v1/bundleIds")
    api.get("/v1/bundleIds/NOPE")
    log = admin.get("/_emulator/requests").json()["data"]
    assert [(e["status"], e["fault"], e["delay"], e["committed"]) for e in log] == [(200, None, 0.0, True), (404, None, 0.0, False)]


def test_a_state_file_from_before_the_fault_columns_is_upgraded(tmp_path: Path) -> None:
    state = tmp_path / "old"
    state.mkdir()
    with sqlite3.connect(state / "emulator.sqlite3") as db:
        db.executescript(
            "CREATE TABLE request_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT NULL, "
            "path TEXT NOT NULL, query TEXT NOT NULL, status INTEGER NOT NULL, time TEXT NOT NULL, "
            "duration_ms REAL NOT NULL);"
            "INSERT INTO request_log (method, path, query, status, time, duration_ms) "
            "VALUES ('GET', '/v1/devices', '', 200, '2026-01-01T00:00:00.000Z', 1.0);"
        )
    emu = Emulator(state)
    try:
        emu.store.log_request("GET", "/v1/devices", "", 0, "2026-01-01T00:00:01.000Z", 1.0, fault="drop_before_commit", committed=False)
        old, new = emu.store.requests()
        assert (old["status"], old["fault"], old["delay"]) == (200, None, 0.0)
        assert (new["status"], new["fault"], new["committed"]) == (0, "drop_before_commit", False)
    finally:
        emu.close()


def test_faults_are_held_in_memory_only(tmp_path: Path) -> None:
    first = Emulator(tmp_path / "s")
    first.faults.add({"kind": "500"})
    first.close()
    second = Emulator(tmp_path / "s")
    try:
        assert second.faults.rules() == []
        client = AppStoreConnectClient(_settings(second, BASE_URL), transport=httpx.WSGITransport(app=second.app))
        with pytest.raises(NotFoundError):
            client.get("/v1/bundleIds/NOPE")
    finally:
        second.close()


def test_concurrent_requests_fire_a_counted_rule_exactly_times(rig: Rig) -> None:
    from concurrent.futures import ThreadPoolExecutor

    (rule_id,) = rig.add({"kind": "503", "times": 5, "methods": ["GET"]})
    raw: Callable[[int], int] = lambda _: rig.client._http.get("/v1/devices").status_code  # noqa: E731
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(raw, range(24)))
    assert statuses.count(503) == 5 and statuses.count(200) == 19
    assert rig.rule(rule_id)["fired"] == 5
