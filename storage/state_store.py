"""JSON state documents with optimistic concurrency (e_tag) and optional expiry.

The semantics follow the Bot Framework `Storage` contract (read/write/delete by key; a write
that carries an e_tag other than "*" only succeeds if the stored document still has that e_tag),
so `bot.storage.SqlAlchemyStorage` can expose it to botbuilder unchanged — but this module knows
nothing of the SDK. Documents are stored as plain JSON, never as pickled class paths.

A document may carry "_expires_at" (ISO 8601, aware): it is kept in its own indexed column, the
document reads as absent once that time has passed, and `purge_expired` deletes it for good.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from common.clock import Clock
from storage.db import Database
from storage.models import StateDocument

EXPIRES_KEY = "_expires_at"
ETAG_KEY = "e_tag"
# An e_tag value meaning "this document must not exist yet": the write only inserts (a concurrent
# creator makes it a conflict). Real e_tags are hex uuids, so it cannot clash.
NEW_ETAG = "new"
MAX_KEY_LENGTH = 400


class StateConflictError(Exception):
    """The document changed (or vanished) since it was read: reload and try again."""

    def __init__(self, key: str) -> None:
        super().__init__(f"e_tag conflict for state key {key!r}")
        self.key = key


def _new_etag() -> str:
    return uuid.uuid4().hex


def _split(doc: Mapping[str, Any]) -> tuple[dict[str, Any], str | None, datetime | None]:
    data = {k: v for k, v in doc.items() if k not in (ETAG_KEY, EXPIRES_KEY)}
    etag = doc.get(ETAG_KEY)
    raw_exp = doc.get(EXPIRES_KEY)
    expires: datetime | None = None
    if raw_exp is not None:
        expires = datetime.fromisoformat(raw_exp) if isinstance(raw_exp, str) else raw_exp
        if not isinstance(expires, datetime) or expires.tzinfo is None:
            raise ValueError(f"{EXPIRES_KEY} must be an aware ISO 8601 datetime")
    try:
        json.dumps(data, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"state documents must be plain JSON: {exc}") from exc
    return data, (str(etag) if etag is not None else None), expires


class SqlStateStore:
    """Each operation is one short transaction (`Database.run_transaction`)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def read(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        now = self._clock.now()
        stmt = select(
            StateDocument.key, StateDocument.data, StateDocument.e_tag, StateDocument.expires_at
        ).where(StateDocument.key.in_(keys))

        def run(conn: Connection) -> dict[str, dict[str, Any]]:
            out: dict[str, dict[str, Any]] = {}
            for key, data, etag, expires in conn.execute(stmt).all():
                if expires is not None and expires <= now:
                    continue  # expired: absent (purge_expired removes it)
                doc = dict(data)
                doc[ETAG_KEY] = etag
                if expires is not None:
                    doc[EXPIRES_KEY] = expires.isoformat()
                out[key] = doc
            return out

        return await self._db.run_transaction(run)

    async def write(self, changes: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
        """Write documents atomically; return the new e_tag per key.

        Raises StateConflictError when a document's e_tag no longer matches (nothing is written).
        """
        if not changes:
            return {}
        now = self._clock.now()
        prepared: list[tuple[str, dict[str, Any], str | None, str]] = []
        for key, doc in changes.items():
            if not key or len(key) > MAX_KEY_LENGTH:
                raise ValueError(f"state key must be 1–{MAX_KEY_LENGTH} characters")
            data, etag, expires = _split(doc)
            new = _new_etag()
            values: dict[str, Any] = {
                "data": data, "e_tag": new, "updated_at": now, "expires_at": expires
            }
            prepared.append((key, values, etag, new))

        def run(conn: Connection) -> None:
            for key, values, etag, _new in prepared:
                if etag == NEW_ETAG:
                    conn.execute(insert(StateDocument).values(key=key, **values))
                elif etag and etag != "*":
                    res = conn.execute(
                        update(StateDocument)
                        .where(StateDocument.key == key, StateDocument.e_tag == etag)
                        .values(**values)
                    )
                    if res.rowcount != 1:
                        raise StateConflictError(key)
                else:
                    res = conn.execute(
                        update(StateDocument).where(StateDocument.key == key).values(**values)
                    )
                    if res.rowcount != 1:
                        conn.execute(insert(StateDocument).values(key=key, **values))

        try:
            await self._db.run_transaction(run)
        except IntegrityError as exc:
            # Two writers inserted the same new key at once: the loser re-reads and retries.
            raise StateConflictError(next(iter(changes))) from exc
        return {key: new for key, _v, _e, new in prepared}

    async def insert_new(self, key: str, doc: Mapping[str, Any]) -> str:
        """Create a document that must not exist yet (StateConflictError if it does)."""
        return (await self.write({key: {**doc, ETAG_KEY: NEW_ETAG}}))[key]

    async def delete(self, keys: Iterable[str], *, e_tags: Mapping[str, str] | None = None) -> None:
        """Delete documents. With `e_tags`, only if unchanged (else StateConflictError)."""
        keys = list(keys)
        if not keys:
            return

        def run(conn: Connection) -> int:
            removed = 0
            for key in keys:
                etag = (e_tags or {}).get(key)
                stmt = delete(StateDocument).where(StateDocument.key == key)
                if etag and etag != "*":
                    res = conn.execute(stmt.where(StateDocument.e_tag == etag))
                    if res.rowcount != 1:
                        # Already gone is fine only if nobody re-created it meanwhile.
                        exists = conn.scalar(
                            select(StateDocument.key).where(StateDocument.key == key)
                        )
                        if exists is not None:
                            raise StateConflictError(key)
                    removed += int(res.rowcount or 0)
                else:
                    removed += int(conn.execute(stmt).rowcount or 0)
            return removed

        if await self._db.run_transaction(run) and not self._db.is_postgres:
            # SQLite: the deleted document's old versions leave the write-ahead log now.
            # (PostgreSQL: vacuumed on the purge schedule, see purge_expired.)
            await self._db.forget_deleted(StateDocument.__tablename__)

    async def probe_write(self) -> None:
        """Write and delete a small document (the health check's proof that writes work)."""
        key = f"health/{uuid.uuid4().hex}"
        await self.write({key: {"ok": True, ETAG_KEY: NEW_ETAG}})

        def run(conn: Connection) -> None:
            conn.execute(delete(StateDocument).where(StateDocument.key == key))

        await self._db.run_transaction(run)

    async def purge_expired(self) -> int:
        """Delete every document whose expiry has passed; return how many. Then the deleted
        content is scrubbed from disk (Database.forget_deleted: a WAL checkpoint on SQLite, a
        VACUUM of the state table on PostgreSQL), also for documents deleted since the last
        purge."""
        now = self._clock.now()

        def run(conn: Connection) -> int:
            res = conn.execute(
                delete(StateDocument).where(
                    StateDocument.expires_at.is_not(None), StateDocument.expires_at <= now
                )
            )
            return int(res.rowcount or 0)

        removed = await self._db.run_transaction(run)
        await self._db.forget_deleted(StateDocument.__tablename__)
        return removed
