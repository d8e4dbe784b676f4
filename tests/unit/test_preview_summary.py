"""`pulumi-appstoreconnect preview-summary` / `drift-summary`: Markdown from real `pulumi preview
--json` output (tests/unit/fixtures/preview_json, made by tools/preview_fixtures.py)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from pulumi_appstoreconnect import cli
from pulumi_appstoreconnect.preview_summary import Preview, render, summary_command

FIXTURES = Path(__file__).parent / "fixtures" / "preview_json"


def text(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def summarise(name: str, *, drift: bool) -> tuple[int, str]:
    out = io.StringIO()
    return summary_command(text(name), out, drift=drift), out.getvalue()


def rows(markdown: str) -> list[list[str]]:
    table = [line for line in markdown.splitlines() if line.startswith("| ") and not line.startswith("| resource")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in table]


def ids(name: str) -> dict[str, str]:
    """resource name -> id, from the fixture itself (the emulator made them up)."""
    steps = json.loads(text(name))["steps"]
    return {s["urn"].split("::")[-1]: s["oldState"]["id"] for s in steps if s.get("oldState", {}).get("id")}


def test_drift_names_each_property_with_both_values_and_what_up_does() -> None:
    code, out = summarise("drift", drift=True)
    app, widget = ids("drift")["app"], ids("drift")["widget"]

    assert code == 1
    assert out.startswith("## App Store Connect drift: `production`\n")
    assert "differs from the program in 2 resource(s) (2 to update)" in out
    assert sorted(rows(out)) == sorted([
        [f"BundleId `app` (`{app}`)", "`name`", '`"Renamed in the portal"`', '`"Skeleton App"`', "set the program's value"],
        [f"BundleId `widget` (`{widget}`)", "`platform`", '`"MAC_OS"`', '`"IOS"`',
         "**refuse**: Apple cannot change it in place (see below)"],
    ])
    assert f"- bundleIds `{widget}`: `platform` is 'MAC_OS' at Apple, 'IOS' in the program" in out
    assert "`pulumi up --replace <URN>`" in out and "`pulumi up --refresh` sets the program's values back" in out


def test_no_drift_exits_0() -> None:
    code, out = summarise("no_drift", drift=True)
    assert (code, out) == (0, "## App Store Connect drift: `production`\n\nNo drift: App Store Connect matches the program.\n")


def test_a_failed_preview_is_not_reported_as_drift_and_keeps_the_providers_hint() -> None:
    code, out = summarise("agreements_expired", drift=True)
    assert code == 2
    assert "**The drift check could not run**" in out and "No drift" not in out
    assert out.count("403 FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED") == 2  # one per resource read
    assert "> Hint: The Account Holder must sign the current agreements" in out
    assert "preview failed\n" not in out  # the engine's own closing line says nothing new
    assert rows(out) == []


def test_pull_request_preview_shows_now_and_after() -> None:
    code, out = summarise("pull_request", drift=False)
    app = ids("pull_request")["app"]
    assert code == 0
    assert out.startswith("## Pulumi preview: `production`\n\n`pulumi up` would make 1 to update.")
    assert rows(out) == [[f"BundleId `app` (`{app}`)", "`name`", '`"Skeleton App"`', '`"Skeleton App 2"`', "update it in place"]]


def test_pull_request_replacement_is_called_out() -> None:
    code, out = summarise("pull_request_replace", drift=False)
    assert code == 0
    assert "would make 2 to replace" in out
    actions = {(row[0].split("`")[1], row[1]): row[4] for row in rows(out)}
    assert actions[("app", "`identifier`")] == "**replace** it: cannot change in place"
    assert actions[("widget", "`identifier`")] == "**replace** it: cannot change in place"
    assert actions[("app", "`name`")] == "set on the replacement"
    assert "**2 resource(s) would be replaced**" in out and "capabilities and profiles" in out


def test_secrets_and_unknowns_are_shown_as_such_and_cells_are_escaped() -> None:
    document = {"steps": [{
        "op": "update", "urn": "urn:pulumi:prod::p::pulumi-python:dynamic/appstoreconnect:Certificate::dist",
        "oldState": {"id": "C1", "type": "pulumi-python:dynamic/appstoreconnect:Certificate",
                     "inputs": {"__provider": "[secret]", "csr_content": "[secret]", "name": "a|b", "x": 1}},
        "newState": {"type": "pulumi-python:dynamic/appstoreconnect:Certificate",
                     "inputs": {"__provider": "[secret]", "csr_content": "[secret]", "name": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "x": 1}},
        "diffReasons": ["csr_content", "name"],
    }], "changeSummary": {"update": 1}}
    out = render(Preview.parse(json.dumps(document)), drift=False)
    assert rows(out) == [
        ["Certificate `dist` (`C1`)", "`csr_content`", "`[secret]`", "`[secret]`", "update it in place"],
        ["Certificate `dist` (`C1`)", "`name`", '`"a\\|b"`', "*known after up*", "update it in place"],
    ]


def test_creates_deletes_and_long_values() -> None:
    long = "x" * 500
    document = {"steps": [
        {"op": "create", "urn": "urn:pulumi:prod::p::pulumi-python:dynamic/appstoreconnect:Device::ipad",
         "newState": {"type": "pulumi-python:dynamic/appstoreconnect:Device", "inputs": {"name": long}}},
        {"op": "delete", "urn": "urn:pulumi:prod::p::pulumi-python:dynamic/appstoreconnect:Profile::old",
         "oldState": {"id": "P1", "type": "pulumi-python:dynamic/appstoreconnect:Profile", "inputs": {"name": "Old"}}},
        {"op": "update", "urn": "urn:pulumi:prod::p::pulumi-python:dynamic/appstoreconnect:Device::mac",
         "oldState": {"id": "D2", "type": "pulumi-python:dynamic/appstoreconnect:Device", "inputs": {"name": "Mac"}},
         "newState": {"type": "pulumi-python:dynamic/appstoreconnect:Device", "inputs": {"name": long}}},
    ]}
    out = render(Preview.parse(json.dumps(document)), drift=True)
    assert rows(out) == [
        ["Device `ipad`", "—", "*nothing*", "*declared*", "create it"],
        ["Profile `old` (`P1`)", "—", "*exists*", "*not declared*", "delete it (devices: disable; certificates: revoke)"],
        ["Device `mac` (`D2`)", "`name`", '`"Mac"`', '`"' + "x" * 78 + "…`", "set the program's value"],
    ]


@pytest.mark.parametrize("raw, reason", [("", "no preview output"), ("not json", "not the JSON"), ("[]", "no steps")])
def test_unreadable_input_exits_2_and_says_why(raw: str, reason: str) -> None:
    out = io.StringIO()
    assert summary_command(raw, out, drift=True) == 2
    assert reason in out.getvalue() and out.getvalue().startswith("## App Store Connect drift")


def test_the_cli_reads_a_file_or_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["drift-summary", str(FIXTURES / "drift.json")]) == 1
    assert "App Store Connect differs from the program" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(text("pull_request")))
    assert cli.main(["preview-summary"]) == 0
    assert "`pulumi up` would make 1 to update." in capsys.readouterr().out
