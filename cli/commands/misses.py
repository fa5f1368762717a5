"""`samverkan kb misses`: the questions users suggested for the knowledge base (the learning
loop), masked, from the last 90 days, grouped: how many times, the text, when last. For the
editors: each line is a question the knowledge base did not answer well enough."""

from __future__ import annotations

import argparse
import asyncio
import json

from cli import texts
from common.clock import SystemClock, local
from samverkan.settings import Settings
from storage.db import Database
from storage.suggestions import SuggestionGroup, SuggestionStore


async def _groups(settings: Settings) -> list[SuggestionGroup]:
    db = Database(settings.database_url)
    try:
        await db.migrate()
        return await SuggestionStore(db, SystemClock(), mask=None).groups()
    finally:
        await db.dispose()


def show(args: argparse.Namespace) -> int:
    groups = asyncio.run(_groups(Settings()))
    if args.json:
        for g in groups:
            row = {
                "count": g.count,
                "text": g.text,
                "latest": local(g.latest).date().isoformat(),
                "sources": list(g.sources),
                "topics": list(g.topics),
            }
            print(json.dumps(row, ensure_ascii=False))
        return 0
    if not groups:
        print(texts().text("misses.none"))
        return 0
    print(texts().text("misses.header"))
    for g in groups:
        line = f"{g.count:>5}  {local(g.latest).date().isoformat()}  {g.text}"
        if g.topics:
            line += "  " + texts().text("misses.topics", topics=", ".join(g.topics))
        print(line)
    print(texts().text("misses.footer", total=sum(g.count for g in groups)))
    return 0
