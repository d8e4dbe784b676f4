"""The CI recipe's commands through the real engine (examples/ci/github-actions.yml).

The `pulumi` commands are taken from the workflow file itself and run on examples/bundle-ids
against the emulator; their JSON goes through `pulumi-appstoreconnect preview-summary` /
`drift-summary` as the jobs do. Also: the committed list of the CLI's flags that the unit test
of the workflow uses still matches the pinned CLI.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import EmulatorHandle, SharedStack, Stack, make_stack

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"
CONSOLE = Path(sys.executable).with_name("pulumi-appstoreconnect")


def job_pulumi_args(job: str, subcommand: str) -> list[str]:
    """The arguments of the job's `pulumi <subcommand>` line, as the runner would run them,
    without `--stack "$STACK"` and `--non-interactive` (Stack.run adds both) and redirections."""
    for step in yaml.safe_load(WORKFLOW.read_text())["jobs"][job]["steps"]:
        for line in step.get("run", "").splitlines():
            words = shlex.split(line)
            if words[:2] == ["pulumi", subcommand]:
                words = words[1 : words.index(">")] if ">" in words else words[1:]
                stack = words.index("--stack")
                return [w for i, w in enumerate(words) if i not in (stack, stack + 1) and w != "--non-interactive"]
    raise AssertionError(f"no `pulumi {subcommand}` in job {job}")


def summarise(command: str, preview_json: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """The job's `venv/bin/pulumi-appstoreconnect <command> preview.json`."""
    (workdir / "preview.json").write_text(preview_json)
    return subprocess.run([str(CONSOLE), command, "preview.json"], cwd=workdir, capture_output=True, text=True, timeout=60)


def ids(emulator: EmulatorHandle) -> dict[str, str]:
    return {o["attributes"]["identifier"]: o["id"] for o in emulator.objects("bundleIds")}


def up(stack: Stack, emulator: EmulatorHandle) -> None:
    stack.run("up", "--yes")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorHandle, engine_bin: Path) -> SharedStack:
    stack = make_stack("bundle-ids", tmp_path_factory.mktemp("ci-recipe"), emulator, engine_bin)
    return SharedStack(stack, emulator, {"deployed": up})


def test_the_committed_cli_flags_match_the_pinned_cli(engine_bin: Path) -> None:
    env = {**os.environ, "PULUMI_ENGINE_BIN": str(engine_bin)}
    check = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "pulumi_cli_flags.py"), "--check"], capture_output=True, text=True, env=env
    )
    assert check.returncode == 0, check.stderr


@pytest.mark.stack_state("deployed", changes=False)
def test_nightly_drift_job_passes_when_nothing_drifted(stack: Stack, tmp_path: Path) -> None:
    preview = stack.run(*job_pulumi_args("drift", "preview"), check=False)
    assert preview.returncode == 0, preview.stderr
    summary = summarise("drift-summary", preview.stdout, tmp_path)
    assert summary.returncode == 0
    assert "No drift: App Store Connect matches the program." in summary.stdout


@pytest.mark.stack_state("deployed", changes=True)
def test_nightly_drift_job_fails_and_says_what_drifted(stack: Stack, emulator: EmulatorHandle, tmp_path: Path) -> None:
    found = ids(emulator)
    app, widget = found["com.example.skeleton.app"], found["com.example.skeleton.app.widget"]
    emulator.admin("PATCH", f"/objects/bundleIds/{app}", json={"attributes": {"name": "Renamed in the portal"}})
    emulator.admin("PATCH", f"/objects/bundleIds/{widget}", json={"attributes": {"platform": "MAC_OS"}})

    preview = stack.run(*job_pulumi_args("drift", "preview"), check=False)
    assert preview.returncode != 0  # --expect-no-changes
    summary = summarise("drift-summary", preview.stdout, tmp_path)
    assert summary.returncode == 1, summary.stdout
    out = summary.stdout
    assert f'| BundleId `app` (`{app}`) | `name` | `"Renamed in the portal"` | `"Skeleton App"` | set the program\'s value |' in out
    assert f'| BundleId `widget` (`{widget}`) | `platform` | `"MAC_OS"` | `"IOS"` | **refuse**' in out
    assert f"- bundleIds `{widget}`: `platform` is 'MAC_OS' at Apple, 'IOS' in the program" in out


@pytest.mark.stack_state("deployed", changes=True)
def test_drift_job_reports_a_failed_preview_as_a_failure_not_as_drift(
    stack: Stack, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    emulator.admin("PATCH", "/access", json={"agreementsInEffect": False})
    preview = stack.run(*job_pulumi_args("drift", "preview"), check=False)
    summary = summarise("drift-summary", preview.stdout, tmp_path)
    assert summary.returncode == 2, summary.stdout
    assert "**The drift check could not run**" in summary.stdout
    assert "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED" in summary.stdout

    # The job would have stopped before, at doctor, with what to sign and where.
    env = {**stack.env, "ASC_BASE_URL": emulator.base_url, "ASC_KEY_ID": emulator.emulator.key_id,
           "ASC_ISSUER_ID": emulator.emulator.issuer_id, "ASC_PRIVATE_KEY": emulator.emulator.private_key_pem}
    doctor = subprocess.run([str(CONSOLE), "doctor"], capture_output=True, text=True, env=env, timeout=60)
    assert doctor.returncode == 1
    assert "Only the Account Holder can accept it" in doctor.stdout
    assert emulator.emulator.private_key_pem.splitlines()[1] not in doctor.stdout + doctor.stderr


@pytest.mark.stack_state("deployed", changes=True)
def test_pull_request_job_summarises_the_program_change(stack: Stack, emulator: EmulatorHandle, tmp_path: Path) -> None:
    stack.config("bundle-ids:appName", "Skeleton App 2")
    emulator.clear_requests()
    preview = stack.run(*job_pulumi_args("preview", "preview"), check=False)
    assert preview.returncode == 0, preview.stderr
    summary = summarise("preview-summary", preview.stdout, tmp_path)
    assert summary.returncode == 0
    app = ids(emulator)["com.example.skeleton.app"]
    assert f'| BundleId `app` (`{app}`) | `name` | `"Skeleton App"` | `"Skeleton App 2"` | update it in place |' in summary.stdout
    assert [r for r in emulator.requests() if r["method"] != "GET"] == []  # a preview changes nothing
