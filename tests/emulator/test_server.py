"""The real socket server: the CLI, kill -9 durability, clean stops and concurrent writers."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import httpx
import jwt
import pytest

from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.emulator.server import main

from .support import mint_token


def _start(state_dir: Path, ready: Path, *extra: str) -> subprocess.Popen[str]:
    ready.unlink(missing_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "pulumi_appstoreconnect.emulator", "--port", "0", "--state-dir", str(state_dir), "--ready-file", str(ready), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(process: subprocess.Popen[str], ready: Path, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists():
            return json.loads(ready.read_text())
        if process.poll() is not None:
            raise AssertionError(f"emulator exited early: {process.communicate()}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError("emulator did not become ready")


def _token(info: dict[str, Any]) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iss": info["issuer_id"], "iat": now - 60, "exp": now + 600, "aud": "appstoreconnect-v1"},
        Path(info["private_key_path"]).read_text(),
        algorithm="ES256",
        headers={"kid": info["key_id"]},
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_kill_9_loses_nothing_acknowledged(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    state, ready = tmp_path / "state", tmp_path / "ready.json"
    first = _start(state, ready, "--quiet")
    processes.append(first)
    info = _wait_ready(first, ready)
    assert info["pid"] == first.pid
    assert info["base_url"].startswith("http://127.0.0.1:")
    headers = {"Authorization": f"Bearer {_token(info)}"}
    with httpx.Client(base_url=info["base_url"], headers=headers) as client:
        created = []
        for n in range(5):
            body = {"data": {"type": "bundleIds", "attributes": {"identifier": f"com.durable.app{n}", "name": f"D{n}", "platform": "IOS"}}}
            response = client.post("/v1/bundleIds", json=body)
            assert response.status_code == 201
            created.append(response.json()["data"]["id"])
        renamed = client.patch(
            f"/v1/bundleIds/{created[0]}", json={"data": {"type": "bundleIds", "id": created[0], "attributes": {"name": "Renamed"}}}
        )
        assert renamed.status_code == 200
        assert client.delete(f"/v1/bundleIds/{created[1]}").status_code == 204
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    second = _start(state, ready, "--quiet")
    processes.append(second)
    again = _wait_ready(second, ready)
    assert {k: again[k] for k in ("key_id", "issuer_id", "team_id", "private_key_path")} == {
        k: info[k] for k in ("key_id", "issuer_id", "team_id", "private_key_path")
    }
    # A token minted from the first run's key still works: the key survived too.
    with httpx.Client(base_url=again["base_url"], headers=headers) as client:
        listed = client.get("/v1/bundleIds", params={"limit": "200"}).json()["data"]
    assert [o["id"] for o in listed] == [created[0], *created[2:]]
    assert listed[0]["attributes"]["name"] == "Renamed"
    assert listed[0]["links"]["self"] == f"{again['base_url']}/v1/bundleIds/{created[0]}"


def test_cli_banner_and_clean_sigterm(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    state, ready = tmp_path / "state", tmp_path / "ready.json"
    process = _start(state, ready)
    processes.append(process)
    info = _wait_ready(process, ready)
    httpx.get(f"{info['base_url']}/_emulator/health").raise_for_status()
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert f"export ASC_BASE_URL={info['base_url']}" in stdout
    assert f"export ASC_KEY_ID={info['key_id']}" in stdout
    assert f"export ASC_ISSUER_ID={info['issuer_id']}" in stdout
    assert f"export ASC_PRIVATE_KEY_PATH={info['private_key_path']}" in stdout
    assert "GET /_emulator/health -> 200" in stderr  # the access log
    assert not ready.exists()  # a clean stop withdraws the ready file


def test_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--host", "--port", "--state-dir", "--ready-file", "--quiet", "--rate-limit", "--seed"):
        assert option in text


def test_port_in_use_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    emu = Emulator(tmp_path / "busy")
    server = emu.serve()
    try:
        code = main(["--port", str(server.port), "--state-dir", str(tmp_path / "other"), "--quiet"])
    finally:
        server.shutdown()
        emu.close()
    assert code == 2
    assert "cannot listen" in capsys.readouterr().err


def test_concurrent_creates_of_one_identifier_yield_exactly_one(tmp_path: Path) -> None:
    emu = Emulator(tmp_path / "s")
    server = emu.serve()
    try:
        headers = {"Authorization": f"Bearer {mint_token(emu)}"}

        def create(n: int) -> int:
            identifier = "com.race.same" if n % 2 else f"com.race.distinct{n}"
            body = {"data": {"type": "bundleIds", "attributes": {"identifier": identifier, "name": "R", "platform": "IOS"}}}
            return httpx.post(f"{server.base_url}/v1/bundleIds", json=body, headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(create, range(32)))
        same = [s for n, s in enumerate(statuses) if n % 2]
        distinct = [s for n, s in enumerate(statuses) if not n % 2]
        assert sorted(same) == [201] + [409] * 15
        assert distinct == [201] * 16
        listed = httpx.get(f"{server.base_url}/v1/bundleIds?limit=200", headers=headers).json()["data"]
        assert len(listed) == 17
    finally:
        server.shutdown()
        emu.close()


def test_serve_gives_a_base_url(emulator: Emulator) -> None:
    with emulator.serve() as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        response = httpx.get(f"{server.base_url}/v1/bundleIds", headers={"Authorization": f"Bearer {mint_token(emulator)}"})
        assert response.status_code == 200
        assert response.json()["links"]["self"] == f"{server.base_url}/v1/bundleIds"
