"""add lc_audit unit"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("lc_audit", sa.Column("unit", sa.String(length=32), server_default="", nullable=False))
