"""``import``'s rendering (account snapshot → program source), names, and project files.

The generated program is compiled, and executed with stand-ins for the resource classes that
record what each resource was declared with, so references and values are checked as Python
sees them rather than as text.
"""

from __future__ import annotations

import ast
import base64
import keyword
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from asc_client_support import make_settings
from hypothesis import given
from hypothesis import strategies as st

from pulumi_appstoreconnect.client import AppStoreConnectClient
from tests.generated import run_program
from pulumi_appstoreconnect.importer import (
    KINDS,
    Account,
    BundleIdRecord,
    CapabilityRecord,
    CertificateRecord,
    DeviceRecord,
    ProfileRecord,
    ProjectExists,
    read_account,
    render_program,
    render_project,
    write_project,
)
from pulumi_appstoreconnect.importer import naming
from pulumi_appstoreconnect.importer.reading import xcode_managed
from pulumi_appstoreconnect.importer.rendering import py_literal

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def stamp(days: float) -> str:
    """An Apple timestamp ``days`` after NOW."""
    return (NOW + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


APP = BundleIdRecord("B1", "com.example.app", "IOS", "Example")
EVERYWHERE = BundleIdRecord("B2", "com.example.everywhere", "UNIVERSAL", "Made in the portal")
ICLOUD = [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6", "enabled": True}]}]
PHONE = DeviceRecord("D1", "00008110-000A1C2E3F4D5E6F", "IOS", "Ada's iPhone", model="iPhone 15 Pro")
OLD_PHONE = DeviceRecord("D2", "00008030-000C1D2E3F405162", "IOS", "Old iPhone", status="DISABLED")
DEV_CERT = CertificateRecord("C1", "IOS_DEVELOPMENT", "Ada", "Apple Development: Ada", "AAA111", stamp(200))
DIST_CERT = CertificateRecord("C2", "IOS_DISTRIBUTION", "Example Inc", "Apple Distribution: Example Inc", "BBB222", stamp(300))
DEV_PROFILE = ProfileRecord("P1", "App Development", "IOS_APP_DEVELOPMENT", "B1", ("C1",), ("D1",), "ACTIVE", stamp(200))
STORE_PROFILE = ProfileRecord("P2", "App Store", "IOS_APP_STORE", "B1", ("C2",), (), "ACTIVE", stamp(300))


def account(**changes: Any) -> Account:
    base = Account(
        bundle_ids=(APP, EVERYWHERE),
        capabilities=(
            CapabilityRecord("B1_GAME_CENTER", "B1", "GAME_CENTER"),
            CapabilityRecord("B1_ICLOUD", "B1", "ICLOUD", ICLOUD),
        ),
        devices=(PHONE, OLD_PHONE),
        certificates=(DEV_CERT, DIST_CERT),
        profiles=(DEV_PROFILE, STORE_PROFILE),
    )
    return replace(base, **changes)


def source(acc: Account | None = None, now: datetime = NOW) -> str:
    return render_program(acc or account(), now=now).source


def flat(text: str) -> str:
    """Comments as sentences: the program's wrapped comment lines joined."""
    return text.replace("\n# ", " ")


def uncommented(text: str, var: str) -> str:
    """The commented-out statement of ``var``, as a person uncommenting it gets it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"# {var} = "))
    end = lines.index("# )", start)
    return "\n".join(line[2:] for line in lines[start:end + 1])


class Declared:
    """What the program declared: one entry per resource, by resource name."""

    def __init__(self) -> None:
        self.resources: dict[str, tuple[str, dict[str, Any], Any]] = {}

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self.resources[name][1]

    def of(self, token: str) -> dict[str, dict[str, Any]]:
        return {n: props for n, (t, props, _o) in self.resources.items() if t == token}

    def opts(self, name: str) -> Any:
        return self.resources[name][2]


def run(program: str, monkeypatch: pytest.MonkeyPatch) -> Declared:
    """Execute a generated program, recording each resource; its ``.id`` is ``"<id of NAME>"``."""
    declared = Declared()

    def declare(token: str, resource_name: str, opts: Any, props: dict[str, Any]) -> str:
        assert resource_name not in declared.resources, f"two resources named {resource_name}"
        declared.resources[resource_name] = (token, props, opts)
        return f"<id of {resource_name}>"

    run_program(program, declare, monkeypatch)
    return declared


# -- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("com.example.app", "com_example_app"),
    ("Ada's iPhone", "adas_iphone"),
    ("Jürgen’s iPad Pro (11-inch)", "jurgens_ipad_pro_11_inch"),
    ("com.example.*", "com_example_wildcard"),
    ("小明的 iPhone", "iphone"),
    ("!!!", ""),
])
def test_slugs_are_lowercase_ascii_words(text: str, expected: str) -> None:
    assert naming.slug(text) == expected


@given(st.text(max_size=80), st.sampled_from(["bundle", "cap", "device", "cert", "profile"]))
def test_every_name_is_a_python_identifier_and_not_a_keyword(text: str, prefix: str) -> None:
    made = naming.name(prefix, text)
    assert made.isidentifier() and not keyword.iskeyword(made) and made.startswith(prefix)
    assert len(made) <= len(prefix) + 1 + naming.MAX_SLUG


def test_names_derive_from_what_identifies_each_object(monkeypatch: pytest.MonkeyPatch) -> None:
    names = set(run(source(), monkeypatch).resources)
    assert names == {
        "bundle_com_example_app", "bundle_com_example_everywhere",
        "cap_com_example_app_game_center", "cap_com_example_app_icloud",
        "device_adas_iphone", "device_old_iphone",
        "cert_ios_development_ada", "cert_ios_distribution_example_inc",
        "profile_app_development", "profile_app_store",
    }


def test_colliding_names_get_a_suffix_that_does_not_depend_on_other_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    twins = (
        DeviceRecord("D1", "00008110-000A1C2E3F4D5E6F", "IOS", "iPhone"),
        DeviceRecord("D9", "00008110-000A1C2E3F4D5E70", "IOS", "iPhone"),
    )
    first = run(source(account(devices=twins, profiles=())), monkeypatch).of("Device")
    assert len(first) == 2 and all(n.startswith("device_iphone_") and len(n) == len("device_iphone_") + 6 for n in first)
    third = DeviceRecord("D5", "00008110-000A1C2E3F4D5E71", "IOS", "Build iPad")
    again = run(source(account(devices=(third, *reversed(twins)), profiles=())), monkeypatch).of("Device")
    assert set(first) <= set(again) and "device_build_ipad" in again
    assert {props["udid"]: n for n, props in first.items()} == {
        props["udid"]: n for n, props in again.items() if props["name"] == "iPhone"
    }


def test_a_suffixed_name_never_takes_another_objects_plain_name() -> None:
    wanted = {"devices/A": "device_x", "devices/B": "device_x"}
    taken = naming.unique(wanted)["devices/A"]
    final = naming.unique({**wanted, "devices/C": taken})
    assert len(set(final.values())) == 3


def test_capabilities_share_their_bundle_ids_suffix(monkeypatch: pytest.MonkeyPatch) -> None:
    dashed = BundleIdRecord("B3", "com.example-app", "IOS", "Dashed")
    dotted = BundleIdRecord("B4", "com.example.app", "IOS", "Dotted")
    caps = (CapabilityRecord("B3_GAME_CENTER", "B3", "GAME_CENTER"), CapabilityRecord("B4_GAME_CENTER", "B4", "GAME_CENTER"))
    declared = run(source(account(bundle_ids=(dashed, dotted), capabilities=caps, profiles=())), monkeypatch)
    for cap_name, props in declared.of("BundleIdCapability").items():
        bundle_name = props["bundle_id"].removeprefix("<id of ").removesuffix(">")
        assert cap_name == "cap_" + bundle_name.removeprefix("bundle_") + "_game_center"


# -- the program ---------------------------------------------------------------------------------


def test_every_resource_is_adopted_and_protected(monkeypatch: pytest.MonkeyPatch) -> None:
    declared = run(source(), monkeypatch)
    assert len(declared.resources) == 10
    for name, (token, props, opts) in declared.resources.items():
        assert opts.protect is True, name
        assert props["adopt"] == ({"C1", "C2"} & {props["adopt"]} or {True}).pop(), name
    assert declared["cert_ios_development_ada"]["adopt"] == "C1"  # certificates by id


def test_relationships_are_references(monkeypatch: pytest.MonkeyPatch) -> None:
    declared = run(source(), monkeypatch)
    development = declared["profile_app_development"]
    assert development["bundle_id"] == "<id of bundle_com_example_app>"
    assert development["certificates"] == ["<id of cert_ios_development_ada>"]
    assert development["devices"] == ["<id of device_adas_iphone>"]
    assert "devices" not in declared["profile_app_store"]  # App Store profiles take no devices
    assert declared["cap_com_example_app_icloud"]["bundle_id"] == "<id of bundle_com_example_app>"
    depends_on = declared.opts("profile_app_store").depends_on
    assert [r.id for r in depends_on] == ["<id of cap_com_example_app_game_center>", "<id of cap_com_example_app_icloud>"]


def test_values_are_apples_in_the_shape_the_provider_compares(monkeypatch: pytest.MonkeyPatch) -> None:
    declared = run(source(), monkeypatch)
    assert declared["bundle_com_example_everywhere"]["platform"] == "UNIVERSAL"
    assert declared["device_old_iphone"]["status"] == "DISABLED"
    assert "status" not in declared["device_adas_iphone"]  # ENABLED is the default
    assert declared["cap_com_example_app_icloud"]["settings"] == ICLOUD
    assert "settings" not in declared["cap_com_example_app_game_center"]
    assert all("seed_id" not in props for props in declared.of("BundleId").values())
    assert declared["bundle_com_example_app"] == {"identifier": "com.example.app", "platform": "IOS", "name": "Example", "adopt": True}


def test_rendering_is_deterministic_and_ignores_listing_order() -> None:
    acc = account()
    shuffled = Account(**{
        field: tuple(random.Random(seed).sample(getattr(acc, field), len(getattr(acc, field))))
        for seed, field in enumerate(("bundle_ids", "capabilities", "devices", "certificates", "profiles"))
    })
    assert source(acc) == source(acc) == source(shuffled)
    assert source(acc, NOW + timedelta(days=10)) == source(acc)  # no dates of the run in the output


def test_the_program_is_one_readable_statement_per_resource() -> None:
    text = source()
    tree = ast.parse(text)
    calls = [n for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)]
    assert len(calls) == 1 + 10  # PROTECTED, then the resources
    assert max(len(line) for line in text.splitlines()) <= 120
    assert ast.get_docstring(tree).startswith("The App Store Connect account as `pulumi-appstoreconnect import` read it.")
    assert "Declared: 2 bundle IDs, 2 capabilities, 2 devices, 2 certificates, 2 profiles." in text


# -- certificates and profiles the first up could not take over unchanged ------------------------


def test_a_certificate_renews_on_the_first_up_in_its_window_as_the_comment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    text = source()
    assert "expires on 2026-12-18; the first up on or after 2026-11-18 renews it (renew_before_days), once protect allows it" in flat(text)
    assert run(text, monkeypatch)["cert_ios_development_ada"]["renew_before_days"] == 30


def test_a_certificate_inside_the_renewal_window_is_not_renewed_by_the_first_up(monkeypatch: pytest.MonkeyPatch) -> None:
    soon = replace(DEV_CERT, expiration_date=stamp(10))
    text = source(account(certificates=(soon, DIST_CERT)))
    assert run(text, monkeypatch)["cert_ios_development_ada"]["renew_before_days"] == 0
    assert "ACTION: Apple Development: Ada (serial AAA111) expires on 2026-06-11, within 30 days" in flat(text)


def test_an_expired_certificate_is_left_commented_out_and_its_profile_uses_its_id(monkeypatch: pytest.MonkeyPatch) -> None:
    expired = replace(DEV_CERT, expiration_date=stamp(-1))
    text = source(account(certificates=(expired, DIST_CERT)))
    declared = run(text, monkeypatch)
    assert "cert_ios_development_ada" not in declared.resources
    assert "NOT DECLARED: Apple Development: Ada (serial AAA111): expired on 2026-05-31" in flat(text)
    assert "    opts=pulumi.ResourceOptions(protect=False),\n)" in uncommented(text, "cert_ios_development_ada")
    assert declared["profile_app_development"]["certificates"] == ["C1"]
    assert '"C1",  # Apple Development: Ada (serial AAA111): not declared above' in text


@pytest.mark.parametrize(("state", "expires", "why"), [
    ("INVALID", 200, "Apple marked this profile INVALID"),
    ("ACTIVE", -3, "this profile expired on 2026-05-29"),
])
def test_an_unusable_profile_is_left_commented_out_with_what_declaring_it_would_do(
    state: str, expires: int, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = replace(DEV_PROFILE, profile_state=state, expiration_date=stamp(expires))
    text = source(account(profiles=(broken, STORE_PROFILE)))
    assert set(run(text, monkeypatch).of("Profile")) == {"profile_app_store"}
    assert f"NOT DECLARED: profile 'App Development': {why}" in flat(text)
    assert "next would delete it and create a valid one with the same name (a DELETE and a POST)" in flat(text)
    statement = uncommented(text, "profile_app_development")
    compile(statement, "__main__.py", "exec")  # uncommenting gives a working statement
    assert "bundle_id=bundle_com_example_app.id," in statement
    assert "protect=False," in statement  # its regeneration is what uncommenting it asks for


def test_a_profile_xcode_manages_is_left_to_xcode(monkeypatch: pytest.MonkeyPatch) -> None:
    managed = replace(DEV_PROFILE, name="iOS Team Provisioning Profile: com.example.app", xcode_managed=True)
    text = source(account(profiles=(managed, STORE_PROFILE)))
    assert set(run(text, monkeypatch).of("Profile")) == {"profile_app_store"}
    assert "Xcode manages this profile (automatic signing)" in flat(text)


@pytest.mark.parametrize(("plist", "managed"), [
    (b"<key>IsXcodeManaged</key>\n\t<true/>", True),
    (b"<key>IsXcodeManaged</key><false/>", False),
    (b"<key>Name</key><string>IsXcodeManaged</string><true/>", False),
])
def test_xcode_managed_is_read_from_the_profiles_plist(plist: bytes, managed: bool) -> None:
    content = base64.b64encode(b"0\x82\x0e\xae..." + plist + b"...signature").decode()
    assert xcode_managed(content) is managed
    assert xcode_managed(None) is False and xcode_managed("not base64!") is False


def test_what_the_provider_would_refuse_is_left_out_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    services = BundleIdRecord("B5", "com.example.services", "SERVICES", "Services")
    merchant = CertificateRecord("C5", "APPLE_PAY", "Example", "Apple Pay", "CCC333", stamp(400))
    novel = CapabilityRecord("B1_SOMETHING_NEW", "B1", "SOMETHING_NEW")
    text = source(account(bundle_ids=(APP, services), capabilities=(novel,), certificates=(DEV_CERT, merchant), profiles=()))
    declared = run(text, monkeypatch)
    assert set(declared.resources) == {"bundle_com_example_app", "device_adas_iphone", "device_old_iphone", "cert_ios_development_ada"}
    assert (
        "NOT DECLARED: com.example.services: this version of the provider would refuse it at preview: "
        "platform must be one of IOS, MAC_OS, UNIVERSAL (got 'SERVICES')"
    ) in flat(text)
    assert "APPLE_PAY is issued for an Apple Pay merchant ID" in flat(text)
    assert "# NOT DECLARED: SOMETHING_NEW on com.example.app" in text
    header = ast.get_docstring(ast.parse(text))
    assert "3 more left commented out" in header


# -- --types -------------------------------------------------------------------------------------


def test_types_limit_the_kinds_and_references_to_others_are_ids_with_a_comment(monkeypatch: pytest.MonkeyPatch) -> None:
    only = account(kinds=frozenset({"profiles", "devices"}), bundle_ids=(), capabilities=(), certificates=())
    text = source(only)
    declared = run(text, monkeypatch)
    assert set(declared.of("Profile")) == {"profile_app_development", "profile_app_store"}
    assert set(declared.resources) - set(declared.of("Profile")) == {"device_adas_iphone", "device_old_iphone"}
    development = declared["profile_app_development"]
    assert development["bundle_id"] == "B1" and development["certificates"] == ["C1"]
    assert development["devices"] == ["<id of device_adas_iphone>"]
    assert 'bundle_id="B1",  # a bundle ID: bundle IDs not imported (--types)' in text
    assert '"C1",  # a certificate: certificates not imported (--types)' in text
    assert "Kinds imported: devices, profiles (--types)." in text


def test_capabilities_alone_refer_to_their_bundle_ids_by_id_naming_them(monkeypatch: pytest.MonkeyPatch) -> None:
    text = source(account(kinds=frozenset({"bundleIdCapabilities"})))
    declared = run(text, monkeypatch)
    assert set(declared.resources) == {"cap_com_example_app_game_center", "cap_com_example_app_icloud"}
    assert 'bundle_id="B1",  # com.example.app: bundle IDs not imported (--types)' in text


def test_an_empty_account_renders_a_valid_program(monkeypatch: pytest.MonkeyPatch) -> None:
    text = source(Account())
    assert run(text, monkeypatch).resources == {}
    assert "Declared: nothing." in text


# -- values as source ----------------------------------------------------------------------------


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
))
def test_literals_read_back_as_the_same_value(value: Any) -> None:
    assert ast.literal_eval(py_literal(value)) == value


def test_strings_use_double_quotes_unless_that_needs_escapes() -> None:
    assert py_literal("Demo") == '"Demo"'
    assert py_literal("Ada's iPhone") == '"Ada\'s iPhone"'
    assert py_literal('say "hi"') == '"say \\"hi\\""'


# -- project files -------------------------------------------------------------------------------


def test_project_files_make_a_pip_project_pinned_to_this_version() -> None:
    files = render_project(render_program(account(), now=NOW), project_name="team-account", version="1.2.3")
    project = yaml.safe_load(files["Pulumi.yaml"])
    assert project["name"] == "team-account"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert files["requirements.txt"].splitlines() == ["pulumi-appstoreconnect==1.2.3"]
    assert files["__main__.py"] == source()


def test_write_project_refuses_to_overwrite_a_program(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("import pulumi\n")
    with pytest.raises(ProjectExists, match="--force"):
        write_project(tmp_path, {"Pulumi.yaml": "name: x\n", "__main__.py": "new\n"})
    assert (tmp_path / "__main__.py").read_text() == "import pulumi\n" and not (tmp_path / "Pulumi.yaml").exists()
    write_project(tmp_path, {"__main__.py": "new\n"}, force=True)
    assert (tmp_path / "__main__.py").read_text() == "new\n"


def test_write_project_fills_an_empty_program_and_keeps_the_users_other_files(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("\n")
    (tmp_path / "Pulumi.yaml").write_text("name: mine\n")
    report = write_project(tmp_path, {"Pulumi.yaml": "name: generated\n", "__main__.py": "program\n"})
    assert (tmp_path / "Pulumi.yaml").read_text() == "name: mine\n"
    assert (tmp_path / "__main__.py").read_text() == "program\n"
    assert any(line.startswith("kept") and "Pulumi.yaml" in line for line in report)
    write_project(tmp_path, {"Pulumi.yaml": "name: generated\n"}, force=True)
    assert (tmp_path / "Pulumi.yaml").read_text() == "name: generated\n"


# -- reading a profile whose relationships come as links only -----------------------------------


def test_profile_relationships_sent_as_links_are_read_from_the_linkage_endpoints() -> None:
    """Apple's listings may carry relationship links without ``data``; the reader then asks
    the relationship endpoints, paging through them."""
    profile = {"type": "profiles", "id": "P1", "attributes": {"name": "Dev", "profileType": "IOS_APP_DEVELOPMENT", "profileState": "ACTIVE"},
               "relationships": {name: {"links": {"self": f"/v1/profiles/P1/relationships/{name}"}} for name in ("bundleId", "certificates", "devices")}}
    pages = {
        "/v1/profiles": {"data": [profile], "links": {}},
        "/v1/profiles/P1/relationships/bundleId": {"data": {"type": "bundleIds", "id": "B1"}},
        "/v1/profiles/P1/relationships/certificates": {"data": [{"type": "certificates", "id": "C1"}], "links": {}},
        "/v1/profiles/P1/relationships/devices": {"data": [{"type": "devices", "id": "D1"}], "links": {"next": "https://api.example/v1/profiles/P1/relationships/devices?cursor=2"}},
    }
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.params.get("cursor") == "2":
            return httpx.Response(200, json={"data": [{"type": "devices", "id": "D2"}], "links": {}})
        return httpx.Response(200, json=pages[request.url.path])

    with AppStoreConnectClient(make_settings(base_url="https://api.example"), transport=httpx.MockTransport(answer)) as client:
        read = read_account(client, ["profiles"])
    assert read.profiles == (ProfileRecord("P1", "Dev", "IOS_APP_DEVELOPMENT", "B1", ("C1",), ("D1", "D2"), "ACTIVE", None),)
    assert read.requests == 5 and read.kinds == {"profiles"}


def test_reading_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="choose from bundleIds"):
        read_account(None, ["apps"])  # type: ignore[arg-type]
    assert KINDS == ("bundleIds", "bundleIdCapabilities", "devices", "certificates", "profiles")
