"""What users install: the dependency ranges and constraints.txt (tools/constraints.py)."""

from __future__ import annotations

import importlib.util
import platform
import sys
from pathlib import Path
from types import ModuleType

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
ENGINE_VERSION = (ROOT / "tools" / "pulumi-engine" / "VERSION").read_text().strip()


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"tools_{name}", ROOT / "tools" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def requirements(extra: str | None = None) -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return {canonicalize_name(r.name): r for r in map(Requirement, listed)}


def constraints() -> dict[str, Version]:
    """constraints.txt's pins that apply to this Python."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate(default_environment()):
                (spec,) = req.specifier
                assert spec.operator == "==", line
                pins[canonicalize_name(req.name)] = Version(spec.version)
    return pins


def test_the_sdk_is_a_range_from_the_engines_release_to_the_next_major() -> None:
    sdk = requirements()["pulumi"].specifier
    assert str(sdk) == f"<4,>={ENGINE_VERSION}"
    assert constraints()["pulumi"] == Version(ENGINE_VERSION)  # the suite runs at the lower bound


def test_constraints_pin_every_requirement_within_its_range() -> None:
    pins = constraints()
    for name, req in {**requirements(), **requirements("test")}.items():
        assert name in pins, f"{name} is not pinned in constraints.txt: run make constraints"
        assert pins[name] in req.specifier, f"constraints.txt pins {name}=={pins[name]}, outside {req}: run make constraints"


def test_this_environment_has_the_pinned_versions() -> None:
    """`make setup` installed constraints.txt (the stamp depends on it); a stale .venv fails here."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    stale = {name: (str(pin), installed(name)) for name, pin in constraints().items() if installed(name) != str(pin)}
    assert not stale, f"installed versions differ from constraints.txt (pinned, installed): {stale}; run make setup"


# -- tools/constraints.py -----------------------------------------------------------------------


def test_constraints_merge_pins_plainly_where_pythons_agree_and_per_python_where_not() -> None:
    merge = load("constraints").merge
    resolved = {
        "3.11": {"pulumi": "3.259.0", "Hypothesis": "6.170.17"},
        "3.10": {"pulumi": "3.259.0", "hypothesis": "6.168.5", "tomli": "2.5.0"},
    }
    assert merge(resolved) == [
        'Hypothesis==6.168.5 ; python_version == "3.10"',  # spelt as first seen
        'Hypothesis==6.170.17 ; python_version == "3.11"',
        "pulumi==3.259.0",
        'tomli==2.5.0 ; python_version == "3.10"',
    ]


def test_constraints_file_is_generated_for_every_supported_python() -> None:
    header = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if line.startswith("# Generated")]
    assert header and "for Python 3.10, 3.11, 3.12, 3.13;" in header[0], "run make constraints"
    assert ".".join(platform.python_version_tuple()[:2]) in header[0]
