"""Request budget of the examples through the real engine (``make bench``).

Apple allows 3,600 requests per key per rolling hour, so the number of requests an operation
costs is the figure that matters (wall time against a local emulator says little). For each
example: the first ``up``, a no-op ``up``, a no-op ``preview`` and a ``refresh``, counted from the
emulator's request log by method. Then the signing example's first ``up`` under ~10 % injected
faults, to price what retries and look-ups after ambiguous POSTs cost. Then the screenshots and
preview of examples/app-metadata: API requests, upload PUTs and bytes uploaded for the first
``up``, a no-op ``up`` and an ``up`` after one image changed (uploads are not API requests: they
spend no hourly budget, but they are the time and bandwidth an ``up`` costs).

Then the scale run (issue 14, ``--scale-only`` runs it alone): ``benchmarks/scale`` declares
1,000 resources against an emulator that adds 100 ms to every request (its ``latency`` fault),
with the read cache on and then off (``PULUMI_APPSTORECONNECT_READ_CACHE=off``), each on a fresh
account; the table goes to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
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


# -- the scale run (issue 14) -------------------------------------------------------------

SCALE_STEPS = (
    ("first up", ("up", "--yes")),
    ("no-op up", ("up", "--yes")),
    ("no-op preview", ("preview", "--expect-no-changes")),
    ("refresh", ("refresh", "--yes")),
    ("up --refresh", ("up", "--refresh", "--yes")),
)
LATENCY = 0.1  # seconds the emulator adds to every /v1 request
APPS = [f"64600000{n:02d}" for n in range(4)]  # apps the account has (the API cannot make them)
HOURLY_BUDGET = 3600  # Apple's requests per key and rolling hour


def sdk_workers() -> int:
    """The threads the Python SDK's dynamic-provider server handles calls on: its gRPC server's
    ``ThreadPoolExecutor(max_workers=N)`` in ``pulumi/dynamic/__main__.py`` (read, not imported:
    importing it starts the server). ``--parallel`` does not change it."""
    import pulumi

    source = (Path(pulumi.__file__).parent / "dynamic" / "__main__.py").read_text()
    found = re.findall(r"ThreadPoolExecutor\(max_workers=(\d+)\)", source)
    if len(found) != 1:
        raise RuntimeError("pulumi/dynamic/__main__.py no longer names one max_workers: read it again")
    return int(found[0])


def spans(entries: list[dict[str, object]]) -> list[tuple[float, float]]:
    """(start, end) of each request in the emulator's log: it ends at ``time`` and lasted
    ``duration_ms`` (the injected latency included)."""
    out = []
    for entry in entries:
        end = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00")).timestamp()
        out.append((end - float(entry["duration_ms"]) / 1000, end))  # type: ignore[arg-type]
    return out


def in_flight(entries: list[dict[str, object]]) -> dict[str, float]:
    """How many requests the emulator served at once: the most, the mean while at least one was
    in flight, and the seconds during which at least one was."""
    edges = sorted([(a, 1) for a, _ in spans(entries)] + [(b, -1) for _, b in spans(entries)])
    most = current = 0
    busy = weighted = 0.0
    last = None
    for at, step in edges:
        if last is not None and current > 0:
            busy += at - last
            weighted += (at - last) * current
        current += step
        most = max(most, current)
        last = at
    return {"max": most, "mean": round(weighted / busy, 2) if busy else 0.0, "busy_s": round(busy, 1)}


def by_path(entries: list[dict[str, object]]) -> dict[str, int]:
    """Requests per method and path, ids left out (``GET /v1/devices/{id}``): where they went."""
    counts: Counter[str] = Counter()
    for entry in entries:
        parts = str(entry["path"]).split("/")
        if len(parts) > 3:
            parts[3] = "{id}"
        counts[f"{entry['method']} {'/'.join(parts)}"] += 1
    return dict(counts.most_common())


SMALL = {"devices": 20, "bundleIds": 8, "certificates": 2, "profiles": 5, "groups": 4, "testers": 8}  # 55: a smoke run


def measure_scale(
    workdir: Path, emulator: Emulator, base_url: str, cache: str, sizes: dict[str, int] | None, steps: list[str],
    env: dict[str, str] | None = None,
) -> dict[str, dict[str, object]]:
    admin = httpx.Client(base_url=f"{base_url}/_emulator", timeout=60)
    admin.post("/reset")
    admin.post("/objects/apps", json=[
        {"id": app, "attributes": {"name": f"Bench {n}", "bundleId": f"com.example.bench.tf{n}", "sku": f"BENCH-{n}",
                                   "primaryLocale": "en-US"}}
        for n, app in enumerate(APPS)
    ])
    stack = new_stack(
        ROOT / "benchmarks" / "scale", workdir, base_url=base_url, key_id=emulator.key_id,
        issuer_id=emulator.issuer_id, private_key_pem=emulator.private_key_pem,
    )
    stack.env["PULUMI_APPSTORECONNECT_READ_CACHE"] = cache
    stack.env.update(env or {})
    stack.config("scale:apps", ",".join(APPS))
    for name, count in (sizes or {}).items():
        stack.config(f"scale:{name}", str(count))
    admin.post("/faults", json={"kind": "latency", "seconds": LATENCY})
    results: dict[str, dict[str, object]] = {}
    for label, args in SCALE_STEPS:
        if label not in steps:
            continue
        admin.delete("/requests")
        stack.env["PULUMI_APPSTORECONNECT_LOG_FILE"] = str(workdir / f"provider-{label.replace(' ', '-')}.log")
        started = time.perf_counter()
        proc = stack.run(*args)
        wall = time.perf_counter() - started
        entries = admin.get("/requests").json()["data"]
        methods = Counter(str(r["method"]) for r in entries)
        results[label] = {
            "requests": len(entries), "by_method": dict(sorted(methods.items())), "wall_s": round(wall, 1),
            "in_flight": in_flight(entries), "by_path": by_path(entries),
        }
        if label == "first up":
            # The engine counts the stack itself among what it created.
            results[label]["resources"] = int(re.findall(r"(\d+) created", proc.stdout)[-1]) - 1
        print(f"  cache {cache:<3} {label:<14} {len(entries):>6} requests {wall:>7.1f} s", flush=True)
    admin.delete("/faults")
    return results


def scale_table(runs: dict[str, dict[str, dict[str, object]]], steps: list[str]) -> tuple[str, list[str]]:
    """The markdown table and the targets' verdicts."""
    on, off = runs["on"], runs["off"]
    workers = sdk_workers()
    lines = [
        "| step | requests, cache on | requests, cache off | share of Apple's hour, on / off | wall s, on | wall s, off "
        "| requests in flight, on: mean / max (s with any) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label in [*steps, SAVED_ONCE] if "first up" in steps else steps:
        a, b = on[label], off[label]
        flight = a["in_flight"]
        lines.append(
            f"| {label} | {a['requests']} | {b['requests']} | {int(a['requests']) / HOURLY_BUDGET:.1%} / "  # type: ignore[arg-type]
            f"{int(b['requests']) / HOURLY_BUDGET:.1%} | {a['wall_s']} | {b['wall_s']} | "  # type: ignore[arg-type]
            f"{flight['mean']} / {flight['max']} ({flight['busy_s']}) |"  # type: ignore[index]
        )
    verdicts = []
    if "refresh" in steps:
        refresh, per_resource = int(on["refresh"]["requests"]), int(off["refresh"]["requests"])  # type: ignore[arg-type]
        verdicts.append(
            f"refresh: {refresh} requests = {refresh / per_resource:.1%} of the {per_resource} of per-resource reads "
            f"(target at most 5 %): {'met' if refresh <= 0.05 * per_resource else 'NOT met'}"
        )
    created = int(on["first up"]["resources"])  # type: ignore[arg-type]
    first = int(on["first up"]["requests"])  # type: ignore[arg-type]
    verdicts.append(
        f"first up: {first} requests for {created} created resources = {first / created:.3f} per resource (target at "
        f"most 1.05): {'met' if first <= 1.05 * created else 'NOT met'}"
    )
    if "no-op preview" in steps:
        noop, preview = on["no-op up"]["requests"], on["no-op preview"]["requests"]
        verdicts.append(
            f"no-op up: {noop} requests, no-op preview: {preview} (target 0): {'met' if noop == preview == 0 else 'NOT met'}"
        )
    ideal = first * LATENCY / workers
    for label, engine in (("first up", "the engine saving its state after every step"), (SAVED_ONCE, "the state saved once")):
        wall = float(on[label]["wall_s"])  # type: ignore[arg-type]
        flight = on[label]["in_flight"]
        verdicts.append(
            f"first up wall time, {engine}: {wall:.1f} s against {first} requests x {LATENCY * 1000:.0f} ms / "
            f"{workers} workers = {ideal:.1f} s: {wall / ideal:.2f}x (target at most 1.5x): "
            f"{'met' if wall <= 1.5 * ideal else 'NOT met'}; requests in flight {flight['mean']} on average, "  # type: ignore[index]
            f"{flight['max']} at most, some for {flight['busy_s']} s ({float(flight['busy_s']) / ideal:.2f}x the ideal), "  # type: ignore[index]
            f"none for the other {wall - float(flight['busy_s']):.1f} s"  # type: ignore[index]
        )
    return "\n".join(lines), verdicts


# Apple's 3,600 requests per hour would be spent within the run (the cache-off first up and
# refresh of 1,000 resources together need more), and the client then spaces its requests,
# which would hide what the cache changes: the scale run's emulator allows far more, and the
# table states each step's share of Apple's hour instead.
SCALE_RATE_LIMIT = 1_000_000


# The engine saves the whole state after each step begins and ends, one save at a time
# (pkg/backend/snapshot.go, defaultServiceLoop): at 1,000 resources that, not the requests,
# bounds a first up on a 2-core machine. PULUMI_SKIP_CHECKPOINTS saves it once, at the end.
SAVE_ONCE = {"PULUMI_SKIP_CHECKPOINTS": "true"}
SAVED_ONCE = "first up, state saved once"


def run_scale(tmp: Path, counts: dict[str, int] | None, steps: list[str]) -> dict[str, dict[str, dict[str, object]]]:
    runs = {}
    emulator = Emulator(tmp / "scale-emulator", rate_limit=SCALE_RATE_LIMIT)
    server = emulator.serve(port=0)
    try:
        for cache in ("on", "off"):
            print(f"scale run, read cache {cache}", flush=True)
            runs[cache] = measure_scale(tmp / f"scale-{cache}", emulator, server.base_url, cache, counts, steps)
            # The same first up on a fresh account, the engine saving its state once at the end
            # instead of after every step: what the provider's own concurrency allows.
            fast = measure_scale(
                tmp / f"scale-{cache}-once", emulator, server.base_url, cache, counts, ["first up"], env=SAVE_ONCE
            )
            runs[cache][SAVED_ONCE] = fast["first up"]
    finally:
        server.shutdown()
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale-only", action="store_true", help="only the 1,000-resource run (issue 14)")
    parser.add_argument("--small", action="store_true", help="the scale run with 55 resources, README untouched (a smoke run)")
    parser.add_argument(
        "--steps", type=int, default=len(SCALE_STEPS), help="only the first N steps of the scale run, README untouched"
    )
    options = parser.parse_args()
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    steps = [label for label, _ in SCALE_STEPS][: options.steps]
    with tempfile.TemporaryDirectory(prefix="asc-bench-") as tmp:
        if not options.scale_only:
            emulator = Emulator(Path(tmp) / "emulator")
            server = emulator.serve(port=0)
            try:
                examples(Path(tmp), emulator, server.base_url, out)
            finally:
                server.shutdown()
        runs = run_scale(Path(tmp), SMALL if options.small else None, steps)
    table, verdicts = scale_table(runs, steps)
    print(table)
    print("\n".join(verdicts))
    if not options.small and len(steps) == len(SCALE_STEPS):
        (out / "scale.json").write_text(json.dumps(runs, indent=2) + "\n")
        write_readme(table, verdicts)
    return 0


README_START = "<!-- scale run: written by benchmarks/requests.py -->"
README_END = "<!-- end of scale run -->"


def write_readme(table: str, verdicts: list[str]) -> None:
    """Put the table between the README's markers (the prose around it is kept)."""
    readme = ROOT / "benchmarks" / "README.md"
    text = readme.read_text() if readme.exists() else f"{README_START}\n{README_END}\n"
    block = f"{README_START}\n{table}\n\n" + "\n".join(f"- {v}" for v in verdicts) + f"\n{README_END}"
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    readme.write_text(text[:start] + block + text[end:])
    print(f"\nwritten to {readme.relative_to(ROOT)}")


def examples(tmp: Path, emulator: Emulator, base_url: str, out: Path) -> None:
    report: dict[str, dict[str, dict[str, int]]] = {}
    for example in ("bundle-ids", "signing"):
        report[example] = measure(example, tmp / example, emulator, base_url)
    faulted = measure_under_faults(tmp / "faulted", emulator, base_url)
    media = measure_screenshots(tmp / "screenshots", emulator, base_url)
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
    report["app-metadata media"] = media  # type: ignore[assignment]
    (out / "requests.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {(out / 'requests.json').relative_to(ROOT)}\n")


if __name__ == "__main__":
    sys.exit(main())
