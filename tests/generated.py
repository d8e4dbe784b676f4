"""Running a generated program in-process (the importer's tests, unit and emulator tiers)."""

from __future__ import annotations

from typing import Any, Callable

import pulumi
import pytest

import pulumi_appstoreconnect
from pulumi_appstoreconnect.resources import RESOURCES

# declare(token, resource_name, opts, props) -> the id the resource's `.id` then holds
Declare = Callable[[str, str, Any, dict[str, Any]], str]


def run_program(source: str, declare: Declare, monkeypatch: pytest.MonkeyPatch) -> None:
    """Execute ``source`` with each resource class replaced by a stand-in that hands what the
    program declared to ``declare``. Stand-ins are pulumi.Resource subclasses (never registered)
    so that ``ResourceOptions(depends_on=...)`` accepts them."""

    def stand_in(token: str) -> type:
        def __init__(self: Any, resource_name: str, opts: Any = None, **props: Any) -> None:
            self.id = declare(token, resource_name, opts, props)

        return type(token, (pulumi.Resource,), {"__init__": __init__})

    for token in RESOURCES:
        monkeypatch.setattr(pulumi_appstoreconnect, token, stand_in(token))
    exec(compile(source, "__main__.py", "exec"), {"__name__": "__main__"})
