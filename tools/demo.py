"""`make demo`: the bundle-ids example through the real Pulumi engine against the emulator.

1. start the App Store Connect emulator (a subprocess, state under .demo/);
2. `pulumi up` creates two bundle IDs;
3. someone renames one in the "web UI" (the emulator's admin API);
4. `pulumi preview --refresh --expect-no-changes` catches it: non-zero exit, the field named;
5. `pulumi up --refresh` converges; the emulator is stopped.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "pulumi-engine"))

from pulumistack import new_stack  # noqa: E402

DEMO = ROOT / ".demo"


def say(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def start_emulator() -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    ready = DEMO / "emulator-ready.json"
    log = (DEMO / "emulator.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pulumi_appstoreconnect.emulator", "--port", "0",
         "--state-dir", str(DEMO / "emulator"), "--ready-file", str(ready)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the emulator did not start")
        time.sleep(0.1)
    return proc, json.loads(ready.read_text())


def main() -> int:
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir()
    say("starting the App Store Connect emulator")
    emulator, info = start_emulator()
    base = info["base_url"]
    print(f"emulator at {base} (key id {info['key_id']}; its request log: .demo/emulator.log)")
    admin = httpx.Client(base_url=f"{base}/_emulator", timeout=30)
    try:
        stack = new_stack(
            "bundle-ids",
            DEMO / "work",
            base_url=base,
            key_id=info["key_id"],
            issuer_id=info["issuer_id"],
            private_key_pem=Path(info["private_key_path"]).read_text(),
        )

        say("pulumi up (examples/bundle-ids)")
        stack.run("up", "--yes", echo=True)
        created = admin.get("/objects/bundleIds").json()["data"]
        print("\nbundle IDs now in the emulator:")
        for item in created:
            a = item["attributes"]
            print(f"  {item['id']}  {a['identifier']:<36} {a['platform']:<6} {a['name']!r}")

        victim = next(i for i in created if i["attributes"]["identifier"].endswith(".widget"))
        say(f"out-of-band change: renaming {victim['attributes']['identifier']} in the 'web UI'")
        admin.patch(f"/objects/bundleIds/{victim['id']}", json={"attributes": {"name": "Renamed by hand"}})

        say("pulumi preview --refresh --expect-no-changes --diff")
        drift = stack.run("preview", "--refresh", "--expect-no-changes", "--diff", check=False, echo=True)
        named = [line.strip() for line in drift.stdout.splitlines() if "name" in line and "Renamed by hand" in line]
        if drift.returncode == 0 or not named:
            print("FAILED: the out-of-band change was not reported", file=sys.stderr)
            return 1
        print(f"\ndrift caught: exit code {drift.returncode}; field: {named[0]}")

        say("pulumi up --refresh (converge)")
        stack.run("up", "--refresh", "--yes", echo=True)
        name = admin.get("/objects/bundleIds").json()["data"]
        name = next(i for i in name if i["id"] == victim["id"])["attributes"]["name"]
        clean = stack.run("preview", "--expect-no-changes", check=False)
        print(f"\nconverged: {victim['attributes']['identifier']} is named {name!r} again; "
              f"preview --expect-no-changes exit code {clean.returncode}")
        return 0 if clean.returncode == 0 and name == "Skeleton Widget" else 1
    finally:
        admin.close()
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=30)
        say("emulator stopped (state kept in .demo/; `make demo` starts afresh)")


if __name__ == "__main__":
    sys.exit(main())
