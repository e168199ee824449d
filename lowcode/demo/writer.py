"""Writes and reads of a demo run, as named users through the record and query services: one transaction
per write, refusals (any domain error) counted by step instead of ending the run."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import sqlalchemy as sa
from flask import Flask

from lowcode.auth.actors import actor_for_user
from lowcode.core.models import User
from lowcode.errors import LowcodeError
from lowcode.runtime.context import Actor, WriteContext
from lowcode.runtime.queries import ListQuery, SortKey

PAGE = 500


class Refused(Exception):
    """A write refused by the platform (rule, workflow, permission, validation); counted, not fatal."""


class Writer:
    """The record service as the app's users, for one app."""

    def __init__(self, flask_app: Flask, app: str):
        self.svc = flask_app.extensions["lowcode"]
        self.app = app
        self.actors: dict[str, Actor] = {}
        self.written = 0
        self.refused: Counter[str] = Counter()
        self.last_refusal: dict[str, str] = {}
        with self.svc.db.read() as session:
            for user in session.scalars(sa.select(User).where(User.active.is_(True))):
                self.actors[user.username] = actor_for_user(session, user, on_stale=lambda ids: None)

    def user_id(self, username: str) -> int | None:
        """The id of a user, or None if there is no such user."""
        actor = self.actors.get(username)
        return actor.user_id if actor else None

    def _ctx(self, session, who: str, when: dt.datetime) -> WriteContext:
        if who not in self.actors:
            raise LookupError(f"the demo scenario acts as '{who}', who is not a user")
        snapshot = self.svc.snapshots.get(session)
        return WriteContext(session, self.actors[who], snapshot, source="demo", now=when)

    def write(self, kind: str, who: str, entity: str, when: dt.datetime, **call: Any) -> dict[str, Any]:
        """``kind`` 'create' (``data``), 'update' (``record_id``, ``data``) or 'transition' (``record_id``,
        ``name``, ``data``) in its own transaction. :raises Refused: when the platform refuses it."""
        label = f"{kind} {entity}" + (f" {call['name']}" if kind == "transition" else "")
        try:
            with self.svc.db.write() as session:
                ctx = self._ctx(session, who, when)
                records = self.svc.records
                if kind == "create":
                    result = records.create(ctx, self.app, entity, call["data"])
                elif kind == "update":
                    version = self.svc.queries.get(ctx, self.app, entity, call["record_id"])["version"]
                    result = records.update(ctx, self.app, entity, call["record_id"], call["data"], version)
                else:
                    version = self.svc.queries.get(ctx, self.app, entity, call["record_id"])["version"]
                    result = records.transition(
                        ctx, self.app, entity, call["record_id"], call["name"], call["data"], version
                    )
        except LowcodeError as exc:
            self.refused[label] += 1
            self.last_refusal[label] = str(exc)
            raise Refused(label) from exc
        self.written += 1
        return result

    def write_many(self, who: str, entity: str, when: dt.datetime, items: list[Any]) -> list[dict | None]:
        """Create ``items`` (records independent of each other) in one transaction through the record
        service's bulk creates, each item on its own (``each``): per item the stored record, or None for a
        refused one, counted like a refused single create."""
        label = f"create {entity}"
        try:
            with self.svc.db.write() as session:
                ctx = self._ctx(session, who, when)
                outcome = self.svc.records.create_many(ctx, self.app, entity, items, each=True)
        except LowcodeError as exc:  # the whole write refused (no grant, a malformed list)
            self.refused[label] += len(items)
            self.last_refusal[label] = str(exc)
            raise Refused(label) from exc
        for _index, exc in outcome.failures:
            self.refused[label] += 1
            self.last_refusal[label] = str(exc)
        self.written += len(outcome.records)
        return [outcome.records.get(i) for i in range(len(items))]

    def get(self, who: str, entity: str, record_id: int, when: dt.datetime) -> dict[str, Any]:
        """One record with its child rows, as ``who`` sees it."""
        with self.svc.db.read() as session:
            return self.svc.queries.get(self._ctx(session, who, when), self.app, entity, record_id)

    def find(
        self,
        who: str,
        entity: str,
        condition: dict | None,
        sort: list[str],
        limit: int | None,
        when: dt.datetime,
    ) -> list[dict[str, Any]]:
        """The records matching ``condition`` (condition language) in ``sort`` order ('-field' descending),
        at most ``limit``, as ``who`` sees them."""
        keys = tuple(SortKey(s.lstrip("-"), s.startswith("-")) for s in sort)
        found: list[dict[str, Any]] = []
        after = None
        with self.svc.db.read() as session:
            ctx = self._ctx(session, who, when)
            while limit is None or len(found) < limit:
                size = PAGE if limit is None else min(PAGE, limit - len(found))
                query = ListQuery(condition=condition, sort=keys, limit=size, after=after, with_total=False)
                page = self.svc.queries.list(ctx, self.app, entity, query)
                found.extend(page.records)
                after = page.next_cursor
                if after is None:
                    break
        return found

    def count(self, entity: str) -> int:
        """How many live records ``entity`` holds (for the summary)."""
        with self.svc.db.read() as session:
            table = self.svc.snapshots.get(session).entity(self.app, entity).table
            query = sa.select(sa.func.count()).select_from(table).where(table.c.deleted_at.is_(None))
            return session.scalar(query)
