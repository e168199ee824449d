"""Write the next system-table migration from the difference between ``lowcode/core/models.py`` and the
existing revisions (Alembic autogenerate, without an ``env.py``).

    .venv/bin/python scripts/new_migration.py "add lc_trashed_column"

writes ``lowcode/migrations/versions/NNNN_add_lc_trashed_column.py``. Read it before committing: autogenerate
does not see renames (it writes drop + add) or server defaults, and data moves are yours to add.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import produce_migrations, render_python_code
from alembic.runtime.migration import MigrationContext

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's package, not another one installed in the environment

from lowcode.core.models import Base  # noqa: E402
from lowcode.migrations.runner import FOLDER, VERSION_TABLE, Migrations  # noqa: E402

TEMPLATE = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down_revision!r}


{body}
'''


def render(message: str) -> tuple[str, str]:
    """(file name, source) of the next revision: what models.py has that the scripts do not create."""
    migrations = Migrations(FOLDER)
    head = migrations.head()
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        if head is not None:
            migrations.apply(conn, head)
        opts = {"version_table": VERSION_TABLE, "target_metadata": Base.metadata}
        context = MigrationContext.configure(conn, opts=opts)
        script = produce_migrations(context, Base.metadata)
    if script.upgrade_ops.is_empty():
        sys.exit("models.py and the migrations agree: nothing to write")
    revision = f"{int(head or 0) + 1:04d}"
    code = render_python_code(script.upgrade_ops, migration_context=context)
    code = "\n".join(line.removeprefix("    ") for line in code.splitlines() if "### " not in line)
    body = "def upgrade() -> None:\n" + "\n".join(f"    {line}" if line else "" for line in code.splitlines())
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40]
    source = TEMPLATE.format(message=message, revision=revision, down_revision=head, body=body.rstrip())
    return f"{revision}_{slug}.py", source


def main() -> None:
    """Write the revision file and print its path."""
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    name, source = render(sys.argv[1])
    path = Path(FOLDER) / "versions" / name
    path.write_text(source, encoding="utf-8")
    print(path)


if __name__ == "__main__":
    main()
