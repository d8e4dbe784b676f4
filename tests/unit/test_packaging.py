"""What users install: the dependency ranges, constraints.txt, and tools/package_check.py's archive checks.

The checks themselves (build, install the wheel outside the checkout, run the example; the newest
SDK) run after the suite in ``make test``; these pin down the logic they rely on.
"""

from __future__ import annotations

import importlib.util
import platform
import sys
from pathlib import Path
from types import ModuleType

import pytest
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


# -- tools/package_check.py: what the archives must hold ----------------------------------------


@pytest.fixture(scope="module")
def check() -> ModuleType:
    return load("package_check")


EXPECTED = ["pulumi_appstoreconnect/__init__.py", "pulumi_appstoreconnect/emulator/seeds/demo.json"]


def test_package_files_are_every_file_of_the_package(check: ModuleType) -> None:
    files = check.package_files(ROOT)
    assert "pulumi_appstoreconnect/emulator/seeds/demo.json" in files
    assert "pulumi_appstoreconnect/cli.py" in files
    assert not [f for f in files if "__pycache__" in f]


def test_sdist_without_package_data_fails_naming_the_file(check: ModuleType) -> None:
    top = "pulumi_appstoreconnect-0.1.0"
    complete = [top, f"{top}/pyproject.toml", f"{top}/README.md", *(f"{top}/provider/{p}" for p in EXPECTED)]
    assert check.sdist_problems(complete, EXPECTED) == []
    assert check.sdist_problems([n for n in complete if not n.endswith(".json")], EXPECTED) == [
        "the sdist lacks provider/pulumi_appstoreconnect/emulator/seeds/demo.json"
    ]


def test_wheel_without_package_data_stray_packages_or_console_script_fails(check: ModuleType) -> None:
    dist_info = "pulumi_appstoreconnect-0.1.0.dist-info"
    names = [*EXPECTED, f"{dist_info}/METADATA", f"{dist_info}/entry_points.txt"]
    entry_points = "[console_scripts]\npulumi-appstoreconnect = pulumi_appstoreconnect.cli:main\n"
    assert check.wheel_problems(names, entry_points, EXPECTED) == []
    assert check.wheel_problems([*names[1:], "tests/__init__.py"], "", EXPECTED) == [
        "the wheel lacks pulumi_appstoreconnect/__init__.py",
        "the wheel installs 'tests' next to the package",
        "the wheel's entry_points.txt lacks the console script "
        "`pulumi-appstoreconnect = pulumi_appstoreconnect.cli:main`",
    ]


def test_the_example_copy_names_the_given_virtualenv(check: ModuleType, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    project = check.project_copy(venv, tmp_path / "project")
    assert f"    virtualenv: {venv}\n" in (project / "Pulumi.yaml").read_text()
    assert (project / "__main__.py").read_text().endswith(check.EXPORT_WHERE)
