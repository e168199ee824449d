"""The workflow designer's changes by name: each posted panel names the change that reads it."""

from __future__ import annotations

from collections.abc import Callable

from lowcode.designer.workflow_edits import WorkflowEdit, add_state, delete_state, edit_settings, edit_state
from lowcode.designer.workflow_transition_edits import add_transition, delete_transition, edit_transition
from lowcode.registry import Registry

Change = Callable[[WorkflowEdit], str]
"""Changes the edit's documents from its form; returns the summary of the change."""
changes: Registry[Change] = Registry("workflow designer change")


def apply_change(change: str, edit: WorkflowEdit) -> str:
    """The summary of a posted change, applied to ``edit``'s copies. :raises UnknownType: :raises DefinitionInvalid:"""
    return changes.get(change)(edit)


for _key, _change in (
    ("add_state", add_state),
    ("state", edit_state),
    ("delete_state", delete_state),
    ("add_transition", add_transition),
    ("transition", edit_transition),
    ("delete_transition", delete_transition),
    ("settings", edit_settings),
):
    changes.register(_key, _change)
