"""Secrets audit: no key material, .p12, password or JWT in state, engine logs or our own log.

Runs examples/signing with engine logging on (`--logtostderr -v=1`, what a CI job keeps) and
the provider's debug log, then scans everything a user or a CI system could keep.

Not audited: the engine's own `-v=3` and above. From level 3 the engine logs the properties
the program registers (stack outputs, plaintext) and from level 9 every provider response,
before it marks them secret; Pulumi documents verbose logs as sensitive. Nothing a provider
can do changes that: the provider must hand the engine the plaintext once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import EmulatorHandle, make_stack

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
PEM_PRIVATE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def revealed(value: object) -> str:
    """A value from `stack export --show-secrets`: secrets come as {<sig>, plaintext: JSON}."""
    if isinstance(value, dict) and "plaintext" in value:
        return str(json.loads(value["plaintext"]))
    return str(value)


def pem_body_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def test_no_secret_reaches_state_or_logs(tmp_path: Path, emulator: EmulatorHandle, engine_bin: Path) -> None:
    emulator.admin("POST", "/reset")
    stack = make_stack("signing", tmp_path, emulator, engine_bin)
    provider_log = tmp_path / "provider.log"
    stack.env["PULUMI_APPSTORECONNECT_LOG_FILE"] = str(provider_log)
    engine_logs = tmp_path / "engine-logs"
    engine_logs.mkdir()
    runs = [
        stack.run("up", "--yes", "--logtostderr", "-v=1", "--logflow"),
        stack.run("refresh", "--yes", "--logtostderr", "-v=1", "--logflow"),
    ]

    decrypted = json.loads(stack.run("stack", "export", "--show-secrets").stdout)
    certificate = {
        name: revealed(value)
        for name, value in next(
            r for r in decrypted["deployment"]["resources"] if r["type"].endswith(":Certificate")
        )["outputs"].items()
    }
    secrets = {
        "certificate private key": pem_body_lines(certificate["private_key_pem"]),
        "p12": [certificate["p12"][i : i + 64] for i in range(0, len(certificate["p12"]) - 64, 512)],
        "p12 password": [certificate["p12_password"]],
        "API key": pem_body_lines(emulator.emulator.private_key_pem),
    }
    assert all(secrets.values()), "the audit needs the secrets to look for"

    places = {
        "pulumi stack export": stack.export(),
        "engine output and logs (-v=1)": "".join(run.stdout + run.stderr for run in runs),
        "provider log": provider_log.read_text(),
    }
    for path in Path(stack.env["PULUMI_HOME"]).rglob("*.log"):
        places[f"log file {path.name}"] = path.read_text(errors="replace")
    assert "POST /v1/certificates" in places["provider log"], "the provider log was not written"

    hits = [
        f"{what} in {where}"
        for where, text in places.items()
        for what, needles in secrets.items()
        if any(needle in text for needle in needles)
    ]
    hits += [f"private key PEM in {where}" for where, text in places.items() if PEM_PRIVATE.search(text)]
    hits += [f"JWT in {where}" for where, text in places.items() if JWT.search(text)]
    assert hits == [], hits
    stack.run("destroy", "--yes")


@pytest.fixture(autouse=True)
def _tidy(emulator: EmulatorHandle) -> None:
    emulator.admin("POST", "/reset")
