"""The designer's edit history of a definition draft: every edit saved at once, undo and redo across
reloads, and a conflict instead of an overwrite when two people edit the same draft.

Each edit stores the whole draft after it as a :class:`~lowcode.core.definition_models.DraftStep`; the draft itself
stays in ``lc_definition`` (:func:`lowcode.definitions.store.save_draft`, which validates it), so the API,
publish and rollback see what the designer made. A draft changed elsewhere (the API, a rollback, an import)
becomes a step of its own the next time the designer reads it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lowcode.core.definition_models import Definition, DraftStep
from lowcode.core.texts import Text
from lowcode.definitions import store
from lowcode.errors import NotFound, VersionConflict

MAX_STEPS = 200
"""Steps kept per definition; older ones are dropped (undo stops there)."""
OUTSIDE = "changed outside the designer"


@dataclass(frozen=True)
class DraftState:
    """A draft as the designer shows it: the body, the token the next change must name, undo/redo."""

    body: dict[str, Any]
    seq: int
    summary: str
    can_undo: bool
    can_redo: bool
    published_version: int | None
    pending: bool
    """The draft differs from the published body (there is something to publish)."""
    renames: dict[str, str]
    """Field keys renamed in the draft (published key -> draft key): what its publish must rename."""


def _steps(session: Session, app: str, kind: str, name: str):
    return (
        sa.select(DraftStep)
        .where(DraftStep.app == app, DraftStep.kind == kind, DraftStep.name == name)
        .order_by(DraftStep.seq)
    )


class DraftHistory:
    """Reads and changes one app's definition drafts step by step (the session and user are passed in)."""

    def __init__(self, session: Session, app: str, username: str):
        self.session = session
        self.app = app
        self.username = username

    # -- reading ---------------------------------------------------------------------------------------
    def state(self, kind: str, name: str) -> DraftState:
        """The draft with its history; a draft changed outside the designer is recorded as a step first.

        :raises NotFound: for a definition that does not exist.
        """
        definition = self._definition(kind, name)
        live, undone = self._split(kind, name)
        body = (
            definition.draft
            if definition.draft is not None
            else store.published_body(self.session, definition)
        )
        if body is None:
            raise NotFound(f"{kind} '{name}' has neither a draft nor a published version")
        if not live or live[-1].body != body:
            carried = live[-1].renames if live else {}
            summary = OUTSIDE if live else "opened in the designer"
            live.append(self._append(kind, name, body, summary, undone, carried))
            undone = []
        published = store.published_body(self.session, definition)
        return DraftState(
            body=copy.deepcopy(body),
            seq=live[-1].seq,
            summary=live[-1].summary,
            can_undo=len(live) > 1,
            can_redo=bool(undone),
            published_version=definition.published_version,
            pending=body != published,
            renames=pending_renames(live[-1].renames, published, body),
        )

    def steps(self, kind: str, name: str) -> list[DraftStep]:
        """The live steps, newest first (what undo walks back through)."""
        return list(reversed(self._split(kind, name)[0]))

    # -- changing --------------------------------------------------------------------------------------
    def create(self, kind: str, name: str, body: dict[str, Any], summary: str) -> DraftState:
        """A new definition saved as a draft with its first step. :raises DefinitionInvalid:"""
        store.save_draft(self.session, self.app, kind, name, body)
        self._append(kind, name, body, summary, [])
        return self.state(kind, name)

    def edit(
        self,
        kind: str,
        name: str,
        base: int,
        body: dict[str, Any],
        summary: str,
        rename: tuple[str, str] | None = None,
    ) -> DraftState:
        """Save ``body`` as the draft if ``base`` is still the newest step; the redo steps are dropped.
        ``rename``: (old key, new key) when the edit renamed a field (the publish renames its column).

        :raises VersionConflict: someone changed the draft since ``base``; :raises DefinitionInvalid:
        """
        current = self.state(kind, name)
        self._require_base(kind, name, base, current)
        if body == current.body:
            return current
        store.save_draft(self.session, self.app, kind, name, body)
        live, undone = self._split(kind, name)
        renames = chain_rename(live[-1].renames if live else {}, rename)
        self._append(kind, name, body, summary, undone, renames)
        return self.state(kind, name)

    def undo(self, kind: str, name: str, base: int) -> DraftState:
        """Go back one step (the draft becomes the body before it). :raises VersionConflict:"""
        current = self.state(kind, name)
        self._require_base(kind, name, base, current)
        live, _undone = self._split(kind, name)
        if len(live) < 2:
            return current
        live[-1].undone = True
        return self._restore(kind, name, live[-2].body)

    def redo(self, kind: str, name: str, base: int) -> DraftState:
        """Take the step undone last again. :raises VersionConflict:"""
        current = self.state(kind, name)
        self._require_base(kind, name, base, current)
        _live, undone = self._split(kind, name)
        if not undone:
            return current
        undone[0].undone = False
        return self._restore(kind, name, undone[0].body)

    # -- internals -------------------------------------------------------------------------------------
    def _definition(self, kind: str, name: str) -> Definition:
        found = self.session.scalar(
            sa.select(Definition).where(
                Definition.app == self.app, Definition.kind == kind, Definition.name == name
            )
        )
        if found is None:
            raise NotFound(f"No {kind} definition '{name}' in app '{self.app}'")
        return found

    def _split(self, kind: str, name: str) -> tuple[list[DraftStep], list[DraftStep]]:
        steps = list(self.session.scalars(_steps(self.session, self.app, kind, name)))
        return [s for s in steps if not s.undone], [s for s in steps if s.undone]

    def _append(
        self,
        kind: str,
        name: str,
        body: dict,
        summary: str,
        undone: list[DraftStep],
        renames: dict[str, str] | None = None,
    ) -> DraftStep:
        for step in undone:
            self.session.delete(step)
        last = self.session.scalar(
            sa.select(sa.func.max(DraftStep.seq)).where(
                DraftStep.app == self.app, DraftStep.kind == kind, DraftStep.name == name
            )
        )
        step = DraftStep(
            app=self.app,
            kind=kind,
            name=name,
            seq=(last or 0) + 1,
            body=copy.deepcopy(body),
            summary=summary[:300],
            username=self.username,
            renames=renames or {},
        )
        self.session.add(step)
        self.session.flush()
        self._trim(kind, name)
        return step

    def _trim(self, kind: str, name: str) -> None:
        live, _undone = self._split(kind, name)
        for step in live[:-MAX_STEPS]:
            self.session.delete(step)
        self.session.flush()

    def _restore(self, kind: str, name: str, body: dict) -> DraftState:
        store.save_draft(self.session, self.app, kind, name, body)
        self.session.flush()
        return self.state(kind, name)

    def _require_base(self, kind: str, name: str, base: int, current: DraftState) -> None:
        if base == current.seq:
            return
        latest = self.session.scalar(
            _steps(self.session, self.app, kind, name).where(DraftStep.seq == current.seq)
        )
        who = latest.username if latest is not None else "?"
        raise VersionConflict(
            Text(
                "{kind} '{name}' was changed by {user} meanwhile ({summary}): reload to see their change",
                kind=kind,
                name=name,
                user=who or "?",
                summary=current.summary,
            ),
            current=current.seq,
        )


def chain_rename(renames: dict[str, str], rename: tuple[str, str] | None) -> dict[str, str]:
    """The renames of a draft after one more (``a -> b`` then ``b -> c`` is ``a -> c``)."""
    result = dict(renames)
    if rename is None or rename[0] == rename[1]:
        return result
    old, new = rename
    origin = next((k for k, v in result.items() if v == old), old)
    result.pop(origin, None)
    if origin != new:
        result[origin] = new
    return result


def pending_renames(renames: dict[str, str], published: dict | None, draft: dict) -> dict[str, str]:
    """The renames a publish of ``draft`` needs: from keys the published body has to keys only the draft has."""
    if not published or not renames:
        return {}
    before = {f.get("name") for f in published.get("fields") or ()}
    after = {f.get("name") for f in draft.get("fields") or ()}
    return {old: new for old, new in renames.items() if old in before and old not in after and new in after}
