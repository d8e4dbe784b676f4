"""The real engine under faults: `pulumi up` of examples/signing while ~10 % of requests fail.

Every kind of create has its response dropped after Apple committed it, reads are throttled,
and about one request in ten fails at random. The `up` still succeeds (retries, and look-up
and adopt after an ambiguous POST); a second `up` without faults changes nothing, a
refresh-preview shows no change, and the account holds exactly what the program declares:
no duplicate, no orphan.

The random faults are decided per request identity (method, path, query and occurrence; see
docs/emulator.md), not by arrival order, so the engine's concurrent provider calls cannot
change which requests fail. The targeted rules fire exactly once each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import EmulatorHandle, make_stack

FAULTS = {
    "seed": "engine-faults",
    "rules": [
        # Deterministic: the nasty case on every kind of create, and a throttle on the first read.
        {"kind": "drop_after_commit", "methods": ["POST"], "path": "/v1/devices", "times": 1},
        {"kind": "drop_after_commit", "methods": ["POST"], "path": "/v1/certificates", "times": 1},
        {"kind": "drop_after_commit", "methods": ["POST"], "path": "/v1/profiles", "times": 1},
        {"kind": "drop_after_commit", "methods": ["POST"], "path": "/v1/bundleIdCapabilities", "times": 1},
        {"kind": "429", "methods": ["GET"], "times": 1, "retryAfter": 1},
        # And about one request in ten at random on top.
        {"kind": "429", "probability": 0.03},
        {"kind": "503", "probability": 0.03},
        {"kind": "drop_before_commit", "probability": 0.02},
        {"kind": "drop_after_commit", "probability": 0.02},
    ],
}


def test_up_under_faults_then_rerun_converges_without_duplicates(
    tmp_path: Path, emulator: EmulatorHandle, engine_bin: Path
) -> None:
    emulator.admin("POST", "/reset")
    stack = make_stack("signing", tmp_path, emulator, engine_bin)
    emulator.admin("POST", "/faults", json=FAULTS)
    first = stack.run("up", "--yes", check=False)
    fired = emulator.admin("GET", "/faults")
    emulator.admin("DELETE", "/faults")
    targeted = [(r["kind"], r["methods"], r["path"], r["fired"]) for r in fired["data"] if r["times"] == 1]
    assert targeted == [
        ("drop_after_commit", ["POST"], "/v1/devices", 1),
        ("drop_after_commit", ["POST"], "/v1/certificates", 1),
        ("drop_after_commit", ["POST"], "/v1/profiles", 1),
        ("drop_after_commit", ["POST"], "/v1/bundleIdCapabilities", 1),
        ("429", ["GET"], None, 1),
    ], fired
    # Retries and adopt-after-ambiguous-POST carry the first run through on their own.
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]

    stack.run("up", "--yes")
    proc = stack.run("preview", "--refresh", "--expect-no-changes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    counts = {t: len(emulator.objects(t)) for t in ("bundleIds", "bundleIdCapabilities", "certificates", "profiles")}
    enabled = [d for d in emulator.objects("devices") if d["attributes"]["status"] == "ENABLED"]
    # Capabilities: the program's two and Apple's two defaults (Game Center, In-App Purchase).
    assert counts == {"bundleIds": 1, "bundleIdCapabilities": 4, "certificates": 1, "profiles": 1}, (
        counts, first.stdout[-2000:]
    )
    assert len(enabled) == 3
    state = stack.outputs()
    assert state["certificate_id"] == emulator.objects("certificates")[0]["id"]
    stack.run("destroy", "--yes")


@pytest.fixture(autouse=True)
def _no_faults_left(emulator: EmulatorHandle):  # type: ignore[no-untyped-def]
    yield
    emulator.admin("POST", "/reset")
