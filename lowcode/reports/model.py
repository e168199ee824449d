"""A report definition compiled against an app's entities: its parameters, filter, dimensions, measures,
sort, top-N and pivot, each field path resolved (:mod:`lowcode.reports.paths`). The publish check and the
snapshot use the same :func:`compile_report`, so what publishes is what runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lowcode.conditions import Condition
from lowcode.errors import ExpressionSyntaxError, LowcodeError
from lowcode.expressions import Expression, compile_expression
from lowcode.reports.ages import Ages, ages_from_doc
from lowcode.reports.compare_spec import compile_compare
from lowcode.reports.highlights import highlights
from lowcode.reports.params import Param, param_from_doc
from lowcode.reports.paths import FieldPath, PathError, Shapes, resolve_path
from lowcode.reports.report_conditions import compile_condition, compile_having, having_problems

NUMBER_KINDS = frozenset({"integer", "decimal"})
ORDERED_KINDS = NUMBER_KINDS | {"date", "datetime", "text"}
AGGREGATES = {
    "sum": NUMBER_KINDS,
    "avg": NUMBER_KINDS,
    "min": ORDERED_KINDS,
    "max": ORDERED_KINDS,
    "count": None,
    "count_distinct": None,
}
"""Aggregate -> the field kinds it applies to (None: any field, or none for ``count``)."""
DUPLICATE_SAFE = frozenset({"count_distinct", "min", "max"})
"""Aggregates a join to child rows cannot inflate (each record counted once per child row)."""
DATE_KINDS = frozenset({"date", "datetime"})


class ReportInvalid(LowcodeError):
    """A report that does not fit the app's entities; ``fields`` maps JSON paths to messages."""

    code = "definition_invalid"


@dataclass(frozen=True)
class Dimension:
    """A group-by: a field path, optionally bucketed by period."""

    name: str
    label: Any
    path: FieldPath
    bucket: str | None
    ages: Ages | None = None
    """``bucket: age``: the bands of days before the as-of date (:mod:`lowcode.reports.ages`)."""


@dataclass(frozen=True)
class Measure:
    """An aggregate over a field path (``path`` None: count of records) or a formula over other measures."""

    name: str
    label: Any
    agg: str | None
    path: FieldPath | None
    formula: Expression | None = None
    scale: int = 2
    suffix: str = ""
    highlight: str | None = None
    """A predicate of :mod:`lowcode.reports.highlights` marking cells (``nonzero``)."""
    where: Condition | None = None
    """A filtered measure: only the rows meeting it are aggregated (``where_doc`` as written)."""
    where_doc: Mapping[str, Any] | None = None
    where_paths: Mapping[str, FieldPath] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledReport:
    """A report ready to run (see :class:`~lowcode.reports.service.ReportService`)."""

    app: str
    name: str
    label: Any
    source: str
    version: int
    params: tuple[Param, ...]
    filter_doc: Mapping[str, Any] | None
    filter: Condition | None
    filter_paths: Mapping[str, FieldPath]
    dimensions: tuple[Dimension, ...]
    measures: tuple[Measure, ...]
    sort: tuple[tuple[str, bool], ...]
    top: Mapping[str, Any] | None
    pivot: str | None
    totals: bool
    subtotals: bool
    definition: Mapping[str, Any] = field(default_factory=dict)
    parent_path: FieldPath | None = None
    """A child table's report: the path to the record holding each row (its rules and deletion apply)."""
    compare: CompiledReport | None = None
    """A second source matched on the dimensions (:mod:`lowcode.reports.compare`)."""
    having: Condition | None = None
    """Groups kept by their plain measures (SQL ``HAVING``)."""

    @property
    def row_dimensions(self) -> tuple[Dimension, ...]:
        """The dimensions shown as rows (all but the pivot)."""
        return tuple(d for d in self.dimensions if d.name != self.pivot)

    @property
    def pivot_dimension(self) -> Dimension | None:
        """The dimension shown as columns, if any."""
        return next((d for d in self.dimensions if d.name == self.pivot), None)

    @property
    def shown_measures(self) -> tuple[Measure, ...]:
        """The measures a result shows: the report's and its second source's."""
        return self.measures + (self.compare.measures if self.compare is not None else ())

    @property
    def paths(self) -> list[FieldPath]:
        """Every field path the report reads."""
        found = [d.path for d in self.dimensions] + [m.path for m in self.measures if m.path is not None]
        found += [p for m in self.measures for p in m.where_paths.values()]
        return found + list(self.filter_paths.values())

    def param(self, name: str) -> Param | None:
        """A declared parameter by name."""
        return next((p for p in self.params if p.name == name), None)


class _Errors(dict):
    def add(self, path: str, message: str) -> None:
        self.setdefault(path, []).append(message)


def compile_report(
    app: str, body: Mapping[str, Any], shapes: Shapes, names: list[str], version: int = 0
) -> CompiledReport:
    """Bind a report body (valid against its JSON Schema) to the app's entities.

    :raises ReportInvalid: with every problem at its JSON path (relative to the report)."""
    errors = _Errors()
    source = body["source"]
    if shapes.fields_of(source) is None:
        errors.add("source", f"unknown entity '{source}'")
        raise ReportInvalid(f"report '{body['name']}' does not fit the app", fields=dict(errors))

    def path(text: str, where: str) -> FieldPath | None:
        try:
            return resolve_path(text, source, shapes, names)
        except PathError as exc:
            errors.add(where, str(exc))
            return None

    parent = path("parent.id", "source") if source in shapes.child_entities else None
    other = compile_compare(compile_report, app, body, shapes, names, version, errors)
    params = _params(body, shapes, errors)
    dims = _dimensions(body, path, errors, {p.name for p in params if p.type == "date"})
    measures = _measures(body, path, errors, [m.name for m in other.measures] if other else [], params)
    cond, filter_paths = _filter(body, params, path, errors)
    _check_names(dims, measures, body, errors)
    _check_fan_out(dims, measures, filter_paths, errors)
    having = compile_having(body.get("having"), measures, params, errors)
    for where, message in having_problems(body).items():
        errors.add(where, message)
    if errors:
        raise ReportInvalid(f"report '{body['name']}' does not fit the app", fields=dict(errors))
    return CompiledReport(
        app,
        body["name"],
        body.get("label"),
        source,
        version,
        params,
        body.get("filter"),
        cond,
        filter_paths,
        tuple(dims),
        tuple(measures),
        tuple((s["by"], bool(s.get("descending"))) for s in body.get("sort", [])),
        body.get("top"),
        body.get("pivot"),
        body.get("totals", True),
        body.get("subtotals", False),
        body,
        parent,
        other,
        having,
    )


def _params(body, shapes: Shapes, errors: _Errors) -> tuple[Param, ...]:
    params = []
    for i, doc in enumerate(body.get("params", [])):
        try:
            params.append(param_from_doc(doc))
        except ValueError as exc:
            errors.add(f"params/{i}", str(exc))
            continue
        if doc["type"] == "link" and shapes.fields_of(doc.get("entity", "")) is None:
            errors.add(f"params/{i}/entity", f"unknown entity '{doc.get('entity')}'")
    return tuple(params)


def _dimensions(body, path, errors: _Errors, date_params: set[str]) -> list[Dimension]:
    dims = []
    for i, doc in enumerate(body.get("dimensions", [])):
        found = path(doc["field"], f"dimensions/{i}/field")
        if found is None:
            continue
        ages, problems = ages_from_doc(doc, date_params)
        for key, message in problems.items():
            errors.add(f"dimensions/{i}/{key}", message)
        bucket = doc.get("bucket")
        if bucket and found.kind not in DATE_KINDS:
            errors.add(f"dimensions/{i}/bucket", f"'{doc['field']}' is not a date: it has no {bucket}s")
        elif found.kind is None:
            errors.add(f"dimensions/{i}/field", f"'{doc['field']}' cannot be grouped")
        dims.append(Dimension(doc["name"], doc.get("label"), found, bucket, ages))
    return dims


def _measures(body, path, errors: _Errors, others: list[str], params) -> list[Measure]:
    """The measures (``others``: measure names of a second source, which formulas may use too)."""
    measures: list[Measure] = []
    for i, doc in enumerate(body.get("measures", [])):
        highlight = doc.get("highlight")
        if highlight is not None and highlight not in highlights:
            errors.add(
                f"measures/{i}/highlight", f"unknown highlight '{highlight}' ({', '.join(highlights.keys())})"
            )
        if "formula" in doc:
            try:
                expr = compile_expression(doc["formula"])
            except ExpressionSyntaxError as exc:
                errors.add(f"measures/{i}/formula", str(exc))
                continue
            known = {m.name for m in measures} | set(others)
            for name in sorted(expr.names - known):
                errors.add(f"measures/{i}/formula", f"'{name}' is not a measure defined before this one")
            measures.append(
                Measure(
                    doc["name"],
                    doc.get("label"),
                    None,
                    None,
                    expr,
                    doc.get("scale", 2),
                    doc.get("suffix", ""),
                    highlight,
                )
            )
            continue
        agg, text = doc["agg"], doc.get("field")
        where, where_paths = compile_condition(doc.get("where"), f"measures/{i}/where", params, path, errors)
        filtered = dict(highlight=highlight, where=where, where_doc=doc.get("where"), where_paths=where_paths)
        if text is None:
            if agg != "count":
                errors.add(f"measures/{i}/field", f"'{agg}' needs a field")
            measures.append(Measure(doc["name"], doc.get("label"), agg, None, **filtered))
            continue
        found = path(text, f"measures/{i}/field")
        if found is None:
            continue
        kinds = AGGREGATES[agg]
        if kinds is not None and found.kind not in kinds:
            errors.add(
                f"measures/{i}/agg", f"'{agg}' does not apply to '{text}' ({found.kind or 'no value'})"
            )
        measures.append(Measure(doc["name"], doc.get("label"), agg, found, **filtered))
    return measures


def _filter(body, params: tuple[Param, ...], path, errors: _Errors):
    return compile_condition(body.get("filter"), "filter", params, path, errors)


def _check_names(dims: list[Dimension], measures: list[Measure], body, errors: _Errors) -> None:
    seen: set[str] = set()
    for i, name in enumerate(
        [d["name"] for d in body.get("dimensions", [])] + [m["name"] for m in body["measures"]]
    ):
        if name in seen:
            errors.add(
                "dimensions" if i < len(body.get("dimensions", [])) else "measures",
                f"'{name}' is named twice",
            )
        seen.add(name)
    plain = {m.name for m in measures if m.formula is None}
    formulas = {m.name for m in measures if m.formula is not None}
    dim_names = {d.name for d in dims}
    for i, key in enumerate(body.get("sort", [])):
        if key["by"] in formulas:
            errors.add(f"sort/{i}/by", f"sorting by the formula '{key['by']}' is not supported")
        elif key["by"] not in plain | dim_names:
            errors.add(f"sort/{i}/by", f"'{key['by']}' is not a dimension or measure")
    top, pivot = body.get("top"), body.get("pivot")
    if pivot is not None and pivot not in dim_names:
        errors.add("pivot", f"'{pivot}' is not a dimension")
    if top is not None:
        if top["by"] not in plain:
            errors.add("top/by", f"'{top['by']}' is not a measure (formulas cannot rank)")
        if not [d for d in dims if d.name != pivot]:
            errors.add("top", "top-N needs a dimension shown as rows")


def _check_fan_out(dims, measures, filter_paths, errors: _Errors) -> None:
    """A join to child rows repeats each record once per row: sums and counts of the record's own fields would
    be inflated, so only duplicate-safe aggregates may read them."""
    paths = [d.path for d in dims] + [m.path for m in measures if m.path] + list(filter_paths.values())
    paths += [p for m in measures for p in m.where_paths.values()]
    if not any(p.to_many for p in paths):
        return
    for i, m in enumerate(measures):
        if m.agg and m.agg not in DUPLICATE_SAFE and m.path is not None and not m.path.to_many:
            errors.add(
                f"measures/{i}/agg",
                f"'{m.agg}' of '{m.path.text}' would count each record once per child row "
                "(use count_distinct, min, max, or a report over the child table)",
            )
