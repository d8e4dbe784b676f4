"""`pulumi-appstoreconnect doctor` explains the 403s teams hit: run through the real client
against the emulator, whose key is given a role or an expired agreement by the admin API."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import pytest

from pulumi_appstoreconnect import cli
from pulumi_appstoreconnect.emulator import Emulator

from .support import BASE_URL

PROBES = ["bundleIds", "bundleIdCapabilities", "devices", "certificates", "profiles"]


def run_doctor(emulator: Emulator, *, individual: bool = False) -> tuple[int, str]:
    env = {"ASC_KEY_ID": emulator.key_id, "ASC_PRIVATE_KEY": emulator.private_key_pem, "ASC_BASE_URL": BASE_URL}
    if not individual:
        env["ASC_ISSUER_ID"] = emulator.issuer_id
    out = io.StringIO()
    code = cli.doctor(None, env, transport=httpx.WSGITransport(app=emulator.app), out=out)
    return code, out.getvalue()


def seed_bundle_id(emulator: Emulator) -> None:
    emulator.access.update({"roles": ["ADMIN"]})
    with httpx.Client(transport=httpx.WSGITransport(app=emulator.app), base_url=BASE_URL) as admin:
        body = {"attributes": {"identifier": "com.example.doctor", "name": "Doctor", "platform": "IOS"}}
        assert admin.post("/_emulator/objects/bundleIds", json=body).status_code == 201


def requests(emulator: Emulator) -> list[tuple[str, str, int]]:
    return [(r["method"], r["path"], r["status"]) for r in emulator.store.requests()]


def line(out: str, pattern: str) -> str:
    found = [row for row in out.splitlines() if re.search(pattern, row)]
    assert len(found) == 1, f"{pattern!r} in\n{out}"
    return found[0]


def test_an_admin_key_reads_every_type_and_a_write_is_not_refused(emulator: Emulator) -> None:
    seed_bundle_id(emulator)
    code, out = run_doctor(emulator)

    assert code == 0, out
    for rest_type in PROBES:
        assert "[ OK ]" in line(out, rf"read {rest_type}:"), out
    assert "[ OK ]" in line(out, r"write: ")
    assert "404" in line(out, r"write: ")  # the PATCH found nothing to change
    assert "Result: all checks passed" in out
    writes = [(m, p, s) for m, p, s in requests(emulator) if m != "GET"]
    assert [(m, s) for m, _, s in writes] == [("PATCH", 404)]  # the only non-GET: refused, nothing changed
    assert [o.attributes["name"] for o in emulator.store.all_of("bundleIds")] == ["Doctor"]


def test_a_developer_key_is_told_that_up_needs_app_manager_or_admin(emulator: Emulator) -> None:
    seed_bundle_id(emulator)
    emulator.access.update({"roles": ["DEVELOPER"]})
    code, out = run_doctor(emulator)

    assert code == 1, out
    for rest_type in PROBES:
        assert "[ OK ]" in line(out, rf"read {rest_type}:"), out
    assert "[FAIL]" in line(out, r"write: .*403 FORBIDDEN_ERROR: The API key in use does not allow this request")
    assert "The key's role cannot create, change or delete" in out
    assert "`pulumi up` and `pulumi destroy` fail" in out
    assert "preview and refresh work" in out
    assert "Needed: a team key with the App Manager or Admin role" in out
    assert "Users and Access > Integrations" in out
    assert "Result: 1 check(s) failed" in out


def test_a_finance_key_cannot_even_read_and_doctor_names_each_type(emulator: Emulator) -> None:
    emulator.access.update({"roles": ["FINANCE"]})
    code, out = run_doctor(emulator)

    assert code == 1
    for rest_type in ("bundleIds", "devices", "certificates", "profiles"):
        assert "[FAIL]" in line(out, rf"read {rest_type}: .*403 FORBIDDEN_ERROR"), out
    assert "The key's role cannot read: bundleIds, devices, certificates, profiles" in out
    assert "`pulumi preview`, `refresh` and `up` fail" in out
    assert "Needed: a team key with the App Manager or Admin role (Developer reads only)" in out
    assert "Individual keys cannot use" not in out  # a team key: no individual-key advice


def test_an_individual_key_refused_the_provisioning_endpoints_is_told_to_use_a_team_key(emulator: Emulator) -> None:
    emulator.access.update({"roles": ["FINANCE"]})
    code, out = run_doctor(emulator, individual=True)

    assert code == 1
    assert "Individual keys cannot use the provisioning endpoints" in out
    assert out.index("Individual keys cannot use") < out.index("Needed: a team key")


def test_an_expired_agreement_says_who_signs_what_and_where_and_stops(emulator: Emulator) -> None:
    emulator.access.update({"agreementsInEffect": False})
    code, out = run_doctor(emulator)

    assert code == 1
    failed = line(out, r"\[FAIL\] GET /v1/bundleIds failed: 403 FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED")
    assert "[see /business]" in failed
    assert "the Account Holder" in out and "https://appstoreconnect.apple.com/business" in out
    assert "Apple Developer Program License Agreement" in out
    assert "every request of every key" in out
    assert "The API cannot accept agreements" in out
    assert "read devices" not in out  # nothing else can pass until it is signed
    assert requests(emulator) == [("GET", "/v1/bundleIds", 403)]


@pytest.mark.parametrize("roles", [["APP_MANAGER"], ["ADMIN"], ["ACCOUNT_HOLDER"]])
def test_keys_that_can_run_up_pass(emulator: Emulator, roles: list[Any]) -> None:
    emulator.access.update({"roles": roles})
    code, out = run_doctor(emulator)
    assert code == 0, out
    assert "read bundleIdCapabilities" not in out  # no App ID to read them through: not probed
