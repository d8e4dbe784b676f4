"""Cut the part of Apple's App Store Connect OpenAPI spec this project uses into the package.

    python tools/openapi_excerpt.py PATH/TO/openapi.json [-o provider/pulumi_appstoreconnect/emulator/openapi/appstoreconnect-openapi-4.4.1-excerpt.json]

The emulator serves its request surface from the committed excerpt (it ships as package data),
and the contract tests (``tests/contract``) validate exchanges against it; nothing reads the full
spec (3.4 MB). The excerpt keeps, verbatim and in Apple's order, every operation on the
paths of the JSON:API types the emulator serves (``bundleIds``, ``bundleIdCapabilities``,
``devices``, ``certificates``, ``profiles``: collections, instances, related and linkage
endpoints) — a superset of what the provider sends — plus every component they reference,
followed transitively. ``info`` gains an ``x-excerpt`` block naming the source file, its
version and sha256, and the selection, so a reader can tell what was cut from what.

Run it again when the spec or the served types change; ``--check`` exits 1 if the committed
file differs from what the given spec produces.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "provider" / "pulumi_appstoreconnect" / "emulator" / "openapi" / "appstoreconnect-openapi-4.4.1-excerpt.json"
EXPECTED_VERSION = "4.4.1"
# The JSON:API types the emulator serves: their collections and instances, and the related and
# relationship endpoints between two of them (an app's betaGroups, not its in-app purchases).
TYPES = (
    # signing
    "bundleIds", "bundleIdCapabilities", "devices", "certificates", "profiles",
    # TestFlight
    "apps", "builds", "preReleaseVersions", "betaGroups", "betaTesters", "betaAppLocalizations",
    "betaAppReviewDetails", "betaBuildLocalizations", "betaLicenseAgreements",
    # App Store metadata and media
    "appInfos", "appInfoLocalizations", "appCategories", "ageRatingDeclarations", "appStoreVersions",
    "appStoreVersionLocalizations", "appStoreReviewDetails", "appScreenshotSets", "appScreenshots",
    "appPreviewSets", "appPreviews",
)
# Types kept although outside TYPES: the signing types' original selection kept every path under
# them, related ones included (a certificate's passTypeId, a bundle ID's app).
EVERY_PATH = ("bundleIds", "bundleIdCapabilities", "devices", "certificates", "profiles")
METHODS = ("get", "put", "post", "patch", "delete")
SOURCE = (
    "Apple's App Store Connect API OpenAPI specification (app-store-connect-openapi-specification.zip "
    "from developer.apple.com), info.version 4.4.1"
)


_NESTED = re.compile(r"^/v1/(?P<type>[A-Za-z]+)/\{id\}/(?:relationships/)?[A-Za-z]+$")


def _related_type(spec: dict[str, Any], item: dict[str, Any]) -> str | None:
    """The JSON:API type a related or relationship endpoint answers with (its GET's data type)."""
    operation = item.get("get") or item.get("post") or item.get("delete") or item.get("patch") or {}
    for response in (operation.get("responses") or {}).values():
        schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
        if schema is None:
            continue
        if "$ref" in schema:
            schema = _resolve(spec, schema["$ref"])[1]
        data = (schema.get("properties") or {}).get("data") or {}
        if "$ref" in data:
            data = _resolve(spec, data["$ref"])[1]
        data = data.get("items", data)
        if "$ref" in data:
            data = _resolve(spec, data["$ref"])[1]
        enum = ((data.get("properties") or {}).get("type") or {}).get("enum")
        if enum:
            return str(enum[0])
    body = ((operation.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema") or {}
    if "$ref" in body:
        body = _resolve(spec, body["$ref"])[1]
    data = ((body.get("properties") or {}).get("data") or {})
    data = data.get("items", data)
    enum = ((data.get("properties") or {}).get("type") or {}).get("enum")
    return str(enum[0]) if enum else None


def selected_paths(spec: dict[str, Any], types: Iterable[str] = TYPES) -> list[str]:
    types = tuple(types)
    wanted = re.compile(rf"^/v1/(?:{'|'.join(map(re.escape, types))})(?:/|$)")
    kept = []
    for path, item in spec["paths"].items():
        if not wanted.match(path):
            continue
        nested = _NESTED.match(path)
        if nested and nested["type"] not in EVERY_PATH and _related_type(spec, item) not in types:
            continue  # a relationship to a type the project does not serve
        kept.append(path)
    return kept


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(spec: dict[str, Any], ref: str) -> tuple[tuple[str, ...], Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, not {ref!r}")
    parts = tuple(part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/"))
    node: Any = spec
    for part in parts:
        node = node[part]
    return parts, node


def excerpt(spec: dict[str, Any], *, source_sha256: str, types: Iterable[str] = TYPES) -> dict[str, Any]:
    """The excerpt document for ``spec`` (which must be the 4.4.1 spec)."""
    version = spec.get("info", {}).get("version")
    if version != EXPECTED_VERSION:
        raise SystemExit(f"expected Apple's spec version {EXPECTED_VERSION}, got {version!r}")
    types = tuple(types)
    paths = {path: spec["paths"][path] for path in selected_paths(spec, types)}
    operations = [
        f"{method.upper()} {path}" for path, item in paths.items() for method in METHODS if method in item
    ]
    # Follow $refs transitively from the kept paths (and the security scheme).
    needed: set[tuple[str, ...]] = set()
    pending = list(_refs(paths))
    pending += [f"#/components/securitySchemes/{name}" for req in spec.get("security", []) for name in req]
    while pending:
        parts, node = _resolve(spec, pending.pop())
        if parts in needed:
            continue
        needed.add(parts)
        pending.extend(_refs(node))
    components: dict[str, dict[str, Any]] = {}
    for section, entries in spec["components"].items():  # Apple's order
        kept = {name: value for name, value in entries.items() if ("components", section, name) in needed}
        if kept:
            components[section] = kept
    info = dict(spec["info"])
    info["x-excerpt"] = {
        "source": SOURCE,
        "sourceVersion": version,
        "sourceSha256": source_sha256,
        "generator": "tools/openapi_excerpt.py",
        "selection": (
            f"the collections and instances of /v1/{{{','.join(types)}}}, their related and relationship "
            f"endpoints between two of these types (all of them under /v1/{{{','.join(EVERY_PATH)}}}), and the "
            "components they reference"
        ),
        "operations": operations,
    }
    document: dict[str, Any] = {"openapi": spec["openapi"], "info": info}
    for key in ("servers", "security"):
        if key in spec:
            document[key] = spec[key]
    document["paths"] = paths
    document["components"] = components
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", type=Path, help="Apple's full openapi.json (4.4.1)")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help=f"default {DEFAULT_OUTPUT.relative_to(ROOT)}")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the output file is out of date")
    args = parser.parse_args(argv)
    raw = args.spec.read_bytes()
    document = excerpt(json.loads(raw), source_sha256=hashlib.sha256(raw).hexdigest())
    text = render(document)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run tools/openapi_excerpt.py {args.spec}", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    schemas = len(document["components"].get("schemas", {}))
    print(
        f"wrote {args.output} ({len(text):,} bytes): {len(document['info']['x-excerpt']['operations'])} operations, "
        f"{len(document['paths'])} paths, {schemas} schemas",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
