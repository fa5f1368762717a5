"""👍/👎 on answers, stored as counts per knowledge-base topic: never message text, never users.

One row per topic in `feedback_counts` (storage.models.FeedbackCount). A vote is an atomic
upsert (`INSERT … ON CONFLICT DO UPDATE SET up = up + 1`), so concurrent votes on two server
instances are all counted. A user who changes their mind moves one vote from one column to the
other (`previous`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import Database
from storage.models import FeedbackCount

Vote = Literal["up", "down"]
VOTES: tuple[Vote, ...] = ("up", "down")


@dataclass(frozen=True)
class TopicFeedback:
    topic_id: str
    up: int
    down: int
    updated_at: datetime


class FeedbackStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, topic_id: str, vote: Vote, *, at: datetime, previous: Vote | None = None
    ) -> None:
        """Count one vote for a topic; with `previous`, take that earlier vote back."""
        if vote not in VOTES or (previous is not None and previous not in VOTES):
            raise ValueError("vote must be 'up' or 'down'")
        if previous == vote:
            return
        du = (1 if vote == "up" else 0) - (1 if previous == "up" else 0)
        dd = (1 if vote == "down" else 0) - (1 if previous == "down" else 0)
        insert: Any = pg_insert if self._db.is_postgres else sqlite_insert
        table = FeedbackCount.__table__
        stmt = insert(table).values(
            topic_id=topic_id, up=max(du, 0), down=max(dd, 0), updated_at=at
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.topic_id],
            set_={
                "up": table.c.up + du,
                "down": table.c.down + dd,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        async with self._db.transaction() as s:
            await s.execute(stmt)

    async def get(self, topic_id: str) -> TopicFeedback | None:
        async with self._db.session() as s:
            row = await s.get(FeedbackCount, topic_id)
            return _to(row) if row is not None else None

    async def all(self) -> list[TopicFeedback]:
        """Every topic with votes, most thumbs-down first (to find weak answers)."""
        async with self._db.session() as s:
            rows = (await s.scalars(select(FeedbackCount))).all()
        return sorted((_to(r) for r in rows), key=lambda f: (-f.down, f.up, f.topic_id))


def _to(row: FeedbackCount) -> TopicFeedback:
    return TopicFeedback(row.topic_id, max(row.up, 0), max(row.down, 0), row.updated_at)
