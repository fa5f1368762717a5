"""Shared helpers for the registry tests: the eval data copied into tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from contacts.file_formats import parse_path
from contacts.model import RegistrySnapshot

DATA = Path(__file__).resolve().parents[1] / "data"
REGISTRY_EXAMPLE = DATA / "registry-example.yaml"
ROUTES = DATA / "routes.yaml"


def snapshot_of(path: Path) -> RegistrySnapshot:
    parsed = parse_path(path)
    assert not parsed.errors, [str(e) for e in parsed.errors]
    return parsed.data.snapshot()


@pytest.fixture(scope="session")
def example_snapshot() -> RegistrySnapshot:
    return snapshot_of(REGISTRY_EXAMPLE)
