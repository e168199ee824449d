"""Versions in the designer: ``/design/<app>/<kind>/<name>/versions`` lists every published version of a
definition, compares any two (or a version and the draft) side by side - fields, layout and settings as
people read them (:mod:`lowcode.designer.compare`), the JSON underneath - and brings one back as the draft
(a roll back, published through the usual review)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from lowcode.core.jsonutil import dumps
from lowcode.core.numbers import digits_to_int
from lowcode.definitions import store
from lowcode.designer.blueprint import bp, design_work
from lowcode.designer.compare import compare_versions
from lowcode.designer.follow import follow_fields
from lowcode.designer.view_access import part_work
from lowcode.errors import NotFound

KINDS = frozenset({"entity", "form", "view", "role", "workflow"})
DRAFT = "draft"


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(f"The designer has no '{kind}' definitions")
    return kind


def _side(dc, kind: str, name: str, which: str | None, bodies: dict[int, dict]):
    """The body of one side: a version number, or ``draft``."""
    if which == DRAFT:
        return dc.history.state(kind, name).body
    number = digits_to_int(which or "")
    if number is None or number not in bodies:
        raise NotFound(f"{kind} '{name}' has no version {which}")
    return bodies[number]


def _work(app: str, kind: str, name: str):
    """An entity's designers, or its form's and list's, see their versions; a workflow's, the app's designers."""
    if kind == "workflow":
        return design_work(app)
    return design_work(app, name) if kind == "entity" else part_work(app, kind, name)


@bp.get("/<app>/<kind>/<name>/versions")
def versions(app: str, kind: str, name: str):
    """The versions of a definition; ``?a=<version>&b=<version|draft>`` compares two of them."""
    _kind(kind)
    with _work(app, kind, name) as dc:
        rows = store.versions(dc.ctx.session, app, kind, name)
        bodies = {v.version: v.body for v in rows}
        state = dc.history.state(kind, name)
        comparison = None
        a, b = request.args.get("a"), request.args.get("b")
        if a and b:
            old, new = _side(dc, kind, name, a, bodies), _side(dc, kind, name, b, bodies)
            renames = state.renames if b == DRAFT else {}
            comparison = {
                "a": a,
                "b": b,
                "result": compare_versions(kind, old, new, renames),
                "old_json": dumps(old, indent=2),
                "new_json": dumps(new, indent=2),
            }
        page = {
            "app": app,
            "kind": kind,
            "name": name,
            "versions": rows,
            "state": state,
            "comparison": comparison,
        }
        return render_template("designer/versions.html", p=page)


@bp.post("/<app>/<kind>/<name>/rollback/<int:version>")
def rollback(app: str, kind: str, name: str, version: int):
    """Bring an earlier version back as the draft (an entity's form and list follow its fields); it is in
    force after the usual review and publish, which shows its schema plan first."""
    _kind(kind)
    with _work(app, kind, name) as dc:
        bodies = {v.version: v.body for v in store.versions(dc.ctx.session, app, kind, name)}
        if version not in bodies:
            raise NotFound(f"{kind} '{name}' has no version {version}")
        state = dc.history.state(kind, name)
        dc.history.edit(kind, name, state.seq, bodies[version], f"brought back version {version}")
        if kind == "entity":
            follow_fields(dc, name, state.body, bodies[version], None)
        dc.audit(kind, name, "brought back a version", version=version)
    return redirect(url_for("designer.plan", app=app), code=303)
