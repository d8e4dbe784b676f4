"""Seed files: objects Apple's API cannot create, loaded into a fresh emulator.

``pulumi-appstoreconnect emulator --seed FILE`` (or :func:`load_seed`) starts from a realistic
account: apps and builds (which only Xcode and the web UI make), a UNIVERSAL App ID made in the
portal, devices of several classes, certificates and profiles that already exist. A seed file is
JSON, one key per JSON:API type, each a list of objects shaped exactly like the body of the
admin API's ``POST /_emulator/objects/{type}``::

    {
      "bundleIds": [{"id": "DEMOAPP001", "attributes": {"identifier": "com.example.demo", ...}}],
      "apps": [{"id": "6450000001", "attributes": {"bundleId": "com.example.demo", ...}}],
      "builds": [{"id": "...", "attributes": {...}, "relationships": {"app": "6450000001"}}]
    }

Keys starting with ``$`` are comments. Types load in dependency order (bundle IDs, then
capabilities, devices, certificates, profiles, apps, pre-release versions, builds, then any other
type the emulator knows) inside one transaction: a bad object leaves the state untouched. Objects go through the
admin API's own handler, so the same rules apply: computed attributes are filled in (a
certificate is issued, a profile signed), natural keys stay unique, values are stored as given.
Give ``id`` where another object refers to it. A state dir that already holds objects is not
seeded again (its state survived a restart: seeding twice would clash).

``--seed demo`` names a seed shipped with the package (``emulator/seeds/demo.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .store import ApiError

if TYPE_CHECKING:
    from .app import Emulator

SEEDS_DIR = Path(__file__).resolve().parent / "seeds"
ORDER = ("bundleIds", "bundleIdCapabilities", "devices", "certificates", "profiles", "apps", "preReleaseVersions", "builds")
_BASE_URL = "http://seed.invalid"


class SeedError(ValueError):
    """A seed file that cannot be loaded; the message says where and why."""


def shipped_seeds() -> list[str]:
    return sorted(p.stem for p in SEEDS_DIR.glob("*.json"))


def resolve_seed(name_or_path: str | Path) -> Path:
    """A path as given, or the shipped seed of that name (``demo``)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = SEEDS_DIR / f"{name_or_path}.json"
    if str(name_or_path) in shipped_seeds():
        return shipped
    raise SeedError(f"seed file {str(name_or_path)!r} not found (shipped seeds: {', '.join(shipped_seeds()) or 'none'})")


def read_seed(path: Path) -> dict[str, list[Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedError(f"cannot read seed file {path}: {exc}") from None
    except ValueError as exc:
        raise SeedError(f"seed file {path} is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise SeedError(f"seed file {path} must be a JSON object of types, e.g. {{\"bundleIds\": [...]}}")
    seed: dict[str, list[Any]] = {}
    for rest_type, objects in document.items():
        if rest_type.startswith("$"):
            continue
        if not isinstance(objects, list):
            raise SeedError(f"seed file {path}: '{rest_type}' must be a list of objects")
        seed[rest_type] = objects
    return seed


def load_seed(emulator: Emulator, name_or_path: str | Path) -> dict[str, int]:
    """Load a seed into ``emulator``; the number of objects created per type. A state that
    already holds objects is left alone (``{}``)."""
    path = resolve_seed(name_or_path)
    seed = read_seed(path)
    app = emulator.app
    known = set(app.api.registry.types)
    unknown = sorted(set(seed) - known)
    if unknown:
        raise SeedError(f"seed file {path}: unknown type(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if app.store.count() > 0:
        return {}
    ordered = [t for t in ORDER if t in seed] + [t for t in seed if t not in ORDER]
    created: dict[str, int] = {}
    try:
        with app.store.transaction():
            for rest_type in ordered:
                if not seed[rest_type]:
                    continue
                body = json.dumps(seed[rest_type]).encode()
                response = app.admin.handle("POST", f"/_emulator/objects/{rest_type}", _BASE_URL, body)
                created[rest_type] = len(response.body["data"]) if response.body else 0
    except ApiError as exc:
        raise SeedError(f"seed file {path}: {rest_type}: {exc}") from None
    return created
