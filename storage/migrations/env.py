"""Alembic environment: migrations always run on a connection handed over by storage.db."""

from __future__ import annotations

from alembic import context

from storage.schema import metadata

target_metadata = metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "Run migrations through `samverkan db upgrade` (storage.db.Database.migrate)."
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
