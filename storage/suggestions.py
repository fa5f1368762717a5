"""Questions users chose to suggest for the knowledge base (the learning loop), masked, kept at
most 90 days.

A row is written only when a user presses "Föreslå frågan till kunskapsbasen" under a decline or
a 👎. Every text passes through the masker given to the store (dialogs.masking.Masker.mask:
personnummer, names, phone numbers and e-mail addresses replaced) before it reaches the
database; nothing says who suggested it. Rows older than `RETENTION` are deleted by the purge
loop (`purge_expired`, every five minutes) and are never listed even before that.
`samverkan kb misses` lists them grouped by the folded text: count, text, latest date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Integer, String, delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from common.clock import Clock
from common.text import fold_words
from storage.base import Base, UtcDateTime
from storage.db import Database

RETENTION = timedelta(days=90)
# Longest stored text (masking can make a text longer: "Al" → "[namn]"); the router refuses
# questions longer than its own, smaller limit before masking.
MAX_TEXT = 1000
MAX_KEY = 400
# The same question again this soon is the same press twice (a double click, a retried turn):
# counted once.
DOUBLE_PRESS = timedelta(seconds=10)

Source = Literal["decline", "feedback"]
SOURCES: tuple[Source, ...] = ("decline", "feedback")


class KbSuggestion(Base):
    """One suggested question, masked; no user, no conversation."""

    __tablename__ = "kb_suggestions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The masked text as the user wrote it, and its folded form that groups equal questions.
    text: Mapped[str] = mapped_column(String(MAX_TEXT), nullable=False)
    group_key: Mapped[str] = mapped_column(String(MAX_KEY), nullable=False, index=True)
    # Where the button was: under a decline, or under the reply to 👎 on `topic_id`'s answer.
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    topic_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)


@dataclass(frozen=True)
class SuggestionGroup:
    """Equal questions (same folded text): how many, the newest wording, when last."""

    text: str
    count: int
    latest: datetime
    sources: tuple[str, ...]
    topics: tuple[str, ...]  # the topics whose answers got 👎 with this question


class SuggestionStore:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        mask: Callable[[str], str] | None,
        retention: timedelta = RETENTION,
    ) -> None:
        """`mask` is applied to every text before it is stored; a store without one (the
        listing command) can read and purge but not add."""
        self._db = db
        self._clock = clock
        self._mask = mask
        self.retention = retention

    async def add(self, text: str, *, source: Source, topic_id: str | None = None) -> str:
        """Mask `text` and store it; return the masked text (what the user is shown). The same
        question within DOUBLE_PRESS of the last one is not stored again."""
        if self._mask is None:
            raise RuntimeError("this SuggestionStore has no masker and cannot store text")
        if source not in SOURCES:
            raise ValueError("source must be 'decline' or 'feedback'")
        masked = self._mask(text)[:MAX_TEXT]
        key = fold_words(masked)[:MAX_KEY]
        if not key:
            raise ValueError("nothing left to store")
        now = self._clock.now()
        row = {
            "text": masked,
            "group_key": key,
            "source": source,
            "topic_id": topic_id[:100] if topic_id else None,
            "created_at": now,
        }

        def run(conn: Connection) -> None:
            t = KbSuggestion
            recent = conn.execute(
                select(t.id).where(t.group_key == key, t.created_at > now - DOUBLE_PRESS).limit(1)
            ).first()
            if recent is None:
                conn.execute(insert(KbSuggestion).values(**row))

        await self._db.run_transaction(run)
        return masked

    async def groups(self) -> list[SuggestionGroup]:
        """The suggestions of the last `retention`, grouped: most often suggested first, then
        the most recent."""
        since = self._clock.now() - self.retention
        t = KbSuggestion
        async with self._db.session() as s:
            rows = (
                await s.execute(
                    select(t.group_key, t.text, t.source, t.topic_id, t.created_at)
                    .where(t.created_at > since)
                    .order_by(t.created_at, t.id)
                )
            ).all()
        grouped: dict[str, list[tuple[str, str, str | None, datetime]]] = {}
        for key, text, source, topic, at in rows:
            grouped.setdefault(key, []).append((text, source, topic, at))
        out = [
            SuggestionGroup(
                text=items[-1][0],
                count=len(items),
                latest=items[-1][3],
                sources=tuple(sorted({i[1] for i in items})),
                topics=tuple(sorted({i[2] for i in items if i[2]})),
            )
            for items in grouped.values()
        ]
        return sorted(out, key=lambda g: (-g.count, -g.latest.timestamp(), g.text))

    async def count(self) -> int:
        """Every stored row, expired or not (for tests and checks)."""
        async with self._db.session() as s:
            return int(await s.scalar(select(func.count()).select_from(KbSuggestion)) or 0)

    async def purge_expired(self) -> int:
        """Delete what is older than the retention; return how many. The deleted text is then
        scrubbed from disk like deleted dialogs (Database.forget_deleted)."""
        cutoff = self._clock.now() - self.retention

        def run(conn: Connection) -> int:
            res = conn.execute(delete(KbSuggestion).where(KbSuggestion.created_at <= cutoff))
            return int(res.rowcount or 0)

        removed = await self._db.run_transaction(run)
        if removed:
            await self._db.forget_deleted(KbSuggestion.__tablename__)
        return removed
