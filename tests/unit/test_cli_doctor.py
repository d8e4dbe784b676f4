"""`pulumi-appstoreconnect doctor`, `keygen` and the `emulator` pass-through."""

from __future__ import annotations

import email.utils
import io
import stat
import sys
import types
from pathlib import Path

import httpx
import pytest
from asc_client_support import BASE_URL, ISSUER_ID, KEY_ID, FakeClock, Recorder, ec_pem, fixture, pem_body, respond, rsa_pem

from pulumi_appstoreconnect import cli
from pulumi_appstoreconnect.client import load_private_key


def write_key(tmp_path: Path, name: str, pem: str | None = None) -> Path:
    path = tmp_path / name
    path.write_text(pem or ec_pem())
    return path


def run_doctor(env: dict[str, str], answer, clock: FakeClock | None = None) -> tuple[int, str, Recorder]:
    clock = clock or FakeClock()
    recorder = Recorder(answer)
    out = io.StringIO()
    code = cli.doctor(None, env, transport=recorder.transport, out=out, clock=clock)
    return code, out.getvalue(), recorder


def dated(status: int, body, clock: FakeClock, offset: float = 0.0) -> httpx.Response:
    headers = {"Date": email.utils.formatdate(clock.now + offset, usegmt=True), "X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3500;"}
    return respond(status, body, headers)


def team_env(key_file: Path) -> dict[str, str]:
    return {"ASC_KEY_ID": KEY_ID, "ASC_ISSUER_ID": ISSUER_ID, "ASC_PRIVATE_KEY_PATH": str(key_file), "ASC_BASE_URL": BASE_URL}


def test_doctor_passes_against_a_200(tmp_path: Path) -> None:
    clock = FakeClock()
    key_file = write_key(tmp_path, f"AuthKey_{KEY_ID}.p8")
    code, out, recorder = run_doctor(team_env(key_file), lambda r: dated(200, {"data": [], "links": {}}, clock), clock)

    assert code == 0, out
    assert "Result: all checks passed" in out
    assert "[FAIL]" not in out
    assert f"key id       {KEY_ID}  [env ASC_KEY_ID]" in out
    assert f"[file {key_file} (from env ASC_PRIVATE_KEY_PATH)]" in out
    assert f"key id matches the key file name AuthKey_{KEY_ID}.p8" in out
    assert '"kid": "TESTKEY123"' in out and f'"iss": "{ISSUER_ID}"' in out and '"aud": "appstoreconnect-v1"' in out
    assert "clock skew +0 s" in out
    assert "200 OK (rate limit: user-hour-lim 3600, user-hour-rem 3500)" in out
    request = recorder.requests[0]
    assert str(request.url) == f"{BASE_URL}/v1/bundleIds?limit=1"
    # then one read of each other type, and a write that cannot change anything (no App ID was
    # listed, so its capabilities are not read)
    assert [(r.method, r.url.path) for r in recorder.requests[1:]] == [
        ("GET", "/v1/devices"), ("GET", "/v1/certificates"), ("GET", "/v1/profiles"),
        ("PATCH", "/v1/bundleIds/pulumi-appstoreconnect-doctor-probe"),
    ]
    token = recorder.tokens()[0]
    assert token not in out and token.split(".")[2] not in out  # claims are shown, never the signed token
    assert pem_body(ec_pem()) not in out


def test_doctor_on_401_ranks_likely_causes(tmp_path: Path) -> None:
    clock = FakeClock()
    key_file = write_key(tmp_path, f"AuthKey_{KEY_ID}.p8")
    code, out, recorder = run_doctor(team_env(key_file), lambda r: dated(401, fixture("not_authorized.json"), clock), clock)

    assert code == 1
    assert len(recorder.requests) == 2  # the client's single retry with a fresh token
    assert "[FAIL] GET /v1/bundleIds failed: 401 NOT_AUTHORIZED" in out
    causes = out.split("Most likely causes, in order:")[1]
    assert causes.index("1. mismatched key id or issuer id") < causes.index("2. the key was revoked")
    assert "Ruled out locally: wrong key type (the key is an EC P-256 private key); token lifetime" in out
    assert "clock skew (+0 s)" in out
    assert "Result: 1 check(s) failed" in out


def test_doctor_on_401_puts_what_it_verified_first(tmp_path: Path) -> None:
    clock = FakeClock()
    key_file = write_key(tmp_path, "AuthKey_OTHERKEY42.p8")
    code, out, _ = run_doctor(team_env(key_file), lambda r: dated(401, fixture("not_authorized.json"), clock, offset=-600), clock)

    assert code == 1
    assert f"[WARN] key id {KEY_ID} does not match the key file AuthKey_OTHERKEY42.p8 (key id OTHERKEY42)" in out
    assert "[FAIL] this machine's clock is 600 s ahead of the server's" in out
    assert "Result: 2 check(s) failed" in out
    causes = out.split("Most likely causes, in order:")[1]
    assert "1. mismatched key id: the key file is for key id OTHERKEY42" in causes
    assert "2. clock off by +600 s" in causes
    assert causes.index("2. clock off") < causes.index("the key was revoked")


def test_doctor_individual_key_cause(tmp_path: Path) -> None:
    clock = FakeClock()
    env = {"ASC_KEY_ID": KEY_ID, "ASC_PRIVATE_KEY": ec_pem(), "ASC_BASE_URL": BASE_URL}
    code, out, _ = run_doctor(env, lambda r: respond(401, fixture("not_authorized.json")), clock)
    assert code == 1
    assert "no issuer id: using an individual key" in out
    assert "a team key needs the issuer id" in out
    assert "clock skew: not measured" in out


def test_doctor_reports_wrong_key_type(tmp_path: Path) -> None:
    key_file = write_key(tmp_path, f"AuthKey_{KEY_ID}.p8", rsa_pem())
    code, out, recorder = run_doctor(team_env(key_file), lambda r: respond(200, {"data": []}))
    assert code == 1
    assert "wrong key type: RSA" in out
    assert recorder.requests == []


def test_doctor_reports_missing_settings() -> None:
    code, out, recorder = run_doctor({}, lambda r: respond(200, {"data": []}))
    assert code == 1
    assert "[FAIL] App Store Connect key id is not set" in out
    assert "[FAIL] App Store Connect private key is not set" in out
    assert recorder.requests == []


def test_doctor_shows_forbidden_hints(tmp_path: Path) -> None:
    key_file = write_key(tmp_path, f"AuthKey_{KEY_ID}.p8")
    code, out, _ = run_doctor(team_env(key_file), lambda r: respond(403, fixture("agreements_links_see.json")))
    assert code == 1
    assert "Only the Account Holder can accept it" in out and "https://appstoreconnect.apple.com/business" in out
    assert "Access" not in out  # nothing else can pass until it is signed


def test_doctor_unreachable_server(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused")

    key_file = write_key(tmp_path, f"AuthKey_{KEY_ID}.p8")
    code, out, _ = run_doctor(team_env(key_file), refuse)
    assert code == 1
    assert f"cannot reach {BASE_URL}" in out


def test_doctor_command_line_options_override_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    captured = {}

    def fake_doctor(config, env=None, **kwargs):
        captured["config"] = config
        return 0

    monkeypatch.setattr(cli, "doctor", fake_doctor)
    assert cli.main(["doctor", "--key-id", "ABC", "--base-url", "http://127.0.0.1:9"]) == 0
    assert captured["config"] == {"keyId": "ABC", "baseUrl": "http://127.0.0.1:9"}


def test_keygen_writes_a_private_ec_key(tmp_path: Path, capsys) -> None:
    target = tmp_path / "AuthKey_KEYGEN0001.p8"
    assert cli.main(["keygen", "--key-id", "KEYGEN0001", "--out", str(target)]) == 0
    load_private_key(target.read_bytes())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "export ASC_KEY_ID=KEYGEN0001" in capsys.readouterr().out
    assert cli.main(["keygen", "--out", str(target)]) == 1  # no silent overwrite
    first = target.read_bytes()
    assert cli.main(["keygen", "--out", str(target), "--force"]) == 0
    assert target.read_bytes() != first


def test_emulator_receives_every_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[list[str]] = []
    fake = types.ModuleType("pulumi_appstoreconnect.emulator.server")
    fake.main = lambda argv: received.append(argv) or 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pulumi_appstoreconnect.emulator.server", fake)
    assert cli.main(["emulator", "--help", "--port", "0", "doctor"]) == 3
    assert received == [["--help", "--port", "0", "doctor"]]


def test_doctor_file_name_mismatch_is_only_a_warning_when_apple_accepts_the_key(tmp_path: Path) -> None:
    clock = FakeClock()
    key_file = write_key(tmp_path, "AuthKey_RENAMED001.p8")
    code, out, _ = run_doctor(team_env(key_file), lambda r: dated(200, {"data": []}, clock), clock)
    assert code == 0
    assert "[WARN] key id TESTKEY123 does not match the key file AuthKey_RENAMED001.p8" in out
