"""`samverkan db upgrade`: bring the database schema to the newest revision.

The server migrates at start as well; this is for deployments that migrate in a separate step
(before rolling out new instances). Creates a new SQLite file when there is none (but refuses,
like `serve`, when a file this bot has used is gone). Exit 0 with the revisions on stdout; exit 1
with a Swedish message on stderr when the database cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from sqlalchemy.exc import SQLAlchemyError

from cli import texts
from samverkan.settings import Settings
from storage.db import Database, DatabaseUrlError


async def _upgrade(url: str) -> list[str]:
    db = Database(url)
    try:
        await db.migrate()
        return sorted(await db.revisions())
    finally:
        await db.dispose()


def upgrade(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        revisions = asyncio.run(_upgrade(settings.database_url))
    except (DatabaseUrlError, OSError, SQLAlchemyError) as exc:
        print(texts().text("db.error", problem=exc), file=sys.stderr)
        return 1
    print(texts().text("db.upgraded", revisions=", ".join(revisions)))
    return 0
