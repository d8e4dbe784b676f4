"""``pulumi-appstoreconnect emulator | keygen | doctor | preview-summary | drift-summary``."""

from __future__ import annotations

import argparse
import email.utils
import json
import os
import re
import secrets
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TextIO

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .client import AppStoreConnectClient, ConnectionFailed, RetryPolicy
from .client.auth import AUDIENCE, MAX_TOKEN_LIFETIME
from .client.errors import AppStoreConnectError, error_from_response
from .preview_summary import summary_command
from .roles import AGREEMENTS_EXPLANATION, Probe, explain, is_agreements, is_role_refusal, probe_access
from .settings import KEY_FILE_NAME, ConfigurationError, Settings, resolve_settings

__all__ = ["doctor", "keygen", "main"]

APPLE_KEY_ID = re.compile(r"^[A-Z0-9]{10}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_CLOCK_SKEW = 60
PROBE_PATH = "/v1/bundleIds"

SUMMARIES = {
    "preview-summary": "Markdown summary of `pulumi preview --json` (stdin or FILE) for a pull request: "
    "exit 0, or 2 when the preview failed",
    "drift-summary": "Markdown summary of `pulumi preview --refresh --expect-no-changes --json` (stdin or FILE): "
    "what drifted; exit 0 no drift, 1 drift, 2 the preview failed",
}

# doctor's options, named like the stack config keys they override
DOCTOR_OPTIONS = {
    "keyId": "key id",
    "issuerId": "issuer id (omit for an individual key)",
    "privateKeyPath": "path to the AuthKey_<KEYID>.p8 file",
    "baseUrl": "API base URL (e.g. the emulator's)",
}


# -- keygen ----------------------------------------------------------------------------


def new_key_id() -> str:
    """A random id shaped like Apple's (10 uppercase letters and digits)."""
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(10))


def keygen(key_id: str | None = None, path: str | os.PathLike[str] | None = None, *, force: bool = False) -> Path:
    """Write a new EC P-256 private key as a PKCS#8 PEM ``.p8`` (mode 0600), like Apple's."""
    key_id = key_id or new_key_id()
    target = Path(path) if path is not None else Path(f"AuthKey_{key_id}.p8")
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    with os.fdopen(os.open(target, flags, 0o600), "wb") as handle:
        handle.write(pem)
    return target


def _keygen_command(args: argparse.Namespace, out: TextIO) -> int:
    key_id = args.key_id or new_key_id()
    try:
        target = keygen(key_id, args.out, force=args.force)
    except FileExistsError as exc:
        print(f"error: {exc.filename} exists (use --force to overwrite)", file=sys.stderr)
        return 1
    print(f"wrote {target} (EC P-256 private key, key id {key_id})", file=out)
    print(f"export ASC_KEY_ID={key_id}", file=out)
    print(f"export ASC_PRIVATE_KEY_PATH={target.resolve()}", file=out)
    return 0


# -- doctor ----------------------------------------------------------------------------


@dataclass
class _Report:
    out: TextIO
    failures: int = 0
    facts: dict[str, Any] = field(default_factory=dict)

    def line(self, status: str, text: str) -> None:
        if status == "FAIL":
            self.failures += 1
        print(f"  [{status:^4}] {text}", file=self.out)

    def section(self, title: str) -> None:
        print(f"\n{title}", file=self.out)


def _check_ids(settings: Settings, report: _Report) -> None:
    if APPLE_KEY_ID.match(settings.key_id):
        report.line("OK", "key id looks like Apple's (10 uppercase letters and digits)")
    else:
        report.line("WARN", f"key id {settings.key_id!r} does not look like Apple's (10 uppercase letters and digits)")
    if settings.private_key_path:
        name = Path(settings.private_key_path).name
        match = KEY_FILE_NAME.fullmatch(name)
        if match is None:
            report.line("INFO", f"key file {name} is not named AuthKey_<KEYID>.p8: cannot cross-check the key id")
        elif match.group(1) != settings.key_id:
            report.facts["key_file_id"] = match.group(1)
            report.line("WARN", f"key id {settings.key_id} does not match the key file {name} (key id {match.group(1)})")
        else:
            report.line("OK", f"key id matches the key file name {name}")
    if settings.issuer_id is None:
        report.line("INFO", "no issuer id: using an individual key (token claim sub=user)")
    elif UUID.match(settings.issuer_id):
        report.line("OK", "issuer id is a UUID")
    else:
        report.line("WARN", f"issuer id {settings.issuer_id!r} is not a UUID like Apple's")


def _check_token(client: AppStoreConnectClient, now: float, report: _Report) -> None:
    token = client.tokens.token()
    header = jwt.get_unverified_header(token)
    print(f"         header {json.dumps(header)}", file=report.out)
    try:
        # Times are checked below against the same clock that minted the token.
        claims = jwt.decode(
            token,
            client.tokens.public_key,
            algorithms=["ES256"],
            audience=AUDIENCE,
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        report.line("FAIL", f"token does not verify with the key's own public key: {exc}")
        return
    print(f"         claims {json.dumps(claims)}", file=report.out)
    report.line("OK", "token is ES256-signed by the key, aud appstoreconnect-v1")
    ahead, span = claims["exp"] - now, claims["exp"] - claims["iat"]
    report.facts["lifetime"] = max(ahead, span)
    if max(ahead, span) > MAX_TOKEN_LIFETIME:
        report.line("FAIL", f"token lifetime {span / 60:.1f} min exceeds Apple's 20 min")
    else:
        report.line("OK", f"token expires in {ahead / 60:.1f} min (exp - iat {span / 60:.1f} min; limit 20 min)")


def _check_request(
    client: AppStoreConnectClient, clock: Callable[[], float], report: _Report
) -> tuple[httpx.Response | None, AppStoreConnectError | None]:
    """The first authenticated request; returns its response (None when the checks cannot go
    on: no answer, 401, agreements) and its error."""
    probe = f"GET {PROBE_PATH}?limit=1"
    sent = clock()
    try:
        response = client.send("GET", PROBE_PATH, params={"limit": 1})
    except ConnectionFailed as exc:
        report.line("FAIL", f"{probe}: cannot reach {client.settings.base_url}: {exc.reason}")
        return None, None
    local = (sent + clock()) / 2
    server_date = response.headers.get("Date")
    parsed = email.utils.parsedate_to_datetime(server_date) if server_date else None
    if parsed is None:
        report.line("WARN", "server sent no Date header: clock skew not measured")
    else:
        skew = local - parsed.timestamp()
        report.facts["skew"] = skew
        if abs(skew) > MAX_CLOCK_SKEW:
            direction = "ahead of" if skew > 0 else "behind"
            report.line("FAIL", f"this machine's clock is {abs(skew):.0f} s {direction} the server's (Date header); fix it (NTP)")
        else:
            report.line("OK", f"clock skew {skew:+.0f} s against the server's Date header")
    rate = client.last_rate_limit
    suffix = f" (rate limit: {rate.describe()})" if rate else ""
    if response.is_success:
        report.line("OK", f"{probe}: {response.status_code} {response.reason_phrase}{suffix}")
        return response, None
    error = error_from_response(response, rate_limit=rate)
    if is_role_refusal(error):  # a 403 proves the token was accepted: the role is the matter
        report.line("OK", f"the token is accepted ({probe}: {response.status_code} {error.code}: the key's role, see Access){suffix}")
        return response, error
    report.line("FAIL", f"{str(error).splitlines()[0]}{suffix}")
    if response.status_code == 401:
        _explain_401(client.settings, report)
    elif is_agreements(error):
        print(f"         {AGREEMENTS_EXPLANATION}", file=report.out)
    else:
        for hint in error.hints():
            print(f"         {hint}", file=report.out)
    return None, error


def _check_access(
    client: AppStoreConnectClient, response: httpx.Response, error: AppStoreConnectError | None, report: _Report
) -> None:
    """A read of each type the provider manages and a write that cannot change anything: what
    the key's role allows, and which role the program needs."""
    report.section("Access (a read of each type the provider manages; a write of an id that cannot exist)")
    try:
        document = response.json() if error is None else None
    except ValueError:
        document = None
    data = document.get("data") if isinstance(document, dict) else None
    bundle_id = data[0].get("id") if isinstance(data, list) and data and isinstance(data[0], dict) else None
    probes = probe_access(client, Probe("read bundleIds", f"GET {PROBE_PATH}?limit=1", error), bundle_id)
    for probe in probes:
        report.line("OK" if probe.passed else "FAIL", probe.describe())
    for text in explain(probes, individual=client.settings.issuer_id is None):
        print(f"         {text}", file=report.out)


def _explain_401(settings: Settings, report: _Report) -> None:
    """Rank the usual causes of a 401 given what was verified locally."""
    confirmed: list[str] = []
    possible: list[str] = []
    ruled_out: list[str] = ["wrong key type (the key is an EC P-256 private key)"]
    file_id = report.facts.get("key_file_id")
    if file_id:
        confirmed.append(f"mismatched key id: the key file is for key id {file_id}, the key id set is {settings.key_id}")
    else:
        issuer = (
            "no issuer id is set, so the token is for an individual key; a team key needs the issuer id"
            if settings.issuer_id is None
            else "the issuer id must be the one above the key list in Users and Access > Integrations"
        )
        possible.append(f"mismatched key id or issuer id: the key id must be the one of this .p8 ({issuer})")
    lifetime = report.facts.get("lifetime")
    if lifetime is not None and lifetime > MAX_TOKEN_LIFETIME:
        confirmed.append("token lifetime over 20 minutes")
    else:
        ruled_out.append("token lifetime (at most 20 min)")
    skew = report.facts.get("skew")
    if skew is None:
        possible.append("clock skew: not measured; check this machine's clock")
    elif abs(skew) > MAX_CLOCK_SKEW:
        confirmed.append(f"clock off by {skew:+.0f} s (this machine minus the server)")
    else:
        ruled_out.append(f"clock skew ({skew:+.0f} s)")
    possible.append("the key was revoked: check Users and Access > Integrations and create a new key if so")
    print("         Most likely causes, in order:", file=report.out)
    for number, cause in enumerate(confirmed + possible, 1):
        print(f"           {number}. {cause}", file=report.out)
    print(f"         Ruled out locally: {'; '.join(ruled_out)}", file=report.out)


def doctor(
    config: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    out: TextIO | None = None,
    clock: Callable[[], float] = time.time,
) -> int:
    """Check the credentials end to end and what the key's role allows (changing nothing), and
    print a report; 0 when everything passed."""
    report = _Report(out or sys.stdout)
    print("pulumi-appstoreconnect doctor", file=report.out)
    report.section("Settings")
    try:
        settings = resolve_settings(config, env, config_label="command line --{key}")
    except ConfigurationError as exc:
        for problem in exc.problems:
            report.line("FAIL", problem)
        print(
            "\nResult: settings are missing or malformed. doctor reads the environment and its options "
            "(--key-id, --issuer-id, --private-key-path, --base-url), not the stack config.",
            file=report.out,
        )
        return 1
    rows = (
        ("key id", settings.key_id, "key_id"),
        ("issuer id", settings.issuer_id, "issuer_id"),
        ("private key", None, "private_key"),  # only where it came from, never the key
        ("base URL", settings.base_url, "base_url"),
    )
    for label, value, name in rows:
        shown = f"{value}  " if value else ""
        print(f"  {label:<12} {shown}[{settings.sources.get(name, 'not set')}]", file=report.out)

    report.section("Checks")
    report.line("OK", "private key is an EC P-256 private key")
    _check_ids(settings, report)
    # Each probe sent once, reported as it is: doctor diagnoses, it does not wait out failures.
    with AppStoreConnectClient(settings, transport=transport, clock=clock, retry=RetryPolicy.no_retries()) as client:
        _check_token(client, clock(), report)
        response, error = _check_request(client, clock, report)
        if response is not None:
            _check_access(client, response, error, report)
    verdict = "all checks passed" if not report.failures else f"{report.failures} check(s) failed"
    print(f"\nResult: {verdict}", file=report.out)
    return 0 if not report.failures else 1


# -- entry point -----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-appstoreconnect", description="Tools for the App Store Connect Pulumi provider."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("emulator", help="run the App Store Connect emulator (see `emulator --help`)", add_help=False)

    keygen_parser = commands.add_parser("keygen", help="write a new EC P-256 .p8 key (for tests and the emulator)")
    keygen_parser.add_argument("--key-id", help="key id (default: random, Apple-shaped)")
    keygen_parser.add_argument("--out", help="file to write (default: ./AuthKey_<KEYID>.p8)")
    keygen_parser.add_argument("--force", action="store_true", help="overwrite an existing file")

    doctor_parser = commands.add_parser(
        "doctor",
        help="check credentials end to end",
        description="Check the App Store Connect credentials from the environment (ASC_*, fastlane's or "
        "codemagic's variables) or these options; stack config is not read here.",
    )
    for key, text in DOCTOR_OPTIONS.items():
        flag = "--" + re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), key)
        doctor_parser.add_argument(flag, f"--{key}", dest=key, help=text)

    for name, text in SUMMARIES.items():
        summary = commands.add_parser(name, help=text, description=text)
        summary.add_argument("file", nargs="?", help="the output of `pulumi preview --json` (default: stdin)")
    return parser


def _run_emulator(argv: list[str]) -> int:
    try:
        from .emulator.server import main as emulator_main
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(__package__ + ".emulator"):
            print(f"error: the emulator is not available ({exc})", file=sys.stderr)
            return 1
        raise
    return int(emulator_main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "emulator":
        return _run_emulator(args_list[1:])  # every remaining argument, --help included
    args = _parser().parse_args(args_list)
    if args.command == "keygen":
        return _keygen_command(args, sys.stdout)
    if args.command in SUMMARIES:
        if args.file is None:
            text = sys.stdin.read()
        else:  # a missing file: pulumi did not get as far as writing it
            text = Path(args.file).read_text() if Path(args.file).exists() else ""
        return summary_command(text, sys.stdout, drift=args.command == "drift-summary")
    config = {key: getattr(args, key) for key in DOCTOR_OPTIONS if getattr(args, key)}
    return doctor(config)


if __name__ == "__main__":
    sys.exit(main())
