"""Durability under a crash: kill -9 the emulator process in the middle of a burst of
concurrent writes, restart it on the same state dir, and check that every acknowledged write
is there, that nothing is duplicated or invented, and that the SQLite file is intact.

Bounded: 4 writer threads, at most 150 creates each, the kill after 40 acknowledgements;
everything on 127.0.0.1.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest

from pulumi_appstoreconnect.client import AppStoreConnectClient, ConnectionFailed, RetryPolicy
from pulumi_appstoreconnect.emulator.store import DB_FILENAME
from pulumi_appstoreconnect.settings import Settings

THREADS = 4
PER_THREAD = 150
KILL_AFTER_ACKS = 40
TIMEOUT = 60.0


def _start(state_dir: Path, ready: Path, log: Path) -> subprocess.Popen[bytes]:
    ready.unlink(missing_ok=True)
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "pulumi_appstoreconnect.emulator", "--host", "127.0.0.1", "--port", "0",
             "--state-dir", str(state_dir), "--ready-file", str(ready), "--quiet"],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def _wait_ready(process: subprocess.Popen[bytes], ready: Path, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ready.exists():
            return json.loads(ready.read_text())
        if process.poll() is not None:
            raise AssertionError(f"emulator exited early ({process.returncode}): {log.read_text()}")
        time.sleep(0.05)
    raise AssertionError("emulator did not become ready")


def _settings(info: dict[str, Any]) -> Settings:
    return Settings(
        issuer_id=info["issuer_id"],
        key_id=info["key_id"],
        private_key_pem=Path(info["private_key_path"]).read_text(),
        base_url=info["base_url"],
    )


def _integrity(state_dir: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(state_dir / DB_FILENAME)
    try:
        return db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _write(client: AppStoreConnectClient, thread: int, n: int) -> tuple[str, str, dict[str, Any]]:
    """Create the n-th object of a writer: bundle IDs and devices alternately."""
    if n % 2 == 0:
        key = f"com.durable.t{thread}.n{n}"
        return "bundleIds", key, {"identifier": key, "name": f"Durable {thread}/{n}", "platform": "IOS"}
    key = f"00008030-{thread:04X}{n:012X}"
    return "devices", key, {"udid": key, "name": f"Device {thread}/{n}", "platform": "IOS"}


NATURAL_KEY = {"bundleIds": "identifier", "devices": "udid"}


def test_kill_9_during_a_concurrent_write_burst_keeps_every_acknowledged_write(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    state, ready, log = tmp_path / "state", tmp_path / "ready.json", tmp_path / "emulator.log"
    first = _start(state, ready, log)
    processes.append(first)
    settings = _settings(_wait_ready(first, ready, log))

    lock = threading.Lock()
    attempted: set[tuple[str, str]] = set()
    acknowledged: dict[tuple[str, str], str] = {}  # (type, natural key) -> id from the 201
    interrupted: list[str] = []
    unexpected: list[BaseException] = []
    enough = threading.Event()

    def writer(thread: int) -> None:
        # No retries: after the kill every request fails at once instead of backing off.
        client = AppStoreConnectClient(settings, retry=RetryPolicy.no_retries(), timeout=15)
        try:
            for n in range(PER_THREAD):
                rest_type, key, attributes = _write(client, thread, n)
                with lock:
                    attempted.add((rest_type, key))
                try:
                    created = client.create(rest_type, attributes)
                except ConnectionFailed as exc:
                    with lock:
                        interrupted.append(f"{rest_type} {key}: {exc.reason}")
                    return
                with lock:
                    acknowledged[(rest_type, key)] = created["id"]
                    if len(acknowledged) >= KILL_AFTER_ACKS:
                        enough.set()
        except BaseException as exc:  # reported by the main thread
            with lock:
                unexpected.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=writer, args=(t,), name=f"writer-{t}", daemon=True) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    reached = enough.wait(TIMEOUT)
    first.send_signal(signal.SIGKILL)  # mid-burst: the writers are still sending
    first.wait(timeout=10)
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    assert not unexpected, unexpected
    assert reached, f"only {len(acknowledged)} writes acknowledged within {TIMEOUT} s"
    assert not any(thread.is_alive() for thread in threads)
    assert len(interrupted) == THREADS, "every writer should have been cut off by the kill"
    assert len(acknowledged) < THREADS * PER_THREAD

    # The file as the crash left it (hot WAL included) is a sound database.
    assert _integrity(state) == [("ok",)]

    second = _start(state, ready, log)
    processes.append(second)
    info = _wait_ready(second, ready, log)
    assert info["key_id"] == settings.key_id  # the same key survived: the old settings still work
    with AppStoreConnectClient(_settings(info), timeout=15) as client:
        present: dict[tuple[str, str], str] = {}
        for rest_type, key_attribute in NATURAL_KEY.items():
            listed = client.list_all(f"/v1/{rest_type}")
            ids = Counter(o["id"] for o in listed)
            assert [i for i, c in ids.items() if c > 1] == [], f"duplicate {rest_type} ids"
            keys = Counter(o["attributes"][key_attribute].upper() for o in listed)
            assert [k for k, c in keys.items() if c > 1] == [], f"duplicate {rest_type} {key_attribute}s"
            present.update({(rest_type, o["attributes"][key_attribute]): o["id"] for o in listed})

        missing = {k: v for k, v in acknowledged.items() if present.get(k) != v}
        assert missing == {}, f"acknowledged but lost after kill -9: {missing}"
        invented = set(present) - attempted
        assert invented == set(), f"objects nobody created: {invented}"
        # Beyond the acknowledged ones only the writes in flight at the kill may exist.
        assert len(set(present) - set(acknowledged)) <= THREADS
        # The restarted emulator keeps working on the recovered state.
        after = client.create("bundleIds", {"identifier": "com.durable.after", "name": "After", "platform": "IOS"})
        assert client.get_object(f"/v1/bundleIds/{after['id']}") is not None

    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=20) == 0
    assert _integrity(state) == [("ok",)]
