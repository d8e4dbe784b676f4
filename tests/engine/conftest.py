"""Engine tier: the real ``pulumi`` CLI (built by ``make engine``) against a live emulator."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from pulumi_appstoreconnect.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "pulumi-engine"))

from pulumistack import Stack, copy_program, new_stack  # noqa: E402

ENGINE_BIN = Path(os.environ.get("PULUMI_ENGINE_BIN", ROOT / ".engine" / "bin"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "engine" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.engine)


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    pulumi = ENGINE_BIN / "pulumi"
    if not pulumi.exists():
        # Never skip: an engine tier that silently does not run is a lie in the test count.
        pytest.fail(f"{pulumi} is missing: run `make engine` (make test does it for you)")
    return ENGINE_BIN


@dataclass
class EmulatorHandle:
    """The running emulator plus its admin API, as the engine tests use it."""

    emulator: Any
    base_url: str

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.base_url}/_emulator{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def objects(self, rest_type: str) -> list[dict[str, Any]]:
        return self.admin("GET", f"/objects/{rest_type}")["data"]

    def requests(self) -> list[dict[str, Any]]:
        return self.admin("GET", "/requests")["data"]

    def clear_requests(self) -> None:
        self.admin("DELETE", "/requests")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    emu = Emulator(tmp_path_factory.mktemp("emulator"))
    server = emu.serve(host="127.0.0.1", port=0)
    try:
        yield EmulatorHandle(emu, server.base_url)
    finally:
        server.shutdown()


def make_stack(example: str, workdir: Path, emulator: EmulatorHandle, engine_bin: Path) -> Stack:
    emu = emulator.emulator
    return new_stack(
        example,
        workdir,
        base_url=emulator.base_url,
        key_id=emu.key_id,
        issuer_id=emu.issuer_id,
        private_key_pem=emu.private_key_pem,
        name="test",
        engine_bin=engine_bin,
    )
