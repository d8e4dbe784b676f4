"""Print the fault suite's figures (operations, faults by kind, duplicates, orphans, overhead)."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from .test_fault_suite import REPORT

    if REPORT:
        terminalreporter.write_line("fault suite: " + ", ".join(f"{k}={v}" for k, v in REPORT.items()))
