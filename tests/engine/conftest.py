"""Engine tier: the real ``pulumi`` CLI (built by ``make engine``) against a live emulator."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.emulator.seeding import load_seed

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "pulumi-engine"))

from pulumistack import Stack, copy_program, new_stack  # noqa: E402

ENGINE_BIN = Path(os.environ.get("PULUMI_ENGINE_BIN", ROOT / ".engine" / "bin"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "stack_state(state, *, changes): the state of the module's shared stack the test starts from"
    )


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


@contextlib.contextmanager
def serving(state_dir: Path) -> Iterator[EmulatorHandle]:
    """An emulator (its own team and key) served on a free loopback port."""
    emu = Emulator(state_dir)
    server = emu.serve(host="127.0.0.1", port=0)
    try:
        yield EmulatorHandle(emu, server.base_url)
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    with serving(tmp_path_factory.mktemp("emulator")) as handle:
        yield handle


def demo_account(emulator: EmulatorHandle) -> None:
    """An emulator as `pulumi-appstoreconnect emulator --seed demo` starts; the log cleared."""
    emulator.admin("POST", "/reset")
    assert load_seed(emulator.emulator, "demo"), "the demo seed loads into an empty emulator"
    emulator.clear_requests()


BADINPUT = Path(__file__).resolve().parent / "programs" / "badinput"


@pytest.fixture(scope="session")
def badinput(tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorHandle, engine_bin: Path) -> Stack:
    """One stack of the bad-input program (every module's cases): its previews fail before any
    request or state change."""
    return make_stack(BADINPUT, tmp_path_factory.mktemp("badinput"), emulator, engine_bin)


def refused_at_preview(stack: Stack, emulator: EmulatorHandle, case: str, field: str, words: str) -> None:
    """The bad-input program's ``case`` fails ``pulumi preview`` naming ``field`` (with
    ``words`` in the reason) and sends no request."""
    stack.config("case", case)
    emulator.clear_requests()
    proc = stack.run("preview", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    # The engine's line for a check failure: the field and the reason on one line.
    problem = re.compile(rf"resource '[\w-]+': property {field} value \{{(?s:.*?)\}} has a problem: [^\n]*{re.escape(words)}")
    assert problem.search(output), output
    assert emulator.requests() == []


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


Recipe = Callable[[Stack, EmulatorHandle], None]
EMPTY = "empty"  # nothing deployed, an empty account, the stack's first config


class SharedStack:
    """One stack shared by a module's tests, brought to the state each test asks for.

    ``recipes`` build each named state from :data:`EMPTY`. :meth:`at` reuses the stack when
    it is in that state already (a test that only reads leaves it there), else resets it
    (empty account, empty stack state, the first config: no destroy, no refresh) and runs
    the recipe. So every test runs alone, in any order, and a file in order pays only for
    the resets its mutating tests make necessary.
    """

    def __init__(self, stack: Stack, emulator: EmulatorHandle, recipes: dict[str, Recipe]) -> None:
        self.stack = stack
        self.emulator = emulator
        self.recipes = {EMPTY: lambda stack, emulator: None, **recipes}
        self._config_file = stack.program / f"Pulumi.{stack.name}.yaml"
        self._first_config = self._config_file.read_text()
        self._empty_deployment = stack.program.parent / "empty-deployment.json"
        self._empty_deployment.write_text(json.dumps({"version": 3, "deployment": {}}))
        emulator.admin("POST", "/reset")
        self.state: str | None = EMPTY

    def at(self, state: str, *, changes: bool) -> Stack:
        """The stack in ``state``; ``changes``: the test may change it (nothing is then known)."""
        if self.state != state:
            self.reset()
            self.state = None  # until the recipe has succeeded
            self.recipes[state](self.stack, self.emulator)
        self.state = None if changes else state
        return self.stack

    def reached(self, state: str) -> None:
        """The test left the stack exactly as ``state``'s recipe does: the next test can reuse it."""
        self.state = state

    def reset(self) -> None:
        self.emulator.admin("POST", "/reset")
        self._config_file.write_text(self._first_config)
        self.stack.run("stack", "import", "--file", str(self._empty_deployment))
        self.state = EMPTY


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Stack:
    """The module's ``shared`` stack in the state the test's ``stack_state`` marker names."""
    marker = request.node.get_closest_marker("stack_state")
    if marker is None:
        pytest.fail(f"{request.node.nodeid} uses `stack` without @pytest.mark.stack_state(...)")
    shared: SharedStack = request.getfixturevalue("shared")
    return shared.at(*marker.args, **marker.kwargs)
