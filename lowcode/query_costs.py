"""Cost limits of a request, so that one user's costly lists cannot stall the server for everyone.

* Every request runs its statements under the statement budget (:mod:`lowcode.core.budget`).
* :func:`costly_query` views (filtered or searched lists: the list API, its CSV export, the list page)
  check the client's filter and search against the size limits before anything runs, and then take one of
  a few slots per process: costly lists wait for a slot *before* they take a database connection, so
  they can never hold every pooled connection and a cheap request always finds one.

Refusals are :class:`QueryTooCostly` (422, ``query_too_costly``, naming the limit) and :class:`ServerBusy`
(503, ``server_busy``); :func:`log_refusal` logs them (Python log ``lowcode.costs`` and a security event).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request

from lowcode.conditions.size import ConditionSize, measure
from lowcode.core.budget import StatementBudget, statement_budget
from lowcode.errors import LowcodeError, QueryTooCostly, ServerBusy

log = logging.getLogger("lowcode.costs")
EXTENSION = "lowcode_costs"
BUDGET_LIMITS = frozenset(
    {"STATEMENT_TIMEOUT_MS", "WRITE_STATEMENT_TIMEOUT_MS", "SQLITE_STEP_BUDGET", "SQLITE_WRITE_STEP_BUDGET"}
)
"""The settings whose refusals are security events (a statement ran for its whole budget)."""


@dataclass(frozen=True)
class QueryLimits:
    """Size limits of a client's filter and search (0: no limit); settings ``FILTER_MAX_*``."""

    terms: int = 50
    depth: int = 6
    text_terms: int = 10
    text_length: int = 100

    def check(self, size: ConditionSize, search: str) -> None:
        """:raises QueryTooCostly: naming the first limit ``size`` plus ``search`` is over."""
        text_terms = size.text_terms + (1 if search else 0)
        longest = max(size.longest_text, len(search))
        checks = (
            (
                text_terms,
                self.text_terms,
                "FILTER_MAX_TEXT_TERMS",
                "text searches (contains, starts_with, q)",
            ),
            (longest, self.text_length, "FILTER_MAX_TEXT_LENGTH", "characters in one searched text"),
            (size.terms, self.terms, "FILTER_MAX_TERMS", "comparisons"),
            (size.depth, self.depth, "FILTER_MAX_DEPTH", "nested all/any/not levels"),
        )
        for value, limit, name, what in checks:
            if limit and value > limit:
                raise QueryTooCostly(
                    f"The filter has {value} {what}; at most {limit} are allowed (LOWCODE_{name}).",
                    limit=name,
                    max=limit,
                )


class CostlyQueryGate:
    """At most ``slots`` costly queries at once in this process; others wait up to ``wait_ms``."""

    def __init__(self, slots: int, wait_ms: int):
        self.slots = slots
        self.wait_s = wait_ms / 1000
        self._semaphore = threading.BoundedSemaphore(slots) if slots > 0 else None

    def acquire(self) -> bool:
        """Take a slot (True), or nothing when there is no gate (False). :raises ServerBusy: on timeout."""
        if self._semaphore is None:
            return False
        if not self._semaphore.acquire(timeout=self.wait_s):
            raise ServerBusy(
                f"Too many filtered or searched lists are running ({self.slots} at once); try again.",
                limit="COSTLY_QUERY_SLOTS",
                max=self.slots,
                retry_after=max(1, round(self.wait_s)),
            )
        return True

    def release(self) -> None:
        """Give back a slot taken by :meth:`acquire`."""
        if self._semaphore is not None:
            self._semaphore.release()


@dataclass(frozen=True)
class RequestCosts:
    """The cost settings of an app: statement budget, size limits, the gate."""

    budget: StatementBudget
    limits: QueryLimits
    gate: CostlyQueryGate

    @classmethod
    def from_settings(cls, s: dict[str, Any]) -> RequestCosts:
        """Built from the ``STATEMENT_TIMEOUT_MS`` ... ``COSTLY_QUERY_WAIT_MS`` settings."""
        budget = StatementBudget(
            s["STATEMENT_TIMEOUT_MS"],
            s["WRITE_STATEMENT_TIMEOUT_MS"],
            s["SQLITE_STEP_BUDGET"],
            s["SQLITE_WRITE_STEP_BUDGET"],
        )
        limits = QueryLimits(
            s["FILTER_MAX_TERMS"],
            s["FILTER_MAX_DEPTH"],
            s["FILTER_MAX_TEXT_TERMS"],
            s["FILTER_MAX_TEXT_LENGTH"],
        )
        return cls(budget, limits, CostlyQueryGate(s["COSTLY_QUERY_SLOTS"], s["COSTLY_QUERY_WAIT_MS"]))


def register_request_costs(app: Flask, settings: dict[str, Any]) -> None:
    """Run every request's statements under the statement budget of the settings (the app's
    ``extensions["lowcode_costs"]``, read per request)."""
    app.extensions[EXTENSION] = RequestCosts.from_settings(settings)

    @app.before_request
    def _enter_budget():
        g.lowcode_budget = statement_budget(app.extensions[EXTENSION].budget)
        g.lowcode_budget.__enter__()

    @app.teardown_request
    def _leave_budget(_exc):
        budget = g.pop("lowcode_budget", None)
        if budget is not None:
            budget.__exit__(None, None, None)


def client_query_size(args) -> tuple[ConditionSize, str]:
    """The size of the filter a request's arguments carry (``filter`` JSON and the list page's simple
    ``op``/``value`` filter) and its search text ``q``. A ``filter`` that is not JSON counts as nothing
    here: the view refuses it with its own message."""
    raw = args.get("filter", "")
    try:
        doc = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        doc = None
    size = measure(doc)
    if args.get("field"):
        size += measure({"field": args["field"], "op": args.get("op", "="), "value": args.get("value", "")})
    return size, args.get("q", "").strip()


def costly_query(view):
    """Decorate a list view: check the client's filter and search, and hold a slot while it runs
    (a request with neither is cheap and runs at once)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        costs: RequestCosts = current_app.extensions[EXTENSION]
        size, search = client_query_size(request.args)
        if size.terms == 0 and not search:
            return view(*args, **kwargs)
        costs.limits.check(size, search)
        held = costs.gate.acquire()
        try:
            return view(*args, **kwargs)
        finally:
            if held:
                costs.gate.release()

    return wrapper


def log_refusal(error: LowcodeError) -> None:
    """Log a cost refusal: a warning on ``lowcode.costs`` for every one, and a ``query_too_costly`` security
    event for a statement stopped by its budget (it ran for its whole budget; refusals before anything runs
    are only logged, as writing an event for each would cost more than refusing it)."""
    from lowcode.api.ratelimit import credential_key
    from lowcode.auth.security_log import log_event_now

    ctx = g.get("lowcode_ctx")  # set once the request's actor is known (not for refusals before that)
    actor = ctx.actor if ctx is not None else None
    who = {"username": actor.username if actor else "", "user_id": actor.user_id if actor else None}
    limit, credential = error.extra.get("limit", ""), credential_key()
    log.warning(
        "%s (%s): %s %s by %s (%r) from %s",
        error.code,
        limit,
        request.method,
        request.path,
        credential,
        who["username"],
        request.remote_addr,
    )
    if limit in BUDGET_LIMITS:
        log_event_now(
            current_app.extensions["lowcode"].db,
            "query_too_costly",
            **who,
            ip=request.remote_addr or "",
            method=request.method,
            path=request.path,
            limit=limit,
            credential=credential,
            reason=error.message,
        )
