"""Fault suite: hundreds of resource operations with ~10 % of requests faulted.

A seeded workload creates, reads, updates and deletes every resource type (the signing types,
TestFlight groups and testers with their memberships) through the real
provider and client against the emulator, while the emulator answers about one request in ten
with a 429 (with and without Retry-After), a 500 or 503, or drops the connection before or after
committing. The driver keeps a state the way the engine does (a failed create leaves nothing,
a failed update or delete leaves the old entry). Then the faults stop, a "re-run" converges,
and the invariants are checked: no duplicate remote object, no orphan, state equals remote and
a diff shows no change.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import httpx
import pytest

from pulumi_appstoreconnect import reconciler
from pulumi_appstoreconnect.client import AppStoreConnectError
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.reconciler import SpecProvider

from ..providers import connect

SEED = 20261122
APP = "6450000001"  # made out of band before the faults start: Apple's API cannot create apps
FAULTS = [  # about 10-12 % of /v1 requests in all (the first rule that fires decides)
    # The nasty case for POST, made frequent enough that every run exercises it.
    {"kind": "drop_after_commit", "methods": ["POST"], "probability": 0.12},
    {"kind": "429", "probability": 0.02, "retryAfter": 1},
    {"kind": "429", "probability": 0.02},
    {"kind": "500", "probability": 0.02},
    {"kind": "503", "probability": 0.02},
    {"kind": "drop_before_commit", "probability": 0.02},
    {"kind": "drop_after_commit", "probability": 0.03},
]
REPORT: dict[str, Any] = {}  # printed by conftest.py at the end of the run


@dataclass
class Managed:
    """One declared resource and what the 'state' knows of it."""

    rest_type: str
    name: str
    inputs: dict[str, Any]
    id: str | None = None
    outs: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False  # the program no longer declares it


class Driver:
    """Runs provider operations like the engine: errors are recorded, state is kept."""

    def __init__(self, provider: Callable[[str], SpecProvider]) -> None:
        self.provider = provider
        self.ops: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()

    def _call(self, op: str, fn: Callable[[], Any]) -> Any:
        self.ops[op] += 1
        try:
            return fn()
        except AppStoreConnectError:
            self.failed[op] += 1
            return None

    def create(self, r: Managed) -> None:
        p = self.provider(r.rest_type)
        checked = p.check({}, resolve(r.inputs))
        assert checked.failures == [], checked.failures
        result = self._call("create", lambda: p.create(checked.inputs))
        if result is not None:
            r.id, r.outs = result.id, result.outs

    def read(self, r: Managed) -> None:
        p = self.provider(r.rest_type)
        result = self._call("read", lambda: p.read(r.id, r.outs))
        if result is not None and result.id:
            r.outs = result.outs

    def update(self, r: Managed, change: dict[str, Any]) -> None:
        p = self.provider(r.rest_type)
        news = p.check(r.outs, resolve({**r.inputs, **change})).inputs
        diff = p.diff(r.id, r.outs, news)
        assert not diff.replaces, diff.replaces
        r.inputs.update(change)
        result = self._call("update", lambda: p.update(r.id, r.outs, news))
        if result is not None:
            r.outs = result.outs

    def delete(self, r: Managed) -> None:
        p = self.provider(r.rest_type)
        r.deleted = True
        if self._call("delete", lambda: p.delete(r.id, r.outs) or True):
            r.id, r.outs = None, {}


RESOLVED: dict[str, Managed] = {}


def resolve(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs that refer to other resources ("ref:<name>") get their ids, as Outputs would."""
    def one(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("ref:"):
            return RESOLVED[value[4:]].id
        if isinstance(value, list):
            return [one(v) for v in value]
        return value
    return {k: one(v) for k, v in inputs.items()}


def declare() -> list[Managed]:
    rng = random.Random(SEED)
    declared: list[Managed] = []
    for i in range(12):
        declared.append(Managed("bundleIds", f"app{i}", {
            "identifier": f"com.example.faults.app{i}", "platform": "IOS", "name": f"Fault App {i}"}))
    for i in range(12):
        for cap in rng.sample(["PUSH_NOTIFICATIONS", "GAME_CENTER", "IN_APP_PURCHASE", "MAPS"], 2):
            declared.append(Managed("bundleIdCapabilities", f"app{i}-{cap}", {
                "bundle_id": f"ref:app{i}", "capability_type": cap}))
    for i in range(16):
        declared.append(Managed("devices", f"device{i}", {
            "udid": f"00008030-{i:016X}", "platform": "IOS", "name": f"Device {i}"}))
    for i in range(3):
        declared.append(Managed("certificates", f"cert{i}", {"certificate_type": "IOS_DEVELOPMENT"}))
    for i in range(6):
        declared.append(Managed("profiles", f"profile{i}", {
            "name": f"Fault profile {i}", "profile_type": "IOS_APP_DEVELOPMENT", "bundle_id": f"ref:app{i}",
            "certificates": [f"ref:cert{i % 3}"], "devices": [f"ref:device{j}" for j in range(i, i + 4)]}))
    for i in range(6):
        declared.append(Managed("betaGroups", f"group{i}", {
            "app": APP, "name": f"Fault group {i}", "is_internal_group": i % 3 == 0}))
    for i in range(12):
        declared.append(Managed("betaTesters", f"tester{i}", {
            "email": f"fault.tester{i}@example.com", "groups": [f"ref:group{i % 6}", f"ref:group{(i + 2) % 6}"]}))
    return declared


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = Emulator(tmp_path_factory.mktemp("faults"))
    yield emu
    emu.close()


def admin(emulator: Emulator) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url="http://emulator")


def test_hundreds_of_operations_under_faults_leave_no_duplicate_or_orphan(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    provider = connect(emulator, monkeypatch, sleep=slept.append)
    driver = Driver(provider)
    declared = declare()
    RESOLVED.update({r.name: r for r in declared})
    rng = random.Random(SEED + 1)
    with admin(emulator) as api:
        api.post("/_emulator/objects/apps", json={"id": APP, "attributes": {"name": "Faults", "bundleId": "com.example.faults"}})
        assert api.post("/_emulator/faults", json={"seed": str(SEED), "rules": FAULTS}).status_code in (200, 201)

        # Phase 1: create in dependency order (a failed dependency skips its dependents).
        for r in declared:
            if all(RESOLVED[ref].id for ref in refs(r)):
                driver.create(r)
        # Phase 2: a random mix of reads and in-place updates.
        for step in range(220):
            r = rng.choice([m for m in declared if m.id])
            if step % 3 == 0 and r.rest_type in ("bundleIds", "devices", "betaGroups"):
                driver.update(r, {"name": f"{r.inputs['name'].split(' #')[0]} #{step}"})
            elif step % 3 == 0 and r.rest_type == "betaTesters":
                # Memberships change by difference: one group out, another in.
                groups = r.inputs["groups"]
                driver.update(r, {"groups": [groups[-1], f"ref:group{(int(groups[-1][9:]) + 1) % 6}"]})
            else:
                driver.read(r)
        # Phase 3: drop some resources from the "program" (dependents first).
        for r in [m for m in declared if m.id and m.rest_type == "profiles"][:3] + \
                 [m for m in declared if m.id and m.rest_type == "bundleIdCapabilities"][:6] + \
                 [m for m in declared if m.id and m.rest_type == "devices"][-4:] + \
                 [m for m in declared if m.id and m.rest_type == "betaTesters"][:3]:
            driver.delete(r)

        faults = api.get("/_emulator/faults").json()
        api.delete("/_emulator/faults")
        faulted = Counter(
            f"{r['method']} {r['fault']}" for r in api.get("/_emulator/requests").json()["data"] if r.get("fault")
        )

        # Re-run (`pulumi up` again, faults gone): converge on what is declared. A new run is a
        # new provider process, which knows nothing of the first run's writes.
        from pulumi_appstoreconnect.reconciler import _MEMORY

        _MEMORY.forget()
        for r in declared:
            if r.deleted and r.id:
                driver.delete(r)
            elif not r.deleted and not r.id and all(RESOLVED[ref].id for ref in refs(r)):
                driver.create(r)
            elif not r.deleted and r.id:
                driver.read(r)
                news = provider(r.rest_type).check(r.outs, resolve(r.inputs)).inputs
                if provider(r.rest_type).diff(r.id, r.outs, news).changes:
                    driver.update(r, {})
        assert all(r.id for r in declared if not r.deleted), "the re-run did not converge"

        remote = {t: api.get(f"/_emulator/objects/{t}").json()["data"] for t in
                  ("bundleIds", "bundleIdCapabilities", "devices", "certificates", "profiles", "betaGroups", "betaTesters")}
        members = {tester_id for g in remote["betaGroups"] for tester_id in group_members(emulator, g["id"])}

    state_ids = {r.rest_type: set() for r in declared}
    for r in declared:
        if r.id:
            state_ids[r.rest_type].add(r.id)
    # Apple enables Game Center and In-App Purchase on every new App ID itself: not orphans.
    apple_made = {f"{o['id']}_{t}" for o in remote["bundleIds"] for t in ("GAME_CENTER", "IN_APP_PURCHASE")}
    live = {t: {o["id"] for o in objs if o["attributes"].get("status", "ENABLED") == "ENABLED"
                and o["attributes"].get("enabled", True) is not False and o["id"] not in apple_made}
            for t, objs in remote.items()}
    # A tester destroy takes it out of the stack's groups and it stays on the team: only one still
    # in a group is live.
    live["betaTesters"] = {t for t in live["betaTesters"] if t in members}
    orphans = {t: sorted(live[t] - state_ids[t]) for t in live if live[t] - state_ids[t]}
    keys = {"bundleIds": "identifier", "devices": "udid", "profiles": "name", "bundleIdCapabilities": None,
            "betaGroups": "name", "betaTesters": "email"}
    duplicates = {}
    for t, key in keys.items():
        values = [o["attributes"][key].lower() if key else o["id"] for o in remote[t]]
        duplicates.update({f"{t}:{v}": n for v, n in Counter(values).items() if n > 1})
    extra_certificates = len(remote["certificates"]) - len(state_ids["certificates"])

    # State equals remote, and a preview would show nothing to do.
    drift = []
    for r in declared:
        if not r.id:
            continue
        p = provider(r.rest_type)
        read = p.read(r.id, r.outs)
        news = p.check(r.outs, resolve(r.inputs)).inputs
        if read.id != r.id or p.diff(r.id, read.outs, news).changes:
            drift.append(r.name)

    stats = reconciler._CLIENTS.get(next(iter(reconciler._CLIENTS._clients))).stats  # type: ignore[attr-defined]
    REPORT.update(
        operations=sum(driver.ops.values()), by_operation=dict(driver.ops), failed=dict(driver.failed),
        faults=faults["totals"], injected=faults["injected"], faulted=dict(faulted), duplicates=len(duplicates),
        orphans=sum(map(len, orphans.values())), extra_certificates=extra_certificates,
        requests=stats.requests, sent=stats.sent, retries=dict(stats.retries), seconds_waited=round(sum(slept), 1),
    )
    assert sum(driver.ops.values()) >= 300, driver.ops
    assert faults["injected"] >= 0.07 * stats.sent, (faults, stats.sent)
    assert {k for k, n in faults["totals"].items() if n} >= {"429", "500", "503", "drop_before_commit", "drop_after_commit"}
    assert faulted["POST drop_after_commit"] >= 3, faulted
    assert duplicates == {} and orphans == {} and extra_certificates == 0
    assert drift == []


def group_members(emulator: Emulator, group_id: str) -> list[str]:
    """A group's testers as the emulator keeps them (the group holds the membership)."""
    obj = emulator.store.get("betaGroups", group_id)
    members = obj.relationships.get("betaTesters") if obj else None
    return list(members) if isinstance(members, list) else []


def refs(r: Managed) -> list[str]:
    found = []
    for value in r.inputs.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.startswith("ref:"):
                found.append(item[4:])
    return found
