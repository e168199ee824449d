"""Rules on the record page: the record's rule runs under its history, and (administrators) a dry-run form.

The form posts (htmx) to ``/a/<app>/<entity>/<id>/dry-run``: one rule of the entity (or all of them) is run
against the record with the changes entered as JSON, in a transaction that is rolled back
(:mod:`lowcode.rules.dryrun`), and the would-be outcome is rendered in place.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _

from lowcode.api.edge import services, unit_of_work
from lowcode.core.jsonutil import loads_exact
from lowcode.errors import BadRequest
from lowcode.pages.blueprint import bp
from lowcode.pages.i18n import current_language
from lowcode.pages.rulenames import rule_label
from lowcode.pages.viewmodels import top_entity
from lowcode.rules.dryrun import dry_run
from lowcode.rules.runlog import runs
from lowcode.runtime.context import WriteContext

RUNS_SHOWN = 50


def outcome_label(outcome: str) -> str:
    """The outcome of a run in the page's language."""
    labels = {
        "ok": _("Done"),
        "refused": _("Refused"),
        "invalid": _("Invalid"),
        "skipped": _("Skipped"),
        "error": _("Failed"),
    }
    return labels.get(outcome, outcome)


def rule_runs_model(ctx: WriteContext, app: str, entity: str, record_id: int, language: str) -> list[dict]:
    """The record's latest rule runs, newest first."""
    return [
        {
            "at": e.at.strftime("%Y-%m-%d %H:%M:%S") if e.at else "",
            "rule": rule_label(ctx, app, e.rule, language),
            "trigger": e.trigger,
            "outcome": e.outcome,
            "outcome_label": outcome_label(e.outcome),
            "message": e.message,
            "duration": f"{e.duration_ms:.1f} ms",
            "actions": list(e.actions or []),
        }
        for e in runs(ctx.session, app, entity=entity, record_id=record_id, limit=RUNS_SHOWN)
    ]


def dry_run_form_model(
    ctx: WriteContext, app: str, entity: str, record_id: int, language: str
) -> dict | None:
    """The dry-run form of the record page: for administrators only (None for everyone else)."""
    if not ctx.actor.is_admin:
        return None
    rules = sorted(
        (r for (a, _n), r in ctx.snapshot.rulebook.all.items() if a == app and r.entity == entity),
        key=lambda r: (r.phase is None, r.order, r.name),
    )
    return {
        "url": url_for("pages.dry_run_record", app=app, entity=entity, record_id=record_id),
        "rules": [
            {
                "name": r.name,
                "label": rule_label(ctx, app, r.name, language),
                "kind": r.phase or "schedule",
                "enabled": r.definition.get("enabled", True) is not False,
            }
            for r in rules
        ],
    }


def detail_rules_model(
    ctx: WriteContext, app: str, entity: str, record_id: int, language: str
) -> dict[str, Any] | None:
    """What the record page shows about rules: ``runs`` and ``dry_run`` (the form, or None); None for readers
    who may not configure the app (rule runs are the configurer's tool, not the business user's)."""
    if not services().permissions.may_configure(ctx.actor, top_entity(ctx, app, entity)):
        return None
    return {
        "runs": rule_runs_model(ctx, app, entity, record_id, language),
        "dry_run": dry_run_form_model(ctx, app, entity, record_id, language),
    }


@bp.post("/a/<app>/<entity>/<int:record_id>/dry-run")
def dry_run_record(app: str, entity: str, record_id: int):
    """Run a rule (or every rule of the entity) against the record with the posted changes; nothing is saved."""
    text = request.form.get("changes", "").strip() or "{}"
    rule = request.form.get("rule") or None
    cascade = request.form.get("cascade") == "1"
    full = request.headers.get("HX-Request") != "true"
    with unit_of_work(write=True, source="page") as ctx:
        services().permissions.authorize_platform(ctx.actor, "dry-run rules")
        top_entity(ctx, app, entity)
        try:
            changes = loads_exact(text, services().settings["MAX_JSON_DEPTH"])
            if not isinstance(changes, dict):
                raise BadRequest("not an object")
        except BadRequest:
            page = render_template(
                "pages/_dryrun_result.html",
                full=full,
                error=_("Changes must be a JSON object of field values."),
            )
            return page, 422
        result = dry_run(services(), ctx, app, entity, record_id, changes, rule=rule, cascade=cascade)
        language = current_language()
        for run in result["runs"]:
            run["label"] = rule_label(ctx, app, run["rule"], language)
            run["outcome_label"] = outcome_label(run["outcome"])
    result["outcome_label"] = outcome_label(result["outcome"])
    back = url_for("pages.detail", app=app, entity=entity, record_id=record_id)
    return render_template("pages/_dryrun_result.html", full=full, r=result, back=back)
