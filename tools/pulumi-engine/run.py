"""Run the real ``pulumi`` CLI on a Python program, with or without ``pulumi-language-python``.

    python tools/pulumi-engine/run.py --program examples/bundle-ids -- up --yes --stack dev

When ``pulumi-language-python`` sits next to ``pulumi`` (a user's installation, or a build
that could fetch it) the CLI is simply run in the program's directory: the language host reads
``Pulumi.yaml`` itself. Otherwise this script serves the program over the LanguageRuntime gRPC
protocol with the Python SDK's own language server (the one the Automation API uses for inline
programs) and passes its address to the CLI with ``--client``. The engine, the deployment, the
state and the dynamic-provider plugin are the real ones either way.

The program runs under the interpreter the real language host would pick (pip toolchain):
the ``virtualenv`` runtime option of ``Pulumi.yaml``, relative to the program directory, else
``python3`` (``PULUMI_PYTHON_CMD``) on ``PATH``. This script re-executes itself with that
interpreter (the virtualenv activated as the host does: ``PATH``, ``VIRTUAL_ENV``, no
``PYTHONHOME``), so a missing or wrong virtualenv fails here, naming the ``Pulumi.yaml`` value
and the path it resolved to, instead of later in the dynamic provider. One line on stderr says
which way the program ran.

Commands that do not run the program (refresh, destroy, stack, config) are passed through.
The exit code is the CLI's (255 when the program's interpreter cannot be used).
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import shutil
import subprocess
import sys
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Commands for which the engine executes the program.
PROGRAM_COMMANDS = {"up", "update", "preview", "pre"}
# Set on the re-executed run.py: the interpreter chosen for it, as JSON (never reaches the CLI).
REEXEC_ENV = "PULUMI_ENGINE_RUN_PYTHON"
# What the pulumi CLI exits with on an error of its own.
CLI_ERROR = 255
PREFIX = "run.py:"


class ProgramError(Exception):
    """The program's interpreter cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Interpreter:
    """The Python a program runs with, as the real language host would choose it."""

    python: str
    virtualenv: Path | None  # absolute; None: no virtualenv option (python on PATH)
    option: str | None  # the virtualenv value as Pulumi.yaml spells it

    def to_env(self) -> str:
        return json.dumps({"python": self.python, "virtualenv": self.virtualenv and str(self.virtualenv), "option": self.option})

    @classmethod
    def from_env(cls, value: str) -> Interpreter:
        data = json.loads(value)
        return cls(data["python"], data["virtualenv"] and Path(data["virtualenv"]), data["option"])

    def describe(self) -> str:
        if self.virtualenv is None:
            return f"{self.python} (Pulumi.yaml names no virtualenv: python on PATH, as the language host does)"
        return f"{self.python} (virtualenv {self.option!r} from Pulumi.yaml, resolved to {self.virtualenv})"


def engine_bin() -> Path:
    return Path(os.environ.get("PULUMI_ENGINE_BIN", Path(__file__).resolve().parents[2] / ".engine" / "bin"))


def runtime_options(program_dir: Path) -> dict[str, Any]:
    """``runtime.options`` of the program's ``Pulumi.yaml`` (empty when it has none)."""
    project_file = program_dir / "Pulumi.yaml"
    if not project_file.exists():
        return {}  # the CLI reports a missing project itself
    try:
        import yaml  # PyYAML ships with the pulumi SDK
    except ImportError:
        raise ProgramError(
            f"{PREFIX} reading {project_file} needs PyYAML (a dependency of the pulumi SDK): "
            "run this script with the project's virtualenv python"
        ) from None
    project = yaml.safe_load(project_file.read_text()) or {}
    runtime = project.get("runtime") if isinstance(project, dict) else None
    options = runtime.get("options") if isinstance(runtime, dict) else None
    return options if isinstance(options, dict) else {}


def venv_python(virtualenv: Path) -> Path:
    return virtualenv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def virtualenv_error(option: str, path: Path) -> ProgramError:
    """The language host's message (NewVirtualEnvError in pulumi's python toolchain)."""
    problem = "doesn't appear to be a virtual environment" if path.exists() else "doesn't exist"
    python = venv_python(path)
    return ProgramError(
        f"The 'virtualenv' option in Pulumi.yaml is set to {option!r}, but {str(path)!r} {problem}; "
        "run the following commands to create the virtual environment and install dependencies into it:\n"
        f"    1. python3 -m venv {path}\n"
        f"    2. {python} -m pip install --upgrade pip setuptools wheel\n"
        f"    3. {python} -m pip install -r requirements.txt"
    )


def named_virtualenv(program_dir: Path) -> tuple[str, Path] | None:
    """The ``virtualenv`` option as Pulumi.yaml spells it and the absolute path it names,
    relative to the program directory as the language host resolves it (None: not set)."""
    options = runtime_options(program_dir)
    option = options.get("virtualenv")
    if not option and options.get("toolchain") == "uv":
        option = ".venv"  # uv's project environment, as the dynamic-provider shim assumes too
    if not option:
        return None
    path = Path(str(option)).expanduser()
    return str(option), Path(os.path.abspath(path if path.is_absolute() else program_dir / path))


def program_interpreter(program_dir: Path, env: dict[str, str]) -> Interpreter:
    """The interpreter for ``program_dir``: its virtualenv (see :func:`named_virtualenv`),
    else ``PULUMI_PYTHON_CMD`` / ``python3`` / ``python`` on ``PATH``."""
    toolchain = str(runtime_options(program_dir).get("toolchain") or "pip")
    if toolchain not in ("pip", "uv"):
        raise ProgramError(
            f"{PREFIX} Pulumi.yaml asks for the {toolchain!r} toolchain, which only the real language "
            "host supports: install pulumi-language-python next to pulumi, or use toolchain: pip"
        )
    named = named_virtualenv(program_dir)
    if named is not None:
        option, virtualenv = named
        python = venv_python(virtualenv)
        if not python.is_file():
            raise virtualenv_error(option, virtualenv)
        return Interpreter(str(python), virtualenv, option)
    candidates = [env["PULUMI_PYTHON_CMD"]] if env.get("PULUMI_PYTHON_CMD") else ["python3", "python"]
    for name in candidates:
        found = shutil.which(name, path=env.get("PATH", os.defpath))
        if found:
            return Interpreter(found, None, None)
    raise ProgramError(f"failed to locate any of {candidates} on your PATH. Have you installed Python 3.6 or greater?")


def activated(env: dict[str, str], virtualenv: Path) -> dict[str, str]:
    """``env`` with the virtualenv activated the way the language host does it."""
    result = {k: v for k, v in env.items() if k not in ("PYTHONHOME", "VIRTUAL_ENV")}
    result["PATH"] = os.pathsep.join(filter(None, [str(venv_python(virtualenv).parent), env.get("PATH")]))
    result["VIRTUAL_ENV"] = str(virtualenv)
    return result


def serve_program(program_dir: Path, interpreter: Interpreter):  # type: ignore[no-untyped-def]
    try:
        import grpc
        from pulumi.automation._server import LanguageServer
        from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
        from pulumi.runtime.proto import language_pb2_grpc
    except ImportError as exc:
        raise ProgramError(
            f"{PREFIX} the program's interpreter {interpreter.describe()} cannot import the Pulumi SDK "
            f"({exc}). Install it there: {interpreter.python} -m pip install -r requirements.txt"
        ) from None

    main = program_dir / "__main__.py"

    def program() -> None:
        sys.path.insert(0, str(program_dir))
        try:
            runpy.run_path(str(main), run_name="__main__")
        finally:
            sys.path.remove(str(program_dir))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=_GRPC_CHANNEL_OPTIONS)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(program), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def reexec_with(interpreter: Interpreter, argv: list[str]) -> None:
    """Replace this process by run.py under the program's interpreter (never returns)."""
    env = dict(os.environ)
    if interpreter.virtualenv is not None:
        env = activated(env, interpreter.virtualenv)
    env[REEXEC_ENV] = interpreter.to_env()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(interpreter.python, [interpreter.python, str(Path(__file__).resolve()), *argv], env)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--program", required=True, type=Path, help="directory with Pulumi.yaml and __main__.py")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="pulumi CLI arguments (after --)")
    ns = parser.parse_args(argv)
    args = [a for a in ns.args if a != "--"] if ns.args[:1] == ["--"] else ns.args
    program_dir = ns.program.resolve()
    bin_dir = engine_bin()
    runs_program = bool(args) and args[0] in PROGRAM_COMMANDS
    language_host = (bin_dir / "pulumi-language-python").exists()
    server = interpreter = None
    port = 0
    try:
        chosen = os.environ.pop(REEXEC_ENV, None)
        if chosen is not None:  # re-executed: this is the program's interpreter
            interpreter = Interpreter.from_env(chosen)
            named = (interpreter.option or "", interpreter.virtualenv) if interpreter.virtualenv else None
        else:
            named = named_virtualenv(program_dir)
            if runs_program and not language_host:
                reexec_with(program_interpreter(program_dir, dict(os.environ)), argv)
        if interpreter is not None:
            os.chdir(program_dir)
            server, port = serve_program(program_dir, interpreter)
    except ProgramError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return CLI_ERROR

    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    if named is not None:
        # What the engine hands the dynamic-provider shim from Pulumi.yaml, made absolute.
        env["PULUMI_RUNTIME_VIRTUALENV"] = str(named[1])
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    env.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    cmd = [str(bin_dir / "pulumi"), *args]
    if server is not None:
        cmd.append(f"--client=127.0.0.1:{port}")
    try:
        return subprocess.run(cmd, cwd=program_dir, env=env).returncode
    finally:
        if server is not None:
            server.stop(grace=None)
        if runs_program:
            print(f"{PREFIX} {how_it_ran(bin_dir, interpreter)}", file=sys.stderr)


def how_it_ran(bin_dir: Path, interpreter: Interpreter | None) -> str:
    """The one line that says which process executed the program."""
    if interpreter is None:
        return (
            f"the program ran in pulumi-language-python (the language host in {bin_dir}), "
            "which picks the interpreter from Pulumi.yaml itself"
        )
    return (
        f"the program ran in the Python SDK's language server (no pulumi-language-python in {bin_dir}; "
        f"the engine got --client) with {interpreter.describe()}"
    )


if __name__ == "__main__":
    sys.exit(main())
