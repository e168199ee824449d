"""One run of a demo scenario: the options (declared defaults, overridden by the caller), the global scope
(options, tables, ``today``, ``start``, ``end``), procedures, the calendar's agenda, and the summary line."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
from collections import ChainMap
from pathlib import Path
from typing import Any

from flask import Flask

from lowcode.demo.functions import demo_functions
from lowcode.demo.scenario import load_scenario, scenario_path
from lowcode.demo.steps import Stop, action_of, steps
from lowcode.demo.values import Values
from lowcode.demo.writer import Writer
from lowcode.errors import ValidationFailed

__all__ = ["Run", "run_scenario", "scenario_path"]


class Run:
    """The state of one scenario run; steps call back into it."""

    def __init__(
        self,
        flask_app: Flask,
        scenario: dict[str, Any],
        today: dt.date,
        seed: int | None,
        options: dict[str, Any],
    ):
        unknown = sorted(set(options) - set(scenario.get("options", {})))
        if unknown:
            raise ValidationFailed(f"The demo scenario has no option {', '.join(unknown)}")
        self.scenario = scenario
        self.rng = random.Random(scenario.get("seed", 0) if seed is None else seed)
        self.values = Values(demo_functions(self.rng))
        self.writer = Writer(flask_app, scenario["app"])
        self.default_user = scenario.get("default_user", "admin")
        self.procedures = scenario.get("procedures", {})
        self.agenda: dict[dt.date, list[tuple[str, dict]]] = {}
        users = {name: self.writer.user_id(name) for name in self.writer.actors}
        self.globals: dict[str, Any] = {
            **scenario.get("tables", {}),
            **scenario.get("options", {}),
            **options,
            "today": today,
            "day": today,
            "users": users,
        }
        self.scope = ChainMap(self.globals)
        self.values.bind(scenario.get("dates", {}), self.scope)

    def moment(self, step: dict, scope: ChainMap) -> dt.datetime:
        """When a step happens: its ``hour`` (default 10) of the current ``day``, at a random minute."""
        return dt.datetime.combine(scope["day"], dt.time(int(step.get("hour", 10)), self.rng.randint(0, 59)))

    def block(self, body: list[dict], scope: ChainMap) -> None:
        """Run ``body`` in ``scope`` (a :class:`Stop` goes on up)."""
        for step in body:
            if "when" in step and not self.values.test(step["when"], scope, "when"):
                continue
            steps.get(action_of(step))(self, step, scope)

    def guarded(self, body: list[dict], scope: ChainMap) -> None:
        """Run ``body``; a refused write ends it, not the run."""
        with contextlib.suppress(Stop):
            self.block(body, scope)

    def call(self, name: str, args: dict[str, Any]) -> None:
        """Run procedure ``name`` with ``args`` bound over the globals."""
        self.guarded(self.procedures[name], ChainMap(dict(args), self.globals))

    def summary(self, seconds: float) -> str:
        """One line: the span, the records of the entities the scenario counts, the refusals."""
        counts = ", ".join(f"{self.writer.count(e)} {e}" for e in self.scenario.get("summary", []))
        refused = sum(self.writer.refused.values())
        detail = ", ".join(f"{label} {n}" for label, n in sorted(self.writer.refused.items()))
        first, last = self.scope.get("start", self.globals["today"]), self.globals["today"]
        return (
            f"demo data {first} .. {last}: {counts}; {refused} steps refused"
            + (f" ({detail})" if detail else "")
            + f"; {seconds:.0f} s"
        )


def run_scenario(
    flask_app: Flask,
    source: Path | dict[str, Any],
    today: dt.date | None = None,
    seed: int | None = None,
    **options: Any,
) -> str:
    """Play a demo scenario (a file or a document) through the record service; returns a summary line.
    ``options`` override the scenario's declared options (e.g. how many days or items)."""
    started = time.perf_counter()
    run = Run(flask_app, load_scenario(source), today or dt.date.today(), seed, options)
    run.guarded(run.scenario["steps"], run.scope)
    return run.summary(time.perf_counter() - started)
