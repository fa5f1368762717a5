"""The HTTP edge holds: bad input gets 4xx with a Swedish message, never a 500 or a traceback."""

from __future__ import annotations

import asyncio
import json

from tests.bot.conftest import BotHarness
from tests.fakes import teams


async def test_malformed_json_is_400(harness: BotHarness) -> None:
    r = await harness.client.post(
        "/api/messages", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status == 400
    assert "JSON" in (await r.json())["error"]


async def test_non_object_json_is_400(harness: BotHarness) -> None:
    r = await harness.client.post(
        "/api/messages", data=b"[1,2]", headers={"Content-Type": "application/json"}
    )
    assert r.status == 400


async def test_wrong_content_type_is_415(harness: BotHarness) -> None:
    r = await harness.client.post(
        "/api/messages", data=b"hej", headers={"Content-Type": "text/plain"}
    )
    assert r.status == 415


async def test_body_over_limit_is_413(harness: BotHarness) -> None:
    act = teams.message(harness.connector.url, "c1", "u1", "x" * (300 * 1024))
    r = await harness.post(act)
    assert r.status == 413
    assert harness.connector.sent == []


async def test_missing_required_fields_is_400(harness: BotHarness) -> None:
    act = teams.message(harness.connector.url, "c1", "u1", "hej")
    del act["conversation"]
    del act["from"]
    r = await harness.post(act)
    assert r.status == 400
    err = (await r.json())["error"]
    assert "conversation.id" in err and "from.id" in err


async def test_missing_type_is_400(harness: BotHarness) -> None:
    r = await harness.post({"text": "hej"})
    assert r.status == 400


async def test_wrongly_typed_field_is_400(harness: BotHarness) -> None:
    act = teams.message(harness.connector.url, "c1", "u1", "hej")
    act["text"] = {"nested": True}
    r = await harness.post(act)
    assert r.status == 400


async def test_unknown_activity_type_is_ignored(harness: BotHarness) -> None:
    act = teams.message(harness.connector.url, "c1", "u1", "hej")
    act["type"] = "somethingNew"
    r = await harness.post(act)
    assert r.status == 200
    assert harness.connector.sent == []
    assert harness.router.seen == []


async def test_very_long_message_is_answered_calmly(harness: BotHarness) -> None:
    act = teams.message(harness.connector.url, "c1", "u1", "ö" * 20_000)
    r = await harness.post(act)
    assert r.status == 200
    assert len(harness.connector.sent) == 1
    seen = harness.router.seen[-1]
    assert seen.truncated and len(seen.text) == harness.services.settings.max_text_chars


async def test_turn_error_is_kind_logged_without_content_and_clears_dialog(
    harness: BotHarness, caplog
) -> None:  # type: ignore[no-untyped-def]
    url = harness.connector.url
    await harness.post(teams.message(url, "c1", "u1", "första"))
    assert await harness.services.store.read(["dialog/msteams/c1/u1"])
    r = await harness.post(teams.message(url, "c1", "u1", "krascha"))
    assert r.status == 200
    last = harness.connector.sent[-1].activity
    assert "gick fel" in last["text"]
    assert "Traceback" not in last["text"] and "failed" not in last["text"]
    assert await harness.services.store.read(["dialog/msteams/c1/u1"]) == {}
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "RuntimeError" in logged
    assert "krascha" not in logged and "failed while" not in logged


async def test_dialog_state_survives_between_turns_and_is_deleted_when_emptied(
    harness: BotHarness,
) -> None:
    url = harness.connector.url
    await harness.post(teams.message(url, "c1", "u1", "ett"))
    await harness.post(teams.message(url, "c1", "u1", "två"))
    assert harness.connector.sent[-1].activity["text"].endswith("(2)")
    await harness.post(teams.message(url, "c1", "u1", "glöm"))
    assert await harness.services.store.read(["dialog/msteams/c1/u1"]) == {}


async def test_channel_message_without_mention_is_ignored(harness: BotHarness) -> None:
    act = teams.message(
        harness.connector.url, "19:chan", "u1", "prat mellan kollegor", kind="channel"
    )
    r = await harness.post(act)
    assert r.status == 200
    assert harness.router.seen == []


async def test_channel_mention_is_stripped_but_others_kept(harness: BotHarness) -> None:
    act = teams.channel_mention(
        harness.connector.url,
        "19:chan",
        "u1",
        "fråga <at>Anna Exempel</at> om BUS",
        other_mentions=[("29:anna", "Anna Exempel")],
    )
    r = await harness.post(act)
    assert r.status == 200
    seen = harness.router.seen[-1]
    assert seen.text == "fråga Anna Exempel om BUS"
    assert seen.conversation_type == "channel"
    assert harness.connector.sent[-1].conversation_id == "19:chan"


async def test_card_button_in_channel_needs_no_mention(harness: BotHarness) -> None:
    act = teams.press(harness.connector.url, "19:chan", "u1", {"action": "menu"}, kind="channel")
    await harness.post(act)
    assert harness.router.seen[-1].value == {"action": "menu"}


async def test_install_welcomes_once_and_stores_reference(harness: BotHarness) -> None:
    url = harness.connector.url
    a, b = teams.install(url, "c-inst", "u9")
    r1, r2 = await asyncio.gather(harness.post(a), harness.post(b))
    assert r1.status == r2.status == 200
    cards = [s for s in harness.connector.sent if s.activity.get("attachments")]
    assert len(cards) == 1
    att = cards[0].activity["attachments"][0]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    ref = await harness.services.conversations.get("msteams", "c-inst")
    assert ref is not None and ref.info.user_id == "u9" and ref.reference["serviceUrl"] == url


async def test_uninstall_removes_reference(harness: BotHarness) -> None:
    url = harness.connector.url
    await harness.post(teams.message(url, "c-x", "u1", "hej"))
    assert await harness.services.conversations.get("msteams", "c-x") is not None
    await harness.post(teams.uninstall(url, "c-x", "u1"))
    assert await harness.services.conversations.get("msteams", "c-x") is None


async def test_uninstall_in_a_personal_chat_deletes_the_users_profile(
    harness: BotHarness,
) -> None:
    url = harness.connector.url
    await harness.services.store.write({"user/msteams/u2": {"school": {"id": "s", "name": "S"}}})
    await harness.post(teams.message(url, "c-y", "u2", "hej"))
    await harness.post(teams.uninstall(url, "c-y", "u2"))
    assert await harness.services.store.read(["user/msteams/u2"]) == {}


async def test_healthz(harness: BotHarness) -> None:
    r = await harness.client.get("/healthz")
    assert r.status == 200
    body = json.loads(await r.text())
    assert body["status"] == "ok"
    assert body["auth"].startswith("none")
    assert body["database"]["backend"] == "sqlite"
    assert body["knowledge_base"]["version"]


async def test_connector_client_is_reused_per_service_url(harness: BotHarness) -> None:
    from bot.app import RUNTIME

    cache = harness.app[RUNTIME].adapter.bot_framework_authentication.cache
    for i in range(5):
        await harness.post(teams.message(harness.connector.url, "c-reuse", "u1", f"hej {i}"))
    assert len(harness.connector.sent) == 5
    assert len(cache) == 1
    other = harness.connector.url.replace("127.0.0.1", "localhost")
    await harness.post(teams.message(other, "c-reuse", "u1", "hej"))
    assert len(cache) == 2


async def test_expect_replies_delivery_mode_returns_replies_in_the_response(
    harness: BotHarness,
) -> None:
    act = teams.message(harness.connector.url, "c-exp", "u1", "hej")
    act["deliveryMode"] = "expectReplies"
    r = await harness.post(act)
    assert r.status == 200
    body = await r.json()
    assert body["activities"][0]["text"].startswith("eko: hej")
    assert harness.connector.for_conversation("c-exp") == []
