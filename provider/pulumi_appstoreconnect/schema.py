"""The resource reference generated from the specs: ``schema/resources.json`` and ``docs/resources.md``.

    python -m pulumi_appstoreconnect.schema [--check]

The specs are the single source: a unit test fails when the committed files are stale.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path
from typing import Any

from .resources import RESOURCES
from .spec import Flag

ROOT = Path(__file__).resolve().parents[2]
JSON_PATH = ROOT / "schema" / "resources.json"
MARKDOWN_PATH = ROOT / "docs" / "resources.md"

_LIFECYCLE = {
    Flag.CREATE_ONLY: "create-only (a change in the program replaces; drift read by refresh is reported)",
    Flag.UPDATABLE: "updatable (PATCH in place)",
    Flag.COMPUTED: "output (set by Apple)",
    Flag.WRITE_ONLY: "write-only (sent, never read back)",
    Flag.LOCAL: "provider option (never sent)",
}


def resource_schema() -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for name, cls in sorted(RESOURCES.items()):
        spec = cls.spec
        resources[name] = {
            "restType": spec.rest_type,
            "path": spec.path,
            "description": inspect.cleandoc(cls.__doc__ or ""),
            "create": spec.create.value,
            "delete": spec.delete.value,
            "filters": list(spec.filters),
            "properties": {
                f.name: {
                    "wire": f.wire,
                    "lifecycle": sorted(flag.value for flag in f.flags),
                    "required": f.required,
                    "secret": f.has(Flag.SECRET),
                    **({"enum": list(f.enum_values)} if f.enum_values else {}),
                    **({"naturalKey": True} if f.natural_key else {}),
                    **({"parent": f.parent.listing} if f.parent else {}),
                    **(
                        {"membership": {"name": f.membership.name, "type": f.membership.related_type,
                                        "exclusive": f.membership.exclusive}}
                        if f.membership
                        else {}
                    ),
                    **(
                        {"relationship": {"name": f.relationship.name, "type": f.relationship.related_type,
                                          "toMany": f.relationship.to_many}}
                        if f.relationship
                        else {}
                    ),
                    **(
                        {"assets": {"type": f.assets.child_type, "relationship": f.assets.relationship,
                                    "limit": f.assets.limit}}
                        if f.assets
                        else {}
                    ),
                }
                for f in spec.fields
            },
        }
    return {"generatedFrom": "pulumi_appstoreconnect resource specs", "resources": resources}


def render_json() -> str:
    return json.dumps(resource_schema(), indent=2, sort_keys=True) + "\n"


def render_markdown() -> str:
    lines = [
        "# Resource reference",
        "",
        "Generated from the resource specs by `python -m pulumi_appstoreconnect.schema`; do not edit.",
        "",
    ]
    for name, resource in resource_schema()["resources"].items():
        lines += [f"## `{name}`", "", resource["description"], "",
                  f"App Store Connect type `{resource['restType']}` at `{resource['path']}`; "
                  f"create: **{resource['create']}**; destroy: **{resource['delete']}**.", "",
                  "| property | lifecycle | required | values |", "|---|---|---|---|"]
        for prop, info in resource["properties"].items():
            flags = [Flag(v) for v in info["lifecycle"] if Flag(v) in _LIFECYCLE]
            # COMPUTED on an input: optional, Apple fills it in when the program leaves it out.
            filled_by_apple = Flag.COMPUTED in flags and bool({Flag.CREATE_ONLY, Flag.UPDATABLE} & set(flags))
            lifecycle = ", ".join(_LIFECYCLE[f] for f in flags if not (filled_by_apple and f is Flag.COMPUTED))
            membership = info.get("membership")
            if membership:
                scope = "the whole membership" if membership["exclusive"] else "only the listed ids are managed"
                lifecycle = (f"membership of `{membership['type']}` ids, added and removed through "
                             f"`/relationships/{membership['name']}` ({scope}; left out: not managed)")
            assets = info.get("assets")
            if assets:
                lifecycle = (f"ordered local files (paths relative to the program), at most {assets['limit']}, uploaded "
                             f"as `{assets['type']}` when their MD5 checksum changes; a new order is one PATCH of "
                             f"`/relationships/{assets['relationship']}`")
            if filled_by_apple:
                lifecycle += "; Apple fills it in when left out"
            if info.get("naturalKey"):
                lifecycle += "; natural key"
            if info.get("parent"):
                lifecycle += f"; scopes the natural key (looked up in `{info['parent']}`)"
            if info["secret"]:
                lifecycle += "; secret"
            values = ", ".join(f"`{v}`" for v in info.get("enum", []))
            lines.append(f"| `{prop}` | {lifecycle} | {'yes' if info['required'] else 'no'} | {values} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale")
    ns = parser.parse_args(argv)
    outputs = {JSON_PATH: render_json(), MARKDOWN_PATH: render_markdown()}
    stale = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
    if ns.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run python -m pulumi_appstoreconnect.schema", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(outputs[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
