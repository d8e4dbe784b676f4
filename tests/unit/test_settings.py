"""resolve_settings: precedence, sources, key formats and the messages for each problem."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from asc_client_support import ISSUER_ID, KEY_ID, ec_pem, pem_body, rsa_pem

from pulumi_appstoreconnect.settings import DEFAULT_BASE_URL, ConfigurationError, Settings, resolve_settings



def minimal_env(**extra: str) -> dict[str, str]:
    return {"ASC_KEY_ID": KEY_ID, "ASC_PRIVATE_KEY": ec_pem(), **extra}


def problems(config: dict | None, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(config, env)
    return caught.value.problems


@pytest.mark.parametrize(
    ("env", "config", "expected", "source"),
    [
        (
            {"ASC_KEY_ID": "ENV", "APP_STORE_CONNECT_API_KEY_KEY_ID": "FASTLANE", "APP_STORE_CONNECT_KEY_IDENTIFIER": "CM"},
            {"keyId": "CONFIG"},
            "CONFIG",
            "stack config appstoreconnect:keyId",
        ),
        (
            {"ASC_KEY_ID": "ENV", "APP_STORE_CONNECT_API_KEY_KEY_ID": "FASTLANE", "APP_STORE_CONNECT_KEY_IDENTIFIER": "CM"},
            {"keyId": None},
            "ENV",
            "env ASC_KEY_ID",
        ),
        (
            {"ASC_KEY_ID": "", "APP_STORE_CONNECT_API_KEY_KEY_ID": "FASTLANE", "APP_STORE_CONNECT_KEY_IDENTIFIER": "CM"},
            {},
            "FASTLANE",
            "env APP_STORE_CONNECT_API_KEY_KEY_ID",
        ),
        ({"APP_STORE_CONNECT_KEY_IDENTIFIER": "CM"}, None, "CM", "env APP_STORE_CONNECT_KEY_IDENTIFIER"),
    ],
)
def test_key_id_precedence(env: dict, config: dict | None, expected: str, source: str) -> None:
    settings = resolve_settings(config, {**env, "ASC_PRIVATE_KEY": ec_pem()})
    assert settings.key_id == expected
    assert settings.sources["key_id"] == source


def test_issuer_precedence_and_individual_keys() -> None:
    env = minimal_env(APP_STORE_CONNECT_API_KEY_ISSUER_ID="fastlane", APP_STORE_CONNECT_ISSUER_ID="codemagic")
    assert resolve_settings({"appstoreconnect:issuerId": ISSUER_ID}, env).issuer_id == ISSUER_ID
    assert resolve_settings(None, env).issuer_id == "fastlane"
    assert resolve_settings(None, {**env, "ASC_ISSUER_ID": "ours"}).issuer_id == "ours"
    individual = resolve_settings(None, minimal_env())
    assert individual.issuer_id is None
    assert "individual key" in individual.sources["issuer_id"]


def test_defaults_and_sources() -> None:
    settings = resolve_settings({"keyId": KEY_ID, "privateKey": ec_pem(), "issuerId": ISSUER_ID}, {})
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.sources == {
        "issuer_id": "stack config appstoreconnect:issuerId",
        "key_id": "stack config appstoreconnect:keyId",
        "private_key": "stack config appstoreconnect:privateKey",
        "base_url": "default",
    }
    assert settings.private_key_pem == ec_pem()


def test_base_url_from_config_then_env_trailing_slash_dropped() -> None:
    env = minimal_env(ASC_BASE_URL="http://127.0.0.1:8900/")
    assert resolve_settings(None, env).base_url == "http://127.0.0.1:8900"
    assert resolve_settings({"baseUrl": "https://proxy.test/asc"}, env).base_url == "https://proxy.test/asc"


@pytest.mark.parametrize("url", ["ftp://x", "api.appstoreconnect.apple.com", "http://", "http://h/x?y=1"])
def test_malformed_base_url(url: str) -> None:
    (problem,) = problems(None, minimal_env(ASC_BASE_URL=url))
    assert problem.startswith(f"App Store Connect base URL {url!r} from env ASC_BASE_URL is not an http(s) URL")


def test_missing_key_id_message() -> None:
    (problem,) = problems({}, {"ASC_PRIVATE_KEY": ec_pem()})
    assert problem == (
        "App Store Connect key id is not set: set `pulumi config set appstoreconnect:keyId <id>` or ASC_KEY_ID "
        "(also looked at APP_STORE_CONNECT_API_KEY_KEY_ID, APP_STORE_CONNECT_KEY_IDENTIFIER)"
    )


def test_missing_private_key_message_names_every_place() -> None:
    (problem,) = problems({"keyId": KEY_ID}, {})
    assert problem.startswith("App Store Connect private key is not set:")
    for place in (
        "appstoreconnect:privateKey",
        "appstoreconnect:privateKeyPath",
        "ASC_PRIVATE_KEY ",
        "ASC_PRIVATE_KEY_PATH",
        "APP_STORE_CONNECT_API_KEY_KEY,",
        "APP_STORE_CONNECT_API_KEY_KEY_FILEPATH",
        "APP_STORE_CONNECT_PRIVATE_KEY",
    ):
        assert place in problem


def test_every_missing_setting_is_reported_at_once_without_tracebacks_about_none() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(None, {})
    message = str(caught.value)
    assert len(caught.value.problems) == 2
    assert "key id is not set" in message and "private key is not set" in message
    assert "None" not in message


def test_key_file_sources_and_path(tmp_path: Path) -> None:
    key_file = tmp_path / f"AuthKey_{KEY_ID}.p8"
    key_file.write_text(ec_pem())
    settings = resolve_settings({"privateKeyPath": str(key_file)}, {"ASC_KEY_ID": KEY_ID, "ASC_PRIVATE_KEY": rsa_pem()})
    assert settings.private_key_path == str(key_file)
    assert settings.sources["private_key"] == f"file {key_file} (from stack config appstoreconnect:privateKeyPath)"
    assert settings.private_key_pem == ec_pem()


def test_missing_key_file_names_path_and_source(tmp_path: Path) -> None:
    missing = tmp_path / "AuthKey_NOPE.p8"
    (problem,) = problems(None, {"ASC_KEY_ID": KEY_ID, "ASC_PRIVATE_KEY_PATH": str(missing)})
    assert problem == f"App Store Connect private key file {missing} (from env ASC_PRIVATE_KEY_PATH) does not exist"


def test_rsa_key_file_is_the_wrong_key_type(tmp_path: Path) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_text(rsa_pem())
    (problem,) = problems(None, {"ASC_KEY_ID": KEY_ID, "APP_STORE_CONNECT_API_KEY_KEY_FILEPATH": str(key_file)})
    assert problem.startswith(
        f"App Store Connect private key from file {key_file} (from env APP_STORE_CONNECT_API_KEY_KEY_FILEPATH) "
        "is not usable: wrong key type: RSA"
    )
    assert pem_body(rsa_pem()) not in problem


def test_binary_key_file_is_explained(tmp_path: Path) -> None:
    key_file = tmp_path / "cert.p12"
    key_file.write_bytes(b"\x30\x82\x0a\x01\x02\x01\x03\x30\x82\x09\xc7\xff\xfe")
    (problem,) = problems({"privateKeyPath": str(key_file)}, {"ASC_KEY_ID": KEY_ID})
    assert "binary data (a .p12" in problem and str(key_file) in problem


def test_fastlane_base64_key_content() -> None:
    encoded = base64.b64encode(ec_pem().encode()).decode()
    settings = resolve_settings(None, {"APP_STORE_CONNECT_API_KEY_KEY_ID": KEY_ID, "APP_STORE_CONNECT_API_KEY_KEY": encoded})
    assert settings.private_key_pem == ec_pem()
    assert settings.sources["private_key"] == "env APP_STORE_CONNECT_API_KEY_KEY"


def test_pem_with_literal_backslash_n_escapes() -> None:
    escaped = ec_pem().strip().replace("\n", "\\n")
    assert resolve_settings(None, {"ASC_KEY_ID": KEY_ID, "ASC_PRIVATE_KEY": escaped}).private_key_pem == ec_pem()


def test_codemagic_file_and_env_references(tmp_path: Path) -> None:
    key_file = tmp_path / "AuthKey.p8"
    key_file.write_text(ec_pem())
    env = {"APP_STORE_CONNECT_KEY_IDENTIFIER": KEY_ID, "APP_STORE_CONNECT_PRIVATE_KEY": f"@file:{key_file}"}
    settings = resolve_settings(None, env)
    assert settings.private_key_path == str(key_file)
    assert settings.sources["private_key"] == f"file {key_file} (from env APP_STORE_CONNECT_PRIVATE_KEY)"
    env = {"APP_STORE_CONNECT_KEY_IDENTIFIER": KEY_ID, "APP_STORE_CONNECT_PRIVATE_KEY": "@env:MY_KEY", "MY_KEY": ec_pem()}
    assert resolve_settings(None, env).private_key_pem == ec_pem()


def test_garbage_key_content_names_the_source() -> None:
    (problem,) = problems({"privateKey": "hunter2"}, {"ASC_KEY_ID": KEY_ID})
    assert problem.startswith("App Store Connect private key from stack config appstoreconnect:privateKey is not usable")
    assert "hunter2" not in problem


def test_key_id_given_as_a_file_name() -> None:
    (problem,) = problems({"keyId": "AuthKey_ABCDE12345.p8"}, {"ASC_PRIVATE_KEY": ec_pem()})
    assert "is a file name; the key id is 'ABCDE12345'" in problem


def test_repr_and_str_never_show_the_key() -> None:
    settings = resolve_settings(None, minimal_env())
    for text in (repr(settings), str(settings)):
        assert pem_body(ec_pem()) not in text and "PRIVATE KEY" not in text
        assert KEY_ID in text


def test_equal_credentials_from_different_sources_are_equal_and_hashable() -> None:
    a = resolve_settings({"keyId": KEY_ID, "privateKey": ec_pem()}, {})
    b = resolve_settings(None, minimal_env())
    assert a == b and hash(a) == hash(b) and a.sources != b.sources
    assert a != resolve_settings(None, minimal_env(ASC_BASE_URL="http://127.0.0.1:1"))
    assert isinstance(a, Settings)


def test_settings_are_frozen() -> None:
    settings = resolve_settings(None, minimal_env())
    with pytest.raises(AttributeError):
        settings.key_id = "X"  # type: ignore[misc]


def test_tests_start_without_settings_from_the_shell() -> None:
    # tests/conftest.py clears what a developer may have exported (run with bogus ASC_* to see).
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(None)
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "App Store Connect key id is not set",
        "App Store Connect private key is not set",
    ]


def test_the_process_environment_is_the_default_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_KEY_ID", KEY_ID)
    monkeypatch.setenv("APP_STORE_CONNECT_API_KEY_KEY", ec_pem())
    settings = resolve_settings(None)
    assert (settings.key_id, settings.sources["key_id"]) == (KEY_ID, "env ASC_KEY_ID")
    assert settings.sources["private_key"] == "env APP_STORE_CONNECT_API_KEY_KEY"
    # Stack config still wins over the environment.
    assert resolve_settings({"keyId": "CONFIGKEY1"}).key_id == "CONFIGKEY1"
