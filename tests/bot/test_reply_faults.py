"""Issue 13 B and H: a failing reply never costs the user the dialog, and the error message
tells the truth.

- One 429/502 from the Bot Connector on a reply: the reply is tried again and arrives; the
  dialog goes on.
- A reply that keeps failing: the turn's state is put back as it was before the turn (the
  dialog is kept), and the user can simply go on.
- After a crash the dialog is deleted for safety; if the database cannot delete it, the user is
  not told it was deleted, and it is deleted before the user's next turn once the database
  answers again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from common.clock import FixedClock
from dialogs import cards as c
from dialogs.types import Incoming, Reply, TurnState
from samverkan.turns import TurnProcessor, dialog_key
from tests.bot.conftest import BotHarness
from tests.fakes import teams


async def _dialog(harness: BotHarness, conv: str, user: str) -> dict[str, Any] | None:
    docs = await harness.services.store.read([f"dialog/msteams/{conv}/{user}"])
    return docs.get(f"dialog/msteams/{conv}/{user}")


def _answer(node: str, choice: str) -> dict[str, Any]:
    return {"action": c.FLOW_ANSWER, "flow": "concern", "node": node, "choice": choice}


async def test_one_failed_reply_is_retried_and_the_dialog_goes_on(
    real_harness: BotHarness,
) -> None:
    url, fc = real_harness.connector.url, real_harness.connector
    start = {"action": c.FLOW_START, "flow": "concern"}
    assert (await real_harness.post(teams.press(url, "c-r1", "u1", start))).status == 200
    fc.clear()
    fc.failures.extend([(429, 0.05)])
    r = await real_harness.post(teams.press(url, "c-r1", "u1", _answer("acute", "no")))
    assert r.status == 200
    assert any("Vad gäller oron?" in str(s.activity) for s in fc.sent)
    dialog = await _dialog(real_harness, "c-r1", "u1")
    assert dialog is not None and dialog["node"] == "about"


async def test_a_reply_that_keeps_failing_leaves_the_dialog_as_it_was(
    real_harness: BotHarness,
) -> None:
    url, fc = real_harness.connector.url, real_harness.connector
    start = {"action": c.FLOW_START, "flow": "concern"}
    await real_harness.post(teams.press(url, "c-r2", "u1", start))
    await real_harness.post(teams.press(url, "c-r2", "u1", _answer("acute", "no")))
    before = await _dialog(real_harness, "c-r2", "u1")
    assert before is not None and before["node"] == "about"
    fc.clear()
    fc.failures.extend([(502, None)] * 4)  # every attempt of the reply fails
    r = await real_harness.post(teams.press(url, "c-r2", "u1", _answer("about", "neglect")))
    assert r.status == 200
    after = await _dialog(real_harness, "c-r2", "u1")
    assert after is not None
    strip = {"e_tag", "updated_at"}
    assert {k: v for k, v in after.items() if k not in strip} == {
        k: v for k, v in before.items() if k not in strip
    }
    texts = [s.activity.get("text") or "" for s in fc.sent]
    assert any("Inget har ändrats i din dialog" in t for t in texts)
    assert not any("raderat" in t for t in texts)
    # The user simply goes on: the same answer works now.
    fc.clear()
    await real_harness.post(teams.press(url, "c-r2", "u1", _answer("about", "neglect")))
    assert any("Finns det också oro" in str(s.activity) for s in fc.sent)


class _Store:
    """A state store whose database can be switched off."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.down = False

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if self.down:
            raise ConnectionError("database down")
        return {k: dict(self.docs[k]) for k in keys if k in self.docs}

    async def write(self, changes: dict[str, Any]) -> dict[str, str]:
        if self.down:
            raise ConnectionError("database down")
        out = {}
        for k, v in changes.items():
            etag = f"e{len(self.docs)}-{k}"
            self.docs[k] = {**{x: y for x, y in v.items() if x != "e_tag"}, "e_tag": etag}
            out[k] = etag
        return out

    async def delete(self, keys: list[str], *, e_tags: Any = None) -> None:
        if self.down:
            raise ConnectionError("database down")
        for k in keys:
            self.docs.pop(k, None)


class _Router:
    async def welcome(self, inc: Incoming, state: TurnState) -> list[Reply]:
        return []

    async def handle(self, inc: Incoming, state: TurnState) -> list[Reply]:
        state.dialog.setdefault("v", 1)
        state.dialog["said"] = inc.text
        return [Reply(text="ok")]


async def test_a_dialog_that_could_not_be_deleted_is_deleted_when_the_database_is_back() -> None:
    store = _Store()
    turns = TurnProcessor(store, _Router(), FixedClock(datetime(2026, 12, 7, tzinfo=UTC)))
    inc = Incoming(user_id="u", conversation_id="c", channel_id="t", text="hemligt")
    await turns.message(inc)
    assert dialog_key(inc) in store.docs
    store.down = True
    assert await turns.clear_dialog(inc) is False  # the error message must not say "raderat"
    store.down = False
    assert await turns.retry_deletions() == 0
    assert dialog_key(inc) not in store.docs
    # Or, if the user comes back first: deleted before the turn reads anything.
    await turns.message(inc)
    store.down = True
    assert await turns.clear_dialog(inc) is False
    store.down = False
    seen: list[dict[str, Any]] = []

    class _Peek(_Router):
        async def handle(self, inc: Incoming, state: TurnState) -> list[Reply]:
            seen.append(dict(state.dialog))
            return []

    turns2 = TurnProcessor(store, _Peek(), FixedClock(datetime(2026, 12, 7, tzinfo=UTC)))
    turns2._to_delete = turns._to_delete  # the same process
    await turns2.message(Incoming(user_id="u", conversation_id="c", channel_id="t", text="x"))
    assert seen == [{}]
