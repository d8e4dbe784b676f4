"""tools/pulumi-engine/run.py: which interpreter runs a program, and what the CLI is given.

A stub ``pulumi`` (a shell script that prints its arguments and environment) stands in for the
engine, so these run without ``make engine``; tests/engine/test_runner_engine.py runs the real one.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import venv
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "tools" / "pulumi-engine" / "run.py"

PROJECT = """name: app
runtime:
  name: python
  options:
    toolchain: {toolchain}
{virtualenv}"""
STUB = """#!/bin/sh
echo "argv: $*"
echo "PULUMI_RUNTIME_VIRTUALENV=${PULUMI_RUNTIME_VIRTUALENV-<unset>}"
echo "VIRTUAL_ENV=${VIRTUAL_ENV-<unset>}"
echo "PATH=$PATH"
echo "REEXEC=${PULUMI_ENGINE_RUN_PYTHON-<unset>}"
exit 7
"""


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pulumi_engine_run", RUN)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


runner = load_runner()


def program(root: Path, virtualenv: str | None, toolchain: str = "pip") -> Path:
    """``root/examples/app`` with a Pulumi.yaml naming ``virtualenv`` (None: no option)."""
    directory = root / "examples" / "app"
    directory.mkdir(parents=True)
    line = f"    virtualenv: {virtualenv}\n" if virtualenv is not None else ""
    (directory / "Pulumi.yaml").write_text(PROJECT.format(toolchain=toolchain, virtualenv=line))
    (directory / "__main__.py").write_text("raise SystemExit('the stub engine never runs the program')\n")
    return directory


def fake_venv(path: Path) -> Path:
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "python").write_text("")
    return path


def engine(tmp_path: Path, *, language_host: bool) -> Path:
    bin_dir = tmp_path / "engine-bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(STUB)
    (bin_dir / "pulumi").chmod(0o755)
    if language_host:
        (bin_dir / "pulumi-language-python").write_text("")
    return bin_dir


def run(program_dir: Path, bin_dir: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "VIRTUAL_ENV"))}
    env.update(PULUMI_ENGINE_BIN=str(bin_dir), PATH=path if path is not None else os.environ.get("PATH", ""))
    return subprocess.run(
        [sys.executable, str(RUN), "--program", str(program_dir), "--", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )


def test_relative_virtualenv_resolves_against_the_program_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = program(tmp_path, "../../.venv")
    fake_venv(tmp_path / ".venv")
    monkeypatch.chdir(tmp_path / "examples")  # not the program directory: the path does not depend on it
    interpreter = runner.program_interpreter(directory, {})
    assert interpreter == runner.Interpreter(str(tmp_path / ".venv" / "bin" / "python"), tmp_path / ".venv", "../../.venv")
    assert interpreter.describe() == (
        f"{tmp_path}/.venv/bin/python (virtualenv '../../.venv' from Pulumi.yaml, resolved to {tmp_path}/.venv)"
    )


def test_absolute_virtualenv_is_taken_as_is(tmp_path: Path) -> None:
    elsewhere = fake_venv(tmp_path / "envs" / "app")
    assert runner.program_interpreter(program(tmp_path, str(elsewhere)), {}).virtualenv == elsewhere


@pytest.mark.parametrize(("make", "problem"), [(None, "doesn't exist"), ("dir", "doesn't appear to be a virtual environment")])
def test_unusable_virtualenv_names_the_option_and_the_resolved_path(tmp_path: Path, make: str | None, problem: str) -> None:
    directory = program(tmp_path, "../../.venv")
    if make:
        (tmp_path / ".venv").mkdir()
    with pytest.raises(runner.ProgramError) as caught:
        runner.program_interpreter(directory, {})
    message = str(caught.value)
    assert message.startswith(
        f"The 'virtualenv' option in Pulumi.yaml is set to '../../.venv', but '{tmp_path}/.venv' {problem}; "
    ), message
    assert f"    1. python3 -m venv {tmp_path}/.venv\n" in message


def test_no_virtualenv_means_python_on_path(tmp_path: Path) -> None:
    directory = program(tmp_path, None)
    bin_dir = tmp_path / "path-bin"
    bin_dir.mkdir()
    for name in ("python3", "mypython"):
        (bin_dir / name).write_text("")
        (bin_dir / name).chmod(0o755)
    found = runner.program_interpreter(directory, {"PATH": str(bin_dir)})
    assert found == runner.Interpreter(str(bin_dir / "python3"), None, None)
    assert found.describe().endswith("(Pulumi.yaml names no virtualenv: python on PATH, as the language host does)")
    chosen = runner.program_interpreter(directory, {"PATH": str(bin_dir), "PULUMI_PYTHON_CMD": "mypython"})
    assert chosen.python == str(bin_dir / "mypython")
    assert runner.named_virtualenv(directory) is None


def test_uv_defaults_to_dot_venv_and_poetry_needs_the_language_host(tmp_path: Path) -> None:
    uv = program(tmp_path / "uv", None, toolchain="uv")
    assert runner.named_virtualenv(uv) == (".venv", uv / ".venv")
    with pytest.raises(runner.ProgramError, match="'poetry' toolchain, which only the real language host supports"):
        runner.program_interpreter(program(tmp_path / "poetry", None, toolchain="poetry"), {})


def test_missing_virtualenv_fails_before_the_engine_runs(tmp_path: Path) -> None:
    directory = program(tmp_path, "../../.venv")
    proc = run(directory, engine(tmp_path, language_host=False), "preview", "--stack", "dev")
    assert proc.returncode == runner.CLI_ERROR
    assert proc.stdout == ""  # the stub CLI never ran
    assert proc.stderr.startswith(
        f"error: The 'virtualenv' option in Pulumi.yaml is set to '../../.venv', but '{tmp_path}/.venv' doesn't exist;"
    ), proc.stderr


def test_sdk_server_runs_the_program_in_the_activated_virtualenv(tmp_path: Path) -> None:
    directory = program(tmp_path, "../../.venv")
    (tmp_path / ".venv").symlink_to(sys.prefix, target_is_directory=True)  # a virtualenv with the SDK
    bin_dir = engine(tmp_path, language_host=False)
    proc = run(directory, bin_dir, "preview", "--stack", "dev")
    assert proc.returncode == 7, proc.stderr
    venv_dir = tmp_path / ".venv"
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("argv: preview --stack dev --client=127.0.0.1:"), lines
    assert lines[1:5] == [
        f"PULUMI_RUNTIME_VIRTUALENV={venv_dir}",
        f"VIRTUAL_ENV={venv_dir}",
        f"PATH={bin_dir}{os.pathsep}{venv_dir}/bin{os.pathsep}{os.environ.get('PATH', '')}",
        "REEXEC=<unset>",  # the re-exec marker stays inside run.py
    ]
    assert proc.stderr.splitlines()[-1] == (
        f"run.py: the program ran in the Python SDK's language server (no pulumi-language-python in {bin_dir}; "
        f"the engine got --client) with {venv_dir}/bin/python "
        f"(virtualenv '../../.venv' from Pulumi.yaml, resolved to {venv_dir})"
    )


def test_python_on_path_without_the_sdk_fails_clearly(tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    venv.create(bare, with_pip=False)  # a Python without the Pulumi SDK
    proc = run(program(tmp_path, None), engine(tmp_path, language_host=False), "up", path=f"{bare}/bin")
    assert proc.returncode == runner.CLI_ERROR and proc.stdout == ""
    assert proc.stderr.startswith(
        f"error: run.py: the program's interpreter {bare}/bin/python3 (Pulumi.yaml names no virtualenv: "
        "python on PATH, as the language host does) cannot import the Pulumi SDK"
    ), proc.stderr


def test_with_a_language_host_the_cli_runs_the_program_itself(tmp_path: Path) -> None:
    directory = program(tmp_path, "../../.venv")  # not validated here: the language host does that
    bin_dir = engine(tmp_path, language_host=True)
    proc = run(directory, bin_dir, "up", "--yes")
    assert proc.returncode == 7
    assert proc.stdout.splitlines()[:3] == [
        "argv: up --yes",
        f"PULUMI_RUNTIME_VIRTUALENV={tmp_path}/.venv",
        "VIRTUAL_ENV=<unset>",
    ]
    assert proc.stderr.splitlines() == [
        f"run.py: the program ran in pulumi-language-python (the language host in {bin_dir}), "
        "which picks the interpreter from Pulumi.yaml itself"
    ]


def test_commands_that_do_not_run_the_program_pass_through(tmp_path: Path) -> None:
    proc = run(program(tmp_path, None), engine(tmp_path, language_host=False), "stack", "ls")
    assert proc.returncode == 7 and proc.stderr == ""
    assert proc.stdout.splitlines()[:2] == ["argv: stack ls", "PULUMI_RUNTIME_VIRTUALENV=<unset>"]
