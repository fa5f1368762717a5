"""Logging set-up: our own logs never contain message text; libraries that would are capped.

At DEBUG level, aiosqlite and SQLAlchemy log SQL parameters, and msrest logs HTTP bodies: all of
them may contain what a user wrote about a child. They are held at WARNING whatever the level.
"""

from __future__ import annotations

import logging

# Loggers that print parameters or bodies at INFO/DEBUG.
CONTENT_LOGGERS = (
    "aiosqlite",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "asyncpg",
    "msrest",
    "urllib3",
    "botbuilder",
    "botframework",
)


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in CONTENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
