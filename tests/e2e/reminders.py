"""Shared set-up of the end-to-end reminder tests: a forum and its subscribers seeded in bulk,
and a server whose clock (SAMVERKAN_CLOCK_START) starts just before the reminder is due (a
quarter of a second, so it falls due while the scheduler runs), so that no test waits for real
time to reach a reminder."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from common.clock import STOCKHOLM, FixedClock
from forums.repository import ForumService
from forums.tables import ForumDelivery, ForumSubscription
from storage.db import Database
from storage.models import ConversationReference

# A Monday morning that is no holiday: the reminder is due at DUE, the meeting an hour later.
DUE = datetime(2027, 3, 1, 9, 0, tzinfo=STOCKHOLM)


def forum_yaml(forum_id: str, name: str, due: datetime = DUE) -> str:
    start = due + timedelta(hours=1)
    return (
        "forums:\n"
        f"  - id: {forum_id}\n    name: {name}\n    kind: bus\n"
        f"    start: {start:%Y-%m-%dT%H:%M}\n    timezone: Europe/Stockholm\n"
        "    duration_minutes: 60\n    location: Rum 3\n    reminders: [PT1H]\n"
    )


async def seed(url: str, service_url: str, *, forum_id: str, name: str, subscribers: int) -> None:
    """The forum (imported as an administrator would) and `subscribers` personal chats subscribed
    to it ten minutes before the reminder is due, inserted in one transaction."""
    db = Database(url)
    before = DUE - timedelta(minutes=10)
    try:
        await db.migrate()
        forums = ForumService(db, FixedClock(before))
        assert (await forums.import_text(forum_yaml(forum_id, name), "f.yaml")).total
        refs = [
            {
                "channel_id": "msteams",
                "conversation_id": f"a:{forum_id}-{i}",
                "conversation_type": "personal",
                "user_id": f"u{i}",
                "tenant_id": "t",
                "team_id": None,
                "display_name": None,
                "service_url": service_url,
                "reference": {
                    "user": {"id": f"29:u{i}", "aadObjectId": f"u{i}"},
                    "bot": {"id": "28:bot", "name": "Samverkansboten"},
                    "conversation": {
                        "id": f"a:{forum_id}-{i}",
                        "conversationType": "personal",
                        "tenantId": "t",
                    },
                    "channelId": "msteams",
                    "locale": "sv-SE",
                    "serviceUrl": service_url,
                },
                "updated_at": before,
            }
            for i in range(subscribers)
        ]
        async with db.transaction() as s:
            ids = (
                await s.scalars(
                    insert(ConversationReference).values(refs).returning(ConversationReference.id)
                )
            ).all()
            await s.execute(
                insert(ForumSubscription).values(
                    [
                        {
                            "forum_id": forum_id,
                            "conversation_ref_id": ref_id,
                            "target_kind": "personal",
                            "created_at": before,
                            "active_since": before,
                        }
                        for ref_id in ids
                    ]
                )
            )
    finally:
        await db.dispose()


JUST_BEFORE_DUE = DUE - timedelta(seconds=0.25)


def server_env(url: str, *, clock_start: datetime = JUST_BEFORE_DUE) -> dict[str, str]:
    """The server's settings: its clock starts at `clock_start`; ticks every 0.2 s; sends at up
    to 500 messages a second (the Teams limit is a production setting, not what is tested)."""
    return {
        "SAMVERKAN_DATABASE_URL": url,
        "SAMVERKAN_CLOCK_START": clock_start.isoformat(),
        "SAMVERKAN_SCHEDULER_INTERVAL": "0.2",
        "SAMVERKAN_SEND_RATE": "500",
        "SAMVERKAN_LOG_LEVEL": "WARNING",
    }


async def delivery_statuses(db: Database) -> tuple[int, dict[str, int]]:
    """(deliveries given up as "unknown whether it arrived", deliveries per status)."""
    async with db.session() as s:
        uncertain = await s.scalar(
            select(func.count()).where(
                ForumDelivery.status == "gave_up",
                ForumDelivery.reason.like("%okänt om det kom fram%"),
            )
        )
        rows = (
            await s.execute(
                select(ForumDelivery.status, func.count()).group_by(ForumDelivery.status)
            )
        ).all()
    return int(uncertain or 0), {str(k): int(v) for k, v in rows}


async def wait_until_settled(db: Database, subscribers: int, timeout: float) -> dict[str, int]:
    """Poll the delivery log until every subscriber's reminder is sent or given up (or the
    timeout passes); the deliveries per status."""
    deadline = time.monotonic() + timeout
    while True:
        _uncertain, statuses = await delivery_statuses(db)
        done = statuses.get("sent", 0) + statuses.get("gave_up", 0)
        if done >= subscribers or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.1)
