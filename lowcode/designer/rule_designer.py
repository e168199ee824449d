"""The rule designer: ``/design/<app>/rule/<name>`` - the trigger (events, phase, fields changed, workflow
transitions or a field's change, or a schedule) with its condition built in the condition builder, the ordered
actions added from the palette of every registered action (nested in loops), each edited in a property panel
generated from its JSON Schema, reordered with up/down and removed; expressions checked as you type. Every
change is a step of the draft (:mod:`lowcode.designer.history`: undo, redo, 409 on a stale ``base``), audited,
and refused with its errors at their JSON paths when it does not hold (:mod:`lowcode.designer.rule_checks`).
Only the app's designers reach it (:func:`lowcode.designer.blueprint.design_work` on the app)."""

from __future__ import annotations

import copy
from collections.abc import Callable

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from lowcode.definitions.checks import AppDocuments
from lowcode.designer.blueprint import DesignContext, bp, design_work, posted_base
from lowcode.designer.condition_posts import Parsed
from lowcode.designer.conditions import ConditionBuilder
from lowcode.designer.rule_checks import expression_check, save_errors
from lowcode.designer.rule_edits import (
    AT,
    action_at,
    action_panel_schema,
    add_action,
    holds_actions,
    move_action,
    remove_action,
    starter_action,
    update_action,
    update_trigger,
)
from lowcode.designer.rule_page import KIND, render_rule
from lowcode.designer.rule_widgets import Place, read_widgets
from lowcode.errors import BadRequest, DefinitionInvalid, NotFound, UnknownType
from lowcode.rules.actions.base import RuleAction, rule_actions

Change = Callable[[DesignContext, dict], tuple[dict, str, "str | None"]]
"""An edit: (context, draft body) -> (new body, summary, the action whose panel opens after it)."""


def action_plugin(kind: str) -> RuleAction:
    """The registered action of type ``kind``. :raises BadRequest: an unknown type."""
    try:
        return rule_actions.get(kind)
    except UnknownType as exc:
        raise BadRequest(exc.message) from exc


def _at(name: str = "at") -> str:
    at = request.form.get(name, "")
    if not AT.match(at):
        raise BadRequest(f"The change names no action ('{name}', such as 2 or 2/actions/0)")
    return at


@bp.get("/<app>/rule/<name>")
def rule(app: str, name: str):
    """The rule designer (``action``: the action whose panel is open; ``runs=failed``: failures only)."""
    with design_work(app) as dc:
        return render_rule(
            dc, name, selected=request.args.get("action"), failed_only=request.args.get("runs") == "failed"
        )


class _Refused(Exception):
    """A change refused before it is saved: the page is drawn again with ``options`` (errors, what was
    posted)."""

    def __init__(self, **options):
        super().__init__("refused")
        self.options = options


def _save(app: str, name: str, change: Change, anchor: str = "actions"):
    """Apply ``change`` to the draft: a change that does not hold shows the page again with every error at its
    path, nothing saved; a stale ``base`` is a 409."""
    with design_work(app) as dc:
        base = posted_base()
        body = dc.history.state(KIND, name).body
        try:
            new, summary, selected = change(dc, body)
        except KeyError as exc:
            raise NotFound(f"No action at '{exc.args[0]}' in rule '{name}'") from None
        except _Refused as refused:
            return render_rule(dc, name, 422, **refused.options)
        errors = save_errors(new)
        if errors:
            return render_rule(dc, name, 422, selected=selected, errors=errors, shown=new)
        try:
            with dc.ctx.session.begin_nested():
                dc.history.edit(KIND, name, base, new, summary)
        except DefinitionInvalid as exc:
            return render_rule(dc, name, 422, selected=selected, errors=exc.fields, shown=new)
        dc.audit(KIND, name, summary)
        target = url_for("designer.rule", app=app, name=name, action=selected)
        return redirect(f"{target}#{anchor}", code=303)


@bp.post("/<app>/rule/<name>/trigger")
def rule_trigger(app: str, name: str):
    """Save the trigger (or schedule), its condition from the condition builder, label, enabled and order."""

    def change(dc, body):
        builder = ConditionBuilder.for_entity(
            AppDocuments(dc.workspace.docs), body["entity"], dc.workspace.language
        )
        parsed = builder.parse(request.form, "condition")
        old = builder.parse(request.form, "old_condition")
        if "c:old_condition/mode" not in request.form:  # a post without that builder keeps it
            old = Parsed((body.get("trigger") or {}).get("old_condition"), {})
        new = update_trigger(body, request.form, parsed.doc, old.doc)
        if parsed.errors or old.errors:
            raise _Refused(shown=new, condition_errors={**parsed.errors, **old.errors})
        return new, "changed the trigger", None

    return _save(app, name, change, "trigger")


@bp.post("/<app>/rule/<name>/actions")
def rule_add_action(app: str, name: str):
    """Add an action of the posted ``type`` at the end of the rule, or inside the loop at ``into``."""

    def change(dc, body):
        plugin = action_plugin(request.form.get("type", ""))
        into = request.form.get("into", "")
        if into:
            if not AT.match(into):
                raise BadRequest("'into' names no action (such as 2 or 2/actions/0)")
            loop = action_at(body, into)
            if not holds_actions(action_plugin(loop.get("type", ""))):
                raise BadRequest(f"The action at '{into}' holds no actions")
        action = starter_action(plugin, dc.workspace.choices_for(body["entity"]))
        new, at = add_action(body, into, action)
        return new, f"added action {plugin.type} at {at}", at

    return _save(app, name, change)


@bp.post("/<app>/rule/<name>/action")
def rule_update_action(app: str, name: str):
    """Save the property panel of the action at ``at``."""

    def change(dc, body):
        at = _at()
        action = action_at(body, at)
        plugin = action_plugin(action.get("type", ""))
        target = request.form.get("p:entity")  # the loop's or write's table, as posted
        place = Place(dc.workspace, body, at, {**action, "entity": target} if target else action)
        extra, problems = read_widgets(place, action_panel_schema(plugin), request.form)
        new = update_action(body, at, plugin, request.form, extra)
        if problems:
            errors = {f"actions/{at}/{path}": messages for path, messages in problems.items()}
            raise _Refused(selected=at, errors=errors, shown=new)
        return new, f"changed action {at}", at

    return _save(app, name, change, "panel")


@bp.post("/<app>/rule/<name>/action/move")
def rule_move_action(app: str, name: str):
    """Move the action at ``at`` one place ``up`` or ``down`` (``direction``) within its list."""

    def change(dc, body):
        at = _at()
        step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
        if step is None:
            raise BadRequest("Say where the action goes: 'direction' up or down")
        new, moved = move_action(body, at, step)
        return new, f"moved action {at}", moved

    return _save(app, name, change)


@bp.post("/<app>/rule/<name>/action/remove")
def rule_remove_action(app: str, name: str):
    """Remove the action at ``at`` (with the actions nested in it)."""

    def change(dc, body):
        at = _at()
        return remove_action(body, at), f"removed action {at}", None

    return _save(app, name, change)


@bp.post("/<app>/rule/<name>/undo")
def rule_undo(app: str, name: str):
    """Undo the last change of the rule's draft (Ctrl+Z)."""
    return _walk(app, name, "undo")


@bp.post("/<app>/rule/<name>/redo")
def rule_redo(app: str, name: str):
    """Redo the change undone last (Ctrl+Shift+Z)."""
    return _walk(app, name, "redo")


def _walk(app: str, name: str, direction: str):
    with design_work(app) as dc:
        dc.walk(KIND, name, direction)
        return redirect(url_for("designer.rule", app=app, name=name), code=303)


@bp.post("/<app>/rule/<name>/check-expression")
def rule_check_expression(app: str, name: str):
    """The live check of an expression typed in an action's panel (the input named by htmx's
    ``HX-Trigger-Name``: ``p:when``, or ``p:values/<i>/value`` of a map row with its key), put in place in the
    stored draft and judged where it stands in the rule as the publish would; nothing is saved."""
    with design_work(app) as dc:
        body = copy.deepcopy(dc.history.state(KIND, name).body)
        at = _at()
        field = request.headers.get("HX-Trigger-Name", "")
        parts = field[2:].split("/") if field.startswith("p:") else []
        text = request.form.get(field, "")
        try:
            action = action_at(body, at)
        except KeyError:
            raise NotFound(f"No action at '{at}' in rule '{name}'") from None
        if len(parts) == 3 and parts[2] == "value":  # a row of a {key: expression} map
            key = (request.form.get(f"p:{parts[0]}/{parts[1]}/key") or "").strip() or "_"
            mapping = action.get(parts[0]) if isinstance(action.get(parts[0]), dict) else {}
            action[parts[0]] = {**mapping, key: text}
            path = f"{parts[0]}/{key}"
        elif len(parts) == 1 and parts[0]:
            action[parts[0]] = text
            path = parts[0]
        else:
            raise BadRequest("Name the expression checked (the HX-Trigger-Name header, such as p:when)")
        docs = {**dc.workspace.docs, KIND: {**dc.workspace.docs.get(KIND, {}), name: body}}
        problems, names = expression_check(body, docs, f"actions/{at}/{path}", text)
        return render_template(
            "designer/_expression_check.html", problems=problems, names=names, valid=_("Valid expression")
        )
