"""The calendar of a list (a view's ``calendar``: records placed by a date field): one month as a grid of
weeks, each record a link on its day; the list's search and filter apply."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import replace

from babel.dates import format_date, get_day_names
from flask import render_template, request, url_for

from lowcode.api.edge import services, unit_of_work
from lowcode.errors import BadRequest, NotFound, PermissionDenied
from lowcode.pages.blueprint import bp
from lowcode.pages.display import record_title
from lowcode.pages.i18n import current_language
from lowcode.pages.listing import ListParams, build_query, pick_view_label
from lowcode.pages.viewmodels import app_nav, top_entity
from lowcode.runtime.context import WriteContext

MAX_PER_MONTH = 500
"""Records one month shows (a note says when there are more)."""


def parse_month(raw: str, today: dt.date) -> dt.date:
    """``YYYY-MM`` -> the first day of that month (this month when empty). :raises BadRequest:"""
    if not raw:
        return today.replace(day=1)
    try:
        year, month = (int(p) for p in raw.split("-"))
        return dt.date(year, month, 1)
    except ValueError as exc:
        raise BadRequest("month must be YYYY-MM") from exc


def _shift(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def calendar_model(
    ctx: WriteContext, app: str, entity_name: str, params: ListParams, month: str, language: str
):
    """The month's weeks (Monday first), each day with its records, and the links around it."""
    entity = top_entity(ctx, app, entity_name)
    services().permissions.read_condition(ctx.actor, entity)  # may not read: a 403
    view = ctx.snapshot.view_for(app, entity_name) or {}
    field = (view.get("calendar") or {}).get("date_field")
    if not field or field not in entity.kinds:
        raise NotFound(f"{entity_name} has no calendar view")
    if field in services().permissions.hidden_fields(ctx.actor, entity):
        raise PermissionDenied(f"You may not see {field}")
    first = parse_month(month, dt.date.today())
    after = _shift(first, 1)
    is_datetime = entity.kinds[field] == "datetime"
    low, high = (
        (f"{first.isoformat()}T00:00:00Z", f"{after.isoformat()}T00:00:00Z")
        if is_datetime
        else (first.isoformat(), after.isoformat())
    )
    query = build_query(entity, view, replace(params, after=""), services().settings)
    span = [{"field": field, "op": ">=", "value": low}, {"field": field, "op": "<", "value": high}]
    condition = {"all": [*([query.condition] if query.condition else []), *span]}
    page = services().queries.list(
        ctx, app, entity_name, replace(query, condition=condition, limit=MAX_PER_MONTH)
    )
    by_day: dict[dt.date, list[dict]] = {}
    for r in page.records:
        value = r.get(field)
        day = value.date() if isinstance(value, dt.datetime) else value
        by_day.setdefault(day, []).append(
            {
                "title": record_title(entity, r, language),
                "url": url_for("pages.detail", app=app, entity=entity_name, record_id=r["id"]),
            }
        )
    locale = language
    weeks = [
        [
            {
                "day": d.day,
                "in_month": d.month == first.month,
                "today": d == dt.date.today(),
                "iso": d.isoformat(),
                "records": by_day.get(d, []),
            }
            for d in week
        ]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]

    def link(m):
        return url_for(
            "pages.calendar_view",
            app=app,
            entity=entity_name,
            month=m.strftime("%Y-%m"),
            **params.args(after=""),
        )

    return {
        "title": pick_view_label(view, entity, language),
        "month": format_date(first, "LLLL yyyy", locale=locale),
        "day_names": [get_day_names("abbreviated", locale=locale)[i] for i in range(7)],
        "weeks": weeks,
        "total": page.total or 0,
        "more": page.next_cursor is not None,
        "max": MAX_PER_MONTH,
        "prev_url": link(_shift(first, -1)),
        "next_url": link(after),
        "list_url": url_for("pages.list_view", app=app, entity=entity_name, **params.args(after="")),
    }


@bp.get("/a/<app>/<entity>/calendar")
def calendar_view(app: str, entity: str):
    """The records of one month (``month=YYYY-MM``) by the view's date field."""
    lang = current_language()
    params = ListParams.from_args(request.args, services().settings["MAX_PAGE_SIZE"])
    with unit_of_work(write=False, source="page") as ctx:
        model = calendar_model(ctx, app, entity, params, request.args.get("month", "")[:7], lang)
        nav = app_nav(ctx, app, lang)
    return render_template("pages/calendar.html", c=model, nav=nav)
