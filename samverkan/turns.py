"""One user turn around the router: load state, run, save with e_tag concurrency, return replies.

Replies are returned only after the state has been saved, so a turn that loses an e_tag race is
simply run again on the fresh state (after a short random pause, so that many presses at once
spread out) and nothing is sent twice; the turn's side effects (TurnState.effects) run once,
after the save. State that did not change is not written. The dialog document (the only place
a user's words about a child are kept) gets an expiry on every change and is deleted as soon as
the dialog empties it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from dialogs.types import Incoming, Reply, TurnState
from samverkan.clock import Clock
from storage.state_store import ETAG_KEY, EXPIRES_KEY, NEW_ETAG, StateConflictError

log = logging.getLogger(__name__)


class StateStorage(Protocol):
    async def read(self, keys: list[str]) -> dict[str, Any]: ...

    async def write(self, changes: dict[str, Any]) -> Any: ...

    async def delete(self, keys: list[str], *, e_tags: Mapping[str, str] | None = None) -> None: ...


class Router(Protocol):
    async def welcome(self, inc: Incoming, state: TurnState) -> list[Reply]: ...

    async def handle(self, inc: Incoming, state: TurnState) -> list[Reply]: ...


def _key_part(value: str) -> str:
    # Keys are opaque ids from the channel; keep them readable but bounded.
    return value.replace("/", "%2F")[:120]


def dialog_key(inc: Incoming) -> str:
    parts = (inc.channel_id, inc.conversation_id, inc.user_id)
    return "dialog/" + "/".join(_key_part(p) for p in parts)


def user_key(inc: Incoming) -> str:
    return f"user/{_key_part(inc.channel_id)}/{_key_part(inc.user_id)}"


def conversation_key(channel_id: str, conversation_id: str) -> str:
    return f"conv/{_key_part(channel_id)}/{_key_part(conversation_id)}"


def _strip(doc: Mapping[str, Any] | None) -> dict[str, Any]:
    if not doc:
        return {}
    return {k: v for k, v in doc.items() if k not in (ETAG_KEY, EXPIRES_KEY)}


class TurnProcessor:
    def __init__(
        self,
        store: StateStorage,
        router: Router,
        clock: Clock,
        *,
        dialog_ttl: timedelta = timedelta(hours=24),
        max_attempts: int = 12,
    ) -> None:
        self._store = store
        self._router = router
        self._clock = clock
        self._ttl = dialog_ttl
        self._max_attempts = max_attempts

    async def message(self, inc: Incoming) -> list[Reply]:
        return await self._run(inc, self._router.handle)

    async def welcome(self, inc: Incoming) -> list[Reply]:
        return await self._run(inc, self._router.welcome)

    async def _run(
        self, inc: Incoming, step: Callable[[Incoming, TurnState], Awaitable[list[Reply]]]
    ) -> list[Reply]:
        dkey, ukey = dialog_key(inc), user_key(inc)
        for attempt in range(1, self._max_attempts + 1):
            docs = await self._store.read([dkey, ukey])
            ddoc, udoc = docs.get(dkey), docs.get(ukey)
            dialog, user = _strip(ddoc), _strip(udoc)
            state = TurnState(
                now=self._clock.now(), dialog=copy.deepcopy(dialog), user=copy.deepcopy(user)
            )
            replies = await step(inc, state)
            changes: dict[str, Any] = {}
            if state.dialog != dialog and state.dialog:
                changes[dkey] = {
                    **state.dialog,
                    ETAG_KEY: ddoc[ETAG_KEY] if ddoc else NEW_ETAG,
                    EXPIRES_KEY: (state.now + self._ttl).isoformat(),
                }
            if state.user != user:
                changes[ukey] = {**state.user, ETAG_KEY: udoc[ETAG_KEY] if udoc else NEW_ETAG}
            try:
                if changes:
                    await self._store.write(changes)
                if not state.dialog and ddoc:
                    await self._store.delete([dkey], e_tags={dkey: ddoc[ETAG_KEY]})
            except StateConflictError:
                log.info("state conflict, retrying turn (attempt %d)", attempt)
                # Jitter: concurrent turns of one user spread out instead of colliding again.
                await asyncio.sleep(random.uniform(0, 0.005 * attempt))
                continue
            for effect in state.effects:
                await effect()
            return replies
        raise StateConflictError(dkey)

    async def clear_dialog(self, inc: Incoming) -> None:
        """Forget the user's dialog in this conversation (used after an unexpected error)."""
        await self._store.delete([dialog_key(inc)])

    async def forget_conversation(
        self, channel_id: str, conversation_id: str, user_ids: Iterable[str]
    ) -> None:
        """On uninstall: drop every dialog document of this conversation we know users for."""
        keys = [
            dialog_key(Incoming(user_id=u, conversation_id=conversation_id, channel_id=channel_id))
            for u in user_ids
        ]
        keys.append(conversation_key(channel_id, conversation_id))
        await self._store.delete(keys)
