"""Trying to get in where one does not belong - on every route of the API and of the pages.

The routes come from the app's URL map (``static`` aside; HEAD and OPTIONS aside). Each (method, rule)
must have a line in ``EXPECTED`` - who may call it (public, self-service, data, administrators only) and
the status each kind of intruder gets - and each URL parameter a value in ``PARAMS``; a new route
without them fails ``test_every_route_has_a_line`` and its probes. Every refused call must change
nothing: a fingerprint of every table (security events aside: denials are meant to be logged) is taken
before and after it.

The intruders ("identities", columns of ``EXPECTED``):

- ``anon``: no credentials at all.
- ``norole``: a signed-in user without any role (``no_role``), and one whose role grants nothing
  (``no_grant``) - bearer token on the API, session cookie (with its CSRF token) on the pages.
- ``reader``: a role that may only read - create, update, delete, restore and export are refused.
- ``outsider``: a role that may read and write its *own* records, on a record another user owns:
  reads 404, writes 403 (only routes with a ``record_id``).
- ``hidden`` (``test_hidden_field_in_the_body_is_never_written``): the same role sends a field its role
  hides, on its own record: refused (API, 422) or ignored (form posts only bind visible fields) - never
  stored.
- ``csrf``: an administrator's session cookie with a forged CSRF token (another session's valid one) or
  none at all, on every non-GET route: 403 (``CSRF_EXEMPT`` lists the exceptions and why).
- ``revoked``: an administrator's bearer token revoked by ``POST /api/auth/logout`` or by the admin
  token API: 401 on the API; on the pages a bearer token counts for nothing, so it is anonymous there.

Self-service routes that name an object of their own (a notification) are probed on another user's
(olga's, ``OTHERS_OBJECTS``): refused to every prober, and nothing changes. No response to a prober may
show olga's notification, nor the rule runs of her record (but to the reader, who may read it).

The world (app, users, records) is built once per module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from lowcode.app import create_app
from lowcode.auth.users import create_user, hash_token
from lowcode.commands import ensure_admin
from lowcode.core.models import (
    ApiToken,
    Department,
    Notification,
    RoleAssignment,
    RuleRunEntry,
    SavedView,
    User,
)
from lowcode.jobs import store
from lowcode.notifications import notify
from tests.conftest import ADMIN_PASSWORD
from tests.dbs import fresh_database, migrate_url

PASSWORD = "user-pass-123"
WRONG_PASSWORD = "wrong-pass-123"
SECRET_TITLE = "Secret deal of olga 7f3a"
"""The title of the record the probing users may not see (only the reader may)."""
SECRET_COST = "31337.99"
"""Its ``cost``, a field hidden from every role; no response to a non-administrator may contain it."""
HIDDEN_VALUE = "8675.31"
"""What the hidden-field probes try to write into ``cost``; it must never be stored anywhere."""

BUNDLE = {
    "app": {"name": "sec", "label": "Security probe app"},
    "entities": [{
        "name": "deal", "label": "Deal", "title_field": "title",
        "fields": [
            {"name": "title", "type": "text", "required": True},
            {"name": "amount", "type": "money"},
            {"name": "cost", "type": "money", "label": "Secret cost"},
            {"name": "stage", "type": "select", "label": "Stage",
             "options": {"choices": [{"value": "open"}, {"value": "closed"}]}},
        ],
    }],
    "workflows": [{
        "name": "deal_flow", "entity": "deal", "state_field": "stage", "initial": "open",
        "states": [{"name": "open"}, {"name": "closed", "lock": {"record": True}, "delete": False}],
        "transitions": [{"name": "close", "from": "open", "to": "closed"}],
    }],
    "roles": [
        {"name": "editor", "label": "Editor (own records)", "grants": [{
            "entity": "deal", "actions": ["read", "create", "update", "delete"], "transitions": ["close"],
            "record_rule": {"field": "owner", "op": "=", "value": "$user.id"}, "fields": {"cost": "hidden"}}]},
        {"name": "reader", "label": "Reader", "reports": ["deal_totals"], "dashboards": ["deal_board"], "grants": [{
            "entity": "deal", "actions": ["read"], "fields": {"cost": "hidden"}}]},
        {"name": "nobody", "label": "No grants"},
    ],
    "mappings": [{
        "name": "copy_deal", "source": {"kind": "record", "entity": "deal"}, "target": "deal",
        "offer": {"label": "Copy", "when": {"field": "stage", "op": "=", "value": "open"}},
        "fields": [{"field": "title", "source": "title"}, {"field": "amount", "source": "amount"}],
    }],
    "reports": [{"name": "deal_totals", "source": "deal", "dimensions": [{"name": "stage", "field": "stage"}],
                 "measures": [{"name": "amount", "agg": "sum", "field": "amount"}]}],
    "dashboards": [{"name": "deal_board", "widgets": [{"report": "deal_totals", "chart": {"type": "bar"}}]}],
}  # fmt: skip
EVIL_BUNDLE = {
    "app": {"name": "evil", "label": "Evil"},
    "entities": [{"name": "loot", "label": "Loot", "fields": [{"name": "what", "type": "text"}]}],
}
OPEN_EDITOR = {
    "schema_version": 1, "name": "editor", "label": "Editor (every record)",
    "grants": [{"entity": "deal", "actions": ["read", "create", "update", "delete"]}],
}  # fmt: skip
"""The editor role without its record rule nor its hidden field: the pending draft of ``editor`` (publishing
it would let the outsider into olga's record) and the body the role-draft probes post."""
OLGA_IMPORT = {
    "entity": "deal", "file_name": "deals.csv", "headers": ["title"], "rows": 1, "mapping": None,
    "columns": {"title": "title"},
}  # fmt: skip
"""The parameters of olga's import job (not started): starting or previewing it is hers alone."""
SECRET_NOTE = "Note for olga only 5b2e"
"""The title of olga's notification; no response to anyone else may contain it."""
SECRET_RUN = "run on olga's deal 9c41"
"""The message of a rule run on olga's record (shown to whoever may read the record)."""
BACKDOOR_ENTITY = {
    **BUNDLE["entities"][0],
    "fields": [*BUNDLE["entities"][0]["fields"], {"name": "backdoor", "type": "text"}],
}

# -- who may call what --------------------------------------------------------------------------------
PUBLIC, SELF, DATA, ADMIN = "public", "self-service", "data", "admin"


class E(NamedTuple):
    """The expected status per identity (``None``: the identity does not apply to the route)."""

    access: str  # PUBLIC: no sign-in; SELF: any signed-in user; DATA: a role's grant; ADMIN: administrators
    anon: int
    norole: int
    reader: int
    outsider: int | None  # routes with a record_id only
    hidden: int | None  # routes that take a record's fields only
    csrf: int | None  # non-GET routes only
    revoked: int


_ = None
REC = "/<int:record_id>"
# fmt: off
EXPECTED: dict[tuple[str, str], E] = {
    # method   rule                                                     access  anon norole reader outsider hidden csrf revoked
    ("POST",   "/api/auth/login"):                                    E(PUBLIC, 401, 401, 401, _,   _,   401, 401),
    ("POST",   "/api/auth/logout"):                                   E(SELF,   401, 204, 204, _,   _,   403, 401),
    ("POST",   "/api/auth/refresh"):                                  E(SELF,   401, 200, 200, _,   _,   401, 401),
    ("GET",    "/api/auth/me"):                                       E(SELF,   401, 200, 200, _,   _,   _,   401),
    ("GET",    "/api/openapi.json"):                                  E(PUBLIC, 200, 200, 200, _,   _,   _,   200),

    ("GET",    "/api/data/<app>/<entity>"):                           E(DATA,   401, 403, 200, _,   _,   _,   401),
    ("POST",   "/api/data/<app>/<entity>"):                           E(DATA,   401, 403, 403, _,   422, 403, 401),
    ("GET",    "/api/data/<app>/<entity>/export.csv"):                E(DATA,   401, 403, 403, _,   _,   _,   401),
    ("PATCH",  "/api/data/<app>/<entity>"):                           E(DATA,   401, 403, 403, _,   _,   403, 401),
    ("DELETE", "/api/data/<app>/<entity>"):                           E(DATA,   401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/data/<app>/<entity>" + REC):                     E(DATA,   401, 403, 200, 404, _,   _,   401),
    ("PATCH",  "/api/data/<app>/<entity>" + REC):                     E(DATA,   401, 403, 403, 403, 422, 403, 401),
    ("PUT",    "/api/data/<app>/<entity>" + REC):                     E(DATA,   401, 403, 403, 403, 422, 403, 401),
    ("DELETE", "/api/data/<app>/<entity>" + REC):                     E(DATA,   401, 403, 403, 403, _,   403, 401),
    ("GET",    "/api/data/<app>/<entity>" + REC + "/history"):        E(DATA,   401, 403, 200, 404, _,   _,   401),
    ("POST",   "/api/data/<app>/<entity>/reconcile"):                 E(DATA,   401, 403, 400, _,   _,   403, 401),
    ("POST",   "/api/data/<app>/<entity>" + REC + "/restore"):        E(DATA,   401, 403, 403, 403, _,   403, 401),
    # workflow transitions (the deal's 'close'): a role must grant the transition, on a record of its record rule
    ("POST",   "/api/data/<app>/<entity>" + REC + "/transitions/<name>"):
                                                                      E(DATA,   401, 403, 403, 403, 422, 403, 401),

    ("GET",    "/api/definitions"):                                   E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("GET",    "/api/definitions/<app>"):                             E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("GET",    "/api/definitions/<app>/<kind>/<name>"):               E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("PUT",    "/api/definitions/<app>/<kind>/<name>"):               E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/api/definitions/<app>/<kind>/<name>/publish"):       E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/definitions/<app>/<kind>/<name>/versions"):      E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("POST",   "/api/definitions/<app>/<kind>/<name>/rollback/<int:version>"):
                                                                      E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/api/definitions/<app>/publish"):                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/definitions/<app>/entity/<name>/trash"):         E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("POST",   "/api/definitions/<app>/entity/<name>/trash/<int:trash_id>/restore"):
                                                                      E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("DELETE", "/api/definitions/<app>/entity/<name>/trash/<int:trash_id>"):
                                                                      E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/api/templates/import"):                              E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/templates/export/<app>"):                        E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("POST",   "/api/sandboxes/<app>"):                               E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/sandboxes/<app>"):                               E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("POST",   "/api/sandboxes/<app>/publish"):                       E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("DELETE", "/api/sandboxes/<app>"):                               E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/api/templates/upgrade/<app>"):                       E(ADMIN,  401, 403, 403, _,   _,   403, 401),

    ("GET",    "/api/admin/departments"):                             E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("POST",   "/api/admin/departments"):                             E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("PATCH",  "/api/admin/departments/<int:dept_id>"):               E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("DELETE", "/api/admin/departments/<int:dept_id>"):               E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/admin/users"):                                   E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("POST",   "/api/admin/users"):                                   E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/admin/users/<int:user_id>"):                     E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("PATCH",  "/api/admin/users/<int:user_id>"):                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/admin/users/<int:user_id>/assignments"):         E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("POST",   "/api/admin/assignments"):                             E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/api/admin/assignments/<int:assignment_id>/renew"):   E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("DELETE", "/api/admin/assignments/<int:assignment_id>"):         E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/admin/tokens"):                                  E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("POST",   "/api/admin/tokens"):                                  E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("DELETE", "/api/admin/tokens/<int:token_id>"):                   E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/admin/explain"):                                 E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("GET",    "/api/admin/review"):                                  E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("GET",    "/api/admin/security-events"):                         E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("GET",    "/api/integrations/health"):                           E(ADMIN,  401, 403, 403, _,   _,   _,   401),
    ("POST",   "/api/integrations/replay"):                           E(ADMIN,  401, 403, 403, _,   _,   403, 401),

    # pages: anonymous GETs go to /login (302), anonymous posts get 401; a bearer token counts for nothing
    ("GET",    "/login"):                                             E(PUBLIC, 200, 200, 200, _,   _,   _,   200),
    ("POST",   "/login"):                                             E(PUBLIC, 403, 401, 401, _,   _,   403, 403),
    ("POST",   "/language"):                                          E(PUBLIC, 403, 303, 303, _,   _,   403, 403),
    ("POST",   "/logout"):                                            E(SELF,   401, 303, 303, _,   _,   403, 401),
    ("GET",    "/"):                                                  E(SELF,   302, 200, 200, _,   _,   _,   302),
    ("GET",    "/a/<app>"):                                           E(DATA,   302, 403, 200, _,   _,   _,   302),
    ("GET",    "/a/<app>/<entity>"):                                  E(DATA,   302, 403, 200, _,   _,   _,   302),
    ("GET",    "/a/<app>/<entity>/new"):                              E(DATA,   302, 403, 403, _,   _,   _,   302),
    ("POST",   "/a/<app>/<entity>/new"):                              E(DATA,   401, 403, 403, _,   303, 403, 401),
    ("GET",    "/a/<app>/<entity>" + REC):                            E(DATA,   302, 403, 200, 404, _,   _,   302),
    ("GET",    "/a/<app>/<entity>" + REC + "/edit"):                  E(DATA,   302, 403, 403, 404, _,   _,   302),
    ("POST",   "/a/<app>/<entity>" + REC + "/edit"):                  E(DATA,   401, 403, 403, 403, 303, 403, 401),
    ("POST",   "/a/<app>/<entity>" + REC + "/delete"):                E(DATA,   401, 403, 403, 403, _,   403, 401),
    ("POST",   "/a/<app>/<entity>" + REC + "/restore"):               E(DATA,   401, 403, 403, 403, _,   403, 401),
    ("GET",    "/a/<app>/<entity>" + REC + "/transitions/<name>"):    E(DATA,   302, 403, 403, 404, _,   _,   302),
    ("POST",   "/a/<app>/<entity>" + REC + "/transitions/<name>"):    E(DATA,   401, 403, 403, 403, _,   403, 401),
    ("POST",   "/a/<app>/<entity>/transitions"):                      E(DATA,   401, 403, 403, _,   _,   403, 401),
    # lists: export needs the export grant; bulk delete the delete grant; the filter input and saved views
    # read; sharing a view needs configure; another user's personal view is not found
    ("GET",    "/a/<app>/<entity>/export.<fmt>"):                     E(DATA,   302, 403, 403, _,   _,   _,   302),
    ("POST",   "/a/<app>/<entity>/export-selected.<fmt>"):            E(DATA,   401, 403, 403, _,   _,   403, 401),
    ("POST",   "/a/<app>/<entity>/bulk-delete"):                      E(DATA,   401, 403, 403, _,   _,   403, 401),
    ("GET",    "/a/<app>/<entity>/filter-input"):                     E(DATA,   302, 403, 200, _,   _,   _,   302),
    ("GET",    "/a/<app>/<entity>/views/open"):                       E(DATA,   302, 403, 303, _,   _,   _,   302),
    ("POST",   "/a/<app>/<entity>/views"):                            E(DATA,   401, 403, 403, _,   _,   403, 401),
    ("POST",   "/a/<app>/<entity>/views/<int:view_id>/delete"):       E(DATA,   401, 403, 404, _,   _,   403, 401),
    # kanban and calendar: read; the probed app declares neither (404); moving a card of a list without a
    # board is a write nobody is offered (403)
    ("GET",    "/a/<app>/<entity>/board"):                            E(DATA,   302, 403, 404, _,   _,   _,   302),
    ("GET",    "/a/<app>/<entity>/calendar"):                         E(DATA,   302, 403, 404, _,   _,   _,   302),
    ("POST",   "/a/<app>/<entity>" + REC + "/move"):                  E(DATA,   401, 403, 403, 403, _,   403, 401),
    # the dry-run form of the record page: administrators only (the API below is the data-role way)
    ("POST",   "/a/<app>/<entity>" + REC + "/dry-run"):               E(ADMIN,  401, 403, 403, 403, _,   403, 401),
    # the form's helpers: link options read the target (a field that is no link is not found); computing a
    # form needs create (new) or update (the record), and writes nothing
    ("GET",    "/a/<app>/<entity>/options/<field>"):                  E(DATA,   302, 403, 404, _,   _,   _,   302),
    ("POST",   "/a/<app>/<entity>/compute"):                          E(DATA,   401, 403, 403, _,   _,   403, 401),
    ("POST",   "/a/<app>/<entity>" + REC + "/compute"):               E(DATA,   401, 403, 403, 403, _,   403, 401),
    ("GET",    "/a/<app>/<entity>" + REC + "/print"):                 E(DATA,   302, 403, 200, 404, _,   _,   302),
    ("GET",    "/a/<app>/<entity>" + REC + "/related/<name>"):        E(DATA,   302, 403, 404, 404, _,   _,   302),
    # report pages: a role granting the report (the probe app's report has no link parameter: 404)
    ("GET",    "/a/<app>/reports"):                                   E(DATA,   302, 403, 200, _,   _,   _,   302),
    ("GET",    "/a/<app>/reports/<name>"):                            E(DATA,   302, 403, 200, _,   _,   _,   302),
    ("GET",    "/a/<app>/reports/<name>/options/<param>"):            E(DATA,   302, 403, 404, _,   _,   _,   302),
    # drill-down: the records behind a cell, as the reader's list filtered to them (the list's rules apply)
    ("GET",    "/a/<app>/reports/<name>/drill"):                      E(DATA,   302, 403, 303, _,   _,   _,   302),
    # dashboards: a role granting the dashboard (its widgets each need the report's grant too)
    ("GET",    "/a/<app>/dashboards"):                                E(DATA,   302, 403, 200, _,   _,   _,   302),
    ("GET",    "/a/<app>/dashboards/<name>"):                         E(DATA,   302, 403, 200, _,   _,   _,   302),
    ("GET",    "/a/<app>/dashboards/<name>/options/<param>"):         E(DATA,   302, 403, 404, _,   _,   _,   302),
    # report exports and print view: the report's grant and the export grant on its source (the reader has none)
    ("POST",   "/a/<app>/reports/<name>/export.<fmt>"):               E(DATA,   401, 403, 403, _,   _,   403, 401),
    ("GET",    "/a/<app>/reports/<name>/print"):                      E(DATA,   302, 403, 403, _,   _,   _,   302),
    ("GET",    "/a/<app>/reports/<name>/exports/<int:job_id>"):       E(DATA,   302, 403, 403, _,   _,   _,   302),
    ("GET",    "/a/<app>/reports/<name>/exports/<int:job_id>/status"): E(DATA,  302, 403, 403, _,   _,   _,   302),
    ("GET",    "/a/<app>/reports/<name>/exports/<int:job_id>/download"): E(DATA, 302, 403, 403, _,  _,   _,   302),

    # rules: the run log needs read on the entity (and on the record; app-wide: administrators only -
    # probed as ?entity=deal&record_id=<olga's record>, see QUERIES); a dry run needs update (or create)
    ("GET",    "/api/rules/<app>/runs"):                              E(DATA,   401, 403, 200, _,   _,   _,   401),
    ("POST",   "/api/rules/<app>/dry-run"):                           E(DATA,   401, 403, 403, _,   _,   403, 401),
    ("POST",   "/api/mappings/<app>/<name>/preview"):                 E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/mappings/<app>/<name>/draft-from" + REC):        E(DATA,   401, 403, 403, 404, _,   _,   401),
    ("POST",   "/api/integrations/<app>/<name>/ingest"):              E(DATA,   401, 403, 403, _,   _,   403, 401),
    # spreadsheet import: uploading needs create on the entity; a job is its owner's (<job_id> is olga's: 404)
    ("POST",   "/api/imports/<app>/<entity>"):                        E(DATA,   401, 403, 403, _,   _,   403, 401),
    ("GET",    "/api/import-jobs/<int:job_id>/preview"):              E(SELF,   401, 404, 404, _,   _,   _,   401),
    ("PUT",    "/api/import-jobs/<int:job_id>"):                      E(SELF,   401, 404, 404, _,   _,   403, 401),
    ("POST",   "/api/import-jobs/<int:job_id>/start"):                E(SELF,   401, 404, 404, _,   _,   403, 401),
    ("GET",    "/api/jobs/<int:job_id>"):                             E(SELF,   401, 404, 404, _,   _,   _,   401),
    ("POST",   "/api/jobs/<int:job_id>/cancel"):                      E(SELF,   401, 404, 404, _,   _,   403, 401),
    ("GET",    "/api/jobs/<int:job_id>/result"):                      E(SELF,   401, 404, 404, _,   _,   _,   401),
    # the import pages: the upload form needs create on the entity; a job's pages are its owner's
    ("GET",    "/a/<app>/<entity>/import"):                           E(DATA,   302, 403, 403, _,   _,   _,   302),
    ("POST",   "/a/<app>/<entity>/import"):                           E(DATA,   401, 403, 403, _,   _,   403, 401),
    ("GET",    "/a/<app>/<entity>/import/<int:job_id>"):              E(SELF,   302, 404, 404, _,   _,   _,   302),
    ("POST",   "/a/<app>/<entity>/import/<int:job_id>"):              E(SELF,   401, 404, 404, _,   _,   403, 401),
    ("POST",   "/a/<app>/<entity>/import/<int:job_id>/start"):        E(SELF,   401, 404, 404, _,   _,   403, 401),
    ("POST",   "/a/<app>/<entity>/import/<int:job_id>/draft"):        E(SELF,   401, 404, 404, _,   _,   403, 401),
    ("GET",    "/a/<app>/<entity>/import/<int:job_id>/status"):       E(SELF,   302, 404, 404, _,   _,   _,   302),
    ("POST",   "/a/<app>/<entity>/import/<int:job_id>/cancel"):       E(SELF,   401, 404, 404, _,   _,   403, 401),
    ("GET",    "/a/<app>/<entity>/import/<int:job_id>/results.csv"):  E(SELF,   302, 404, 404, _,   _,   _,   302),
    # reports: the list and a run need a role of the app; a run needs a role granting the report
    ("GET",    "/api/reports/<app>"):                                 E(DATA,   401, 403, 200, _,   _,   _,   401),
    ("GET",    "/api/reports/<app>/<name>"):                          E(DATA,   401, 403, 200, _,   _,   _,   401),
    ("POST",   "/api/reports/<app>/<name>/export.<fmt>"):             E(DATA,   401, 403, 403, _,   _,   403, 401),

    # notifications: one's own only; <notification_id> is olga's, so every prober gets 404 there
    ("GET",    "/api/notifications"):                                 E(SELF,   401, 200, 200, _,   _,   _,   401),
    ("GET",    "/api/changes"):                                       E(SELF,   401, 200, 200, _,   _,   _,   401),
    ("POST",   "/api/notifications/<int:notification_id>/read"):      E(SELF,   401, 404, 404, _,   _,   403, 401),
    ("POST",   "/api/notifications/read-all"):                        E(SELF,   401, 200, 200, _,   _,   403, 401),
    ("GET",    "/inbox"):                                             E(SELF,   302, 200, 200, _,   _,   _,   302),
    ("POST",   "/inbox/<int:notification_id>/read"):                  E(SELF,   401, 404, 404, _,   _,   403, 401),
    ("POST",   "/inbox/read-all"):                                    E(SELF,   401, 303, 303, _,   _,   403, 401),

    # the administration pages: administrators only, the CSRF token checked before anything else
    ("GET",    "/admin"):                                             E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("GET",    "/admin/users"):                                       E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/admin/users"):                                       E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/admin/users/<int:user_id>"):                         E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/admin/users/<int:user_id>"):                         E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/admin/users/<int:user_id>/assignments"):             E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/admin/assignments/<int:assignment_id>/renew"):       E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/admin/assignments/<int:assignment_id>/end"):         E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/admin/departments"):                                 E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/admin/departments"):                                 E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/admin/departments/<int:dept_id>"):                   E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/admin/departments/<int:dept_id>/delete"):            E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/admin/tokens"):                                      E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/admin/tokens"):                                      E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/admin/tokens/<int:token_id>/revoke"):                E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/admin/roles"):                                       E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/admin/roles/new"):                                   E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/admin/roles/<app>/<name>"):                          E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/admin/roles/<app>/<name>/draft"):                    E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/admin/roles/<app>/<name>/publish"):                  E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/admin/roles/<app>/<name>/rollback/<int:version>"):   E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/admin/explain"):                                     E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("GET",    "/admin/review"):                                      E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("GET",    "/admin/security"):                                    E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("GET",    "/admin/integrations"):                                E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/admin/integrations/replay"):                         E(ADMIN,  401, 403, 403, _,   _,   403, 401),

    # the designer: the apps one may design (none without a configure grant); everything else needs the
    # app's configure grant (administrators, the app's admin roles; an entity's designer: configure on it)
    ("GET",    "/design"):                                            E(SELF,   302, 200, 200, _,   _,   _,   302),
    ("POST",   "/design"):                                            E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>"):                                      E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/entities"):                             E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/entity/<name>"):                        E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/entity/<name>/fields"):                 E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/entity/<name>/indexes"):                E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/entity/<name>/indexes/<int:position>/delete"): E(ADMIN, 401, 403, 403, _, _, 403, 401),
    ("POST",   "/design/<app>/entity/<name>/fields/<key>"):           E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/entity/<name>/fields/<key>/move"):      E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/entity/<name>/fields/<key>/delete"):    E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/entity/<name>/undo"):                   E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/entity/<name>/redo"):                   E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/entity/<name>/check-expression"):       E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/entity/<name>/trash/<int:trash_id>/restore"):
                                                                      E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/mappings"):                             E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/mappings"):                             E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/mappings/<name>"):                      E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/mappings/<name>"):                      E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/mappings/<name>/undo"):                 E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/mappings/<name>/redo"):                 E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/mappings/<name>/preview"):              E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/mappings/<name>/preview"):              E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("GET",    "/design/<app>/reports"):                              E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/reports"):                              E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/reports/<name>"):                       E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/reports/<name>"):                       E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/reports/<name>/undo"):                  E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/reports/<name>/redo"):                  E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/dashboards"):                           E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/dashboards"):                           E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/dashboards/<name>"):                    E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/dashboards/<name>"):                    E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/dashboards/<name>/layout"):             E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/dashboards/<name>/widgets"):            E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/dashboards/<name>/widgets/<int:index>/delete"):
                                                                      E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/dashboards/<name>/undo"):               E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/dashboards/<name>/redo"):               E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/publish"):                              E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/publish"):                              E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/sandbox"):                              E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/live"):                                 E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/live"):                                 E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/discard"):                              E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/form/<name>"):                          E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("GET",    "/design/<app>/form/<name>/preview"):                  E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/form/<name>/place"):                    E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/form/<name>/fields/<key>"):             E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/form/<name>/fields/<key>/move"):        E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/form/<name>/fields/<key>/remove"):      E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/form/<name>/sections"):                 E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/form/<name>/sections/<int:index>"):     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/form/<name>/tabs"):                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/form/<name>/undo"):                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/form/<name>/redo"):                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/<kind>/<name>/versions"):               E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/<kind>/<name>/rollback/<int:version>"): E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    # the view designer and the condition builder's row refresh: designers only (app administrators, the
    # entity's configure grant - no prober has either); the preview renders the draft, designers only too
    ("GET",    "/design/<app>/view/<name>"):                          E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("GET",    "/design/<app>/view/<name>/preview"):                  E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/view/<name>/edit/<section>"):           E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/view/<name>/undo"):                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/view/<name>/redo"):                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/entity/<name>/condition-row"):          E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    # the rule designer: the app's designers only (administrators, the app's admin roles; an entity's configure
    # grant is not enough - rules act for the whole app); its dry run rolls back, its record picker reads
    ("GET",    "/design/<app>/rules"):                                E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/rules"):                                E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/rule/<name>"):                          E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/rule/<name>/delete"):                   E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/rule/<name>/trigger"):                  E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/rule/<name>/actions"):                  E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/rule/<name>/action"):                   E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/rule/<name>/action/move"):              E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/rule/<name>/action/remove"):            E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/rule/<name>/undo"):                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/rule/<name>/redo"):                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/rule/<name>/check-expression"):         E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/rule/<name>/records"):                  E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/rule/<name>/dry-run"):                  E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    # the role designer: app designers only (administrators, the app's admin roles) - a configure grant on one
    # table is not enough, changing a role changes permissions
    ("GET",    "/design/<app>/roles"):                                E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/roles"):                                E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/role/<name>"):                          E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/role/<name>/edit/<section>"):           E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/role/<name>/undo"):                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/role/<name>/redo"):                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/role/<name>/explain"):                  E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    # bundles: platform operations (import/export templates); the app settings page: the app's designers
    ("GET",    "/design/<app>/export.zip"):                           E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("GET",    "/design/import"):                                     E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/import"):                                     E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/upgrade"):                              E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/upgrade"):                              E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/settings"):                             E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/settings/edit/<section>"):              E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/settings/undo"):                        E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/settings/redo"):                        E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    # the workflow designer: the app's designers only (an entity's configure grant is not enough)
    ("GET",    "/design/<app>/workflows"):                            E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/workflows"):                            E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("GET",    "/design/<app>/workflow/<name>"):                      E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("GET",    "/design/<app>/workflow/<name>/panel"):                E(ADMIN,  302, 403, 403, _,   _,   _,   302),
    ("POST",   "/design/<app>/workflow/<name>/edit/<change>"):        E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/workflow/<name>/undo"):                 E(ADMIN,  401, 403, 403, _,   _,   403, 401),
    ("POST",   "/design/<app>/workflow/<name>/redo"):                 E(ADMIN,  401, 403, 403, _,   _,   403, 401),
}
# fmt: on

PUBLIC_ROUTES = {
    ("POST", "/api/auth/login"): "signing in (probed with wrong credentials)",
    ("GET", "/api/openapi.json"): "describes the API, shows no data",
    ("GET", "/login"): "the sign-in form",
    ("POST", "/login"): "signing in (CSRF-checked; probed with wrong credentials)",
    ("POST", "/language"): "the language switch of the sign-in page (CSRF-checked)",
}
SELF_SERVICE_ROUTES = {
    ("POST", "/api/auth/logout"): "signing oneself out",
    ("POST", "/api/auth/refresh"): "exchanging one's own sign-in token for a new one",
    ("GET", "/api/auth/me"): "who am I",
    ("POST", "/logout"): "signing oneself out",
    ("GET", "/"): "the apps one may see (none without a role)",
    ("GET", "/api/notifications"): "one's own notifications",
    ("GET", "/api/changes"): "the changes feed, filtered to what the reader may read (none without a role)",
    ("POST", "/api/notifications/<int:notification_id>/read"): "marking one's own notification read",
    ("POST", "/api/notifications/read-all"): "marking one's own notifications read",
    ("GET", "/inbox"): "one's own notifications",
    ("GET", "/design"): "the apps one may design (none without a configure grant)",
    ("POST", "/inbox/<int:notification_id>/read"): "marking one's own notification read",
    ("POST", "/inbox/read-all"): "marking one's own notifications read",
    ("GET", "/api/import-jobs/<int:job_id>/preview"): "one's own import",
    ("PUT", "/api/import-jobs/<int:job_id>"): "one's own import",
    ("POST", "/api/import-jobs/<int:job_id>/start"): "one's own import",
    ("GET", "/api/jobs/<int:job_id>"): "one's own background job",
    ("POST", "/api/jobs/<int:job_id>/cancel"): "one's own background job",
    ("GET", "/api/jobs/<int:job_id>/result"): "one's own background job",
    ("GET", "/a/<app>/<entity>/import/<int:job_id>"): "one's own import",
    ("POST", "/a/<app>/<entity>/import/<int:job_id>"): "one's own import",
    ("POST", "/a/<app>/<entity>/import/<int:job_id>/start"): "one's own import",
    ("POST", "/a/<app>/<entity>/import/<int:job_id>/draft"): "one's own import",
    ("GET", "/a/<app>/<entity>/import/<int:job_id>/status"): "one's own import",
    ("POST", "/a/<app>/<entity>/import/<int:job_id>/cancel"): "one's own import",
    ("GET", "/a/<app>/<entity>/import/<int:job_id>/results.csv"): "one's own import",
}
OTHERS_OBJECTS = {
    ("POST", "/api/notifications/<int:notification_id>/read"): "olga's notification",
    ("POST", "/inbox/<int:notification_id>/read"): "olga's notification",
    ("GET", "/api/import-jobs/<int:job_id>/preview"): "olga's import",
    ("PUT", "/api/import-jobs/<int:job_id>"): "olga's import",
    ("POST", "/api/import-jobs/<int:job_id>/start"): "olga's import",
    ("GET", "/api/jobs/<int:job_id>"): "olga's import job",
    ("POST", "/api/jobs/<int:job_id>/cancel"): "olga's import job",
    ("GET", "/api/jobs/<int:job_id>/result"): "olga's import job",
    ("GET", "/a/<app>/<entity>/import/<int:job_id>"): "olga's import",
    ("POST", "/a/<app>/<entity>/import/<int:job_id>"): "olga's import",
    ("POST", "/a/<app>/<entity>/import/<int:job_id>/start"): "olga's import",
    ("POST", "/a/<app>/<entity>/import/<int:job_id>/draft"): "olga's import",
    ("GET", "/a/<app>/<entity>/import/<int:job_id>/status"): "olga's import",
    ("POST", "/a/<app>/<entity>/import/<int:job_id>/cancel"): "olga's import",
    ("GET", "/a/<app>/<entity>/import/<int:job_id>/results.csv"): "olga's import",
}
"""Self-service routes probed on another user's object (the URL parameter names it): every signed-in
prober is refused - 404 (or 403) - and nothing changes."""
CSRF_EXEMPT = {
    ("POST", "/api/auth/login"): "JSON only (a cross-site form cannot send it) and it starts a new session",
    (
        "POST",
        "/api/auth/refresh",
    ): "bearer token only: a cookie alone is 401, so a cross-site post gets nothing",
}
ENDS_SESSION = {
    # the token used is revoked (and the access version, lc_counter 'access', moves with it)
    ("POST", "/api/auth/logout"): {"lc_api_token", "lc_counter"},
    ("POST", "/api/auth/refresh"): {"lc_api_token", "lc_counter"},  # ... and a new one issued
    # the session epoch moves on (every cookie session of the user ends), and the bearer token of the
    # cookie's own sign-in (the probes' cookies come from /api/auth/login) is revoked
    ("POST", "/logout"): {"lc_user", "lc_api_token", "lc_counter"},
}
"""Self-service routes that end the caller's session: allowed calls use a throwaway sign-in (and may change
only these tables); the session or token is checked dead afterwards."""

KNOWN_HOLES: dict[tuple[str, str, str], str] = {}
"""(identity, method, rule) -> why the expectation fails today (a strict xfail: it must be fixed)."""

# -- URL parameters ---------------------------------------------------------------------------------
PARAMS: dict[str, Callable[[World], Any]] = {
    "app": lambda w: "sec",
    "entity": lambda w: "deal",
    "record_id": lambda w: w.ids["secret"],  # olga's record: outside every prober's record rule
    "kind": lambda w: "entity",
    "name": lambda w: "deal",
    "version": lambda w: 1,
    "dept_id": lambda w: w.ids["dept"],
    "user_id": lambda w: w.ids["no_role"],  # the no-role user: PATCH {"is_admin": true} on oneself
    "assignment_id": lambda w: w.ids["reader_assignment"],
    "token_id": lambda w: w.ids["olga_token"],
    "notification_id": lambda w: w.ids["olga_note"],  # olga's: no prober's own
    "job_id": lambda w: w.ids["olga_job"],  # olga's import: no prober's own
    "trash_id": lambda w: w.ids["trashed"],
    "fmt": lambda w: "xlsx",
    "view_id": lambda w: w.ids["olga_view"],  # olga's personal saved view
    "field": lambda w: "title",  # not a link: no options
    "key": lambda w: "title",  # a field of the deal (the designer's field routes)
    "index": lambda w: 0,  # the first section of a form
    "position": lambda w: 0,  # the first declared index of an entity
    "section": lambda w: "page_size",  # a view designer section
    "change": lambda w: "add_state",  # a workflow designer change
    "param": lambda w: "stage",  # a report parameter (the probe app's report declares none)
}
_EDITOR_ROLE = {"name": lambda w: "editor"}  # a role with a pending draft (publishing it widens the role)
_EMPTY_DEPT = {"dept_id": lambda w: w.ids["empty_dept"]}  # one that deleting would really delete
_CLOSE = {"name": lambda w: "close"}  # the deal workflow's transition
_FLOW = {"name": lambda w: "deal_flow"}  # the deal workflow
_REPORT = {"name": lambda w: "deal_totals"}  # the reader's report
_BOARD = {"name": lambda w: "deal_board"}  # the reader's dashboard
PARAM_OVERRIDES: dict[tuple[str, str], dict[str, Callable[[World], Any]]] = {
    ("GET", "/api/mappings/<app>/<name>/draft-from" + REC): {"name": lambda w: "copy_deal"},
    ("POST", "/api/data/<app>/<entity>" + REC + "/restore"): {"record_id": lambda w: w.ids["deleted"]},
    ("POST", "/a/<app>/<entity>" + REC + "/restore"): {"record_id": lambda w: w.ids["deleted"]},
    ("POST", "/api/data/<app>/<entity>" + REC + "/transitions/<name>"): _CLOSE,
    ("GET", "/a/<app>/<entity>" + REC + "/transitions/<name>"): _CLOSE,
    ("POST", "/a/<app>/<entity>" + REC + "/transitions/<name>"): _CLOSE,
    ("GET", "/api/reports/<app>/<name>"): _REPORT,
    ("GET", "/a/<app>/reports/<name>"): _REPORT,
    ("POST", "/api/reports/<app>/<name>/export.<fmt>"): _REPORT,
    ("GET", "/design/<app>/reports/<name>"): _REPORT,
    ("POST", "/design/<app>/reports/<name>"): _REPORT,
    ("POST", "/design/<app>/reports/<name>/undo"): _REPORT,
    ("POST", "/design/<app>/reports/<name>/redo"): _REPORT,
    ("GET", "/a/<app>/reports/<name>/options/<param>"): _REPORT,
    ("GET", "/a/<app>/reports/<name>/drill"): _REPORT,
    ("GET", "/a/<app>/dashboards/<name>"): _BOARD,
    ("GET", "/a/<app>/dashboards/<name>/options/<param>"): _BOARD,
    ("GET", "/design/<app>/dashboards/<name>"): _BOARD,
    ("POST", "/design/<app>/dashboards/<name>"): _BOARD,
    ("POST", "/design/<app>/dashboards/<name>/layout"): _BOARD,
    ("POST", "/design/<app>/dashboards/<name>/widgets"): _BOARD,
    ("POST", "/design/<app>/dashboards/<name>/widgets/<int:index>/delete"): _BOARD,
    ("POST", "/design/<app>/dashboards/<name>/undo"): _BOARD,
    ("POST", "/design/<app>/dashboards/<name>/redo"): _BOARD,
    ("POST", "/a/<app>/reports/<name>/export.<fmt>"): _REPORT,
    ("GET", "/a/<app>/reports/<name>/print"): _REPORT,
    ("GET", "/a/<app>/reports/<name>/exports/<int:job_id>"): _REPORT,
    ("GET", "/a/<app>/reports/<name>/exports/<int:job_id>/status"): _REPORT,
    ("GET", "/a/<app>/reports/<name>/exports/<int:job_id>/download"): _REPORT,
    ("GET", "/design/<app>/workflow/<name>"): _FLOW,
    ("GET", "/design/<app>/workflow/<name>/panel"): _FLOW,
    ("POST", "/design/<app>/workflow/<name>/edit/<change>"): _FLOW,
    ("POST", "/design/<app>/workflow/<name>/undo"): _FLOW,
    ("POST", "/design/<app>/workflow/<name>/redo"): _FLOW,
    ("GET", "/admin/roles/<app>/<name>"): _EDITOR_ROLE,
    ("POST", "/admin/roles/<app>/<name>/draft"): _EDITOR_ROLE,
    ("POST", "/admin/roles/<app>/<name>/publish"): _EDITOR_ROLE,
    ("POST", "/admin/roles/<app>/<name>/rollback/<int:version>"): _EDITOR_ROLE,
    ("GET", "/design/<app>/role/<name>"): _EDITOR_ROLE,
    ("POST", "/design/<app>/role/<name>/edit/<section>"): {**_EDITOR_ROLE, "section": lambda w: "grid"},
    ("POST", "/design/<app>/role/<name>/undo"): _EDITOR_ROLE,
    ("POST", "/design/<app>/role/<name>/redo"): _EDITOR_ROLE,
    ("GET", "/design/<app>/role/<name>/explain"): _EDITOR_ROLE,
    ("DELETE", "/api/admin/departments/<int:dept_id>"): _EMPTY_DEPT,
    ("POST", "/admin/departments/<int:dept_id>/delete"): _EMPTY_DEPT,
}
"""Restoring needs a deleted record (olga's too); the role pages a role; deleting an empty department."""
QUERIES: dict[tuple[str, str], Callable[[World], str]] = {
    ("GET", "/api/rules/<app>/runs"): lambda w: f"entity=deal&record_id={w.ids['secret']}",
}
"""Query strings of the probes (the run log of one record; the app-wide log is administrators' only:
``test_rule_runs_follow_the_read_permission``)."""

_unknown_users = itertools.count(1)


def _wrong_login(w: World) -> dict[str, Any]:
    """Wrong credentials of a fresh unknown name (so the per-account lockout never kicks in)."""
    return {"username": f"no-such-user-{next(_unknown_users)}", "password": WRONG_PASSWORD}


BODIES: dict[tuple[str, str], Callable[[World], Any]] = {
    ("POST", "/api/auth/login"): _wrong_login,
    ("POST", "/login"): _wrong_login,
    ("POST", "/language"): lambda w: {"lang": "en", "next": "/"},  # the users' language already
    ("POST", "/api/data/<app>/<entity>"): lambda w: {"title": "intruder"},
    ("PATCH", "/api/data/<app>/<entity>" + REC): lambda w: {"title": "hijacked", "version": w.version("secret")},
    ("PATCH", "/api/data/<app>/<entity>"): lambda w: [{"id": w.ids["secret"], "version": w.version("secret"), "title": "hijacked"}],
    ("DELETE", "/api/data/<app>/<entity>"): lambda w: [{"id": w.ids["secret"], "version": w.version("secret")}],
    ("PUT", "/api/data/<app>/<entity>" + REC): lambda w: {"title": "hijacked", "version": w.version("secret")},
    ("POST", "/a/<app>/<entity>/new"): lambda w: {"title": "intruder"},
    ("POST", "/a/<app>/<entity>" + REC + "/edit"): lambda w: {"title": "hijacked", "version": w.version("secret")},
    ("POST", "/a/<app>/<entity>" + REC + "/delete"): lambda w: {"version": w.version("secret")},
    ("POST", "/api/data/<app>/<entity>" + REC + "/transitions/<name>"): lambda w: {"version": w.version("secret")},
    ("POST", "/a/<app>/<entity>" + REC + "/transitions/<name>"): lambda w: {"version": w.version("secret")},
    ("POST", "/a/<app>/<entity>/export-selected.<fmt>"): lambda w: {"ids": f"{w.ids['secret']}:{w.version('secret')}"},
    ("POST", "/a/<app>/<entity>/bulk-delete"): lambda w: {"ids": f"{w.ids['secret']}:{w.version('secret')}"},
    ("POST", "/a/<app>/<entity>/views"): lambda w: {"name": "for everyone", "query": "q=x", "shared": "1"},
    ("POST", "/a/<app>/<entity>/transitions"): lambda w: {"transition": "close",
                                                         "ids": f"{w.ids['secret']}:{w.version('secret')}"},
    ("PUT", "/api/definitions/<app>/<kind>/<name>"): lambda w: BACKDOOR_ENTITY,
    ("POST", "/api/templates/import"): lambda w: EVIL_BUNDLE,
    ("POST", "/api/templates/upgrade/<app>"): lambda w: {**BUNDLE, "entities": [BACKDOOR_ENTITY]},
    ("POST", "/design/<app>/settings/edit/<section>"): lambda w: {"label:en": "Taken over"},
    ("POST", "/api/admin/departments"): lambda w: {"name": "Intruders"},
    ("PATCH", "/api/admin/departments/<int:dept_id>"): lambda w: {"name": "Taken over"},
    ("POST", "/api/admin/users"): lambda w: {"username": "intruder", "password": "intruder-pass-1", "is_admin": True},
    ("PATCH", "/api/admin/users/<int:user_id>"): lambda w: {"is_admin": True},
    ("POST", "/api/admin/assignments"): lambda w: {"user_id": w.ids["no_role"], "app": "sec", "role": "editor"},
    ("POST", "/api/admin/assignments/<int:assignment_id>/renew"): lambda w: {"ends_at": "2099-01-01T00:00:00+00:00"},
    ("POST", "/api/admin/tokens"): lambda w: {"user_id": w.ids["no_role"], "app": "sec", "role": "editor", "name": "backdoor"},
    ("POST", "/api/rules/<app>/dry-run"): lambda w: {"entity": "deal", "record_id": w.ids["secret"],
                                                     "changes": {"title": "hijacked"}, "version": w.version("secret")},
    ("POST", "/api/mappings/<app>/<name>/preview"): lambda w: {"payload": {"title": "x"}},
    ("POST", "/api/integrations/<app>/<name>/ingest"): lambda w: {"idempotency_key": "k", "data": {"title": "x"}},
    ("POST", "/a/<app>/<entity>" + REC + "/dry-run"): lambda w: {"changes": '{"title": "hijacked"}'},
    ("POST", "/admin/users"): lambda w: {"username": "intruder", "password": "intruder-pass-1", "is_admin": "on"},
    ("POST", "/admin/users/<int:user_id>"): lambda w: {"display_name": "x", "active": "on", "is_admin": "on",
                                                       "language": "en", "level": "0"},
    ("POST", "/admin/users/<int:user_id>/assignments"): lambda w: {"role": "sec/editor"},
    ("POST", "/admin/assignments/<int:assignment_id>/renew"): lambda w: {"ends_at": "2099-01-01T00:00"},
    ("POST", "/admin/departments"): lambda w: {"name": "Intruders"},
    ("POST", "/admin/departments/<int:dept_id>"): lambda w: {"name": "Taken over"},
    ("POST", "/admin/tokens"): lambda w: {"user_id": str(w.ids["no_role"]), "role": "sec/editor", "name": "backdoor"},
    ("POST", "/admin/roles/new"): lambda w: {"app": "sec", "name": "backdoor"},
    ("POST", "/admin/roles/<app>/<name>/draft"): lambda w: {"body": json.dumps(OPEN_EDITOR)},
}  # fmt: skip
"""Well-formed bodies, so a refusal is the permission check's and not the parser's."""

IDENTITIES = {
    "anonymous": "anon",
    "no_role": "norole",
    "no_grant": "norole",
    "reader": "reader",
    "outsider": "outsider",
    "csrf_forged": "csrf",
    "csrf_missing": "csrf",
    "revoked_by_logout": "revoked",
    "revoked_by_admin": "revoked",
}
"""identity -> its column of ``EXPECTED``."""
USERNAMES = {"no_role": "nora", "no_grant": "nick", "reader": "rita", "outsider": "eve"}
"""The users behind the signed-in probers."""
SEES_THE_SECRET_TITLE = {"reader"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


# -- the routes of the URL map ------------------------------------------------------------------------
def url_map_routes() -> list[tuple[str, str]]:
    """Every (method, rule) of the app, ``static`` and HEAD/OPTIONS aside."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/routes.db"
        migrate_url(url)  # the app refuses an unmigrated database
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "routes-only"})
        try:
            return sorted(
                (method, rule.rule)
                for rule in app.url_map.iter_rules()
                if rule.endpoint != "static"
                for method in rule.methods - {"HEAD", "OPTIONS"}
            )
        finally:
            app.extensions["lowcode"].db.dispose()


ROUTES = url_map_routes()
PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _probes() -> list:
    probes = []
    for method, rule in ROUTES:
        row = EXPECTED.get((method, rule))
        for identity, column in IDENTITIES.items():
            if row is not None and getattr(row, column) is None:
                continue
            hole = KNOWN_HOLES.get((identity, method, rule))
            marks = [pytest.mark.xfail(strict=True, reason=hole)] if hole else []
            probes.append(pytest.param(identity, method, rule, id=f"{identity}:{method} {rule}", marks=marks))
    return probes


def _hidden_probes() -> list:
    return [
        pytest.param(method, rule, id=f"{method} {rule}")
        for method, rule in ROUTES
        if (row := EXPECTED.get((method, rule))) is not None and row.hidden is not None
    ]


def _missing_line(method: str, rule: str) -> str:
    return (
        f"{method} {rule} has no line in EXPECTED of {__name__}: add one saying who may call it "
        "(access) and the status each intruder gets - and make the route check it"
    )


# -- the world ----------------------------------------------------------------------------------------
@dataclass
class Identity:
    """Credentials: a bearer token (used on the API) and/or a session cookie with the CSRF token it
    sends on non-GET requests (used on the pages, and on the API when there is no token)."""

    bearer: str | None = None
    cookie: FlaskClient | None = None
    csrf: str | None = None

    def send(self, app: Flask, method: str, url: str, body: Any = None):
        api = url.startswith("/api/")
        headers: dict[str, str] = {}
        if self.cookie is not None and (not api or self.bearer is None):
            client = self.cookie
            if method not in SAFE_METHODS and self.csrf is not None:
                if api:
                    headers["X-CSRF-Token"] = self.csrf
                else:
                    body = {**(body or {}), "csrf_token": self.csrf}
        else:
            client = app.test_client(use_cookies=False)
            if self.bearer:
                headers["Authorization"] = f"Bearer {self.bearer}"
        if body is None:
            return client.open(url, method=method, headers=headers)
        if api:
            return client.open(url, method=method, headers=headers, json=body)
        return client.open(
            url, method=method, headers=headers, data=MultiDict({k: str(v) for k, v in body.items()})
        )


@dataclass
class World:
    app: Flask
    ids: dict[str, int] = field(default_factory=dict)
    who: dict[str, Identity] = field(default_factory=dict)
    admin: Identity = field(default_factory=Identity)

    @property
    def engine(self) -> sa.Engine:
        return self.app.extensions["lowcode"].db.engine

    def version(self, record: str) -> int:
        """The current version of a (not deleted) record, read as the administrator."""
        response = self.admin.send(self.app, "GET", f"/api/data/sec/deal/{self.ids[record]}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["version"]

    def revive_cookie(self, identity: str) -> None:
        """A new session cookie (and CSRF token) for a prober signed out on the pages, which ends every
        cookie session of the user (the bearer token lives on)."""
        fresh = sign_in(self.app, USERNAMES[identity])
        self.who[identity] = dataclasses.replace(self.who[identity], cookie=fresh.cookie, csrf=fresh.csrf)

    def url(self, method: str, rule: str, **overrides: Callable[[World], Any]) -> str:
        values = {**PARAMS, **PARAM_OVERRIDES.get((method, rule), {}), **overrides}

        def fill(match: re.Match) -> str:
            name = match[1]
            if name not in values:
                pytest.fail(
                    f"URL parameter <{name}> of {method} {rule} has no value: add it to PARAMS of {__name__}"
                )
            return str(values[name](self))

        url = PARAMETER.sub(fill, rule)
        query = QUERIES.get((method, rule))
        return f"{url}?{query(self)}" if query else url


def sign_in(app: Flask, username: str, password: str = PASSWORD) -> Identity:
    """Sign in through the API: the bearer token, and a client holding the session cookie."""
    client = app.test_client()
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return Identity(bearer=body["token"], cookie=client, csrf=body["csrf_token"])


def admin_id(s) -> int:
    return s.scalar(sa.select(User.id).where(User.username == "admin"))


def build_world(app: Flask) -> World:
    w = World(app)
    w.admin = admin = sign_in(app, "admin", ADMIN_PASSWORD)
    imported = admin.send(app, "POST", "/api/templates/import", BUNDLE)
    assert imported.status_code == 201, imported.get_json()
    with app.extensions["lowcode"].db.write() as s:
        dept = Department(name="North", path="/")
        s.add(dept)
        s.flush()
        dept.path = f"/{dept.id}/"
        w.ids["dept"] = dept.id
        empty = Department(name="Empty", path="/")
        s.add(empty)
        s.flush()
        empty.path = f"/{empty.id}/"
        w.ids["empty_dept"] = empty.id
        for key, username, role in [("olga", "olga", "editor"), ("outsider", "eve", "editor"), ("reader", "rita", "reader"),
                                    ("no_role", "nora", None), ("no_grant", "nick", "nobody")]:  # fmt: skip
            user = create_user(s, username, PASSWORD)
            user.department_id = dept.id
            w.ids[key] = user.id
            if role:
                assignment = RoleAssignment(user_id=user.id, app="sec", role=role, granted_by="test")
                s.add(assignment)
                s.flush()
                w.ids[f"{key}_assignment"] = assignment.id
    for key, username in [("olga", "olga"), ("outsider", "eve"), ("reader", "rita"), ("no_role", "nora"),
                          ("no_grant", "nick")]:  # fmt: skip
        w.who[key] = sign_in(app, username)
    olga = w.who.pop("olga")
    with app.extensions["lowcode"].db.read() as s:
        w.ids["olga_token"] = s.scalar(
            sa.select(ApiToken.id).where(ApiToken.token_hash == hash_token(olga.bearer))
        )

    def create(who: Identity, body: dict) -> int:
        response = who.send(app, "POST", "/api/data/sec/deal", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    w.ids["secret"] = create(olga, {"title": SECRET_TITLE, "amount": "10"})
    costed = admin.send(
        app, "PATCH", f"/api/data/sec/deal/{w.ids['secret']}", {"cost": SECRET_COST, "version": 1}
    )
    assert costed.status_code == 200, costed.get_json()
    w.ids["deleted"] = create(olga, {"title": "Deleted deal of olga"})
    assert olga.send(app, "DELETE", f"/api/data/sec/deal/{w.ids['deleted']}").status_code == 204
    w.ids["own"] = create(w.who["outsider"], {"title": "Eve's own deal"})
    with app.extensions["lowcode"].db.write() as s:
        # unread notifications of olga (the one the probes name) and of the administrator (whose cookie
        # the CSRF probes use): a mark-read that is not scoped to the caller would change them
        notify(s, [w.ids["olga"]], SECRET_NOTE, "for olga's eyes", app="sec", record_id=w.ids["secret"])
        notify(s, [admin_id(s)], "Note for the administrator", app="sec")
        w.ids["olga_note"] = s.scalar(sa.select(Notification.id).where(Notification.title == SECRET_NOTE))
        view = SavedView(
            app="sec", entity="deal", name="olga's view", owner_id=w.ids["olga"], params={"q": "x"}
        )
        s.add(view)
        s.flush()
        w.ids["olga_view"] = view.id
        w.ids["olga_job"] = store.create_job(
            s, "import", "olga", "sec", OLGA_IMPORT, ("deals.csv", b"title\nimported\n"), status=store.NEW
        )
        for key, message in [("secret", SECRET_RUN), ("own", "run on eve's deal")]:
            s.add(RuleRunEntry(app="sec", rule="probe", entity="deal", record_id=w.ids[key], trigger="update",
                               phase="after", outcome="ok", message=message, actions=[]))  # fmt: skip
    deal = BUNDLE["entities"][0]  # a field published, then removed: its column is in the trash
    for body in ({**deal, "fields": [*deal["fields"], {"name": "scratch", "type": "text"}]}, deal):
        assert admin.send(app, "PUT", "/api/definitions/sec/entity/deal", body).status_code == 200
        assert admin.send(app, "POST", "/api/definitions/sec/entity/deal/publish").status_code == 200
    (trashed,) = admin.send(app, "GET", "/api/definitions/sec/entity/deal/trash").get_json()["data"]
    w.ids["trashed"] = trashed["id"]
    drafted = admin.send(app, "PUT", "/api/definitions/sec/role/editor", OPEN_EDITOR)
    assert drafted.status_code == 200, drafted.get_json()  # pending: publishing it would widen the role

    w.who["anonymous"] = Identity()
    admin_session = sign_in(app, "admin", ADMIN_PASSWORD)
    w.who["csrf_forged"] = Identity(
        cookie=admin_session.cookie, csrf=w.who["no_role"].csrf
    )  # a real token, of another session
    w.who["csrf_missing"] = Identity(cookie=admin_session.cookie, csrf=None)

    by_logout, by_admin = sign_in(app, "admin", ADMIN_PASSWORD), sign_in(app, "admin", ADMIN_PASSWORD)
    for token in (by_logout, by_admin):
        assert Identity(bearer=token.bearer).send(app, "GET", "/api/auth/me").status_code == 200
    assert Identity(bearer=by_logout.bearer).send(app, "POST", "/api/auth/logout").status_code == 204
    with app.extensions["lowcode"].db.read() as s:
        token_id = s.scalar(sa.select(ApiToken.id).where(ApiToken.token_hash == hash_token(by_admin.bearer)))
    assert admin.send(app, "DELETE", f"/api/admin/tokens/{token_id}").status_code == 200
    w.who["revoked_by_logout"] = Identity(bearer=by_logout.bearer)
    w.who["revoked_by_admin"] = Identity(bearer=by_admin.bearer)
    return w


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with fresh_database(tmp_path_factory.mktemp("break-in")) as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "break-in-secret"})
        try:
            ensure_admin(app, "admin", ADMIN_PASSWORD)
            yield build_world(app)
        finally:
            app.extensions["lowcode"].db.dispose()


# -- "changes nothing" ----------------------------------------------------------------------------------
NOT_FINGERPRINTED = {"lc_security_event"}  # denials and failed sign-ins are meant to be logged
NOISE_COLUMNS = {"lc_api_token": {"last_used_at"}, "lc_role_assignment": {"last_used_at"}}


def fingerprint(engine: sa.Engine) -> dict[str, tuple[int, str]]:
    """table -> (row count, digest of every row) for every table but the security log."""
    out = {}
    with engine.connect() as conn:
        for table in sorted(sa.inspect(conn).get_table_names()):
            if table in NOT_FINGERPRINTED:
                continue
            result = conn.exec_driver_sql(f'SELECT * FROM "{table}"')
            keep = [i for i, name in enumerate(result.keys()) if name not in NOISE_COLUMNS.get(table, ())]
            rows = sorted(repr(tuple(row[i] for i in keep)) for row in result)
            out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16])
    return out


def changed_tables(before: dict, after: dict) -> dict[str, str]:
    return {
        t: f"{before.get(t, (0,))[0]} -> {after.get(t, (0,))[0]} rows"
        + (" (contents changed)" if before.get(t) and after.get(t) and before[t][0] == after[t][0] else "")
        for t in sorted(set(before) | set(after))
        if before.get(t) != after.get(t)
    }


def stored_anywhere(engine: sa.Engine, needle: str) -> list[str]:
    """The tables (security log aside) any row of which contains ``needle``."""
    found = []
    with engine.connect() as conn:
        for table in sorted(sa.inspect(conn).get_table_names()):
            if table not in NOT_FINGERPRINTED and any(
                needle in repr(tuple(row)) for row in conn.exec_driver_sql(f'SELECT * FROM "{table}"')
            ):
                found.append(table)
    return found


# -- checks of a response -------------------------------------------------------------------------------
def check_response(response, expected: int, identity: str, column: str, api: bool) -> None:
    status = response.status_code
    body = response.get_data(as_text=True)
    assert status == expected, f"{identity}: got {status}, expected {expected}: {body[:300]}"
    assert SECRET_COST not in body, f"{identity} was shown the hidden cost"
    assert SECRET_NOTE not in body, f"{identity} was shown olga's notification"
    if identity not in SEES_THE_SECRET_TITLE:
        assert SECRET_TITLE not in body, f"{identity} was shown a record outside its roles"
        assert SECRET_RUN not in body, f"{identity} was shown a rule run of a record outside its roles"
    if api and status in (401, 403, 404):
        error = response.get_json()["error"]
        assert {"code", "message", "fields"} <= set(error), error
        assert error["code"] == {401: "unauthenticated", 403: "forbidden", 404: "not_found"}[status], error
    if column == "csrf" and status == 403:
        assert "CSRF" in body, body[:300]
    if status in (301, 302, 303) and column in ("anon", "revoked"):
        assert urlsplit(response.headers["Location"]).path == "/login", response.headers["Location"]


# -- the tests --------------------------------------------------------------------------------------------
def test_every_route_has_a_line():
    """A new route fails here until EXPECTED (and PARAMS) say who may call it; stale lines fail too."""
    missing = [_missing_line(m, r) for m, r in ROUTES if (m, r) not in EXPECTED]
    stale = [f"{m} {r} is in EXPECTED but not in the URL map" for m, r in EXPECTED if (m, r) not in ROUTES]
    unknown = sorted({f"<{p}> of {r}" for _m, r in ROUTES for p in PARAMETER.findall(r) if p not in PARAMS})
    assert not missing and not stale and not unknown, "\n".join(
        [*missing, *stale, *(f"add {u} to PARAMS" for u in unknown)]
    )


def test_the_table_follows_the_access_rules():
    """The expectations themselves: only the listed routes are public or self-service; every other route
    refuses anonymous and revoked callers, data routes refuse users without a role, administration
    refuses every role, writes need the CSRF token, records outside the rule are 404 to read, 403 to write."""
    problems = []
    for (method, rule), e in EXPECTED.items():
        where = f"{method} {rule}"
        page, write = not rule.startswith("/api/"), method not in SAFE_METHODS
        if (e.access == PUBLIC) != ((method, rule) in PUBLIC_ROUTES):
            problems.append(f"{where}: public only if listed in PUBLIC_ROUTES")
        if (e.access == SELF) != ((method, rule) in SELF_SERVICE_ROUTES):
            problems.append(f"{where}: self-service only if listed in SELF_SERVICE_ROUTES")
        refused = (401 if write else 302) if page else 401
        if e.access != PUBLIC and (e.anon, e.revoked) != (refused, refused):
            problems.append(f"{where}: anonymous and revoked callers must get {refused}")
        if e.access in (DATA, ADMIN) and e.norole != 403:
            problems.append(f"{where}: a user without a role must get 403")
        if e.access == ADMIN and e.reader != 403:
            problems.append(f"{where}: a role that is not an administrator must get 403")
        if (method, rule) in OTHERS_OBJECTS:
            if e.access != SELF or e.norole not in (403, 404) or e.reader not in (403, 404):
                problems.append(f"{where}: another user's object is refused (404 or 403) to every prober")
        elif e.access == SELF and e.norole >= 400:
            problems.append(f"{where}: self-service routes work for any signed-in user")
        if write != (e.csrf is not None):
            problems.append(f"{where}: a CSRF expectation for (and only for) non-GET routes")
        elif write and e.csrf != 403 and (method, rule) not in CSRF_EXEMPT:
            problems.append(f"{where}: a forged or missing CSRF token must get 403 (or be in CSRF_EXEMPT)")
        if ("<int:record_id>" in rule) != (e.outsider is not None):
            problems.append(f"{where}: an outsider expectation for (and only for) routes with a record_id")
        elif e.outsider is not None and e.outsider != (403 if write else 404):
            problems.append(f"{where}: a record outside the rule is 404 to read and 403 to write")
        if e.hidden is not None and e.hidden not in ((422,) if not page else (303, 422)):
            problems.append(f"{where}: a hidden field is refused (422) or, in a form post, ignored (303)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("identity", "method", "rule"), _probes())
def test_break_in(world, identity, method, rule):
    """One intruder on one route: the expected status, nothing secret shown, nothing changed."""
    row = EXPECTED.get((method, rule))
    if row is None:
        pytest.fail(_missing_line(method, rule))
    column = IDENTITIES[identity]
    expected = getattr(row, column)
    url = world.url(method, rule)
    make_body = BODIES.get((method, rule))
    who = world.who[identity]
    api = rule.startswith("/api/")
    allowed_changes: set[str] = set()
    ends_session = (method, rule) in ENDS_SESSION and expected < 400
    if ends_session:  # signing oneself out: with a throwaway session, not the identity's own
        who, allowed_changes = sign_in(world.app, USERNAMES[identity]), ENDS_SESSION[(method, rule)]
    before = fingerprint(world.engine)
    body = make_body(world) if make_body else None
    response = who.send(world.app, method, url, body)
    after = fingerprint(world.engine)
    check_response(response, expected, identity, column, api)
    changes = {t: c for t, c in changed_tables(before, after).items() if t not in allowed_changes}
    assert not changes, f"{identity} {method} {url} -> {response.status_code} changed {changes}"
    if ends_session:
        if api:
            assert Identity(bearer=who.bearer).send(world.app, "GET", "/api/auth/me").status_code == 401
        else:
            assert who.cookie.get("/").status_code == 302
            world.revive_cookie(identity)  # the epoch moved on: the identity's own session ended too


@pytest.mark.parametrize(("method", "rule"), _hidden_probes())
def test_hidden_field_in_the_body_is_never_written(world, method, rule):
    """The own-records role sends ``cost`` (hidden from it) on its own record: refused or ignored."""
    expected = EXPECTED[(method, rule)].hidden
    eve = world.who["outsider"]
    url = world.url(method, rule, record_id=lambda w: w.ids["own"])
    body: dict[str, Any] = {"title": "sneaky", "cost": HIDDEN_VALUE}
    if "<int:record_id>" in rule:
        body["version"] = world.version("own")
    before = fingerprint(world.engine)
    response = eve.send(world.app, method, url, body)
    after = fingerprint(world.engine)
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if expected == 422:
        assert "cost" in response.get_json()["error"]["fields"], response.get_json()
        assert not changed_tables(before, after), changed_tables(before, after)
    else:  # ignored: the form binds only the fields the role may write; the rest of the post is saved
        record_id = int(urlsplit(response.headers["Location"]).path.rstrip("/").rsplit("/", 1)[1])
        seen = world.admin.send(world.app, "GET", f"/api/data/sec/deal/{record_id}").get_json()
        assert seen["title"] == "sneaky" and seen["cost"] is None, seen
    assert not stored_anywhere(world.engine, HIDDEN_VALUE)


def test_home_page_lists_no_app_without_a_role(world):
    """The apps home page is open to any signed-in user but lists only apps one may read something of."""
    for identity in ("no_role", "no_grant"):
        page = world.who[identity].send(world.app, "GET", "/")
        assert page.status_code == 200 and 'href="/a/sec"' not in page.get_data(as_text=True)
    page = world.who["reader"].send(world.app, "GET", "/")
    assert 'href="/a/sec"' in page.get_data(as_text=True)


def test_bearer_calls_need_no_csrf_token_and_cookie_calls_do(world):
    """The same write as the CSRF probes, accepted with a bearer token (no CSRF token) and with the
    session's own CSRF token - so the 403s of the matrix are the CSRF check's."""
    url = f"/api/data/sec/deal/{world.ids['own']}"
    eve = world.who["outsider"]
    by_bearer = Identity(bearer=eve.bearer).send(
        world.app, "PATCH", url, {"amount": "1", "version": world.version("own")}
    )
    assert by_bearer.status_code == 200, by_bearer.get_json()
    cookie_only = Identity(cookie=eve.cookie, csrf=eve.csrf)
    by_cookie = cookie_only.send(world.app, "PATCH", url, {"amount": "2", "version": world.version("own")})
    assert by_cookie.status_code == 200, by_cookie.get_json()
    forged = Identity(cookie=eve.cookie, csrf=world.who["reader"].csrf)
    before = fingerprint(world.engine)
    refused = forged.send(world.app, "PATCH", url, {"amount": "3", "version": world.version("own")})
    assert refused.status_code == 403 and "CSRF" in refused.get_json()["error"]["message"]
    assert not changed_tables(before, fingerprint(world.engine))


@pytest.mark.parametrize("route", ["/logout", "/api/auth/logout"])
def test_a_signed_out_session_cookie_is_dead(world, route):
    """Replaying the session cookie captured before signing out must not sign anyone back in."""
    nora = sign_in(world.app, "nora")
    captured = nora.cookie.get_cookie("session").value
    signed_out = Identity(cookie=nora.cookie, csrf=nora.csrf).send(world.app, "POST", route)
    assert signed_out.status_code in (204, 303)
    assert nora.cookie.get("/api/auth/me").status_code == 401  # the browser's own copy is gone
    replay = world.app.test_client()
    replay.set_cookie("session", captured)
    assert replay.get("/").status_code == 302
    assert replay.get("/api/auth/me").status_code == 401
    world.revive_cookie("no_role")  # signing out ended the world's session of nora too


def test_notifications_are_only_ever_ones_own(world):
    """A user lists and marks only their own notifications - through the API and the inbox page; olga's
    stays unread and unseen, even by an administrator."""
    app, olga_note = world.app, world.ids["olga_note"]
    with app.extensions["lowcode"].db.write() as s:
        paula_id = create_user(s, "paula", PASSWORD).id
        notify(s, [paula_id], "Note for paula", app="sec")
        own = s.scalar(sa.select(Notification.id).where(Notification.user_id == paula_id))
    paula = sign_in(app, "paula")
    listed = paula.send(app, "GET", "/api/notifications").get_json()
    assert ([n["id"] for n in listed["data"]], listed["unread"]) == ([own], 1), listed
    page = paula.send(app, "GET", "/inbox")
    assert page.status_code == 200 and "Note for paula" in page.get_data(as_text=True)
    for who in (paula, world.admin):  # not even an administrator touches another user's notification
        for url in ("/api/notifications", "/inbox"):
            assert SECRET_NOTE not in who.send(app, "GET", url).get_data(as_text=True)
        before = fingerprint(world.engine)
        for url in (f"/api/notifications/{olga_note}/read", f"/inbox/{olga_note}/read"):
            refused = who.send(app, "POST", url)
            assert refused.status_code == 404, (url, refused.status_code)
            assert SECRET_NOTE not in refused.get_data(as_text=True)
        assert not changed_tables(before, fingerprint(world.engine))
    marked = paula.send(app, "POST", f"/inbox/{own}/read")
    assert marked.status_code == 303 and urlsplit(marked.headers["Location"]).path == "/inbox"
    assert paula.send(app, "GET", "/api/notifications").get_json()["unread"] == 0
    assert paula.send(app, "POST", "/api/notifications/read-all").get_json() == {"marked": 0, "unread": 0}
    with app.extensions["lowcode"].db.read() as s:
        row = s.get(Notification, olga_note)
        assert row.user_id == world.ids["olga"] and row.read_at is None


def test_rule_runs_follow_the_read_permission(world):
    """The run log of a record: for whoever may read the record (a record outside the rule is 404, like
    the record); of an entity: read on it; of the whole app: administrators only."""
    app, secret, own = world.app, world.ids["secret"], world.ids["own"]
    eve, rita, nora = world.who["outsider"], world.who["reader"], world.who["no_role"]

    def runs(who: Identity, query: str):
        return who.send(app, "GET", f"/api/rules/sec/runs{query}")

    def messages(who: Identity, query: str) -> list[str]:
        response = runs(who, query)
        assert response.status_code == 200, (query, response.get_json())
        return [r["message"] for r in response.get_json()["data"]]

    assert messages(rita, f"?entity=deal&record_id={secret}") == [SECRET_RUN]
    assert messages(eve, f"?entity=deal&record_id={own}") == ["run on eve's deal"]
    assert set(messages(world.admin, "")) >= {SECRET_RUN, "run on eve's deal"}  # app-wide
    for who, query, status in [
        (eve, f"?entity=deal&record_id={secret}", 404),  # olga's record: as unknown as the record itself
        (eve, f"?entity=deal&record_id={world.ids['deleted']}", 404),
        (nora, "?entity=deal", 403),
        (nora, f"?entity=deal&record_id={own}", 403),
        (rita, "", 403),  # app-wide
        (eve, "", 403),
        (rita, f"?record_id={secret}", 400),  # a record needs its entity
    ]:  # fmt: skip
        response = runs(who, query)
        assert response.status_code == status, (query, response.get_json())
        assert SECRET_RUN not in response.get_data(as_text=True)


def test_rule_runs_of_records_outside_the_record_rule_stay_hidden(world):
    """The run log of an entity lists only the runs of records the caller may read."""
    response = world.who["outsider"].send(world.app, "GET", "/api/rules/sec/runs?entity=deal")
    assert response.status_code == 200, response.get_json()
    assert {r["record_id"] for r in response.get_json()["data"]} == {world.ids["own"]}
    assert SECRET_RUN not in response.get_data(as_text=True)


def test_dry_runs_commit_nothing_and_keep_to_the_record_rule(world):
    """A dry run (update permission, or create) shows the would-be write and commits nothing; it shows no
    hidden field; it cannot reach a record outside the rule nor write a hidden field."""
    app, eve, url = world.app, world.who["outsider"], "/api/rules/sec/dry-run"
    created = eve.send(app, "POST", "/api/data/sec/deal", {"title": "Eve's costed deal"})
    assert created.status_code == 201, created.get_json()
    mine = created.get_json()["id"]  # its cost, hidden from eve, set by the administrator
    costed = world.admin.send(app, "PATCH", f"/api/data/sec/deal/{mine}", {"cost": "4242.42", "version": 1})
    assert costed.status_code == 200, costed.get_json()
    admin_page = sign_in(app, "admin", ADMIN_PASSWORD)
    before = fingerprint(world.engine)
    for body in [{"entity": "deal", "record_id": mine, "changes": {"title": "dry", "amount": "5"}},
                 {"entity": "deal", "changes": {"title": "dry new deal"}}]:  # fmt: skip
        tried = eve.send(app, "POST", url, body)
        assert tried.status_code == 200 and tried.get_json()["outcome"] == "ok", tried.get_json()
        assert tried.get_json()["record"]["title"] in ("dry", "dry new deal")
        assert "4242.42" not in tried.get_data(as_text=True) and "cost" not in tried.get_json()["record"]
    hidden = {"entity": "deal", "record_id": mine, "changes": {"cost": HIDDEN_VALUE}}
    outcome = eve.send(app, "POST", url, hidden).get_json()
    assert outcome["outcome"] == "invalid" and "cost" in outcome["fields"], outcome
    for body, status in [
        ({"entity": "deal", "record_id": world.ids["secret"], "changes": {"title": "x"}}, 404),
        ({"entity": "deal", "record_id": world.ids["secret"], "changes": {"title": "x"}, "version": world.version("secret")}, 403),
    ]:  # fmt: skip
        refused = eve.send(app, "POST", url, body)
        assert refused.status_code == status, refused.get_json()
        assert SECRET_TITLE not in refused.get_data(as_text=True)
    on_page = Identity(cookie=admin_page.cookie, csrf=admin_page.csrf).send(
        app, "POST", f"/a/sec/deal/{world.ids['secret']}/dry-run", {"changes": '{"title": "dry"}'}
    )
    assert on_page.status_code == 200 and 'data-outcome="ok"' in on_page.get_data(as_text=True)
    changes = changed_tables(before, fingerprint(world.engine))
    assert not changes, changes
    assert not stored_anywhere(world.engine, HIDDEN_VALUE)
    assert not stored_anywhere(world.engine, "dry new deal")
