"""examples/ci/github-actions.yml: every command it runs exists, with flags the pinned CLI has.

``pulumi`` commands are checked against tests/unit/fixtures/pulumi_cli_flags.json (the pinned
CLI's ``--help``, written by tools/pulumi_cli_flags.py and checked against ``.engine/bin/pulumi``
in the engine tier), ``pulumi-appstoreconnect`` commands against this package's own parser, the
actions it uses against the inputs they declare, and every secret it reads against its header.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from pulumi_appstoreconnect import cli

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"
CLI_FLAGS = json.loads((Path(__file__).parent / "fixtures" / "pulumi_cli_flags.json").read_text())

# Actions the recipe may use, with the inputs their action.yml declares (pulumi/actions: its
# README "Configuration"; the others: action.yml at the tagged major version).
ACTIONS = {
    "actions/checkout@v4": {"repository", "ref", "token", "fetch-depth", "path", "submodules"},
    "actions/setup-python@v5": {"python-version", "python-version-file", "cache", "architecture"},
    "pulumi/actions@v6": {
        "command", "stack-name", "work-dir", "cloud-url", "comment-on-pr", "comment-on-summary", "github-token",
        "refresh", "diff", "expect-no-changes", "pulumi-version", "pulumi-version-file", "upsert",
    },
    "marocchino/sticky-pull-request-comment@v2": {"header", "path", "message", "recreate", "append", "number"},
}
# Commands a `run:` script may use besides pulumi and pulumi-appstoreconnect (shell builtins and
# coreutils present on GitHub's ubuntu runners).
SHELL = {"set", "echo", "cat", "exit", "if", "then", "fi", "[", "tee", "test", "true"}
REDIRECTIONS = {">", ">>", "<", "2>", "2>>"}


def workflow() -> dict[str, Any]:
    document = yaml.safe_load(WORKFLOW.read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as True
    return document


def steps() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, job in workflow()["jobs"].items():
        for step in job["steps"]:
            yield name, step


def commands(script: str) -> Iterator[list[str]]:
    """The simple commands of a bash script: words, without redirections and their targets."""
    script = script.replace("\\\n", " ")
    for line in script.splitlines():
        for command in re.split(r"&&|\|\||;|\|", line):
            words = shlex.split(command, comments=True)
            words = [w for i, w in enumerate(words) if w not in REDIRECTIONS and (i == 0 or words[i - 1] not in REDIRECTIONS)]
            while words and (words[0] in ("if", "then", "!") or re.match(r"^[A-Za-z_]\w*=", words[0])):
                words = words[1:]  # keywords, and variable assignments (`preview=$?`)
            if words:
                yield words


def run_commands() -> list[tuple[str, list[str]]]:
    return [(job, words) for job, step in steps() if "run" in step for words in commands(step["run"])]


def pulumi_command(words: list[str]) -> tuple[str, list[str]]:
    """(subcommand, flags) of ``pulumi ...`` words; flags without their ``=value``."""
    args = words[1:]
    for size in (2, 1):
        candidate = " ".join(args[:size])
        if candidate in CLI_FLAGS["commands"]:
            return candidate, [a.split("=", 1)[0] for a in args[size:] if a.startswith("-")]
    raise AssertionError(f"`{' '.join(words)}`: no such pulumi command in {CLI_FLAGS['version']}")


def test_every_run_command_is_known() -> None:
    unknown = [" ".join(w) for _, w in run_commands() if Path(w[0]).name not in SHELL | {"pulumi", "pulumi-appstoreconnect"}]
    assert unknown == []


@pytest.mark.parametrize("job, words", [(j, w) for j, w in run_commands() if w[0] == "pulumi"], ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_pulumi_commands_and_flags_exist_in_the_pinned_cli(job: str, words: list[str]) -> None:
    command, flags = pulumi_command(words)
    known = set(CLI_FLAGS["commands"][command]) | set(CLI_FLAGS["global"])
    assert [f for f in flags if f not in known] == [], f"{job}: `{' '.join(words)}` ({CLI_FLAGS['version']})"


@pytest.mark.parametrize("job, words", [(j, w) for j, w in run_commands() if Path(w[0]).name == "pulumi-appstoreconnect"], ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_pulumi_appstoreconnect_commands_parse(job: str, words: list[str]) -> None:
    assert words[0] == "venv/bin/pulumi-appstoreconnect", "the program's virtualenv (Pulumi.yaml: virtualenv: venv)"
    cli._parser().parse_args(words[1:])  # exits (SystemExit) on an unknown command or option


def test_the_pulumi_version_pinned_for_the_cli_is_the_tested_one() -> None:
    pins = {step["with"]["pulumi-version"] for _, step in steps() if step.get("uses") == "pulumi/actions@v6"}
    assert pins == {CLI_FLAGS["version"].removeprefix("v")}
    assert CLI_FLAGS["version"] == "v" + (ROOT / "tools" / "pulumi-engine" / "VERSION").read_text().strip().removeprefix("v")


def test_actions_exist_and_get_only_inputs_they_declare() -> None:
    for job, step in steps():
        if "uses" in step:
            assert step["uses"] in ACTIONS, f"{job}: {step['uses']}"
            assert set(step.get("with", {})) <= ACTIONS[step["uses"]], f"{job}: {step['uses']} {step.get('with')}"


def test_every_secret_and_variable_used_is_described_in_the_header() -> None:
    text = WORKFLOW.read_text()
    header = "\n".join(line for line in text.split("\nname:")[0].splitlines() if line.startswith("#"))
    used = set(re.findall(r"\b(?:secrets|vars)\.([A-Z0-9_]+)", text))
    assert {"ASC_ISSUER_ID", "ASC_KEY_ID", "ASC_PRIVATE_KEY", "PULUMI_ACCESS_TOKEN", "PULUMI_STACK"} <= used
    assert [name for name in sorted(used) if not re.search(rf"^#\s+{name}\s", header, re.M)] == []
    # the provider reads these names (settings.py), and the jobs pass the secrets under them
    env = workflow()["env"]
    assert {env[name] for name in ("ASC_ISSUER_ID", "ASC_KEY_ID", "ASC_PRIVATE_KEY")} == {
        "${{ secrets.ASC_ISSUER_ID }}", "${{ secrets.ASC_KEY_ID }}", "${{ secrets.ASC_PRIVATE_KEY }}"
    }


def job_pulumi(job: str) -> list[tuple[str, list[str]]]:
    return [pulumi_command(w) for j, w in run_commands() if j == job and w[0] == "pulumi" and w[1] != "install"]


def test_each_event_runs_its_job() -> None:
    document = workflow()
    assert set(document["on"]) == {"pull_request", "push", "schedule", "workflow_dispatch"}
    assert document["on"]["push"] == {"branches": ["main"]}
    jobs = document["jobs"]
    assert "pull_request" in jobs["preview"]["if"] and "head.repo.full_name == github.repository" in jobs["preview"]["if"]
    assert "refs/heads/main" in jobs["up"]["if"]
    assert "schedule" in jobs["drift"]["if"]

    (preview,) = job_pulumi("preview")
    assert preview[0] == "preview" and {"--refresh", "--json", "--stack"} <= set(preview[1])
    (up,) = job_pulumi("up")
    assert up[0] == "up" and {"--refresh", "--diff", "--yes", "--stack"} <= set(up[1])
    (drift,) = job_pulumi("drift")
    assert drift[0] == "preview" and {"--refresh", "--expect-no-changes", "--json", "--stack"} <= set(drift[1])
    summaries = {j: w[1] for j, w in run_commands() if w[0].endswith("pulumi-appstoreconnect") and w[1].endswith("summary")}
    assert summaries == {"preview": "preview-summary", "drift": "drift-summary"}


def test_every_job_checks_the_key_first_and_writes_share_one_queue_per_stack() -> None:
    jobs = workflow()["jobs"]
    for name, job in jobs.items():
        runs = [step.get("run", "") for step in job["steps"]]
        doctor = runs.index("venv/bin/pulumi-appstoreconnect doctor")
        assert all("pulumi preview" not in r and "pulumi up" not in r for r in runs[:doctor]), name
    assert jobs["up"]["concurrency"] == jobs["drift"]["concurrency"]
    assert jobs["up"]["concurrency"]["cancel-in-progress"] is False
    assert "PULUMI_STACK" in jobs["up"]["concurrency"]["group"]
    assert jobs["preview"]["permissions"]["pull-requests"] == "write"
    assert workflow()["permissions"] == {"contents": "read"}
