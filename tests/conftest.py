"""Session-wide: record every emulator exchange for the contract check (tests/contract).

Every ``/v1`` exchange any in-process emulator serves (emulator, engine and contract tiers)
is recorded with the test that caused it. ``tests/contract/test_recorded_exchanges.py`` runs
last (it is moved to the end of the run) and validates them all against Apple's OpenAPI
4.4.1 excerpt; exchanges recorded after it, or in a run that did not select it, are checked
when the session finishes. The terminal summary reports the counts.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import pytest

from tests.contract.recording import RECORDER

FINAL = "contract_final"
_REPORTS: list[Any] = []
# Credentials (ours, fastlane's, codemagic's) and provider log settings a developer may have
# exported. resolve_settings falls back to os.environ, so a provider a test configures would
# read them wherever its config leaves a gap: every test starts without them.
SHELL_SETTINGS = ("ASC_", "APP_STORE_CONNECT_", "PULUMI_APPSTORECONNECT_")


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith(SHELL_SETTINGS)]:
        monkeypatch.delenv(name)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{FINAL}: runs after every other test (validates what they recorded)")
    config.addinivalue_line("markers", "synthetic_surface: serves a made-up spec, not Apple's; not contract-recorded")
    RECORDER.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    RECORDER.uninstall()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    final = [item for item in items if item.get_closest_marker(FINAL)]
    if final:
        items[:] = [item for item in items if not item.get_closest_marker(FINAL)] + final


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[Any]:
    RECORDER.current_test = item.nodeid
    RECORDER.paused = item.get_closest_marker("synthetic_surface") is not None
    try:
        return (yield)
    finally:
        RECORDER.current_test = ""
        RECORDER.paused = False


@pytest.fixture(autouse=True)
def _fresh_provider_process() -> Iterator[None]:
    """Each test is its own provider process: nothing it learnt about a stack leaks into the next."""
    from pulumi_appstoreconnect.readcache import READS
    from pulumi_appstoreconnect.reconciler import _MEMORY

    _MEMORY.forget()
    READS.forget()
    yield
    _MEMORY.forget()
    READS.forget()


def record_report(report: Any) -> None:
    """Called by the final contract test with what it validated (for the summary)."""
    _REPORTS.append(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    pending = RECORDER.unchecked()
    if not pending:
        return
    from tests.contract.contract import Contract

    report = Contract().check_all(pending)
    _REPORTS.append(report)
    if report.violations and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for report in _REPORTS:
        terminalreporter.write_line(report.summary())
        for violation in report.violations[:50]:
            terminalreporter.write_line(f"  CONTRACT VIOLATION {violation}")
