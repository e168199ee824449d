"""What a workflow designer should know before publishing - problems the publish itself lets through:

- a transition no role may take: no role grant of the entity names it and it is not ``automatic`` (taken by
  the app's own rules); only administrators could take it;
- a state no path reaches from a state a record starts in (``initial`` or ``automatic_initial``), following
  the declared transitions;
- a transition that starts only in such states (it can never be taken).

The schema has no notion of a final state, so a state without a way out is an end state, not a problem: it
is listed (:attr:`Analysis.end_states`) for the diagram only. Pure functions over definition bodies (a
workflow and its app's roles), as drafts or published.

Usage::

    found = analyse(workflow_body, {"clerk": clerk_role_body})
    found.findings        # [Finding("untakeable", "transition", "approve", Text(...)), ...]
    found.granted_by      # {"submit": ("clerk",), "approve": ()}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lowcode.core.texts import Text
from lowcode.workflows.model import as_list


@dataclass(frozen=True)
class Finding:
    """One problem: its ``kind`` (``untakeable``, ``unreachable``, ``dead_transition``), what it is about
    (``subject``: ``state`` or ``transition``, and its ``name``) and the message for people."""

    kind: str
    subject: str
    name: str
    message: Text


@dataclass(frozen=True)
class Analysis:
    """The findings of a workflow, the roles granting each transition, and the reachable and end states."""

    findings: tuple[Finding, ...]
    granted_by: Mapping[str, tuple[str, ...]]
    reachable: frozenset[str]
    end_states: frozenset[str]

    def about(self, subject: str, name: str) -> list[Finding]:
        """The findings about one state or transition."""
        return [f for f in self.findings if f.subject == subject and f.name == name]


def granting_roles(roles: Mapping[str, Mapping[str, Any]], entity: str, transition: str) -> tuple[str, ...]:
    """The roles (by name, sorted) with a grant on ``entity`` that names ``transition``."""
    return tuple(
        sorted(
            name
            for name, role in roles.items()
            if any(
                g.get("entity") == entity and transition in (g.get("transitions") or ())
                for g in role.get("grants") or ()
                if isinstance(g, Mapping)
            )
        )
    )


def reachable_states(workflow: Mapping[str, Any]) -> frozenset[str]:
    """The states a record can be in: where records start, and every state a transition leads to from one
    of those (any transition counts, automatic ones included)."""
    found = set(as_list(workflow.get("initial"))) | set(workflow.get("automatic_initial") or ())
    transitions = [t for t in workflow.get("transitions") or () if isinstance(t, Mapping)]
    changed = True
    while changed:
        changed = False
        for t in transitions:
            if t.get("to") not in found and found & set(as_list(t.get("from"))):
                found.add(t.get("to"))
                changed = True
    return frozenset(found)


def analyse(workflow: Mapping[str, Any], roles: Mapping[str, Mapping[str, Any]]) -> Analysis:
    """The findings of ``workflow`` given the app's ``roles`` (name -> role body)."""
    entity = workflow.get("entity", "")
    states = [s["name"] for s in workflow.get("states") or () if isinstance(s, Mapping) and "name" in s]
    transitions = [t for t in workflow.get("transitions") or () if isinstance(t, Mapping) and "name" in t]
    reachable = reachable_states(workflow)
    findings: list[Finding] = []
    granted = {t["name"]: granting_roles(roles, entity, t["name"]) for t in transitions}
    for t in transitions:
        if not t.get("automatic") and not granted[t["name"]]:
            findings.append(
                Finding(
                    "untakeable",
                    "transition",
                    t["name"],
                    Text(
                        "No role may take '{name}': tick the roles that may, or mark it as taken by the app"
                        " itself (only administrators could take it now)",
                        name=t["name"],
                    ),
                )
            )
    for state in states:
        if state not in reachable:
            findings.append(
                Finding(
                    "unreachable",
                    "state",
                    state,
                    Text(
                        "No record can reach '{state}': it is not a start state and no transition leads to it"
                        " from one",
                        state=state,
                    ),
                )
            )
    for t in transitions:
        sources = as_list(t.get("from"))
        if sources and all(s in states and s not in reachable for s in sources):
            findings.append(
                Finding(
                    "dead_transition",
                    "transition",
                    t["name"],
                    Text("'{name}' starts only in states no record reaches", name=t["name"]),
                )
            )
    leaving = {s for t in transitions for s in as_list(t.get("from"))}
    ends = frozenset(s for s in states if s not in leaving)
    return Analysis(tuple(findings), granted, reachable, ends)
