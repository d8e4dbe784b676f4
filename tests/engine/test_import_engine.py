"""Issue 9, the round trip: ``pulumi-appstoreconnect import`` on the demo account, then the
generated program through the real engine. Its first ``up`` takes everything over with no
POST, PATCH or DELETE; the stack then matches the account, read back included; and
``destroy`` is refused by protect.

The steps share one generated project and one stack, and run in file order.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_appstoreconnect.emulator.seeding import load_seed
from pulumi_appstoreconnect.importer.rendering import CLASSES

from .conftest import make_stack

WRITES = {"POST", "PATCH", "DELETE"}
DEMO = {"bundleIds": 4, "bundleIdCapabilities": 11, "devices": 5, "certificates": 2, "profiles": 2}


@dataclass
class Generated:
    directory: Path
    import_requests: list[dict[str, Any]]
    output: str


def requests(emulator: Any) -> list[dict[str, Any]]:
    return httpx.get(f"{emulator.base_url}/_emulator/requests", timeout=30).json()["data"]


def clear_requests(emulator: Any) -> None:
    httpx.delete(f"{emulator.base_url}/_emulator/requests", timeout=30).raise_for_status()


def methods(log: list[dict[str, Any]]) -> Counter[str]:
    return Counter(r["method"] for r in log)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, emulator: Any) -> Generated:
    """The demo account (`emulator --seed demo`), imported by the CLI as a user runs it."""
    httpx.post(f"{emulator.base_url}/_emulator/reset", timeout=30).raise_for_status()
    assert load_seed(emulator.emulator, "demo"), "the demo seed loads into an empty emulator"
    clear_requests(emulator)
    directory = tmp_path_factory.mktemp("import") / "demo-account"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASC_", "APP_STORE_CONNECT_"))}
    env.update(
        ASC_BASE_URL=emulator.base_url,
        ASC_KEY_ID=emulator.emulator.key_id,
        ASC_ISSUER_ID=emulator.emulator.issuer_id,
        ASC_PRIVATE_KEY_PATH=str(emulator.emulator.private_key_path),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pulumi_appstoreconnect.cli", "import", "--output", str(directory)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Generated(directory, requests(emulator), proc.stdout + proc.stderr)


@pytest.fixture(scope="module")
def stack(generated: Generated, tmp_path_factory: pytest.TempPathFactory, emulator: Any, engine_bin: Path) -> Any:
    return make_stack(str(generated.directory), tmp_path_factory.mktemp("import-stack"), emulator, engine_bin)


def test_import_reads_the_demo_account_with_gets_only(generated: Generated) -> None:
    log = generated.import_requests
    assert set(methods(log)) == {"GET"}, log
    # One listing per kind (one page each here) and one capability listing per bundle ID.
    assert len(log) == 4 + 4, [r["path"] for r in log]
    source = (generated.directory / "__main__.py").read_text()
    compile(source, "__main__.py", "exec")
    assert "reading devices… 5" in generated.output
    assert "declared 4 bundle IDs, 11 capabilities, 5 devices, 2 certificates, 2 profiles" in generated.output
    assert source.count("opts=PROTECTED") + source.count("protect=True,") == sum(DEMO.values())
    print(f"\nimport of the demo account: {len(log)} requests ({dict(methods(log))})")


def test_first_up_takes_everything_over_without_a_write(stack: Any, emulator: Any) -> None:
    clear_requests(emulator)
    stack.run("up", "--yes")
    log = requests(emulator)
    assert [(r["method"], r["path"]) for r in log if r["method"] in WRITES] == []
    state = stack.export()
    for kind, count in DEMO.items():
        token = CLASSES[kind]
        assert state.count(f'"type": "pulumi-python:dynamic/appstoreconnect:{token}"') == count, token
    # Adoption looks each object up at check (the preview pass of `up` and the update pass; a
    # resource whose inputs are still unknown in the preview skips it) and again at create.
    assert len(log) <= 3 * sum(DEMO.values())
    print(f"\nfirst up of the generated program: {len(log)} requests ({dict(methods(log))})")


def test_the_stack_then_matches_the_account(stack: Any, emulator: Any) -> None:
    clear_requests(emulator)
    proc = stack.run("preview", "--expect-no-changes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not [r for r in requests(emulator) if r["method"] in WRITES]


def test_everything_reads_back_as_declared(stack: Any, emulator: Any) -> None:
    """A refresh reads every object from App Store Connect: the program's values are Apple's."""
    clear_requests(emulator)
    proc = stack.run("preview", "--refresh", "--expect-no-changes", "--diff", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not [r for r in requests(emulator) if r["method"] in WRITES]


def test_destroy_is_refused_by_protect(stack: Any, emulator: Any) -> None:
    clear_requests(emulator)
    proc = stack.run("destroy", "--yes", check=False)
    assert proc.returncode != 0
    assert "protect" in proc.stdout + proc.stderr
    assert not [r for r in requests(emulator) if r["method"] in WRITES]
    assert len(httpx.get(f"{emulator.base_url}/_emulator/objects/bundleIds", timeout=30).json()["data"]) == 4


def test_protect_refuses_a_replacement_too_changing_nothing(stack: Any, emulator: Any) -> None:
    """The price of protect on everything: a profile regenerated for a new device (or a renewed
    certificate) waits until protect is lifted on it. The generated comments say so."""
    program = stack.program / "__main__.py"
    source = program.read_text()
    assert "It refuses replacements too" in source.replace("\n# ", " ")
    program.write_text(source.replace(
        "        device_test_ipad.id,\n    ],", "        device_test_ipad.id,\n        device_living_room_apple_tv.id,\n    ],"))
    clear_requests(emulator)
    proc = stack.run("up", "--yes", check=False)
    assert proc.returncode != 0
    assert "unable to replace resource" in proc.stdout + proc.stderr and "marked for protection" in proc.stdout + proc.stderr
    assert not [r for r in requests(emulator) if r["method"] in WRITES]
