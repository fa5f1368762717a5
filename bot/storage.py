"""A botbuilder `Storage` on our SQLAlchemy state store (plain JSON, e_tag concurrency)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botbuilder.core import Storage

from storage.state_store import ETAG_KEY, SqlStateStore


def _as_document(item: Any) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    # A StoreItem-like object: its public attributes, e_tag included. Anything that is not plain
    # JSON is refused by the store (we never pickle class paths).
    doc = {k: v for k, v in vars(item).items() if not k.startswith("_")}
    if getattr(item, "e_tag", None) is not None:
        doc[ETAG_KEY] = item.e_tag
    return doc


class SqlAlchemyStorage(Storage):
    """Bot Framework storage contract: read → dict of found keys; write honours e_tag unless '*'."""

    def __init__(self, store: SqlStateStore) -> None:
        self._store = store

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            raise ValueError("Storage.read: keys are required")
        return await self._store.read(keys)

    async def write(self, changes: dict[str, Any]) -> dict[str, str]:
        """As the contract says; also returns the new e_tag per key (the turn processor needs
        them to undo a turn whose replies could not be delivered)."""
        if changes is None:
            raise ValueError("Storage.write: changes are required")
        return await self._store.write({k: _as_document(v) for k, v in changes.items()})

    async def delete(self, keys: list[str], *, e_tags: Mapping[str, str] | None = None) -> None:
        await self._store.delete(keys, e_tags=e_tags)
