"""Conversation references for proactive messages, kept up to date on every inbound activity."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from common.clock import Clock
from storage.db import Database
from storage.models import ConversationReference


@dataclass(frozen=True)
class RefInfo:
    """What is known about a conversation besides the raw reference (all plain strings)."""

    channel_id: str
    conversation_id: str
    conversation_type: str
    service_url: str
    user_id: str | None = None
    tenant_id: str | None = None
    team_id: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class StoredRef:
    id: int
    info: RefInfo
    reference: dict[str, Any]


def _fingerprint(info: RefInfo, reference: dict[str, Any]) -> str:
    blob = json.dumps([info.__dict__, reference], sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


class ConversationStore:
    """Upserts references; skips the database when nothing changed since this process saw it."""

    def __init__(self, db: Database, clock: Clock, *, cache_size: int = 50_000) -> None:
        self._db = db
        self._clock = clock
        self._seen: dict[tuple[str, str], str] = {}
        self._cache_size = cache_size

    def is_current(self, channel_id: str, conversation_id: str, fingerprint: str) -> bool:
        """True when this process already stored the reference with this fingerprint."""
        return self._seen.get((channel_id, conversation_id)) == fingerprint

    async def remember(
        self, info: RefInfo, reference: dict[str, Any], *, fingerprint: str | None = None
    ) -> None:
        key = (info.channel_id, info.conversation_id)
        fp = fingerprint or _fingerprint(info, reference)
        if self._seen.get(key) == fp:
            return
        values = {
            "conversation_type": info.conversation_type,
            "user_id": info.user_id,
            "tenant_id": info.tenant_id,
            "team_id": info.team_id,
            "display_name": info.display_name,
            "service_url": info.service_url,
            "reference": reference,
            "updated_at": self._clock.now(),
        }
        where = (
            ConversationReference.channel_id == info.channel_id,
            ConversationReference.conversation_id == info.conversation_id,
        )
        for _ in range(2):
            try:
                async with self._db.transaction() as s:
                    res = await s.execute(
                        update(ConversationReference).where(*where).values(**values)
                    )
                    if res.rowcount == 0:  # type: ignore[attr-defined]
                        s.add(
                            ConversationReference(
                                channel_id=info.channel_id,
                                conversation_id=info.conversation_id,
                                **values,
                            )
                        )
                break
            except IntegrityError:
                continue  # a concurrent first insert won; update it on the second pass
        if len(self._seen) >= self._cache_size:
            self._seen.clear()
        self._seen[key] = fp

    async def forget(self, channel_id: str, conversation_id: str) -> int:
        self._seen.pop((channel_id, conversation_id), None)
        async with self._db.transaction() as s:
            res = await s.execute(
                delete(ConversationReference).where(
                    ConversationReference.channel_id == channel_id,
                    ConversationReference.conversation_id == conversation_id,
                )
            )
            return int(res.rowcount or 0)  # type: ignore[attr-defined]

    async def forget_id(self, ref_id: int) -> None:
        async with self._db.transaction() as s:
            row = await s.get(ConversationReference, ref_id)
            if row is not None:
                self._seen.pop((row.channel_id, row.conversation_id), None)
                await s.delete(row)

    @staticmethod
    def _to_stored(row: ConversationReference) -> StoredRef:
        return StoredRef(
            id=row.id,
            info=RefInfo(
                channel_id=row.channel_id,
                conversation_id=row.conversation_id,
                conversation_type=row.conversation_type,
                service_url=row.service_url,
                user_id=row.user_id,
                tenant_id=row.tenant_id,
                team_id=row.team_id,
                display_name=row.display_name,
            ),
            reference=dict(row.reference),
        )

    async def get(self, channel_id: str, conversation_id: str) -> StoredRef | None:
        async with self._db.session() as s:
            row = await s.scalar(
                select(ConversationReference).where(
                    ConversationReference.channel_id == channel_id,
                    ConversationReference.conversation_id == conversation_id,
                )
            )
            return self._to_stored(row) if row is not None else None

    async def get_by_id(self, ref_id: int) -> StoredRef | None:
        async with self._db.session() as s:
            row = await s.get(ConversationReference, ref_id)
            return self._to_stored(row) if row is not None else None

    async def personal_for_user(self, channel_id: str, user_id: str) -> StoredRef | None:
        """The user's personal (1:1) conversation with the bot, if the user has one."""
        async with self._db.session() as s:
            row = await s.scalar(
                select(ConversationReference)
                .where(
                    ConversationReference.channel_id == channel_id,
                    ConversationReference.user_id == user_id,
                    ConversationReference.conversation_type == "personal",
                )
                .order_by(ConversationReference.updated_at.desc())
                .limit(1)
            )
            return self._to_stored(row) if row is not None else None
