"""Alembic environment: migrations always run on a connection handed over by storage.db.

The versions are explicit; applying them needs no table definitions. Autogenerating a new one
does: `samverkan.schema.metadata` (every feature's tables) is handed over as the config
attribute "metadata" (storage imports no feature package).
"""

from __future__ import annotations

from alembic import context

target_metadata = context.config.attributes.get("metadata")


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
