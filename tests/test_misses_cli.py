"""`samverkan kb misses`: the suggested questions grouped (count, masked text, latest date),
as text and as JSON lines; nothing older than 90 days."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from cli.main import main
from common.clock import FixedClock, SystemClock, local
from storage.db import Database
from storage.suggestions import SuggestionStore


def _seed(url: str) -> FixedClock:
    now = SystemClock().now()
    clock = FixedClock(now - timedelta(days=100))

    async def seed() -> None:
        db = Database(url)
        await db.migrate()
        store = SuggestionStore(db, clock, mask=lambda t: t.replace("Kalle", "[namn]"))
        await store.add("En gammal fråga?", source="decline")  # 100 days old: not listed
        clock.set(now - timedelta(days=3))
        await store.add("Får Kalle byta klass?", source="decline")
        clock.set(now - timedelta(days=2))
        await store.add("Vad är skolskjuts?", source="decline")
        clock.set(now - timedelta(days=1))
        await store.add("får kalle byta klass", source="feedback", topic_id="samtycke")
        await store.add("Får [namn] byta klass", source="decline")
        await db.dispose()

    asyncio.run(seed())
    return clock


def test_misses_are_listed_grouped_most_often_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'misses.sqlite3'}"
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", url)
    assert main(["kb", "misses"]) == 0
    assert "Inga föreslagna frågor" in capsys.readouterr().out
    clock = _seed(url)
    latest = local(clock.now()).date().isoformat()
    assert main(["kb", "misses", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows == [
        {
            "count": 2,
            "text": "Får [namn] byta klass",
            "latest": latest,
            "sources": ["decline"],
            "topics": [],
        },
        {
            "count": 1,
            "text": "får kalle byta klass",
            "latest": latest,
            "sources": ["feedback"],
            "topics": ["samtycke"],
        },
        {
            "count": 1,
            "text": "Vad är skolskjuts?",
            "latest": local(clock.now() - timedelta(days=1)).date().isoformat(),
            "sources": ["decline"],
            "topics": [],
        },
    ]
    assert main(["kb", "misses"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["2", latest, "Får", "[namn]", "byta", "klass"]
    assert "(👎 på: samtycke)" in out[2]
    assert "gammal" not in "\n".join(out)
    assert out[-1].startswith("4 förslag.")
