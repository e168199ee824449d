"""Writing a sample into a sandbox through the record service, as the system actor: records in link order
(a record after the records it links to, so each link is mapped to the copy's new id), child rows with
their parent, personal fields masked. A link inside a cycle of links is written by an update once both
records exist. A record the sandbox refuses (a value its definitions no longer accept) is left out, and so
is every link to it; each refusal is reported. Computed values (formulas, rollups, serial numbers) are
computed again by the sandbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lowcode.errors import LowcodeError
from lowcode.runtime.compiler import CompiledEntity
from lowcode.runtime.context import WriteContext
from lowcode.sandbox.masking import masked_values
from lowcode.sandbox.sample import Ref, Sample, link_targets

MAX_REPORTED = 20
"""Refusals listed in a copy's report (the rest are counted)."""


@dataclass
class CopyReport:
    """What a copy wrote: records per entity, and the records it had to leave out with the reason."""

    copied: dict[str, int] = field(default_factory=dict)
    left_out: list[dict[str, Any]] = field(default_factory=list)
    left_out_count: int = 0

    def as_json(self) -> dict[str, Any]:
        """The report as the API returns it."""
        return {"copied": self.copied, "left_out": self.left_out, "left_out_count": self.left_out_count}


@dataclass
class _Copier:
    ctx: WriteContext
    records: Any
    app: str
    sample: Sample
    entities: Mapping[str, CompiledEntity]
    mask_key: bytes
    ids: dict[Ref, int] = field(default_factory=dict)
    versions: dict[Ref, int] = field(default_factory=dict)
    deferred: list[tuple[Ref, str, Ref]] = field(default_factory=list)
    report: CopyReport = field(default_factory=CopyReport)

    def order(self) -> list[Ref]:
        """Every sampled record after the records it links to (depth first; a link closing a cycle is
        deferred)."""
        done: set[Ref] = set()
        ordered: list[Ref] = []
        for name in sorted(self.sample.records):
            for record_id in sorted(self.sample.records[name]):
                if (name, record_id) not in done:
                    self._visit((name, record_id), done, set(), ordered)
        return ordered

    def _visit(self, ref: Ref, done: set[Ref], path: set[Ref], ordered: list[Ref]) -> None:
        stack: list[tuple[Ref, list[tuple[str, Ref]]]] = [(ref, self._links(ref))]
        path.add(ref)
        while stack:
            current, pending = stack[-1]
            if current in done:
                stack.pop()
                continue
            if not pending:
                done.add(current)
                ordered.append(current)
                path.discard(current)
                stack.pop()
                continue
            key, target = pending.pop()
            if target in done or not self.sample.has(target):
                continue
            if target in path:
                self.deferred.append((current, key, target))
                continue
            path.add(target)
            stack.append((target, self._links(target)))

    def _links(self, ref: Ref) -> list[tuple[str, Ref]]:
        """(field path, target) of a record's links and its child rows' links."""
        entity = self.entities[ref[0]]
        row = self.sample.records[ref[0]][ref[1]]
        found = [(key, (t, int(row[key]))) for key, t in link_targets(entity).items() if row.get(key)]
        for child_key, rows in self.sample.children.get(ref[0], {}).get(ref[1], {}).items():
            child = self.entities[entity.fields[child_key].fdef.options["entity"]]
            for i, child_row in enumerate(rows):
                found.extend(
                    (f"{child_key}.{i}.{key}", (t, int(child_row[key])))
                    for key, t in link_targets(child).items()
                    if child_row.get(key)
                )
        return found

    def values(self, entity: CompiledEntity, row: Mapping[str, Any], skip: set[str]) -> dict[str, Any]:
        """A row's writable values as input (each dumped by its type), links mapped, personal data masked."""
        targets = link_targets(entity)
        out: dict[str, Any] = {}
        for cf in entity.writable:
            value = row.get(cf.name)
            if cf.name in targets and value is not None:
                value = None if cf.name in skip else self.ids.get((targets[cf.name], int(value)))
            out[cf.name] = cf.ftype.dump(cf.fdef, value)
        return masked_values({cf.name: cf.fdef for cf in entity.writable}, out, self.mask_key)

    def data(self, ref: Ref) -> dict[str, Any]:
        """The create input of a sampled record (its deferred links left empty)."""
        entity = self.entities[ref[0]]
        skip = {key for source, key, _t in self.deferred if source == ref and "." not in key}
        data = self.values(entity, self.sample.records[ref[0]][ref[1]], skip)
        for child_key, rows in self.sample.children.get(ref[0], {}).get(ref[1], {}).items():
            child = self.entities[entity.fields[child_key].fdef.options["entity"]]
            data[child_key] = [self.values(child, r, set()) for r in rows]
        return data

    def write(self, ref: Ref) -> None:
        """Create the copy of one record (in a savepoint: a refusal leaves nothing behind)."""
        try:
            with self.ctx.session.begin_nested():
                created = self.records.create(self.ctx, self.app, ref[0], self.data(ref))
        except LowcodeError as exc:
            self.refused(ref, exc)
            return
        self.ids[ref] = created["id"]
        self.versions[ref] = created["version"]
        self.report.copied[ref[0]] = self.report.copied.get(ref[0], 0) + 1

    def link_deferred(self) -> None:
        """Write the links that closed cycles, now that both ends exist."""
        for source, key, target in self.deferred:
            if source not in self.ids or target not in self.ids or "." in key:
                continue
            try:
                with self.ctx.session.begin_nested():
                    changes = {key: self.ids[target]}
                    updated = self.records.update(
                        self.ctx, self.app, source[0], self.ids[source], changes, self.versions[source]
                    )
            except LowcodeError as exc:
                self.refused(source, exc)
                continue
            self.versions[source] = updated["version"]

    def refused(self, ref: Ref, exc: LowcodeError) -> None:
        """Count a record the sandbox refused (and list the first few)."""
        self.report.left_out_count += 1
        if len(self.report.left_out) < MAX_REPORTED:
            self.report.left_out.append(
                {"entity": ref[0], "id": ref[1], "reason": str(exc.message), "fields": exc.fields}
            )


def copy_sample(
    ctx: WriteContext,
    records: Any,
    app: str,
    sample: Sample,
    entities: Mapping[str, CompiledEntity],
    mask_key: bytes,
) -> CopyReport:
    """Create the sample's records in ``app`` (its entities compiled in ``entities``, by name) through the
    record service ``records`` in ``ctx`` (the system actor, a snapshot with the sandbox's entities)."""
    copier = _Copier(ctx, records, app, sample, entities, mask_key)
    for ref in copier.order():
        copier.write(ref)
    copier.link_deferred()
    return copier.report
