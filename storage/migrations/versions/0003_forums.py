"""forums: forum schedule, subscriptions (forum × conversation) and reminder deliveries

Revision ID: 0003_forums
Revises: 0001_core
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_forums"
down_revision = "0001_core"
branch_labels = ("forums",)
depends_on = None

json_doc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "forums",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(64), nullable=True),
        sa.Column("start_local", sa.String(19), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("rrule", sa.String(500), nullable=True),
        sa.Column("exdates", json_doc, nullable=False),
        sa.Column("skip_public_holidays", sa.Boolean(), nullable=False),
        sa.Column("location", sa.String(300), nullable=True),
        sa.Column("join_url", sa.String(1000), nullable=True),
        sa.Column("reminders", json_doc, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_forums"),
    )
    op.create_table(
        "forum_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("forum_id", sa.String(100), nullable=False),
        sa.Column("conversation_ref_id", sa.Integer(), nullable=True),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_forum_subscriptions"),
        sa.ForeignKeyConstraint(
            ["forum_id"], ["forums.id"],
            name="fk_forum_subscriptions_forum_id_forums", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_ref_id"], ["conversation_refs.id"],
            name="fk_forum_subscriptions_conversation_ref_id_conversation_refs",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint(
            "forum_id", "conversation_ref_id", name="uq_forum_subscriptions_forum_id"
        ),
    )
    op.create_index(
        "ix_forum_subscriptions_forum_id", "forum_subscriptions", ["forum_id"]
    )
    op.create_index(
        "ix_forum_subscriptions_conversation_ref_id", "forum_subscriptions", ["conversation_ref_id"]
    )
    op.create_table(
        "forum_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("forum_id", sa.String(100), nullable=False),
        sa.Column("occurrence_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminder_offset", sa.String(32), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_forum_deliveries"),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["forum_subscriptions.id"],
            name="fk_forum_deliveries_subscription_id_forum_subscriptions", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["forum_id"], ["forums.id"],
            name="fk_forum_deliveries_forum_id_forums", ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "subscription_id", "occurrence_start", "reminder_offset",
            name="uq_forum_deliveries_subscription_id",
        ),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'failed', 'skipped_stale', 'gave_up')",
            name="ck_forum_deliveries_status",
        ),
    )
    op.create_index(
        "ix_forum_deliveries_status_next", "forum_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_forum_deliveries_forum_occurrence", "forum_deliveries", ["forum_id", "occurrence_start"]
    )


def downgrade() -> None:
    op.drop_index("ix_forum_deliveries_forum_occurrence", table_name="forum_deliveries")
    op.drop_index("ix_forum_deliveries_status_next", table_name="forum_deliveries")
    op.drop_table("forum_deliveries")
    op.drop_index("ix_forum_subscriptions_conversation_ref_id", table_name="forum_subscriptions")
    op.drop_index("ix_forum_subscriptions_forum_id", table_name="forum_subscriptions")
    op.drop_table("forum_subscriptions")
    op.drop_table("forums")
