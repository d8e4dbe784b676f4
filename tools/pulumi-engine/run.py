"""Run the real ``pulumi`` CLI on a Python program, with or without ``pulumi-language-python``.

    python tools/pulumi-engine/run.py --program examples/bundle-ids -- up --yes --stack dev

When ``pulumi-language-python`` sits next to ``pulumi`` (a user's installation, or a build
that could fetch it) the CLI is simply run in the program's directory. Otherwise this process
serves the program over the LanguageRuntime gRPC protocol with the Python SDK's own language
server (the one the Automation API uses for inline programs) and passes its address to the
CLI with ``--client``: the engine, the deployment, the state and the dynamic-provider plugin
are the real ones either way; only the process that executes ``__main__.py`` differs.

Commands that do not run the program (refresh, destroy, stack, config) are passed through.
The exit code is the CLI's.
"""

from __future__ import annotations

import argparse
import os
import runpy
import subprocess
import sys
from concurrent import futures
from pathlib import Path

# Commands for which the engine executes the program.
PROGRAM_COMMANDS = {"up", "update", "preview", "pre"}


def engine_bin() -> Path:
    return Path(os.environ.get("PULUMI_ENGINE_BIN", Path(__file__).resolve().parents[2] / ".engine" / "bin"))


def serve_program(program_dir: Path):  # type: ignore[no-untyped-def]
    import grpc
    from pulumi.automation._server import LanguageServer
    from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
    from pulumi.runtime.proto import language_pb2_grpc

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--program", required=True, type=Path, help="directory with Pulumi.yaml and __main__.py")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="pulumi CLI arguments (after --)")
    ns = parser.parse_args(argv)
    args = [a for a in ns.args if a != "--"] if ns.args[:1] == ["--"] else ns.args
    program_dir = ns.program.resolve()
    bin_dir = engine_bin()

    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    # The dynamic-provider shim runs `python -m pulumi.dynamic` from this virtualenv.
    env.setdefault("PULUMI_RUNTIME_VIRTUALENV", sys.prefix)
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    env.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    cmd = [str(bin_dir / "pulumi"), *args]

    server = None
    if args and args[0] in PROGRAM_COMMANDS and not (bin_dir / "pulumi-language-python").exists():
        os.chdir(program_dir)
        server, port = serve_program(program_dir)
        cmd.append(f"--client=127.0.0.1:{port}")
    try:
        return subprocess.run(cmd, cwd=program_dir, env=env).returncode
    finally:
        if server is not None:
            server.stop(grace=None)


if __name__ == "__main__":
    sys.exit(main())
