"""core: bot state, conversation references, feedback counts

Revision ID: 0001_core
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

json_doc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("data", json_doc, nullable=False),
        sa.Column("e_tag", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_bot_state"),
    )
    op.create_index("ix_bot_state_expires_at", "bot_state", ["expires_at"])
    op.create_table(
        "conversation_refs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(400), nullable=False),
        sa.Column("conversation_type", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=True),
        sa.Column("tenant_id", sa.String(64), nullable=True),
        sa.Column("team_id", sa.String(400), nullable=True),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("service_url", sa.String(500), nullable=False),
        sa.Column("reference", json_doc, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_refs"),
        sa.UniqueConstraint(
            "channel_id", "conversation_id", name="uq_conversation_refs_channel_id"
        ),
    )
    op.create_index("ix_conversation_refs_user_id", "conversation_refs", ["user_id"])
    op.create_table(
        "feedback_counts",
        sa.Column("topic_id", sa.String(100), nullable=False),
        sa.Column("up", sa.Integer(), nullable=False),
        sa.Column("down", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("topic_id", name="pk_feedback_counts"),
    )


def downgrade() -> None:
    op.drop_table("feedback_counts")
    op.drop_index("ix_conversation_refs_user_id", table_name="conversation_refs")
    op.drop_table("conversation_refs")
    op.drop_index("ix_bot_state_expires_at", table_name="bot_state")
    op.drop_table("bot_state")
