"""Write the ``pulumi preview --json`` fixtures of tests/unit/fixtures/preview_json/ (see its README).

    .venv/bin/python tools/preview_fixtures.py        # needs `make engine`

Runs examples/bundle-ids through the real engine against a fresh emulator, makes the changes
each fixture is about (out of band through the emulator's admin API, or in the program's
config), and saves what ``pulumi preview --json`` printed on stdout, with its exit code. The
only edit: ``stackTrace``/``sourcePosition`` entries are dropped (machine paths, ~80% of the
bytes), and a "//" member records the command and its exit code; nothing else is touched.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "pulumi-engine"))

from pulumistack import Stack, new_stack  # noqa: E402

from pulumi_appstoreconnect.emulator import Emulator  # noqa: E402

OUT = ROOT / "tests" / "unit" / "fixtures" / "preview_json"
DRIFT = ("preview", "--refresh", "--expect-no-changes", "--json")  # the nightly job's command
PULL_REQUEST = ("preview", "--refresh", "--diff", "--json")  # the pull-request job's command


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ("stackTrace", "sourcePosition")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def save(stack: Stack, name: str, args: tuple[str, ...]) -> None:
    proc = stack.run(*args, check=False)
    document = _strip(json.loads(proc.stdout))
    document["//"] = f"pulumi {' '.join(args)} exited {proc.returncode}; written by tools/preview_fixtures.py"
    (OUT / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")
    print(f"{name}.json: exit {proc.returncode}")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="preview-fixtures-") as tmp:
        work = Path(tmp)
        emulator = Emulator(work / "emulator")
        server = emulator.serve(port=0)
        admin = f"{server.base_url}/_emulator"
        try:
            stack = new_stack(
                "bundle-ids", work, base_url=server.base_url, key_id=emulator.key_id,
                issuer_id=emulator.issuer_id, private_key_pem=emulator.private_key_pem, name="production",
            )
            stack.run("up", "--yes")
            save(stack, "no_drift", DRIFT)

            # Pull requests: one renames the app (an update), one changes the identifiers
            # (create-only: both App IDs are replaced).
            stack.config("bundle-ids:appName", "Skeleton App 2")
            save(stack, "pull_request", PULL_REQUEST)
            stack.config("bundle-ids:identifierPrefix", "com.example.renamed")
            save(stack, "pull_request_replace", PULL_REQUEST)
            stack.run("config", "rm", "bundle-ids:appName")
            stack.run("config", "rm", "bundle-ids:identifierPrefix")

            found = {o["attributes"]["identifier"]: o["id"] for o in httpx.get(f"{admin}/objects/bundleIds").json()["data"]}
            # Someone renames the app and turns the widget's App ID into a macOS one in the web UI.
            httpx.patch(f"{admin}/objects/bundleIds/{found['com.example.skeleton.app']}",
                        json={"attributes": {"name": "Renamed in the portal"}}).raise_for_status()
            httpx.patch(f"{admin}/objects/bundleIds/{found['com.example.skeleton.app.widget']}",
                        json={"attributes": {"platform": "MAC_OS"}}).raise_for_status()
            save(stack, "drift", DRIFT)

            # Apple's agreements lapse: every read of the refresh is refused.
            httpx.patch(f"{admin}/access", json={"agreementsInEffect": False}).raise_for_status()
            save(stack, "agreements_expired", DRIFT)
        finally:
            server.shutdown()
            emulator.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
