"""``import`` against the emulator: reading through the real client, the CLI, and the generated
program taken through the providers' check and create (what the engine's first ``up`` does)
with no write, then reading back with no difference.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from pulumi_appstoreconnect.cli import import_account, main
from pulumi_appstoreconnect.client import AppStoreConnectClient
from pulumi_appstoreconnect.emulator import Emulator
from pulumi_appstoreconnect.emulator.seeding import load_seed
from pulumi_appstoreconnect.importer import (
    CapabilityRecord,
    DeviceRecord,
    read_account,
    render_program,
)
from pulumi_appstoreconnect.reconciler import _MEMORY, SpecProvider
from pulumi_appstoreconnect.settings import Settings

from ..generated import run_program
from ..providers import connect, stored
from .support import BASE_URL

ICLOUD = [{"key": "ICLOUD_VERSION", "options": [{"key": "XCODE_6", "enabled": True}]}]


@pytest.fixture
def demo(emulator: Emulator, admin: httpx.Client) -> Emulator:
    load_seed(emulator, "demo")
    admin.delete("/_emulator/requests")
    return emulator


@pytest.fixture
def client(emulator: Emulator) -> Any:
    settings = Settings(
        issuer_id=emulator.issuer_id, key_id=emulator.key_id, private_key_pem=emulator.private_key_pem, base_url=BASE_URL
    )
    with AppStoreConnectClient(settings, transport=httpx.WSGITransport(app=emulator.app)) as made:
        yield made


def logged(admin: httpx.Client) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in admin.get("/_emulator/requests").json()["data"]]


def writes(admin: httpx.Client) -> list[tuple[str, str]]:
    return [entry for entry in logged(admin) if entry[0] != "GET"]


def later(days: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


# -- reading -------------------------------------------------------------------------------------


def test_reads_the_demo_account_with_one_listing_per_kind(demo: Emulator, client: Any, admin: httpx.Client) -> None:
    read = read_account(client)
    assert read.requests == 8 and len(logged(admin)) == 8 and writes(admin) == []
    assert {b.identifier: b.platform for b in read.bundle_ids} == {
        "com.example.demo": "IOS", "com.example.demo.widget": "IOS", "com.example.demo.mac": "MAC_OS",
        "com.example.everywhere": "UNIVERSAL",
    }
    assert CapabilityRecord("DEMOAPP001_ICLOUD", "DEMOAPP001", "ICLOUD", ICLOUD) in read.capabilities
    assert {c.capability_type for c in read.capabilities if c.bundle_id == "DEMOUNIV01"} == {"GAME_CENTER", "IN_APP_PURCHASE"}
    assert DeviceRecord("DEMODEV005", "00008030-000C1D2E3F405162", "IOS", "Old iPhone (disabled)", "DISABLED", "iPhone 11") in read.devices
    development = next(p for p in read.profiles if p.id == "DEMOPROF01")
    assert (development.bundle_id, development.certificates, development.devices) == (
        "DEMOAPP001", ("DEMOCERTD1",), ("DEMODEV001", "DEMODEV002"))
    assert {c.id: c.certificate_type for c in read.certificates} == {"DEMOCERTD1": "IOS_DEVELOPMENT", "DEMOCERTS1": "IOS_DISTRIBUTION"}


def test_settings_apple_describes_are_read_as_a_program_declares_them(demo: Emulator, client: Any, admin: httpx.Client) -> None:
    admin.patch("/_emulator/objects/bundleIdCapabilities/DEMOAPP001_ICLOUD", json={"attributes": {"settings": [{
        "key": "ICLOUD_VERSION", "name": "iCloud", "description": "iCloud version", "enabledByDefault": True,
        "options": [{"key": "XCODE_6", "name": "Xcode 6", "enabled": True, "supportsWildcard": False}],
    }]}}).raise_for_status()
    read = read_account(client, ["bundleIdCapabilities"])
    assert next(c for c in read.capabilities if c.capability_type == "ICLOUD").settings == ICLOUD
    assert read.bundle_ids and read.kinds == {"bundleIdCapabilities"}  # listed through, not declared


def test_large_listings_are_paged_and_reported_page_by_page(emulator: Emulator, client: Any, admin: httpx.Client) -> None:
    devices = [{"attributes": {"udid": f"00008030-{n:016X}", "platform": "IOS", "name": f"Device {n}"}} for n in range(450)]
    admin.post("/_emulator/objects/devices", json=devices).raise_for_status()
    progress: list[tuple[str, int, int | None]] = []
    read = read_account(client, ["devices"], progress=lambda *seen: progress.append(seen))
    assert len(read.devices) == 450 and read.requests == 3
    assert progress == [("devices", 200, None), ("devices", 400, None), ("devices", 450, None)]


# -- the generated program, adopted through the providers ---------------------------------------


def adopt(program: str, provider: Callable[[str], SpecProvider], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run the program as the engine's first up would: each resource is checked and created
    by its provider, in program order, references resolved to the ids created before it."""
    adopted: dict[str, Any] = {}

    def declare(token: str, resource_name: str, _opts: Any, props: dict[str, Any]) -> str:
        made = provider(token)
        result = made.check({}, props)
        assert result.failures == [], (resource_name, [(f.property, f.reason) for f in result.failures])
        created = made.create(dict(result.inputs))
        adopted[resource_name] = (made, created, dict(result.inputs))
        return created.id

    run_program(program, declare, monkeypatch)
    return adopted


def test_the_generated_program_takes_the_account_over_without_a_write_and_reads_back_the_same(
    demo: Emulator, client: Any, admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What real accounts hold besides the demo: settings as Apple describes them, a certificate
    # about to expire, a profile made INVALID by the revocation of its certificate.
    # (On an App ID without profiles: a capability change invalidates its App ID's profiles.)
    admin.post("/_emulator/objects/bundleIdCapabilities", json={"attributes": {"capabilityType": "ICLOUD", "settings": [{
        "key": "ICLOUD_VERSION", "name": "iCloud", "options": [{"key": "XCODE_6", "name": "Xcode 6", "enabled": True}],
    }]}, "relationships": {"bundleId": "DEMOUNIV01"}}).raise_for_status()
    admin.post("/_emulator/objects/certificates", json={"id": "SOONCERT01", "attributes": {
        "certificateType": "IOS_DEVELOPMENT", "expirationDate": later(10)}}).raise_for_status()
    admin.post("/_emulator/objects/certificates", json={"id": "GONECERT01", "attributes": {
        "certificateType": "IOS_DISTRIBUTION"}}).raise_for_status()
    admin.post("/_emulator/objects/profiles", json={"id": "OLDPROF001", "attributes": {
        "name": "Old App Store", "profileType": "IOS_APP_STORE"}, "relationships": {
        "bundleId": "DEMOAPP002", "certificates": ["GONECERT01"]}}).raise_for_status()
    admin.post("/_emulator/certificates/GONECERT01/revoke").raise_for_status()
    admin.delete("/_emulator/requests")

    program = render_program(read_account(client), now=datetime.now(timezone.utc))
    assert program.not_declared == {"bundleIds": 0, "bundleIdCapabilities": 0, "devices": 0, "certificates": 0, "profiles": 1}
    assert "#     certificates=[],  # ACTION: no certificate left (Apple drops revoked ones)" in program.source
    admin.delete("/_emulator/requests")

    adopted = adopt(program.source, connect(demo, monkeypatch), monkeypatch)
    assert len(adopted) == 4 + 12 + 5 + 3 + 2
    assert writes(admin) == []
    soon = [inputs for _made, created, inputs in adopted.values() if created.id == "SOONCERT01"]
    assert soon[0]["renew_before_days"] == 0  # the first up does not renew it
    _MEMORY.forget()  # the previews are later runs: new provider processes
    for name, (made, created, inputs) in adopted.items():
        diff = made.diff(created.id, stored(created.outs), inputs)
        assert not diff.changes, f"{name}: preview after the first up shows a change"
        read = made.read(created.id, stored(created.outs))
        assert read.id == created.id
        diff = made.diff(created.id, stored(read.outs), inputs)
        assert not diff.changes and not diff.replaces, f"{name}: preview --refresh shows a change"
    assert writes(admin) == []


# -- the command ---------------------------------------------------------------------------------


def run_import(emulator: Emulator, output: Path, **options: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    config = {"keyId": emulator.key_id, "issuerId": emulator.issuer_id, "privateKeyPath": str(emulator.private_key_path), "baseUrl": BASE_URL}
    code = import_account(output, config=config, env={}, transport=httpx.WSGITransport(app=emulator.app), out=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def test_import_writes_a_ready_project_and_reports_progress_and_counts(demo: Emulator, tmp_path: Path) -> None:
    code, out, err = run_import(demo, tmp_path / "team-account")
    assert code == 0, err
    project = tmp_path / "team-account"
    assert sorted(p.name for p in project.iterdir()) == [".gitignore", "Pulumi.yaml", "__main__.py", "requirements.txt"]
    assert "name: team-account" in (project / "Pulumi.yaml").read_text()
    compile((project / "__main__.py").read_text(), "__main__.py", "exec")
    assert err.splitlines()[:5] == [
        "reading bundle IDs… 4", "reading capabilities… 4/4 bundle IDs", "reading devices… 5",
        "reading certificates… 2", "reading profiles… 2",
    ]
    assert out.splitlines()[:2] == [
        "declared 4 bundle IDs, 11 capabilities, 5 devices, 2 certificates, 2 profiles",
        "read with 8 requests (all GET)",
    ]


def test_import_never_overwrites_a_program_without_force(demo: Emulator, tmp_path: Path, admin: httpx.Client) -> None:
    (tmp_path / "__main__.py").write_text("import pulumi\n")
    code, _out, err = run_import(demo, tmp_path)
    assert code == 1 and "use --force" in err
    assert logged(admin) == []  # refused before reading anything
    assert (tmp_path / "__main__.py").read_text() == "import pulumi\n"
    code, _out, err = run_import(demo, tmp_path, force=True, kinds=("devices",))
    assert code == 0, err
    assert "Device(" in (tmp_path / "__main__.py").read_text() and "BundleId(" not in (tmp_path / "__main__.py").read_text()


def test_import_without_credentials_says_which_are_missing(tmp_path: Path) -> None:
    err = io.StringIO()
    assert import_account(tmp_path / "out", env={}, err=err) == 1
    assert "key id is not set" in err.getvalue() and "--key-id" in err.getvalue()
    assert not (tmp_path / "out").exists()


def test_import_reports_an_api_failure_and_writes_nothing(demo: Emulator, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    config = {"keyId": "WRONGKEY01", "issuerId": demo.issuer_id, "privateKeyPath": str(demo.private_key_path), "baseUrl": BASE_URL}
    code = import_account(tmp_path / "out", config=config, env={}, transport=httpx.WSGITransport(app=demo.app), out=out, err=err)
    assert code == 1 and "401" in err.getvalue() and "doctor" in err.getvalue()
    assert not (tmp_path / "out" / "__main__.py").exists()


def test_types_must_name_known_kinds(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["import", "--output", str(tmp_path), "--types", "devices,apps"])
    assert exited.value.code == 2
    assert "apps: choose from bundleIds,bundleIdCapabilities,devices,certificates,profiles" in capsys.readouterr().err
