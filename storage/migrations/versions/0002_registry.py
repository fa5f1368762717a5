"""registry: after-hours services, districts, people, schools, aliases, revision

Revision ID: 0002_registry
Revises: 0001_core
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_registry"
down_revision = "0001_core"
branch_labels = ("registry",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_after_hours",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("url", sa.String(1000), nullable=True),
        sa.Column("example", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registry_after_hours"),
    )
    op.create_table(
        "registry_districts",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("intake_name", sa.String(200), nullable=False),
        sa.Column("intake_phone", sa.String(40), nullable=False),
        sa.Column("intake_email", sa.String(254), nullable=True),
        sa.Column("intake_url", sa.String(1000), nullable=True),
        sa.Column("office_days", sa.String(40), nullable=False),
        sa.Column("office_open", sa.String(5), nullable=False),
        sa.Column("office_close", sa.String(5), nullable=False),
        sa.Column("after_hours_id", sa.String(100), nullable=True),
        sa.Column("example", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registry_districts"),
        sa.ForeignKeyConstraint(
            ["after_hours_id"], ["registry_after_hours.id"],
            name="fk_registry_districts_after_hours_id_registry_after_hours",
        ),
    )
    op.create_index(
        "ix_registry_districts_after_hours_id", "registry_districts", ["after_hours_id"]
    )
    op.create_table(
        "registry_district_aliases",
        sa.Column("district_id", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("district_id", "position", name="pk_registry_district_aliases"),
        sa.ForeignKeyConstraint(
            ["district_id"], ["registry_districts.id"],
            name="fk_registry_district_aliases_district_id_registry_districts",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "registry_people",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("district_id", sa.String(100), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("teams_upn", sa.String(254), nullable=True),
        sa.Column("example", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registry_people"),
        sa.ForeignKeyConstraint(
            ["district_id"], ["registry_districts.id"],
            name="fk_registry_people_district_id_registry_districts",
        ),
    )
    op.create_index("ix_registry_people_district_id", "registry_people", ["district_id"])
    op.create_table(
        "registry_schools",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("district_id", sa.String(100), nullable=False),
        sa.Column("contact_person_id", sa.String(100), nullable=True),
        sa.Column("example", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registry_schools"),
        sa.ForeignKeyConstraint(
            ["district_id"], ["registry_districts.id"],
            name="fk_registry_schools_district_id_registry_districts",
        ),
        sa.ForeignKeyConstraint(
            ["contact_person_id"], ["registry_people.id"],
            name="fk_registry_schools_contact_person_id_registry_people",
        ),
    )
    op.create_index("ix_registry_schools_district_id", "registry_schools", ["district_id"])
    op.create_index(
        "ix_registry_schools_contact_person_id", "registry_schools", ["contact_person_id"]
    )
    op.create_table(
        "registry_school_aliases",
        sa.Column("school_id", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("school_id", "position", name="pk_registry_school_aliases"),
        sa.ForeignKeyConstraint(
            ["school_id"], ["registry_schools.id"],
            name="fk_registry_school_aliases_school_id_registry_schools",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "registry_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registry_state"),
    )


def downgrade() -> None:
    op.drop_table("registry_state")
    op.drop_table("registry_school_aliases")
    op.drop_index("ix_registry_schools_contact_person_id", table_name="registry_schools")
    op.drop_index("ix_registry_schools_district_id", table_name="registry_schools")
    op.drop_table("registry_schools")
    op.drop_index("ix_registry_people_district_id", table_name="registry_people")
    op.drop_table("registry_people")
    op.drop_table("registry_district_aliases")
    op.drop_index("ix_registry_districts_after_hours_id", table_name="registry_districts")
    op.drop_table("registry_districts")
    op.drop_table("registry_after_hours")
