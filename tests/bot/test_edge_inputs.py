"""Issue 13 L: hostile input is normalised or refused at the HTTP edge, the same on SQLite and
PostgreSQL, and never costs a user the dialog they are in."""

from __future__ import annotations

from typing import Any

from tests.bot.conftest import BotHarness
from tests.fakes import teams

LONG_NAME = "Samverkan kring " + "ö" * 300  # a group chat's name: 316 characters


def _group_mention(url: str, conv: str, user: str, text: str) -> dict[str, Any]:
    act = teams.channel_mention(url, conv, user, text)
    act["conversation"]["conversationType"] = "groupChat"
    del act["channelData"]["team"], act["channelData"]["channel"]
    return act


async def _dialog(harness: BotHarness, conv: str, user: str) -> dict[str, Any] | None:
    docs = await harness.services.store.read([f"dialog/msteams/{conv}/{user}"])
    return docs.get(f"dialog/msteams/{conv}/{user}")


async def test_long_group_chat_name_is_shortened_not_fatal(db_harness: BotHarness) -> None:
    url = db_harness.connector.url
    act = _group_mention(url, "19:group@thread.v2", "u1", "hej")
    act["conversation"]["name"] = LONG_NAME
    for _ in range(2):
        r = await db_harness.post(act | {"id": f"act-{_}"})
        assert r.status == 200
    texts = [s.activity.get("text") or "" for s in db_harness.connector.sent]
    assert texts == ["eko: hej (1)", "eko: hej (2)"]
    ref = await db_harness.services.conversations.get("msteams", "19:group@thread.v2")
    assert ref is not None and ref.info.display_name == LONG_NAME[:200]


async def test_ids_at_the_column_limits_work_on_both_databases(db_harness: BotHarness) -> None:
    url = db_harness.connector.url
    conv, user = "a:" + "c" * 398, "u" * 200
    act = teams.message(url, conv, "x", "hej")
    act["from"] = {"id": user, "name": "Testlärare"}
    r = await db_harness.post(act)
    assert r.status == 200
    assert db_harness.connector.sent[-1].activity["text"] == "eko: hej (1)"
    ref = await db_harness.services.conversations.get("msteams", conv)
    assert ref is not None and ref.info.user_id == user


async def test_over_long_ids_are_refused_with_400(db_harness: BotHarness) -> None:
    url = db_harness.connector.url
    too_long_user = teams.message(url, "c-long", "x", "hej")
    too_long_user["from"] = {"id": "29:" + "u" * 198, "name": "Testlärare"}
    too_long_aad = teams.message(url, "c-long", "x", "hej")
    too_long_aad["from"]["aadObjectId"] = "a" * 201
    too_long_conv = teams.message(url, "a:" + "c" * 399, "u1", "hej")
    for act, field in (
        (too_long_user, "from.id"),
        (too_long_aad, "from.aadObjectId"),
        (too_long_conv, "conversation.id"),
    ):
        r = await db_harness.post(act)
        assert r.status == 400, field
        error = (await r.json())["error"]
        assert field in error and "för lång" in error
    assert db_harness.router.seen == []
    assert db_harness.connector.sent == []


async def test_nul_and_lone_surrogates_are_stripped_from_text(db_harness: BotHarness) -> None:
    url = db_harness.connector.url
    for text in ("hej\u0000 då\ud800", "igen\udfff\u0000"):
        r = await db_harness.post(teams.message(url, "c-nul", "u1", text))
        assert r.status == 200
    assert [i.text for i in db_harness.router.seen] == ["hej då", "igen"]
    assert [s.activity["text"] for s in db_harness.connector.sent] == [
        "eko: hej då (1)",
        "eko: igen (2)",
    ]
    dialog = await _dialog(db_harness, "c-nul", "u1")
    assert dialog is not None and dialog["last"] == "igen"


async def test_nul_in_a_card_answer_is_stripped(db_harness: BotHarness) -> None:
    url = db_harness.connector.url
    value = {"action": "flow.answer", "answer": "Kalle\u0000 i klass 3\ud83d"}
    r = await db_harness.post(teams.press(url, "c-val", "u1", value))
    assert r.status == 200
    seen = db_harness.router.seen[-1].value
    assert seen == {"action": "flow.answer", "answer": "Kalle i klass 3"}


async def test_null_members_are_refused_and_the_dialog_kept(db_harness: BotHarness) -> None:
    url = db_harness.connector.url
    await db_harness.post(teams.message(url, "c-mem", "u1", "ett"))
    before = await _dialog(db_harness, "c-mem", "u1")
    assert before is not None
    for field in ("membersAdded", "membersRemoved"):
        upd = teams.install(url, "c-mem", "u1")[0]
        upd.pop("membersAdded")
        upd[field] = [None]
        r = await db_harness.post(upd)
        assert r.status == 400, field
        assert field in (await r.json())["error"]
    assert await _dialog(db_harness, "c-mem", "u1") == before
    assert all("gick fel" not in (s.activity.get("text") or "") for s in db_harness.connector.sent)


async def test_button_value_of_the_wrong_type_is_an_unknown_button(
    real_harness: BotHarness,
) -> None:
    url = real_harness.connector.url
    start = {"action": "flow.start", "flow": "concern"}
    assert (await real_harness.post(teams.press(url, "c-btn", "u1", start))).status == 200
    before = await _dialog(real_harness, "c-btn", "u1")
    assert before is not None
    real_harness.connector.clear()
    for bad in ({"action": "menu", "item": ["x"]}, {"action": "menu", "item": {"a": 1}}):
        r = await real_harness.post(teams.press(url, "c-btn", "u1", bad))
        assert r.status == 200
    texts = [s.activity.get("text") or "" for s in real_harness.connector.sent]
    assert texts.count("Den knappen känner jag inte igen. Här är menyn.") == 2
    assert not any("gick fel" in t for t in texts)
    after = await _dialog(real_harness, "c-btn", "u1")
    assert after is not None
    assert {k: v for k, v in after.items() if k != "e_tag"} == {
        k: v for k, v in before.items() if k != "e_tag"
    }
