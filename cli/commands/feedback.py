"""`samverkan kb feedback`: the thumbs up/down counts per topic, to find weak answers."""

from __future__ import annotations

import argparse
import asyncio
import json

from cli import texts
from common.clock import SystemClock, local
from knowledge.loader import load
from samverkan.settings import Settings
from storage.db import Database
from storage.feedback import FeedbackStore


async def _rows(settings: Settings) -> list[dict[str, object]]:
    db = Database(settings.database_url)
    try:
        await db.migrate()
        votes = await FeedbackStore(db).all()
    finally:
        await db.dispose()
    titles = {
        t.id: t.title
        for t in load(settings.kb_dir).topics_on(local(SystemClock().now()).date()).values()
    }
    return [
        {"topic": v.topic_id, "title": titles.get(v.topic_id, ""), "up": v.up, "down": v.down}
        for v in votes
    ]


def show(args: argparse.Namespace) -> int:
    rows = asyncio.run(_rows(Settings()))
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    if not rows:
        print(texts().text("feedback.none"))
        return 0
    print(f"{'👎':>4} {'👍':>4}  {texts().text('feedback.topic')}")
    for row in rows:
        print(f"{row['down']:>4} {row['up']:>4}  {row['topic']} – {row['title']}")
    return 0
