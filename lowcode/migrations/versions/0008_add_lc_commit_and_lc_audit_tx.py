"""add lc_commit and lc_audit.tx (the changes feed's commit order on PostgreSQL)"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"

_CURRENT_TX = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "lc_audit",
        sa.Column(
            "tx", sa.BigInteger(), nullable=True, server_default=sa.text(_CURRENT_TX) if postgresql else None
        ),
    )
    op.create_index("ix_lc_audit_tx", "lc_audit", ["tx", "id"], unique=False)
    op.create_table(
        "lc_commit",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tx", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("tx"),
    )
