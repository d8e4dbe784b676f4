"""The generated reference (schema/resources.json, docs/resources.md) matches the specs."""

from __future__ import annotations

import json

from pulumi_appstoreconnect import schema


def test_committed_reference_is_up_to_date() -> None:
    assert schema.main(["--check"]) == 0, "run: python -m pulumi_appstoreconnect.schema"


def test_schema_carries_the_lifecycle_of_each_property() -> None:
    bundle_id = json.loads(schema.render_json())["resources"]["BundleId"]
    props = bundle_id["properties"]
    assert props["identifier"]["lifecycle"] == ["create-only"] and props["identifier"]["naturalKey"]
    assert props["name"]["lifecycle"] == ["updatable"]
    assert props["seed_id"] == {"wire": "seedId", "lifecycle": ["computed", "create-only"], "required": False, "secret": False}
    assert bundle_id["delete"] == "delete"
    assert "replaces" in bundle_id["description"]
