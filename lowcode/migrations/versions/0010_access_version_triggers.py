"""access version: triggers bump lc_counter 'access' on every change that can change a request's actor

A write request resolves its actor (token, user, roles, ``$user`` facts) in a read transaction before its
write transaction opens, and re-reads this one counter inside the write (``lowcode/auth/access_version.py``).
The triggers (``lowcode/migrations/access_triggers.py``) catch every writer - the admin services, the
worker, other processes, plain SQL - so no code path can forget to bump it.
"""

from alembic import op

from lowcode.migrations.access_triggers import install

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    install(op.get_bind())
