"""The import job: applies a file's rows through a mapping, each row once, in chunks of :data:`CHUNK` rows.

Per-row, not all-or-nothing: each chunk is one write transaction as the job's owner (their grants and record
rules apply; every write through the record service, each row in its own savepoint - a refused row is rolled
back alone and reported). The chunk's writes, its part of the results file and the job's progress commit
together, so the job says exactly which rows were applied; a cancelled job stops at a chunk boundary, and a
job whose runner died resumes after the last committed chunk.

Idempotency: a row's key is the SHA-256 of the target entity and the row's cells (headers and values), kept
in ``lc_ingest_key`` (the inbound API's table and claim, :func:`lowcode.mappings.ingest.ingest_chunk`) under
``import:<entity>``: the same file imported again - or the same row in another file - answers "duplicate",
and a row repeated within one file is applied once. A rejected row's key is given back, so the corrected
row can be imported later. A changed row is new content: with a key column it updates the record.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import replace
from typing import Any

from lowcode.core.jsonutil import to_jsonable
from lowcode.imports.service import KIND, ImportPlan, ImportService
from lowcode.jobs.kinds import JobKind
from lowcode.jobs.runner import JobHandle
from lowcode.mappings.ingest import IngestItem, ingest_chunk
from lowcode.mappings.service import MappingService
from lowcode.runtime.export import escape_cell

CHUNK = 200
OUTCOMES = ("created", "updated", "duplicate", "rejected")
RESULT_HEADER = ["row", "outcome", "record_id", "errors"]


def row_key(entity: str, cells: dict[str, Any]) -> str:
    """A row's idempotency key: SHA-256 of the entity and its cells."""
    text = json.dumps([entity, to_jsonable(cells)], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _line(row: int, outcome: str, record_id: Any, errors: list[dict[str, Any]]) -> list[Any]:
    text = "; ".join(f"{e['source'] or e['field']}: {e['message']}".lstrip(": ") for e in errors)
    return [row, outcome, "" if record_id is None else record_id, escape_cell(text)]


def csv_part(lines: list[list[Any]], header: bool) -> bytes:
    """Result lines as CSV bytes (UTF-8 with a byte-order mark and the header on the first part)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(RESULT_HEADER)
    writer.writerows(lines)
    return (("\ufeff" if header else "") + buffer.getvalue()).encode("utf-8")


class ImportJob(JobKind):
    """Kind ``import``: a spreadsheet's rows through a mapping into records, with a per-row results file."""

    name = KIND

    def run(self, handle: JobHandle) -> str:
        """Apply the rows after ``progress_done`` chunk by chunk; returns the results file's name."""
        svc = handle.services
        mappings = MappingService(svc.records, svc.queries, svc.permissions)
        service = ImportService(svc.permissions, mappings)
        job = handle.job
        plan = ImportPlan.of(job)
        with handle.read() as ctx:
            sheet = service.sheet(ctx, job)
        keys = [row_key(plan.entity, cells) for _, cells in sheet.rows]
        first_at = {}
        for i, key in enumerate(keys):
            first_at.setdefault(key, i)
        counts = {k: int(job.counts.get(k, 0)) for k in OUTCOMES}
        total = len(sheet.rows)
        compiled: tuple[Any, Any] = (None, None)  # (snapshot, mapping): compiled again only after a publish
        for start in range(job.progress_done, total, CHUNK):
            with handle.chunk() as ctx:
                if compiled[0] is not ctx.snapshot:
                    scoped = replace(service.compiled(ctx, job), name=f"import:{plan.entity}"[:64])
                    compiled = (ctx.snapshot, scoped)
                mapping = compiled[1]
                lines = self._chunk(ctx, mappings, mapping, sheet.rows, keys, first_at, start, counts)
                done = min(start + CHUNK, total)
                part = (start // CHUNK, csv_part(lines, header=start == 0))
                handle.checkpoint(ctx, done, dict(counts), total, part)
        stem = plan.file_name.rsplit(".", 1)[0][:80]
        return f"{stem}-results.csv"

    @staticmethod
    def _chunk(ctx, mappings, mapping, rows, keys, first_at, start, counts) -> list[list[Any]]:
        items, repeated = [], {}
        for i in range(start, min(start + CHUNK, len(rows))):
            number, cells = rows[i]
            if first_at[keys[i]] != i:
                repeated[i] = rows[first_at[keys[i]]][0]
            else:
                items.append(IngestItem(i, keys[i], cells))
        answers = (
            {a["index"]: a for a in ingest_chunk(ctx, mappings, mapping, items, batched=True)}
            if items
            else {}
        )
        lines = []
        for i in range(start, min(start + CHUNK, len(rows))):
            number = rows[i][0]
            if i in repeated:
                counts["duplicate"] += 1
                message = {"source": "", "field": "", "message": f"the same as row {repeated[i]}"}
                lines.append(_line(number, "duplicate", None, [message]))
                continue
            answer = answers[i]
            outcome = answer["applied"] if answer["status"] == "accepted" else answer["status"]
            counts[outcome] += 1
            lines.append(_line(number, outcome, answer["id"], answer["errors"]))
        return lines
