"""Forum tables: the schedule, who is reminded (subscriptions) and every reminder delivery.

A subscription is a forum × a conversation the bot can write to (a user's personal chat or a team
channel, rows of `conversation_refs`). A delivery is one (subscription, meeting start, offset):
the UNIQUE key is what makes a reminder claimable exactly once, by any number of instances.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JsonDoc, UtcDateTime

DELIVERY_STATUSES = ("claimed", "sent", "failed", "skipped_stale", "gave_up")


class ForumRow(Base):
    """One forum as imported (`samverkan forums import`); times are local wall-clock times.
    `kommun`: the kommun profile whose forum it is ("" without kommun profiles); its users see
    only their kommun's forums (ForumService.for_kommun). Ids are unique across the server."""

    __tablename__ = "forums"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kommun: Mapped[str] = mapped_column(
        String(80), nullable=False, default="", server_default="", index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Naive local time of the first meeting, ISO 8601 ('2026-09-08T13:00:00'), in `timezone`.
    start_local: Mapped[str] = mapped_column(String(19), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    rrule: Mapped[str | None] = mapped_column(String(500), nullable=True)
    exdates: Mapped[list[str]] = mapped_column(JsonDoc, nullable=False)  # ISO dates/local times
    skip_public_holidays: Mapped[bool] = mapped_column(Boolean, nullable=False)
    location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    join_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    reminders: Mapped[list[str]] = mapped_column(JsonDoc, nullable=False)  # ISO 8601 durations
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    def definition(self) -> dict[str, Any]:
        """The imported fields as plain values, to tell an unchanged re-import from a change."""
        return {
            "name": self.name,
            "kind": self.kind,
            "start_local": self.start_local,
            "timezone": self.timezone,
            "duration_minutes": self.duration_minutes,
            "rrule": self.rrule,
            "exdates": list(self.exdates),
            "skip_public_holidays": self.skip_public_holidays,
            "location": self.location,
            "join_url": self.join_url,
            "reminders": list(self.reminders),
        }


class ForumSubscription(Base):
    """Remind this conversation about this forum. Ended subscriptions stay for the delivery log."""

    __tablename__ = "forum_subscriptions"
    __table_args__ = (UniqueConstraint("forum_id", "conversation_ref_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    forum_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("forums.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # NULL once the conversation reference is gone (403/404): the subscription has then ended.
    conversation_ref_id: Mapped[int | None] = mapped_column(
        Integer,
        ForeignKey("conversation_refs.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    )
    # 'personal' (a user's own chat) or 'channel' (a team channel, also used for group chats).
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # Reminders due before this instant are not owed to this subscription.
    active_since: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)


class ForumDelivery(Base):
    """One reminder to one subscription: claimed before it is sent, and its outcome."""

    __tablename__ = "forum_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "occurrence_start", "reminder_offset"),
        CheckConstraint(
            "status IN ('claimed', 'sent', 'failed', 'skipped_stale', 'gave_up')", name="status"
        ),
        Index("ix_forum_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_forum_deliveries_forum_occurrence", "forum_id", "occurrence_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("forum_subscriptions.id", ondelete="CASCADE"), nullable=False
    )
    forum_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("forums.id", ondelete="CASCADE"), nullable=False
    )
    occurrence_start: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    reminder_offset: Mapped[str] = mapped_column(String(32), nullable=False)
    send_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Set while a send is in flight; still set after a crash means "may or may not have arrived".
    attempt_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
