"""Installed versions of the security-sensitive dependencies are at least their floors.

The floors are written once, as ">=" specifiers in pyproject.toml's [project] dependencies;
[tool.samverkan] security-floors names which of them are security fixes.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def security_floors(pyproject: dict) -> dict[str, Version]:
    """Map each name in [tool.samverkan] security-floors to its ">=" floor in dependencies."""
    names = pyproject["tool"]["samverkan"]["security-floors"]
    requirements = {
        canonicalize_name(req.name): req
        for req in map(Requirement, pyproject["project"]["dependencies"])
    }
    floors: dict[str, Version] = {}
    for name in names:
        req = requirements.get(canonicalize_name(name))
        assert req is not None, f"{name} is a security floor but not a dependency"
        lower = [Version(spec.version) for spec in req.specifier if spec.operator == ">="]
        assert lower, f"{name} has no '>=' floor in dependencies: {req}"
        floors[name] = max(lower)
    return floors


def below_floor(floors: dict[str, Version], installed: dict[str, str | None]) -> list[str]:
    problems = []
    for name, floor in floors.items():
        found = installed.get(name)
        if found is None:
            problems.append(f"{name} is not installed (floor {floor})")
        elif Version(found) < floor:
            problems.append(f"{name} {found} is below the floor {floor}")
    return problems


def installed_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


FLOORS = security_floors(tomllib.loads(PYPROJECT.read_text(encoding="utf-8")))


def test_the_floors_the_issue_asks_for_are_declared() -> None:
    assert FLOORS["PyJWT"] >= Version("2.15.1")
    assert FLOORS["aiohttp"] >= Version("3.14.5")
    assert FLOORS["cryptography"] >= Version("50.0.2")


def test_installed_versions_are_at_least_the_floors() -> None:
    installed = {name: installed_version(name) for name in FLOORS}
    assert below_floor(FLOORS, installed) == []


@pytest.mark.parametrize("name", sorted(FLOORS))
@pytest.mark.parametrize("found", ["0.1", None])
def test_a_version_below_the_floor_is_reported(name: str, found: str | None) -> None:
    current = {other: installed_version(other) for other in FLOORS} | {name: found}
    problems = below_floor(FLOORS, current)
    assert len(problems) == 1
    assert problems[0].startswith(f"{name} ")
