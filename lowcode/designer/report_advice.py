"""The index advice on a report's designer page: shown when the draft's preview ran slower than
``REPORT_SLOW_MS``, when a published run of the report was noted as slow (:class:`lowcode.reports.index_advice.
SlowRuns`), or on request (``?advice=1``). Each proposal posts to the entity designer's index route, which adds
it to the entity's draft and comes back here (``report``); the app's publish builds it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request, url_for

from lowcode.designer.blueprint import DesignContext
from lowcode.reports.index_advice import advise
from lowcode.reports.model import CompiledReport
from lowcode.reports.params import read_params
from lowcode.reports.service import ReportService


def advice_model(
    dc: DesignContext,
    service: ReportService,
    compiled: CompiledReport,
    given: Mapping[str, Any],
    preview_ms: float | None,
    slow_runs,
) -> dict[str, Any]:
    """What the page shows: the link asking for advice, or the plan and the proposals (each with the
    entity's draft step to post on)."""
    app, name = dc.workspace.app, compiled.name
    slowest = slow_runs.slowest(app, name)
    slow = preview_ms is not None and slow_runs.threshold_ms > 0 and preview_ms >= slow_runs.threshold_ms
    model: dict[str, Any] = {
        "url": url_for("designer.report", app=app, name=name, **{**request.args.to_dict(), "advice": 1}),
        "slowest_ms": None if slowest is None else round(slowest),
        "preview_ms": None if preview_ms is None else round(preview_ms),
        "shown": False,
    }
    if not (request.args.get("advice") or slow or slowest is not None):
        return model
    values = read_params(compiled.params, given, dc.ctx.now.date())
    advice = advise(dc.ctx.session, compiled, service.query(dc.ctx, compiled, values))
    proposals = [
        {
            "entity": p.entity,
            "fields": list(p.fields),
            "base": dc.history.state("entity", p.entity).seq,
        }
        for p in advice.proposals
    ]
    model.update(shown=True, plan=list(advice.plan), proposals=proposals)
    return model
