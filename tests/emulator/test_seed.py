"""``--seed``: start from a realistic account, with what Apple's API cannot create."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.emulator.seeding import SEEDS_DIR, SeedError, load_seed, shipped_seeds
from pulumi_appstoreconnect.emulator.server import main

from .test_server import _start, _token, _wait_ready, processes  # noqa: F401 - fixture


def test_the_demo_seed_gives_a_realistic_account(emulator: Emulator, api: httpx.Client) -> None:
    created = load_seed(emulator, "demo")
    assert created == {
        "bundleIds": 4, "bundleIdCapabilities": 3, "devices": 5, "certificates": 2, "profiles": 2, "apps": 2, "preReleaseVersions": 2, "builds": 3,
        "appCategories": 57, "appStoreVersions": 1,
    }
    # The app Apple's API cannot create, reached through its bundle ID.
    app = api.get("/v1/bundleIds/DEMOAPP001/app").json()["data"]
    assert (app["type"], app["id"], app["attributes"]["bundleId"]) == ("apps", "6450000001", "com.example.demo")
    # The portal-made UNIVERSAL App ID shows up for an iOS client too.
    ios = [b["attributes"]["identifier"] for b in api.get("/v1/bundleIds", params={"filter[platform]": "IOS"}).json()["data"]]
    assert ios == ["com.example.demo", "com.example.demo.widget", "com.example.everywhere"]
    # Computed attributes were filled: the certificates are real, the profiles signed and valid.
    profile = api.get("/v1/profiles/DEMOPROF01", params={"include": "devices"}).json()
    assert profile["data"]["attributes"]["profileState"] == "ACTIVE" and profile["data"]["attributes"]["profileContent"]
    assert {d["id"] for d in profile["included"]} == {"DEMODEV001", "DEMODEV002"}
    capabilities = api.get("/v1/bundleIds/DEMOAPP001/bundleIdCapabilities").json()["data"]
    # The seeded two, and the two Apple enables on every new explicit App ID.
    assert {c["attributes"]["capabilityType"] for c in capabilities} == {"PUSH_NOTIFICATIONS", "ICLOUD", "GAME_CENTER", "IN_APP_PURCHASE"}
    enabled = api.get("/v1/devices", params={"filter[status]": "ENABLED"}).json()["data"]
    assert len(enabled) == 4


def test_a_state_with_objects_is_not_seeded_again(emulator: Emulator) -> None:
    assert load_seed(emulator, "demo")
    assert load_seed(emulator, SEEDS_DIR / "demo.json") == {}
    assert emulator.store.count("bundleIds") == 4


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"bundleIds": [{"attributes": {"identifier": "com.a", "name": "A", "platform": "IOS"}}], "gadgets": []}, "unknown type(s) gadgets"),
        ({"bundleIds": {"identifier": "com.a"}}, "'bundleIds' must be a list"),
        (
            {"bundleIds": [
                {"attributes": {"identifier": "com.a", "name": "A", "platform": "IOS"}},
                {"attributes": {"identifier": "com.a", "name": "B", "platform": "IOS"}},
            ]},
            "An App ID with Identifier 'com.a' is not available",
        ),
        ([1, 2], "must be a JSON object of types"),
    ],
)
def test_a_bad_seed_file_changes_nothing(emulator: Emulator, tmp_path: Path, document: Any, message: str) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_seed(emulator, path)
    assert emulator.store.count() == 0


def test_shipped_seeds_and_a_missing_file() -> None:
    assert "demo" in shipped_seeds()
    with pytest.raises(SeedError, match="not found .*shipped seeds: demo"):
        load_seed(None, "no-such-seed")  # type: ignore[arg-type]


def test_the_command_line_seeds_on_first_start(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:  # noqa: F811
    state, ready = tmp_path / "state", tmp_path / "ready.json"
    process = _start(state, ready, "--seed", "demo")
    processes.append(process)
    info = _wait_ready(process, ready)
    headers = {"Authorization": f"Bearer {_token(info)}"}
    listed = httpx.get(f"{info['base_url']}/v1/bundleIds", headers=headers, timeout=30).json()["data"]
    assert len(listed) == 4
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    assert "seeded 4 bundleIds, 3 bundleIdCapabilities, 5 devices" in stderr
    # A restart on the same state keeps what is there and says so.
    again = _start(state, ready, "--seed", "demo")
    processes.append(again)
    _wait_ready(again, ready)
    again.send_signal(signal.SIGTERM)
    _, stderr = again.communicate(timeout=20)
    assert "already holds objects; --seed demo not loaded" in stderr


def test_the_command_line_refuses_a_bad_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["--state-dir", str(tmp_path / "state"), "--port", "0", "--seed", str(bad), "--quiet"]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
