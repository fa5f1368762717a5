"""forums_kommun: each forum belongs to a kommun profile ("" before, or without one)

Revision ID: 0006_forums_kommun
Revises: 0003_forums
Create Date: 2026-12-09

Forums imported before this migration get "" and are adopted by the server's default kommun on
its next start (forums.repository.ForumService.adopt_unscoped), which is whose forums they were.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_forums_kommun"
down_revision = "0003_forums"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("forums") as batch:
        batch.add_column(sa.Column("kommun", sa.String(80), nullable=False, server_default=""))
        batch.create_index("ix_forums_kommun", ["kommun"])


def downgrade() -> None:
    with op.batch_alter_table("forums") as batch:
        batch.drop_index("ix_forums_kommun")
        batch.drop_column("kommun")
