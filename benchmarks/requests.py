"""Request budget of the examples through the real engine (``make bench``).

Apple allows 3,600 requests per key per rolling hour, so the number of requests an operation
costs is the figure that matters (wall time against a local emulator says little). For each
example: the first ``up``, a no-op ``up``, a no-op ``preview`` and a ``refresh``, counted from the
emulator's request log by method. Then the signing example's first ``up`` under ~10 % injected
faults, to price what retries and look-ups after ambiguous POSTs cost. Then the screenshots and
preview of examples/app-metadata: API requests, upload PUTs and bytes uploaded for the first
``up``, a no-op ``up`` and an ``up`` after one image changed (uploads are not API requests: they
spend no hourly budget, but they are the time and bandwidth an ``up`` costs).
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "pulumi-engine"))

from pulumistack import new_stack  # noqa: E402

from pulumi_appstoreconnect.emulator import Emulator  # noqa: E402
from pulumi_appstoreconnect.emulator.seeding import load_seed  # noqa: E402

sys.path.insert(0, str(ROOT / "examples" / "app-metadata"))
from placeholders import IPHONE, png  # noqa: E402

STEPS = (
    ("first up", ("up", "--yes")),
    ("no-op up", ("up", "--yes")),
    ("no-op preview", ("preview", "--expect-no-changes")),
    ("refresh", ("refresh", "--yes")),
    ("destroy", ("destroy", "--yes")),
)


def measure(example: str, workdir: Path, emulator: Emulator, base_url: str) -> dict[str, dict[str, int]]:
    admin = httpx.Client(base_url=f"{base_url}/_emulator", timeout=30)
    admin.post("/reset")
    stack = new_stack(
        example, workdir, base_url=base_url, key_id=emulator.key_id,
        issuer_id=emulator.issuer_id, private_key_pem=emulator.private_key_pem,
    )
    results: dict[str, dict[str, int]] = {}
    for label, args in STEPS:
        admin.delete("/requests")
        stack.run(*args)
        counts = Counter(r["method"] for r in admin.get("/requests").json()["data"])
        results[label] = {"total": sum(counts.values()), **dict(sorted(counts.items()))}
    return results


FAULTS = {  # about one request in ten, as in the fault suite
    "seed": "bench",
    "rules": [
        {"kind": "429", "probability": 0.03},
        {"kind": "503", "probability": 0.03},
        {"kind": "drop_before_commit", "probability": 0.02},
        {"kind": "drop_after_commit", "probability": 0.02},
    ],
}


def measure_under_faults(workdir: Path, emulator: Emulator, base_url: str, runs: int = 5) -> dict[str, float]:
    """The signing example's first up, repeated with ~10 % of requests faulted: the overhead."""
    admin = httpx.Client(base_url=f"{base_url}/_emulator", timeout=30)
    sent, injected = 0, 0
    for run in range(runs):
        admin.post("/reset")
        stack = new_stack(
            "signing", workdir / f"run{run}", base_url=base_url, key_id=emulator.key_id,
            issuer_id=emulator.issuer_id, private_key_pem=emulator.private_key_pem,
        )
        admin.post("/faults", json={**FAULTS, "seed": f"bench-{run}"})
        stack.run("up", "--yes")
        sent += len(admin.get("/requests").json()["data"])
        injected += admin.get("/faults").json()["injected"]
        admin.delete("/faults")
        stack.run("destroy", "--yes")
    return {"runs": runs, "requests per up": sent / runs, "faults per up": injected / runs}


SCREENSHOT_STEPS = ("first up", "no-op up", "one image changed")


def measure_screenshots(workdir: Path, emulator: Emulator, base_url: str) -> dict[str, dict[str, int]]:
    """examples/app-metadata on the demo account (Apple's default-sized parts): what its media
    cost per step, split into API requests (by method) and upload PUTs with their bytes."""
    admin = httpx.Client(base_url=f"{base_url}/_emulator", timeout=30)
    admin.post("/reset")
    load_seed(emulator, "demo")
    stack = new_stack(
        "app-metadata", workdir, base_url=base_url, key_id=emulator.key_id,
        issuer_id=emulator.issuer_id, private_key_pem=emulator.private_key_pem,
    )
    results: dict[str, dict[str, int]] = {}
    for label in SCREENSHOT_STEPS:
        if label == "one image changed":
            (stack.program / "media" / "iphone-2-streak.png").write_bytes(png(*IPHONE, (250, 20, 120)))
        admin.delete("/requests")
        stack.run("up", "--yes")
        log = admin.get("/requests").json()["data"]
        uploads = [r for r in log if r["path"].startswith("/_uploads/")]
        media = [r for r in log if r["path"].startswith(("/v1/appScreenshot", "/v1/appPreview"))]
        results[label] = {
            "api requests": len(log) - len(uploads),
            "media api requests": len(media),
            **{f"media {m}": n for m, n in sorted(Counter(r["method"] for r in media).items())},
            "upload PUTs": len(uploads),
            "bytes uploaded": sum(r["bytes"] for r in uploads),
        }
    return results


def main() -> int:
    report: dict[str, dict[str, dict[str, int]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        emulator = Emulator(Path(tmp) / "emulator")
        server = emulator.serve(port=0)
        try:
            for example in ("bundle-ids", "signing"):
                report[example] = measure(example, Path(tmp) / example, emulator, server.base_url)
            faulted = measure_under_faults(Path(tmp) / "faulted", emulator, server.base_url)
            media = measure_screenshots(Path(tmp) / "screenshots", emulator, server.base_url)
        finally:
            server.shutdown()
    print(f"{'example':<12} {'step':<15} {'requests':>8}  by method")
    for example, steps in report.items():
        for step, counts in steps.items():
            methods = ", ".join(f"{m} {n}" for m, n in counts.items() if m != "total")
            print(f"{example:<12} {step:<15} {counts['total']:>8}  {methods}")
    baseline = report["signing"]["first up"]["total"]
    print(
        f"\nsigning first up with ~10% faults ({faulted['runs']} runs): {faulted['requests per up']:.1f} "
        f"requests per up, {faulted['faults per up']:.1f} faults injected; "
        f"{faulted['requests per up'] / baseline:.2f}x the {baseline} requests without faults"
    )
    report["signing under faults"] = {k: v for k, v in faulted.items()}  # type: ignore[assignment]
    print(f"\n{'app-metadata media':<19} {'api requests':>12} {'media api':>9} {'upload PUTs':>11} {'bytes uploaded':>14}  media api by method")
    for step, counts in media.items():
        methods = ", ".join(f"{k.split()[1]} {v}" for k, v in counts.items() if k.startswith("media ") and k != "media api requests")
        print(f"{step:<19} {counts['api requests']:>12} {counts['media api requests']:>9} {counts['upload PUTs']:>11} "
              f"{counts['bytes uploaded']:>14,}  {methods}")
    report["app-metadata media"] = media
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "requests.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {(out / 'requests.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
