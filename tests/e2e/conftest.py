from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess
from tests.fakes.connector import FakeConnector

pytestmark = pytest.mark.slow


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fc = FakeConnector()
    await fc.start()
    yield fc
    await fc.stop()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    proc = ServerProcess(
        env={"SAMVERKAN_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite3'}"}, cwd=tmp_path
    )
    await proc.start()
    yield proc
    await proc.stop()
