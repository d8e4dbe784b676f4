"""Report how many bad inputs were tried and rejected (the issue asks for the figure)."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from .test_badinput import TALLY

    if TALLY["tried"]:
        terminalreporter.write_line(
            f"bad inputs: {TALLY['tried']} tried, {TALLY['rejected']} rejected at check with no write"
        )
