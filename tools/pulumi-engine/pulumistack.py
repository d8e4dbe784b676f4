"""A Pulumi stack of one example program, driven through the real CLI (tests and demo).

Each stack gets a copy of the program (so stack files stay out of the repository), its own
file backend and PULUMI_HOME, and credentials for the emulator through stack config, the way
a team configures a real account. The copy keeps its Pulumi.yaml unmodified: it sits at the
same path under the work directory as under the checkout, next to a ``.venv`` link to this
checkout's virtualenv, so the relative ``virtualenv:`` resolves as it does in the repository.

``PULUMI_ENGINE_PROGRAM_VENV`` makes :func:`new_stack` link another virtualenv instead: the
programs and their dynamic providers then run with the packages installed there (CI's newest-SDK
check, see tools/package_check.py), while the tests themselves run in the checkout's ``.venv``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUN = Path(__file__).resolve().parent / "run.py"
DEFAULT_ENGINE_BIN = ROOT / ".engine" / "bin"
PROGRAM_VENV_ENV = "PULUMI_ENGINE_PROGRAM_VENV"


def program_venv() -> Path:
    """The virtualenv :func:`new_stack`'s programs run with: ``$PULUMI_ENGINE_PROGRAM_VENV``, else ``.venv``."""
    named = os.environ.get(PROGRAM_VENV_ENV)
    venv = Path(named).absolute() if named else ROOT / ".venv"
    if named and not (venv / "bin" / "python").exists():
        raise RuntimeError(f"{PROGRAM_VENV_ENV}={named}: {venv} is not a virtualenv (no bin/python)")
    return venv


@dataclass
class Stack:
    program: Path
    env: dict[str, str]
    name: str = "dev"
    runner: Path = RUN  # run.py (tools/package_check.py runs a copy outside the checkout)

    def run(
        self, *args: str, check: bool = True, echo: bool = False, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``pulumi <args> --stack <name> --non-interactive``; raises on failure when ``check``."""
        cmd = [sys.executable, str(self.runner), "--program", str(self.program), "--", *args]
        if args[:2] != ("stack", "init"):
            cmd += ["--stack", self.name]
        cmd.append("--non-interactive")
        proc = subprocess.run(
            cmd, env=self.env, input=stdin or "", capture_output=True, text=True, timeout=900
        )
        if echo:
            sys.stdout.write(proc.stdout)
            sys.stdout.write(proc.stderr)
        if check and proc.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def config(self, key: str, value: str, *, secret: bool = False) -> None:
        # The value goes through stdin: a PEM starting with "-----" would parse as a flag.
        self.run("config", "set", key, *(["--secret"] if secret else ["--plaintext"]), stdin=value)

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.run("stack", "output", "--json").stdout)

    def export(self) -> str:
        return self.run("stack", "export").stdout


def copy_program(source: Path, workdir: Path, *, venv: Path | None = ROOT / ".venv") -> Path:
    """Copy a program of this checkout to the same relative path under ``workdir`` and link
    ``workdir/.venv`` to ``venv`` (None: no link), so that paths in its Pulumi.yaml resolve.
    A program from elsewhere (one ``pulumi-appstoreconnect import`` wrote) goes to
    ``workdir/<its directory name>``."""
    resolved = source.resolve()
    program = workdir / (resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else resolved.name)
    shutil.copytree(source, program)
    link = workdir / ".venv"
    if venv is not None and not os.path.lexists(link):
        link.symlink_to(venv, target_is_directory=True)
    return program


def new_stack(
    example: str | Path,
    workdir: Path,
    *,
    base_url: str,
    key_id: str,
    issuer_id: str,
    private_key_pem: str,
    name: str = "dev",
    engine_bin: Path | None = None,
) -> Stack:
    source = Path(example) if Path(example).is_absolute() else ROOT / "examples" / example
    program = copy_program(source, workdir, venv=program_venv())
    backend = workdir / "backend"
    backend.mkdir(parents=True, exist_ok=True)
    # Only the credentials in stack config count: nothing leaks in from the caller's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASC_", "APP_STORE_CONNECT_", "PULUMI_"))}
    env.update(
        PULUMI_HOME=str(workdir / "pulumi-home"),
        PULUMI_BACKEND_URL=f"file://{backend}",
        PULUMI_CONFIG_PASSPHRASE="not-a-real-secret-emulator-only",
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_ENGINE_BIN=str(engine_bin or DEFAULT_ENGINE_BIN),
        NO_COLOR="1",
    )
    stack = Stack(program=program, env=env, name=name)
    stack.run("stack", "init", name)
    stack.config("appstoreconnect:baseUrl", base_url)
    stack.config("appstoreconnect:keyId", key_id)
    stack.config("appstoreconnect:issuerId", issuer_id)
    stack.config("appstoreconnect:privateKey", private_key_pem, secret=True)
    return stack
