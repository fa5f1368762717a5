"""Core tables: bot state documents, conversation references and answer feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JsonDoc, UtcDateTime


class StateDocument(Base):
    """One bot state document (conversation, dialog or user state) as plain JSON."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc, nullable=False)
    e_tag: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # Set for documents that hold what a user told a dialog: purged when passed.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)


class ConversationReference(Base):
    """Where the bot can write proactively: one row per conversation (personal, channel, group)."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("channel_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(64), nullable=False)
    conversation_id: Mapped[str] = mapped_column(String(400), nullable=False)
    conversation_type: Mapped[str] = mapped_column(String(32), nullable=False, default="personal")
    # For a personal chat: the user it belongs to (AAD object id when Teams gives one).
    user_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(400), nullable=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    service_url: Mapped[str] = mapped_column(String(500), nullable=False)
    reference: Mapped[dict[str, Any]] = mapped_column(JsonDoc, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class FeedbackCount(Base):
    """Thumbs up/down per knowledge-base topic: counts only, never message text."""

    __tablename__ = "feedback_counts"

    topic_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    up: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    down: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
