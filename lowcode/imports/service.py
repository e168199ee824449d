"""Spreadsheet import as the API and the pages use it: upload (a ``new`` job holding the file), choose a
published sheet mapping or the columns -> fields of an inferred one, preview the first rows with per-cell
errors, start (queued for the runner), and read a job's status and results - only the job's owner (and
administrators) see a job; anyone else gets "not found". Writes happen in the job (:mod:`.job`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lowcode.auth.design_access import may_design_app
from lowcode.auth.permissions import PermissionService
from lowcode.core.texts import Text
from lowcode.definitions import store as definitions
from lowcode.errors import BadRequest, NotFound
from lowcode.imports.infer import guess_columns, importable_fields, mapping_for_columns
from lowcode.imports.sheets import Sheet, read_sheet
from lowcode.jobs import store
from lowcode.mappings.compiled import CompiledMapping
from lowcode.mappings.preview import checked_mapping
from lowcode.mappings.service import MappingService
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext

KIND = "import"
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class ImportPlan:
    """A job's import as chosen so far: the target, the file's headers, and the mapping (published name, or
    the inferred columns -> fields)."""

    entity: str
    file_name: str
    headers: list[str]
    rows: int
    mapping: str | None
    columns: dict[str, str]

    @classmethod
    def of(cls, job: store.Job) -> ImportPlan:
        """The plan kept in a job's parameters."""
        p = job.params
        return cls(
            p["entity"], p["file_name"], p["headers"], p["rows"], p.get("mapping"), p.get("columns", {})
        )

    def params(self) -> dict[str, Any]:
        """As job parameters."""
        return {
            "entity": self.entity,
            "file_name": self.file_name,
            "headers": self.headers,
            "rows": self.rows,
            "mapping": self.mapping,
            "columns": self.columns,
        }


def sheet_mappings(ctx: WriteContext, entity: CompiledEntity) -> list[CompiledMapping]:
    """The published sheet mappings into ``entity``, by name."""
    found = [
        m
        for (app, _), m in ctx.snapshot.mappings.items()
        if app == entity.app and m.target.name == entity.name and m.source_kind == "sheet"
    ]
    return sorted(found, key=lambda m: m.name)


class ImportService:
    """Upload, choose, preview and start spreadsheet imports; status and results of import jobs."""

    def __init__(self, permissions: PermissionService, mappings: MappingService):
        self.permissions = permissions
        self.mappings = mappings

    def target(self, ctx: WriteContext, app: str, entity: str) -> CompiledEntity:
        """The entity imported into; the actor must be allowed to create its records.

        :raises NotFound: :raises PermissionDenied:"""
        compiled = ctx.snapshot.entity(app, entity)
        if compiled.is_child:
            raise NotFound(f"No published entity '{entity}' in app '{app}'")
        self.permissions.authorize(ctx.actor, compiled, "create")
        return compiled

    def upload(
        self,
        ctx: WriteContext,
        app: str,
        entity: str,
        file_name: str,
        content: bytes,
        sheet: Sheet | None = None,
    ) -> int:
        """Keep the file (``sheet``: already read) as a ``new`` import job with the inferred columns; returns
        the job id. :raises BadRequest: :raises PayloadTooLarge: (the file)"""
        target = self.target(ctx, app, entity)
        sheet = sheet or read_sheet(file_name, content)
        columns = guess_columns(target, ctx.snapshot.entities, sheet.headers)
        plan = ImportPlan(entity, file_name, list(sheet.headers), len(sheet.rows), None, columns)
        return store.create_job(
            ctx.session, KIND, ctx.actor.username, app, plan.params(), (file_name, content), status=store.NEW
        )

    def job(self, ctx: WriteContext, job_id: int, app: str | None = None) -> store.Job:
        """An import job the actor owns (administrators: any). :raises NotFound: otherwise."""
        job = store.get_job(ctx.session, job_id)
        mine = job.owner == ctx.actor.username or ctx.actor.is_admin
        if job.kind != KIND or not mine or (app is not None and job.app != app):
            raise NotFound(f"No job {job_id}")
        return job

    def choose(
        self, ctx: WriteContext, job: store.Job, mapping: str | None, columns: Mapping[str, str] | None
    ) -> ImportPlan:
        """Use a published sheet mapping, or these columns -> fields. :raises BadRequest: unknown choice"""
        plan = ImportPlan.of(self._new(job))
        target = self.target(ctx, job.app, plan.entity)
        if mapping:
            if mapping not in {m.name for m in sheet_mappings(ctx, target)}:
                raise BadRequest(Text("No published sheet mapping '{name}' for this table", name=mapping))
            chosen = ImportPlan(plan.entity, plan.file_name, plan.headers, plan.rows, mapping, {})
        else:
            allowed = {f.name for f in importable_fields(target, ctx.snapshot.entities)}
            wanted = {h: f for h, f in (columns or {}).items() if f}
            if set(wanted) - set(plan.headers) or set(wanted.values()) - allowed:
                raise BadRequest(Text("Choose fields of this table for columns of the file"))
            if len(set(wanted.values())) != len(wanted):
                raise BadRequest(Text("Each field can be filled from one column only"))
            chosen = ImportPlan(plan.entity, plan.file_name, plan.headers, plan.rows, None, wanted)
        store.set_params(ctx.session, job.id, chosen.params())
        return chosen

    def compiled(self, ctx: WriteContext, job: store.Job) -> CompiledMapping:
        """The mapping the job runs: the published one chosen, else the inferred one checked like a publish.

        :raises BadRequest: no column is mapped; :raises DefinitionInvalid:"""
        plan = ImportPlan.of(job)
        target = ctx.snapshot.entity(job.app, plan.entity)
        if plan.mapping:
            return ctx.snapshot.mapping(job.app, plan.mapping)
        if not plan.columns:
            raise BadRequest(Text("Choose the field of at least one column"))
        body = mapping_for_columns(target, ctx.snapshot.entities, plan.columns)
        return checked_mapping(ctx, job.app, body["name"], body)

    def sheet(self, ctx: WriteContext, job: store.Job) -> Sheet:
        """The job's file, read again."""
        return read_sheet(*store.input_file(ctx.session, job.id))

    def preview(self, ctx: WriteContext, job: store.Job) -> list[dict[str, Any]]:
        """The first rows mapped (nothing written): per row its number, cells and per-column errors (errors
        not tied to a column under ``""``)."""
        mapping = self.compiled(ctx, job)
        sheet = self.sheet(ctx, job)
        rows, headers = sheet.rows[:PREVIEW_ROWS], set(sheet.headers)
        mapped = self.mappings.map_items(
            ctx, mapping, [r for _, r in rows], self.mappings.reader_lookups(ctx)
        )
        out = []
        for (number, cells), item in zip(rows, mapped, strict=True):
            errors: dict[str, list[str]] = {}
            for e in item.errors:
                errors.setdefault(e.source if e.source in headers else "", []).append(str(e.message))
            out.append({"row": number, "cells": cells, "errors": errors, "ok": item.ok})
        return out

    def start(self, ctx: WriteContext, job: store.Job) -> None:
        """Queue the job for the runner (its mapping checked first). :raises BadRequest: not ``new``"""
        self.compiled(ctx, self._new(job))
        store.queue(ctx.session, job.id, ImportPlan.of(job).rows)

    def save_draft(self, ctx: WriteContext, job: store.Job, name: str) -> str:
        """Keep the inferred mapping as a draft sheet mapping (app designers only); returns its name.

        :raises PermissionDenied: :raises DefinitionInvalid:"""
        from lowcode.auth.design_access import require_design

        require_design(self.permissions, ctx, job.app)
        plan = ImportPlan.of(job)
        target = ctx.snapshot.entity(job.app, plan.entity)
        body = mapping_for_columns(target, ctx.snapshot.entities, plan.columns, name)
        definitions.save_draft(ctx.session, job.app, "mapping", body["name"], body)
        return body["name"]

    def may_save_draft(self, ctx: WriteContext, app: str) -> bool:
        """Whether the actor designs the app (and so may keep an inferred mapping as a draft)."""
        return may_design_app(self.permissions, ctx, app)

    @staticmethod
    def _new(job: store.Job) -> store.Job:
        if job.status != store.NEW:
            raise BadRequest(Text("This import has already started"))
        return job
