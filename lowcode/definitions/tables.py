"""Which tables entity definitions own: table-name clashes between apps, and the trash of each table."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.definition_models import Definition, TrashedColumn
from lowcode.errors import DefinitionInvalid
from lowcode.runtime.compiler import table_name


def refuse_table_clash(session: Session, d: Definition) -> None:
    """App ``a_b`` + entity ``c`` and app ``a`` + entity ``b_c`` would share the table ``e_a_b_c``."""
    mine = table_name(d.app, d.name)
    others = session.execute(
        sa.select(Definition.app, Definition.name).where(
            Definition.kind == "entity", Definition.id != d.id, Definition.published_version.is_not(None)
        )
    )
    for app, name in others:
        if table_name(app, name) == mine:
            raise DefinitionInvalid(
                f"Entity '{d.name}' of app '{d.app}' would use the table {mine}, which belongs to entity "
                f"'{name}' of app '{app}'; choose another entity or app name",
                {"name": [f"table {mine} is taken by {app}.{name}"]},
            )


def restorable_trash(session: Session, app: str, entity: str) -> dict[int, TrashedColumn]:
    """Trash entries of an entity that can still be restored (not restored, not purged), by id."""
    rows = session.scalars(
        sa.select(TrashedColumn)
        .where(
            TrashedColumn.app == app,
            TrashedColumn.entity == entity,
            TrashedColumn.restored_at.is_(None),
            TrashedColumn.purged_at.is_(None),
        )
        .order_by(TrashedColumn.id)
    )
    return {row.id: row for row in rows}
