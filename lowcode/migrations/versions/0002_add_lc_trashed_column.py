"""add lc_trashed_column"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "lc_trashed_column",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("table_name", sa.String(length=128), nullable=False),
        sa.Column("column_name", sa.String(length=128), nullable=False),
        sa.Column("field_key", sa.String(length=64), nullable=False),
        sa.Column("field", sa.JSON(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("values_count", sa.BigInteger(), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=True),
        sa.Column("trashed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trashed_by", sa.String(length=150), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_by", sa.String(length=150), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lc_trashed_column_entity", "lc_trashed_column", ["app", "entity"], unique=False)
