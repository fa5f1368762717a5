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
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from common.clock import Clock
from dialogs.types import Incoming, Reply, TurnState
from storage.state_store import ETAG_KEY, EXPIRES_KEY, NEW_ETAG, StateConflictError

log = logging.getLogger(__name__)


class StateStorage(Protocol):
    async def read(self, keys: list[str]) -> dict[str, Any]: ...

    async def write(self, changes: dict[str, Any]) -> Any: ...

    async def delete(self, keys: list[str], *, e_tags: Mapping[str, str] | None = None) -> None: ...


Deliver = Callable[[list[Reply]], Awaitable[None]]


class TurnBusyError(StateConflictError):
    """So many turns of one user at once that this one could not be saved: nothing was changed,
    and the user may simply try again (the dialog is kept)."""


class Router(Protocol):
    async def welcome(self, inc: Incoming, state: TurnState) -> list[Reply]: ...

    async def handle(self, inc: Incoming, state: TurnState) -> list[Reply]: ...


def _key_part(value: str) -> str:
    # Keys are opaque ids from the channel; keep them readable but bounded. A longer id keeps
    # its beginning and a hash of the whole, so two ids that share a long prefix never share
    # state.
    part = value.replace("/", "%2F")
    if len(part) <= 120:
        return part
    return part[:80] + "~" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


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
        # Dialogs that an error should have deleted while the database was failing.
        self._to_delete: set[str] = set()

    async def message(self, inc: Incoming, deliver: Deliver | None = None) -> list[Reply]:
        """Run one message turn. With `deliver`, the replies are delivered once the state is
        saved; if delivering fails, the state goes back to what it was before the turn (the
        user can simply go on or try again) and the error is raised."""
        return await self._run(inc, self._router.handle, deliver)

    async def welcome(self, inc: Incoming, deliver: Deliver | None = None) -> list[Reply]:
        return await self._run(inc, self._router.welcome, deliver)

    async def _run(
        self,
        inc: Incoming,
        step: Callable[[Incoming, TurnState], Awaitable[list[Reply]]],
        deliver: Deliver | None = None,
    ) -> list[Reply]:
        dkey, ukey = dialog_key(inc), user_key(inc)
        await self._retry_deletion(dkey)
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
            written: dict[str, str] = {}
            try:
                if changes:
                    written = dict(await self._store.write(changes) or {})
                if not state.dialog and ddoc:
                    await self._store.delete([dkey], e_tags={dkey: ddoc[ETAG_KEY]})
            except StateConflictError:
                log.info("state conflict, retrying turn (attempt %d)", attempt)
                # Jitter: concurrent turns of one user spread out instead of colliding again.
                await asyncio.sleep(random.uniform(0, 0.005 * attempt))
                continue
            if deliver is not None:
                try:
                    await deliver(replies)
                except Exception:
                    await self._undo({dkey: ddoc, ukey: udoc}, written)
                    raise
            # Side effects once the user has the replies (a vote counts when "Tack" arrived).
            for effect in state.effects:
                await effect()
            return replies
        raise TurnBusyError(dkey)

    async def _undo(
        self, before: Mapping[str, Mapping[str, Any] | None], written: Mapping[str, str]
    ) -> None:
        """Put the documents back as they were before a turn whose replies never arrived – but
        only those nobody has changed since (a later turn's state is never overwritten)."""
        for key, old in before.items():
            try:
                if key in written:  # changed (or created) by the turn: restore if untouched
                    if old:
                        doc = {**_strip(old), ETAG_KEY: written[key]}
                        if EXPIRES_KEY in old:
                            doc[EXPIRES_KEY] = old[EXPIRES_KEY]
                        await self._store.write({key: doc})
                    else:
                        await self._store.delete([key], e_tags={key: written[key]})
                elif old and key.startswith("dialog/"):  # deleted by the turn: bring it back
                    restored = {**_strip(old), ETAG_KEY: NEW_ETAG}
                    if EXPIRES_KEY in old:
                        restored[EXPIRES_KEY] = old[EXPIRES_KEY]
                    await self._store.write({key: restored})
            except StateConflictError:
                log.info("state changed again since the failed turn; left as it is")
            except Exception as exc:
                log.warning("could not restore state after a failed reply: %s", type(exc).__name__)

    async def clear_dialog(self, inc: Incoming) -> bool:
        """Forget the user's dialog in this conversation (used after an unexpected error).
        True when it is gone; when the database fails, False, and the deletion is tried again
        before this user's next turn (and by `retry_deletions`)."""
        key = dialog_key(inc)
        try:
            await self._store.delete([key])
        except Exception as exc:
            log.warning("could not delete the dialog after an error: %s", type(exc).__name__)
            self._to_delete.add(key)
            return False
        self._to_delete.discard(key)
        return True

    async def _retry_deletion(self, key: str) -> None:
        if key in self._to_delete:
            await self._store.delete([key])  # raises while the database is still down
            self._to_delete.discard(key)

    async def retry_deletions(self) -> int:
        """Delete the dialogs that could not be deleted after an error (the purge loop calls
        this); returns how many are still waiting."""
        for key in list(self._to_delete):
            try:
                await self._store.delete([key])
            except Exception:
                break
            self._to_delete.discard(key)
        return len(self._to_delete)

    async def forget_conversation(
        self,
        channel_id: str,
        conversation_id: str,
        user_ids: Iterable[str],
        *,
        personal: bool = False,
    ) -> None:
        """On uninstall: drop every dialog document of this conversation we know users for;
        in a personal chat also the user's profile (the bot is gone for that user)."""
        users = list(user_ids)
        keys = [
            dialog_key(Incoming(user_id=u, conversation_id=conversation_id, channel_id=channel_id))
            for u in users
        ]
        keys.append(conversation_key(channel_id, conversation_id))
        if personal:
            keys.extend(
                user_key(Incoming(user_id=u, conversation_id="", channel_id=channel_id))
                for u in users
            )
        await self._store.delete(keys)
