"""CI's checks that the package works where users install it (``make test`` runs both).

    python tools/package_check.py wheel        # make package-check
    python tools/package_check.py newest-sdk   # make newest-sdk-check

``wheel``: copies the files git tracks (or would) to a temporary directory, so nothing stale in
the checkout (egg-info, build/) can leak in, and builds them with PyPA ``build``: the sdist, then
the wheel from the sdist, so a file the sdist lacks is missing from the wheel too. Both archives
must hold every file of ``provider/pulumi_appstoreconnect`` (modules and package data such as the
emulator's seeds). The wheel is installed (``-c constraints.txt``, not editable) into a fresh
virtualenv outside the checkout; that virtualenv's ``pulumi-appstoreconnect emulator --seed demo``
serves the account, and a copy of ``examples/bundle-ids`` whose Pulumi.yaml names that virtualenv
runs ``up``, ``preview --expect-no-changes`` and ``destroy`` through the engine (with a copy of
tools/pulumi-engine/run.py). Nothing of the run has the checkout on its path (no PYTHONPATH, every
cwd and script outside it): the copy of the program exports ``pulumi_appstoreconnect.__file__``,
which must lie in that virtualenv's site-packages, and its ``sys.path``, which must not name the
checkout.

``newest-sdk``: installs the package (editable) and the newest ``pulumi`` its range allows, with
the newest dependencies, into ``.venv-newest/``, then runs tests/engine/test_bundle_ids_engine.py
from ``.venv`` with ``PULUMI_ENGINE_PROGRAM_VENV`` pointing at it: the programs and their dynamic
providers run with the newest SDK, the engine stays at tools/pulumi-engine/VERSION.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Iterable

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "pulumi-engine"))

from pulumistack import DEFAULT_ENGINE_BIN, PROGRAM_VENV_ENV, RUN, Stack  # noqa: E402

PACKAGE = "pulumi_appstoreconnect"
SCRIPT = "pulumi-appstoreconnect"
ENTRY_POINT = f"{SCRIPT} = {PACKAGE}.cli:main"
EXAMPLE = ROOT / "examples" / "bundle-ids"
NEWEST_VENV = ROOT / ".venv-newest"
NEWEST_TESTS = "tests/engine/test_bundle_ids_engine.py"
# Appended to the program's copy: where it imported the package from, and its sys.path.
EXPORT_WHERE = f"""
import sys
import {PACKAGE} as _installed

pulumi.export("package_file", _installed.__file__)
pulumi.export("sys_path", sys.path)
"""
# Versions worth printing from the program's virtualenv.
SHOWN = ("pulumi", "grpcio", "protobuf", "dill", "httpx", "pydantic", "cryptography", "PyJWT")


class CheckFailed(Exception):
    """The check failed; the message says what and why."""


def say(message: str) -> None:
    print(f"[package-check] {message}", flush=True)


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise CheckFailed(f"`{' '.join(map(str, cmd))}` exited {proc.returncode}\n{proc.stdout}{proc.stderr}")
    return proc


# -- what the archives must hold ------------------------------------------------------------------


def package_files(source: Path) -> list[str]:
    """Every file of the package in ``source`` (a tree of git's files), relative to ``provider/``."""
    base = source / "provider"
    return sorted(
        p.relative_to(base).as_posix() for p in (base / PACKAGE).rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )


def sdist_problems(names: Iterable[str], expected: list[str]) -> list[str]:
    """What a source install would miss: ``names`` are the sdist's members."""
    inside = {name.split("/", 1)[1] for name in names if "/" in name}
    required = ["pyproject.toml", "README.md", *(f"provider/{path}" for path in expected)]
    return [f"the sdist lacks {path}" for path in required if path not in inside]


def wheel_problems(names: Iterable[str], entry_points: str, expected: list[str]) -> list[str]:
    """What an install of the wheel would miss or wrongly bring along: ``names`` are its members."""
    names = set(names)
    problems = [f"the wheel lacks {path}" for path in expected if path not in names]
    problems += [
        f"the wheel installs {top!r} next to the package"
        for top in sorted({name.split("/", 1)[0] for name in names})
        if top != PACKAGE and not top.endswith(".dist-info")
    ]
    if ENTRY_POINT not in [line.strip() for line in entry_points.splitlines()]:
        problems.append(f"the wheel's entry_points.txt lacks the console script `{ENTRY_POINT}`")
    return problems


# -- wheel: build, inspect, install outside the checkout, run the example ------------------------


def copy_git_tree(dest: Path) -> Path:
    """The checkout's files as git sees them (tracked or not ignored), copied to ``dest``."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the work tree is not part of it
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def build(tmp: Path) -> tuple[Path, Path]:
    source = copy_git_tree(tmp / "source")
    expected = package_files(source)
    dist = tmp / "dist"
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], cwd=tmp)
    (sdist,), (wheel,) = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    with tarfile.open(sdist) as archive:
        problems = sdist_problems(archive.getnames(), expected)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next((archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")), "")
        problems += wheel_problems(names, entry_points, expected)
    if problems:
        raise CheckFailed("; ".join(problems) + " (see [tool.setuptools] in pyproject.toml)")
    say(f"built {sdist.name} and, from it, {wheel.name}: both hold the {len(expected)} files of {PACKAGE}")
    return sdist, wheel


def under_checkout(paths: Iterable[str]) -> list[str]:
    return [p for p in paths if p and Path(p).resolve().is_relative_to(ROOT)]


def outside_env() -> dict[str, str]:
    """The environment for everything run from the installed wheel: nothing points at the checkout."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
    return {
        k: v
        for k, v in os.environ.items()
        if k not in dropped and not k.startswith(("PULUMI_", "ASC_", "APP_STORE_CONNECT_"))
    }


def install(wheel: Path, venv: Path, env: dict[str, str]) -> dict[str, str]:
    """The wheel installed into a fresh ``venv``; returns where its package was imported from."""
    run([sys.executable, "-m", "venv", str(venv)], cwd=venv.parent, env=env)
    python = str(venv / "bin" / "python")
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(ROOT / "constraints.txt"), str(wheel)], cwd=venv.parent, env=env)
    probe = (
        "import json, sys, sysconfig, importlib.metadata as m, pulumi_appstoreconnect as p; "
        "print(json.dumps({'file': p.__file__, 'purelib': sysconfig.get_paths()['purelib'], "
        "'path': sys.path, 'pulumi': m.version('pulumi')}))"
    )
    where = json.loads(run([python, "-c", probe], cwd=venv.parent, env=env).stdout)
    if not Path(where["file"]).is_relative_to(where["purelib"]) or under_checkout(where["path"]):
        raise CheckFailed(f"the virtualenv imports {PACKAGE} from {where['file']}, sys.path {where['path']}: "
                          f"expected {where['purelib']} and nothing under {ROOT}")
    say(f"installed into {venv} (pulumi {where['pulumi']}): {PACKAGE} imports from {where['file']}")
    return where


def start_emulator(venv: Path, tmp: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    ready, log = tmp / "emulator-ready.json", tmp / "emulator.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(venv / "bin" / SCRIPT), "emulator", "--port", "0", "--state-dir", str(tmp / "emulator"),
             "--ready-file", str(ready), "--seed", "demo"],
            cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise CheckFailed(f"`{SCRIPT} emulator --seed demo` from the wheel did not start:\n{log.read_text()}")
        time.sleep(0.1)
    return proc, json.loads(ready.read_text())


def project_copy(venv: Path, dest: Path) -> Path:
    """examples/bundle-ids as a user's project: its Pulumi.yaml names ``venv``."""
    shutil.copytree(EXAMPLE, dest)
    project = dest / "Pulumi.yaml"
    text, count = re.subn(r"(?m)^(\s*virtualenv:).*$", rf"\g<1> {venv}", project.read_text())
    if count != 1:
        raise CheckFailed(f"{EXAMPLE / 'Pulumi.yaml'} should have one `virtualenv:` line, has {count}")
    project.write_text(text)
    with (dest / "__main__.py").open("a") as main:
        main.write(EXPORT_WHERE)
    return dest


def identifiers(base_url: str) -> list[str]:
    objects = httpx.get(f"{base_url}/_emulator/objects/bundleIds", timeout=30).json()["data"]
    return sorted(o["attributes"]["identifier"] for o in objects)


def run_example(venv: Path, tmp: Path, env: dict[str, str], purelib: str) -> None:
    emulator, info = start_emulator(venv, tmp, env)
    try:
        seeded = identifiers(info["base_url"])
        if not seeded:
            raise CheckFailed("the emulator from the wheel started without the shipped demo seed's bundle IDs")
        say(f"emulator from {venv / 'bin' / SCRIPT} serves the shipped demo seed ({len(seeded)} bundle IDs)")
        program = project_copy(venv, tmp / "project")
        backend = tmp / "backend"
        backend.mkdir()
        runner = Path(shutil.copy2(RUN, tmp / RUN.name))
        stack = Stack(program=program, name="package", runner=runner, env={
            **env,
            "PULUMI_HOME": str(tmp / "pulumi-home"),
            "PULUMI_BACKEND_URL": f"file://{backend}",
            "PULUMI_CONFIG_PASSPHRASE": "not-a-real-secret-emulator-only",
            "PULUMI_ENGINE_BIN": str(DEFAULT_ENGINE_BIN),
            "NO_COLOR": "1",
        })
        stack.run("stack", "init", "package")
        stack.config("appstoreconnect:baseUrl", info["base_url"])
        stack.config("appstoreconnect:keyId", info["key_id"])
        stack.config("appstoreconnect:issuerId", info["issuer_id"])
        stack.config("appstoreconnect:privateKey", Path(info["private_key_path"]).read_text(), secret=True)

        up = stack.run("up", "--yes")
        created = sorted(set(identifiers(info["base_url"])) - set(seeded))
        outputs = stack.outputs()
        package_file = outputs.get("package_file", "")
        if created != ["com.example.skeleton.app", "com.example.skeleton.app.widget"]:
            raise CheckFailed(f"`pulumi up` created {created}, expected the example's two bundle IDs\n{up.stdout}")
        if not Path(package_file).is_relative_to(purelib):
            raise CheckFailed(f"the program imported {PACKAGE} from {package_file!r}, not from {purelib}")
        sys_path = outputs.get("sys_path") or [str(ROOT)]  # missing: fail
        if under_checkout(sys_path):
            raise CheckFailed(f"the program's sys.path names the checkout: {under_checkout(sys_path)}")
        how = [line for line in up.stderr.splitlines() if line.startswith("run.py:")]
        say(f"pulumi up created {', '.join(created)}; the program imported {package_file}")
        if how:
            say(how[-1])
        preview = stack.run("preview", "--expect-no-changes", check=False)
        if preview.returncode != 0:
            raise CheckFailed(f"`pulumi preview --expect-no-changes` after up exited {preview.returncode}\n"
                              f"{preview.stdout}{preview.stderr}")
        stack.run("destroy", "--yes")
        if identifiers(info["base_url"]) != seeded:
            raise CheckFailed(f"`pulumi destroy` left {identifiers(info['base_url'])}, expected the seed's {seeded}")
        say("pulumi preview --expect-no-changes: no changes; pulumi destroy: back to the seeded account")
    except RuntimeError as exc:  # Stack.run: the CLI failed, its output is in the message
        raise CheckFailed(str(exc)) from None
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=30)


def check_wheel() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="asc-package-check-"))
    if tmp.resolve().is_relative_to(ROOT):
        raise CheckFailed(f"the temporary directory {tmp} is inside the checkout: set TMPDIR elsewhere")
    try:
        _, wheel = build(tmp)
        env = outside_env()
        where = install(wheel, tmp / "venv", env)
        run_example(tmp / "venv", tmp, env, where["purelib"])
    except CheckFailed as exc:
        raise CheckFailed(f"{exc}\n(its files are kept in {tmp})") from None
    shutil.rmtree(tmp)


# -- newest-sdk: the bundle-ids engine tests with the newest SDK the range allows ---------------


def versions(python: Path, names: Iterable[str]) -> dict[str, str]:
    code = f"import importlib.metadata as m, json; print(json.dumps({{n: m.version(n) for n in {list(names)!r}}}))"
    return json.loads(run([str(python), "-c", code], cwd=ROOT).stdout)


def check_newest_sdk() -> int:
    python = NEWEST_VENV / "bin" / "python"
    if not python.exists():
        run([sys.executable, "-m", "venv", str(NEWEST_VENV)])
    say(f"installing the package and the newest Pulumi SDK its range allows into {NEWEST_VENV.name}/")
    run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade",
         "--upgrade-strategy", "eager", "-e", str(ROOT), "pulumi"], cwd=ROOT)
    newest = versions(python, SHOWN)
    pinned = versions(Path(sys.executable), ["pulumi"])["pulumi"]
    engine = run([str(DEFAULT_ENGINE_BIN / "pulumi"), "version"]).stdout.strip()
    say(f"programs and dynamic providers run with pulumi {newest['pulumi']} ({NEWEST_VENV.name}/: "
        + ", ".join(f"{k} {v}" for k, v in newest.items() if k != "pulumi")
        + f"); engine {engine}; the tests themselves in .venv with pulumi {pinned}")
    env = {**os.environ, PROGRAM_VENV_ENV: str(NEWEST_VENV)}
    result = subprocess.run([sys.executable, "-m", "pytest", NEWEST_TESTS, "-p", "no:cacheprovider"], cwd=ROOT, env=env)
    say(f"{NEWEST_TESTS} with pulumi {newest['pulumi']}: {'passed' if result.returncode == 0 else 'FAILED'}")
    return result.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("check", choices=["wheel", "newest-sdk"])
    ns = parser.parse_args(argv)
    start = time.monotonic()
    try:
        code = check_newest_sdk() if ns.check == "newest-sdk" else check_wheel() or 0
    except CheckFailed as exc:
        print(f"[package-check] FAILED ({ns.check}): {exc}", file=sys.stderr)
        return 1
    say(f"{ns.check}: {'ok' if code == 0 else 'failed'} in {time.monotonic() - start:.0f}s")
    return code


if __name__ == "__main__":
    sys.exit(main())
