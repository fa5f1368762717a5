import pytest
from sqlalchemy import inspect

from storage.db import Database, DatabaseUrlError, normalize_url


async def test_migrations_create_core_tables(database: Database) -> None:
    async with database.engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"bot_state", "conversation_refs", "feedback_counts", "alembic_version"} <= names


async def test_migrate_twice_is_harmless(database: Database) -> None:
    await database.migrate()
    assert await database.ping()


def test_url_normalisation() -> None:
    assert normalize_url("sqlite:///x.db").startswith("sqlite+aiosqlite:///")
    assert normalize_url("postgresql://u:p@h/db").startswith("postgresql+asyncpg://")
    with pytest.raises(DatabaseUrlError):
        normalize_url("mysql://u@h/db")
