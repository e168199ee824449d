"""The rule designer's tries and log: the record picker of the rule's entity, the dry run of the DRAFT rule on
a picked record (or a new one), and the rule's run log with its failures.

- ``GET /design/<app>/rule/<name>/records?q=&after=``: the link picker's JSON (``pages/picker.py``'s
  ``options_page``) over the rule's entity, read through the query service as the designer (record rules
  and hidden fields apply).
- ``POST /design/<app>/rule/<name>/dry-run``: the write (the record's update with the posted changes, or a
  create without a record) run with only this rule's draft enabled on its entity, in a savepoint that is
  rolled back (:mod:`lowcode.rules.dryrun`): the records it would change field by field, the refusals,
  the rules that ran. Records outside the designer's record rules are shown without ids or values.
"""

from __future__ import annotations

import dataclasses

from flask import jsonify, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.api.edge import services
from lowcode.core.numbers import digits_to_int
from lowcode.designer.blueprint import DesignContext, bp, design_work
from lowcode.designer.rule_checks import publish_problems, save_errors, with_draft_rule
from lowcode.errors import BadRequest, LowcodeError
from lowcode.pages.dryrun import outcome_label
from lowcode.pages.i18n import current_language
from lowcode.pages.picker import MAX_QUERY, options_page
from lowcode.pages.rulenames import rule_label
from lowcode.rules.dryrun import dry_run
from lowcode.rules.runlog import runs

KIND = "rule"
RUNS_SHOWN = 20
MAX_CHANGES = 20


def runs_model(dc: DesignContext, name: str, failed_only: bool) -> list[dict]:
    """The rule's latest runs (or only those that did not end ``ok``), newest first, each linking to its
    record."""
    app = dc.workspace.app
    found = runs(dc.ctx.session, app, rule=name, limit=RUNS_SHOWN, failed_only=failed_only)
    return [
        {
            "at": e.at.strftime("%Y-%m-%d %H:%M:%S") if e.at else "",
            "entity": e.entity,
            "record_id": e.record_id,
            "url": url_for("pages.detail", app=app, entity=e.entity, record_id=e.record_id)
            if e.record_id and (app, e.entity) in dc.ctx.snapshot.entities
            else None,
            "trigger": e.trigger,
            "outcome": e.outcome,
            "outcome_label": outcome_label(e.outcome),
            "message": e.message,
            "actions": list(e.actions or []),
        }
        for e in found
    ]


@bp.get("/<app>/rule/<name>/records")
def rule_records(app: str, name: str):
    """The record picker's options: records of the rule's entity matching ``q``, a page at a time."""
    q = request.args.get("q", "").strip()
    if len(q) > MAX_QUERY:
        raise BadRequest(f"The search text is longer than {MAX_QUERY} characters")
    after = request.args.get("after") or None
    with design_work(app) as dc:
        rule = dc.history.state(KIND, name).body
        entity = dc.ctx.snapshot.entities.get((app, rule["entity"]))
        if entity is None or entity.is_child:
            raise BadRequest(f"Table '{rule['entity']}' is not published yet: it has no records")
        services().permissions.authorize(dc.ctx.actor, entity, "read")
        body = options_page(dc.ctx, entity, q, after, current_language())
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _changes(form) -> dict[str, str]:
    """The posted changes: rows of ``change_field`` and ``change_value`` (blank fields left out)."""
    names, values = form.getlist("change_field"), form.getlist("change_value")
    if len(names) > MAX_CHANGES:
        raise BadRequest(f"At most {MAX_CHANGES} changes")
    return {n.strip(): v for n, v in zip(names, values, strict=False) if n.strip()}


@bp.post("/<app>/rule/<name>/dry-run")
def rule_dry_run(app: str, name: str):
    """Run the draft rule on the picked record (or a new one) with the posted changes; nothing is saved."""
    full = request.headers.get("HX-Request") != "true"
    with design_work(app) as dc:
        rule = dc.history.state(KIND, name).body
        raw_id = (request.form.get("record_id") or "").strip()
        record_id = digits_to_int(raw_id) if raw_id else None
        if raw_id and not record_id:
            raise BadRequest("record_id must be a record's id")
        changes = _changes(request.form)
        docs = {**dc.workspace.docs, KIND: {**dc.workspace.docs.get(KIND, {}), name: rule}}
        problems = save_errors(rule) or publish_problems(rule, docs, services().settings)
        if problems:
            lines = "; ".join(f"{path or name}: {', '.join(m)}" for path, m in problems.items())
            message = _("Fix the rule before trying it: %(problems)s", problems=lines)
            return render_template("pages/_dryrun_result.html", full=full, error=message), 422
        try:
            snapshot = with_draft_rule(dc.ctx.snapshot, app, rule)
        except LowcodeError as exc:
            if isinstance(exc, BadRequest):
                raise
            return render_template("pages/_dryrun_result.html", full=full, error=exc.message), 422
        trial = dataclasses.replace(dc.ctx, snapshot=snapshot)
        result = dry_run(services(), trial, app, rule["entity"], record_id, changes, rule=name)
        language = current_language()
        for run in result["runs"]:
            run["label"] = rule_label(dc.ctx, app, run["rule"], language)
            run["outcome_label"] = outcome_label(run["outcome"])
        dc.audit(KIND, name, "dry run", record_id=record_id)
    result["outcome_label"] = outcome_label(result["outcome"])
    return render_template("pages/_dryrun_result.html", full=full, r=result, back=None)
