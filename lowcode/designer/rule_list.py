"""The rules of an app in the designer: ``/design/<app>/rules`` lists them (entity, trigger, draft or published,
enabled, failed runs one click away), makes a new one (a name, a label, its entity and its first action from
the palette) and deletes one never published (a published rule is kept: its versions are history)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.core.models import RuleRunEntry
from lowcode.definitions import store
from lowcode.designer.app_designer import posted_key
from lowcode.designer.blueprint import bp, design_work
from lowcode.designer.labels import rule_action_label
from lowcode.designer.panels import read_label
from lowcode.designer.rule_checks import save_errors
from lowcode.designer.rule_designer import action_plugin
from lowcode.designer.rule_edits import new_rule, starter_action
from lowcode.designer.rule_page import EVENT_LABELS, KIND
from lowcode.errors import DefinitionInvalid
from lowcode.rules.actions.base import rule_actions


def _failures(session, app: str) -> dict[str, int]:
    """How many runs of each rule of the app did not end ``ok``."""
    query = (
        sa.select(RuleRunEntry.rule, sa.func.count())
        .where(RuleRunEntry.app == app, RuleRunEntry.outcome != "ok")
        .group_by(RuleRunEntry.rule)
    )
    return {rule: count for rule, count in session.execute(query)}


def _trigger_text(body: dict) -> str:
    if "schedule" in body:
        return _("every %(cron)s", cron=(body.get("schedule") or {}).get("cron", ""))
    trigger = body.get("trigger") or {}
    events = ", ".join(str(EVENT_LABELS.get(e, e)) for e in trigger.get("events") or ())
    phase = _("before") if trigger.get("phase") == "before" else _("after")
    return f"{phase}: {events}"


@bp.get("/<app>/rules")
def rules(app: str):
    """The app's rules with their state, and the form of a new rule."""
    with design_work(app) as dc:
        ws = dc.workspace
        failures = _failures(dc.ctx.session, app)
        rows = [
            {
                "name": n,
                "label": ws.label(b, n),
                "entity": b.get("entity", ""),
                "entity_label": ws.label(ws.entities().get(b.get("entity")) or {}, b.get("entity", "")),
                "trigger": _trigger_text(b),
                "enabled": b.get("enabled", True) is not False,
                "pending": ws.pending(KIND, n),
                "published": n in ws.published.get(KIND, {}),
                "failures": failures.get(n, 0),
            }
            for n, b in sorted((ws.docs.get(KIND) or {}).items())
        ]
        entities = [(n, ws.label(b, n)) for n, b in sorted(ws.entities().items()) if not b.get("child")]
        palette = [(key, rule_action_label(key)) for key in rule_actions]
        return render_template("designer/rules.html", app=app, rules=rows, entities=entities, palette=palette)


@bp.post("/<app>/rules")
def create_rule(app: str):
    """A new rule as a draft (its first action from the palette), opened in the rule designer."""
    with design_work(app) as dc:
        name = posted_key()
        if name in (dc.workspace.docs.get(KIND) or {}):
            raise DefinitionInvalid(_("This app already has a rule with that name"), {"name": [name]})
        entity = request.form.get("entity", "")
        if entity not in dc.workspace.entities():
            raise DefinitionInvalid(_("Choose a table of this app"), {"entity": [entity or "-"]})
        plugin = action_plugin(request.form.get("type", ""))
        first = starter_action(plugin, dc.workspace.choices_for(entity))
        body = new_rule(name, read_label(request.form, "label"), entity, first)
        errors = save_errors(body)
        if errors:
            raise DefinitionInvalid(_("The rule cannot start with this action"), errors)
        dc.history.create(KIND, name, body, f"created rule {name}")
        dc.audit(KIND, name, "created")
    return redirect(url_for("designer.rule", app=app, name=name, action="0"), code=303)


@bp.post("/<app>/rule/<name>/delete")
def delete_rule(app: str, name: str):
    """Delete a rule that was never published (a published one answers 400: disable it instead)."""
    with design_work(app) as dc:
        store.delete_unpublished(dc.ctx.session, app, KIND, name)
        dc.audit(KIND, name, "deleted")
    return redirect(url_for("designer.rules", app=app), code=303)
