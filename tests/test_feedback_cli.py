from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.main import main
from storage.db import Database
from storage.feedback import FeedbackStore


def test_feedback_listing_weakest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fb.sqlite3'}"
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", url)

    async def seed() -> None:
        db = Database(url)
        await db.migrate()
        store = FeedbackStore(db)
        at = datetime(2026, 11, 24, tzinfo=UTC)
        await store.record("anmalan-anonym", "up", at=at)
        for _ in range(3):
            await store.record("anmalan-vart", "down", at=at)
        await db.dispose()

    asyncio.run(seed())
    assert main(["kb", "feedback", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == {
        "topic": "anmalan-vart",
        "title": "Till vilken socialtjänst ska anmälan gå?",
        "up": 0,
        "down": 3,
    }
    assert rows[1]["topic"] == "anmalan-anonym" and rows[1]["up"] == 1
    assert main(["kb", "feedback"]) == 0
    assert "anmalan-vart" in capsys.readouterr().out
