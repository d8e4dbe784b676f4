"""The flags of the pulumi CLI commands the CI recipe runs, read from the pinned CLI's ``--help``.

    .venv/bin/python tools/pulumi_cli_flags.py           # rewrite tests/unit/fixtures/pulumi_cli_flags.json
    .venv/bin/python tools/pulumi_cli_flags.py --check   # exit 1 when the file is out of date

The unit test of ``examples/ci/github-actions.yml`` checks each ``pulumi`` command in it against
this file, so it runs without the engine; the engine tier (``tests/engine/test_ci_recipe_engine.py``)
checks that the file still matches ``.engine/bin/pulumi`` (``make engine``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "unit" / "fixtures" / "pulumi_cli_flags.json"
# Every pulumi command a CI recipe may run (subcommands as word lists).
COMMANDS = ["install", "preview", "up", "refresh", "destroy", "login", "stack select", "stack output", "config set", "whoami"]
_FLAG = re.compile(r"^\s+(?:(-[A-Za-z]), )?(--[a-z0-9][a-z0-9-]*)")


def pulumi() -> Path:
    return Path(os.environ.get("PULUMI_ENGINE_BIN", ROOT / ".engine" / "bin")) / "pulumi"


def _help(words: list[str]) -> str:
    env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true", "NO_COLOR": "1"}
    return subprocess.run([str(pulumi()), *words, "--help"], capture_output=True, text=True, check=True, env=env).stdout


def _flags(text: str) -> tuple[list[str], list[str]]:
    """(command flags, global flags) of one ``--help`` page."""
    local: list[str] = []
    global_: list[str] = []
    target = local
    for line in text.splitlines():
        if line.startswith("Global Flags:"):
            target = global_
        match = _FLAG.match(line)
        if match:
            target.extend(f for f in match.groups() if f)
    return sorted(set(local)), sorted(set(global_))


def derive() -> dict[str, object]:
    version = subprocess.run([str(pulumi()), "version"], capture_output=True, text=True, check=True).stdout.strip()
    commands: dict[str, list[str]] = {}
    global_flags: set[str] = set()
    for command in COMMANDS:
        local, global_ = _flags(_help(command.split()))
        commands[command] = local
        global_flags.update(global_)
    return {
        "//": "`pulumi <command> --help` of the pinned CLI; written by tools/pulumi_cli_flags.py",
        "version": version,
        "commands": commands,
        "global": sorted(global_flags),
    }


def main(argv: list[str]) -> int:
    derived = json.dumps(derive(), indent=2) + "\n"
    if "--check" in argv:
        if OUT.read_text() != derived:
            print(f"{OUT} does not match `{pulumi()} <command> --help`: run tools/pulumi_cli_flags.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(derived)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
