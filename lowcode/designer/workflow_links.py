"""The documents one workflow designer change may touch - the workflow, its entity (the state field's choices)
and the app's roles (who may take each transition) - saved together, each as a step of its own draft history,
with one conflict token and one undo/redo over them.

- :func:`stamp`: the newest live step of each of those drafts, as one string every page post carries; a post
  whose stamp is no longer current is a 409 naming who changed what (nothing saved).
- :func:`save`: every changed document saved through :meth:`DraftHistory.edit`, its summary marked with the
  workflow (``workflow <name>: ...``), so that undo knows which steps the workflow designer made.
- :func:`walk`: undo the newest step (redo the oldest undone one) among the workflow's own steps and the
  marked steps of its entity and the roles - one change at a time, in the order they were made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from lowcode.core.definition_models import DraftStep
from lowcode.core.texts import Text
from lowcode.designer.blueprint import DesignContext
from lowcode.errors import VersionConflict

KIND = "workflow"


def marker(name: str) -> str:
    """The prefix of the summaries of steps the workflow designer of ``name`` made."""
    return f"workflow {name}: "


def _linked(name: str, entity: str):
    return sa.or_(
        sa.and_(DraftStep.kind == KIND, DraftStep.name == name),
        sa.and_(DraftStep.kind == "entity", DraftStep.name == entity),
        DraftStep.kind == "role",
    )


def _tops(dc: DesignContext, name: str, entity: str) -> list[tuple[str, str, int, str]]:
    """(kind, name, newest live seq, its user) of each linked draft with steps."""
    session, app = dc.ctx.session, dc.workspace.app
    newest = (
        sa.select(DraftStep.kind, DraftStep.name, sa.func.max(DraftStep.seq).label("seq"))
        .where(DraftStep.app == app, DraftStep.undone.is_(False), _linked(name, entity))
        .group_by(DraftStep.kind, DraftStep.name)
        .subquery()
    )
    rows = session.execute(
        sa.select(DraftStep.kind, DraftStep.name, DraftStep.seq, DraftStep.username)
        .join(
            newest,
            sa.and_(
                DraftStep.kind == newest.c.kind,
                DraftStep.name == newest.c.name,
                DraftStep.seq == newest.c.seq,
            ),
        )
        .where(DraftStep.app == app)
    )
    return sorted((r.kind, r.name, r.seq, r.username or "?") for r in rows)


def stamp(dc: DesignContext, name: str, entity: str) -> str:
    """The conflict token of the workflow page: the newest step of each linked draft."""
    return ",".join(f"{k}:{n}:{s}" for k, n, s, _u in _tops(dc, name, entity))


def require_stamp(dc: DesignContext, name: str, entity: str, posted: str) -> None:
    """Refuse a change made on a page older than the linked drafts. :raises VersionConflict:"""
    tops = _tops(dc, name, entity)
    current = ",".join(f"{k}:{n}:{s}" for k, n, s, _u in tops)
    if posted == current:
        return
    seen = set(posted.split(","))
    changed = [(k, n, u) for k, n, s, u in tops if f"{k}:{n}:{s}" not in seen]
    kind, what, who = changed[0] if changed else (KIND, name, "?")
    raise VersionConflict(
        Text(
            "{kind} '{name}' was changed by {user} meanwhile: reload to see their change",
            kind=kind,
            name=what,
            user=who,
        ),
        current=current,
    )


def save(
    dc: DesignContext,
    name: str,
    before: Mapping[str, Mapping[str, Any]],
    after: Mapping[str, Mapping[str, Any]],
    summary: str,
) -> list[tuple[str, str]]:
    """Save each document of ``after`` (kind -> name -> body) that differs from ``before`` as a draft step
    (the entity and roles first, the workflow last); returns what was saved. :raises DefinitionInvalid:"""
    saved = []
    text = marker(name) + summary
    for kind in ("entity", "role", KIND):
        for doc_name, body in sorted(after.get(kind, {}).items()):
            if body == before.get(kind, {}).get(doc_name):
                continue
            state = dc.history.state(kind, doc_name)
            dc.history.edit(kind, doc_name, state.seq, dict(body), text)
            saved.append((kind, doc_name))
    return saved


def walk(dc: DesignContext, name: str, entity: str, direction: str) -> tuple[str, str] | None:
    """Undo (or redo) the newest (oldest undone) step of the workflow designer over the linked drafts;
    returns the definition walked, None when there is nothing to walk."""
    session, app = dc.ctx.session, dc.workspace.app
    steps = list(
        session.scalars(
            sa.select(DraftStep).where(DraftStep.app == app, _linked(name, entity)).order_by(DraftStep.id)
        )
    )
    by_doc: dict[tuple[str, str], list[DraftStep]] = {}
    for step in steps:
        by_doc.setdefault((step.kind, step.name), []).append(step)
    mine = marker(name)
    candidates = []
    for key, doc_steps in by_doc.items():
        live = [s for s in doc_steps if not s.undone]
        undone = [s for s in doc_steps if s.undone]
        if direction == "undo" and len(live) > 1:
            candidates.append((live[-1], key))
        elif direction == "redo" and undone:
            candidates.append((undone[0], key))
    candidates = [(s, k) for s, k in candidates if k[0] == KIND or s.summary.startswith(mine)]
    if not candidates:
        return None
    step, (kind, doc_name) = (max if direction == "undo" else min)(candidates, key=lambda c: c[0].id)
    seq = dc.history.state(kind, doc_name).seq
    if direction == "undo":
        dc.history.undo(kind, doc_name, seq)
    else:
        dc.history.redo(kind, doc_name, seq)
    dc.audit(kind, doc_name, f"{direction} from the workflow designer", workflow=name)
    return kind, doc_name
