"""kb_suggestions: questions users chose to suggest for the knowledge base (masked, ≤ 90 days)

Revision ID: 0004_kb_suggestions
Revises: 0001_core
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_kb_suggestions"
down_revision = "0001_core"
branch_labels = ("kb_suggestions",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_suggestions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("group_key", sa.String(400), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("topic_id", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_suggestions"),
    )
    op.create_index("ix_kb_suggestions_group_key", "kb_suggestions", ["group_key"])
    op.create_index("ix_kb_suggestions_created_at", "kb_suggestions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_kb_suggestions_created_at", table_name="kb_suggestions")
    op.drop_index("ix_kb_suggestions_group_key", table_name="kb_suggestions")
    op.drop_table("kb_suggestions")
