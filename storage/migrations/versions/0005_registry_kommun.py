"""registry_kommun: each registry record belongs to a kommun profile ("" before, or without one)

Revision ID: 0005_registry_kommun
Revises: 0002_registry
Create Date: 2026-12-09

Rows written before this migration get "" and are adopted by the server's default kommun on its
next start (contacts.registry.RegistryService.adopt_unscoped), which is whose registry they were.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_registry_kommun"
down_revision = "0002_registry"
branch_labels = None
depends_on = None

TABLES = ("registry_after_hours", "registry_districts", "registry_people", "registry_schools")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("kommun", sa.String(80), nullable=False, server_default="")
            )
            batch.create_index(f"ix_{table}_kommun", ["kommun"])


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_kommun")
            batch.drop_column("kommun")
