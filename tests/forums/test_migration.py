"""Migration 0003_forums creates exactly the tables the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from samverkan.schema import metadata
from storage.db import Database

TABLES = {"forums", "forum_subscriptions", "forum_deliveries"}


def _ours(diff: object) -> bool:
    """Whether one autogenerate difference concerns a forum table."""
    text = repr(diff)
    return any(f"'{t}'" in text or f"Table('{t}'" in text for t in TABLES)


async def test_migration_matches_the_models(database: Database) -> None:
    async with database.engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert names >= TABLES
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), metadata
            )
        )
        uniques = await conn.run_sync(
            lambda c: inspect(c).get_unique_constraints("forum_deliveries")
        )
    assert [d for d in diff if _ours(d)] == []
    assert any(
        u["column_names"] == ["subscription_id", "occurrence_start", "reminder_offset"]
        for u in uniques
    )
