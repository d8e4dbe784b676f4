"""Every module's ``__all__`` names what the module defines: ``from module import *`` (and the
docs tools that read ``__all__``) fail on a name that is not there."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import pulumi_appstoreconnect

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(pulumi_appstoreconnect.__path__, "pulumi_appstoreconnect.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_every_exported_name_exists(name: str) -> None:
    module = importlib.import_module(name)
    missing = [n for n in getattr(module, "__all__", ()) if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names {missing}, which it does not define"
