"""Issue 15: a server whose knowledge base has not changed starts from the cached search index
and situations model, without importing scikit-learn or SciPy (importing them alone took about a
second of the start; benchmarks/startup.py measures the whole start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test starts the server's start-up in a fresh interpreter

ROOT = Path(__file__).resolve().parents[2]

# What `samverkan serve` does before it listens (bot.serve.run), up to the application's start-up
# (the services built), in a fresh interpreter; prints the heavy modules it imported.
_START = """
import asyncio, json, sys
from aiohttp import web
from bot.serve import application, checked_knowledge
from samverkan.settings import Settings

settings = Settings()
knowledge, problem = checked_knowledge(settings)
assert knowledge is not None, problem

async def start() -> None:
    runner = web.AppRunner(application(settings, knowledge))
    await runner.setup()  # runs the start-up: database, knowledge base, search, situations
    await runner.cleanup()

asyncio.run(start())
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "scipy"})))
"""


def _start(tmp_path: Path, cache: Path) -> list[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SAMVERKAN_DATABASE_URL": f"sqlite:///{tmp_path / 'start.sqlite3'}",
        "SAMVERKAN_CACHE_DIR": str(cache),
    }
    done = subprocess.run(
        [sys.executable, "-c", _START],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    heavy: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return heavy


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' shared cache (usually warm), filled by a start if it was not."""
    cache = Path(os.environ["SAMVERKAN_CACHE_DIR"])
    _start(tmp_path_factory.mktemp("warm-up"), cache)
    return cache


def test_a_start_with_a_warm_cache_imports_no_scikit_learn(
    tmp_path: Path, shared_cache: Path
) -> None:
    assert _start(tmp_path, shared_cache) == []


def test_a_start_without_the_cached_situations_model_trains(
    tmp_path: Path, shared_cache: Path
) -> None:
    """The other side of the check above: with the same cached search index but no cached
    situations model the start trains it, and imports scikit-learn."""
    cache = tmp_path / "cache"
    cache.mkdir()
    # the search indexes, as links (the shared cache may be large)
    for entry in shared_cache.iterdir():
        if not entry.name.startswith(("situations-", ".")):
            (cache / entry.name).symlink_to(entry)
    assert _start(tmp_path, cache) == ["scipy", "sklearn"]
    assert len(list(cache.glob("situations-*.npz"))) == 1
