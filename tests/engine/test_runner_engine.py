"""tools/pulumi-engine/run.py with the real engine: the program's interpreter comes from its
Pulumi.yaml, as the real Python language host picks it (issue 8, scenario 10)."""

from __future__ import annotations

import os
from pathlib import Path

from .conftest import ROOT, EmulatorHandle, Stack, copy_program, make_stack

RUN_LINE = "run.py: the program ran in "


def how_it_ran(proc_stderr: str) -> str:
    (line,) = [line for line in proc_stderr.splitlines() if line.startswith(RUN_LINE)]
    return line


def expected_line(engine_bin: Path, interpreter: str) -> str:
    if (engine_bin / "pulumi-language-python").exists():
        return f"{RUN_LINE}pulumi-language-python (the language host in {engine_bin}), which picks the interpreter from Pulumi.yaml itself"
    return (
        f"{RUN_LINE}the Python SDK's language server (no pulumi-language-python in {engine_bin}; "
        f"the engine got --client) with {interpreter}"
    )


def without_virtualenv(stack: Stack) -> None:
    project = stack.program / "Pulumi.yaml"
    project.write_text("".join(line for line in project.read_text().splitlines(True) if "virtualenv:" not in line))


def test_example_runs_with_its_unmodified_relative_virtualenv(
    tmp_path: Path, emulator: EmulatorHandle, engine_bin: Path
) -> None:
    emulator.admin("POST", "/reset")
    stack = make_stack("bundle-ids", tmp_path, emulator, engine_bin)
    project = (stack.program / "Pulumi.yaml").read_text()
    assert project == (ROOT / "examples" / "bundle-ids" / "Pulumi.yaml").read_text()
    assert "    virtualenv: ../../.venv\n" in project
    assert stack.program == tmp_path / "examples" / "bundle-ids"  # ../../.venv is tmp_path/.venv, a link

    up = stack.run("up", "--yes")
    venv_dir = tmp_path / ".venv"
    assert how_it_ran(up.stderr) == expected_line(
        engine_bin, f"{venv_dir}/bin/python (virtualenv '../../.venv' from Pulumi.yaml, resolved to {venv_dir})"
    )
    assert sorted(o["attributes"]["identifier"] for o in emulator.objects("bundleIds")) == [
        "com.example.skeleton.app", "com.example.skeleton.app.widget"
    ]
    destroy = stack.run("destroy", "--yes")
    assert RUN_LINE not in destroy.stderr  # destroy does not run the program
    assert emulator.objects("bundleIds") == []


def test_missing_virtualenv_fails_naming_the_setting_and_the_path(
    tmp_path: Path, emulator: EmulatorHandle, engine_bin: Path
) -> None:
    # The example copied where its ../../.venv does not exist (no link next to it).
    program = copy_program(ROOT / "examples" / "bundle-ids", tmp_path, venv=None)
    stack = Stack(program=program, env={**os.environ, "PULUMI_ENGINE_BIN": str(engine_bin)})
    emulator.clear_requests()
    proc = stack.run("preview", check=False)
    missing = tmp_path / ".venv"
    assert proc.returncode == 255
    assert proc.stderr.splitlines()[0] == (
        f"error: The 'virtualenv' option in Pulumi.yaml is set to '../../.venv', but '{missing}' doesn't exist; "
        "run the following commands to create the virtual environment and install dependencies into it:"
    )
    assert f"    1. python3 -m venv {missing}" in proc.stderr
    assert emulator.requests() == []


def test_program_without_virtualenv_runs_with_python_on_path(
    tmp_path: Path, emulator: EmulatorHandle, engine_bin: Path
) -> None:
    stack = make_stack("bundle-ids", tmp_path, emulator, engine_bin)
    without_virtualenv(stack)
    venv_bin = ROOT / ".venv" / "bin"
    stack.env["PATH"] = f"{venv_bin}{os.pathsep}{stack.env.get('PATH', '')}"  # as after `source .venv/bin/activate`
    proc = stack.run("preview")
    assert how_it_ran(proc.stderr) == expected_line(
        engine_bin, f"{venv_bin}/python3 (Pulumi.yaml names no virtualenv: python on PATH, as the language host does)"
    )
    assert "+ 3 to create" in proc.stdout, proc.stdout  # the stack and two bundle IDs
