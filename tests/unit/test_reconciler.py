"""check and diff of the generic reconciler, table-driven over the BundleId spec."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from pulumi_appstoreconnect.reconciler import SpecProvider, validate_inputs
from pulumi_appstoreconnect.resources import SPECS
from pulumi_appstoreconnect.spec import CREATE_ONLY, UPDATABLE

GOOD = {"identifier": "com.example.app", "platform": "IOS", "name": "Example", "seed_id": None}


# The state's bookkeeping after a create from GOOD: the program declared these create-only values.
CREATED_FROM_GOOD = {"account": "issuer:T", "declared": {"identifier": "com.example.app", "platform": "IOS"}}


def provider() -> SpecProvider:
    return SpecProvider("bundleIds")


def failures(news: dict[str, Any]) -> dict[str, str]:
    result = provider().check({}, {"__provider": "x", **news})
    return {f.property: f.reason for f in result.failures}


def test_valid_inputs_pass_check_and_keep_the_provider_key() -> None:
    result = provider().check({}, {"__provider": "pickled", **GOOD})
    assert result.failures == []
    assert result.inputs["__provider"] == "pickled"


@pytest.mark.parametrize(
    "identifier",
    ["com.example.app", "com.example.*", "*", "com.Example-1.app2", "a"],
)
def test_accepted_identifiers(identifier: str) -> None:
    assert failures({**GOOD, "identifier": identifier}) == {}


@pytest.mark.parametrize(
    "identifier",
    ["", "com.example.", ".com.example", "com..example", "com.ex ample", "com.exa_mple", "com.*.app", "com.ex*", "x" * 256, "com.é"],
)
def test_rejected_identifiers_name_the_field(identifier: str) -> None:
    reasons = failures({**GOOD, "identifier": identifier})
    assert list(reasons) == ["identifier"]
    assert reasons["identifier"].startswith("identifier ")


def test_unknown_platform_lists_the_allowed_values() -> None:
    reasons = failures({**GOOD, "platform": "SERVICES"})
    assert list(reasons) == ["platform"]
    assert "IOS, MAC_OS, UNIVERSAL" in reasons["platform"] and "SERVICES" in reasons["platform"]


def test_typo_in_a_property_name_is_reported() -> None:
    reasons = failures({**GOOD, "nmae": "x"})
    assert "nmae" in reasons and "not a property of bundleIds" in reasons["nmae"]


def test_missing_and_blank_name() -> None:
    without = {k: v for k, v in GOOD.items() if k != "name"}
    assert failures(without) == {"name": "name is required"}
    assert "must not be empty" in failures({**GOOD, "name": "  "})["name"]


def test_seed_id_is_an_optional_input_checked_at_preview() -> None:
    # Apple's BundleIdCreateRequest carries seedId (openapi 4.4.1): teams with a legacy prefix.
    assert failures({**GOOD, "seed_id": "ABCDE12345"}) == {}
    assert "is not an App ID prefix" in failures({**GOOD, "seed_id": "abc"})["seed_id"]


@pytest.mark.parametrize("unknown", [rpc.UNKNOWN, Unknown()], ids=["sentinel", "Unknown"])
def test_unknown_values_during_preview_pass_through(unknown: Any) -> None:
    news = {**GOOD, "identifier": unknown, "name": unknown}
    result = provider().check({}, {"__provider": "x", **news})
    assert result.failures == []
    assert result.inputs["identifier"] is unknown


@pytest.mark.parametrize(
    ("change", "changes", "replaces", "delete_first"),
    [
        ({}, False, [], False),
        ({"name": "Renamed"}, True, [], False),
        ({"identifier": "com.example.other"}, True, ["identifier"], False),
        # Same identifier on another platform: Apple's identifiers are unique, so the old
        # object must go before the new one can be created.
        ({"platform": "MAC_OS"}, True, ["platform"], True),
        ({"name": rpc.UNKNOWN}, True, [], False),
        ({"identifier": rpc.UNKNOWN}, True, ["identifier"], False),
    ],
)
def test_diff_table(change: dict[str, Any], changes: bool, replaces: list[str], delete_first: bool) -> None:
    olds = {**GOOD, "seed_id": "TEAM123456", "__provider": "x", "_provenance": CREATED_FROM_GOOD}
    news = {**GOOD, **change, "__provider": "x"}
    result = provider().diff("ID1", olds, news)
    assert result.changes is changes  # never None: the engine would then diff the pickled provider
    assert result.replaces == replaces
    assert bool(result.delete_before_replace) is delete_first


def test_computed_output_does_not_cause_a_diff() -> None:
    olds = {**GOOD, "seed_id": "TEAM123456", "_provenance": CREATED_FROM_GOOD}
    assert provider().diff("ID1", olds, {**GOOD, "seed_id": None}).changes is False


def test_spec_flags_are_read_from_annotations() -> None:
    spec = SPECS["BundleId"]
    assert [f.name for f in spec.with_flag(CREATE_ONLY)] == ["identifier", "platform", "seed_id"]
    assert [f.name for f in spec.with_flag(UPDATABLE)] == ["name"]
    assert spec.natural_key is not None and spec.natural_key.name == "identifier"
    assert spec.field("seed_id").wire == "seedId"
    assert spec.field("platform").enum_values == ("IOS", "MAC_OS", "UNIVERSAL")


def test_pickled_provider_is_small_stable_and_holds_only_the_resource_token() -> None:
    # The engine stores this string in every resource's state: if it changed between runs or
    # releases, every resource would show an update.
    import base64

    import dill
    from pulumi.dynamic.dynamic import serialize_provider

    from pulumi_appstoreconnect import BundleId

    first = serialize_provider(SpecProvider("BundleId"))
    assert first == serialize_provider(SpecProvider("BundleId"))
    restored = dill.loads(base64.b64decode(first))
    assert vars(restored) == {"token": "BundleId"}
    assert restored.spec is BundleId.spec
    assert len(first) < 400, "the provider class must be pickled by reference, not by value"


def test_a_provider_pickled_before_tokens_still_finds_its_spec() -> None:
    # States written by 0.1 hold a provider whose only attribute is the JSON:API type.
    legacy = SpecProvider.__new__(SpecProvider)
    legacy.__dict__["rest_type"] = "devices"
    assert legacy.spec is SPECS["Device"]


def test_validate_inputs_refuses_what_check_refuses_without_a_provider() -> None:
    """The importer vets what it declares with it: the same reasons as check, offline."""
    bad = {**GOOD, "platform": "SERVICES", "identifier": "com.example.*.app"}
    check = {f.property: f.reason for f in provider().check({}, {"__provider": "x", **bad}).failures}
    assert dict(validate_inputs(SPECS["BundleId"], bad)) == check and set(check) == {"platform", "identifier"}
    assert validate_inputs(SPECS["BundleId"], GOOD) == []
    # Cross-field rules too: an App Store profile takes no devices.
    profile = {"name": "Store", "profile_type": "IOS_APP_STORE", "bundle_id": "B1", "certificates": ["C1"], "devices": ["D1"]}
    assert [name for name, _ in validate_inputs(SPECS["Profile"], profile)] == ["devices"]
