"""Built-in rule actions, registered explicitly by :func:`register_builtin_actions`."""

from __future__ import annotations

from lowcode.registry import Registry
from lowcode.rules.actions.base import RuleAction, rule_actions


def register_builtin_actions(registry: Registry[RuleAction] = rule_actions) -> Registry[RuleAction]:
    """Register every built-in action once (idempotent per registry)."""
    from lowcode.rules.actions.flow import (
        CollectAction,
        ForEachChildAction,
        ForEachRecordAction,
        RefuseAction,
        SetFieldsAction,
    )
    from lowcode.rules.actions.guarded_writes import UpdateRecordsAction, UpsertAction
    from lowcode.rules.actions.messaging import CallWebhookAction, NotifyAction, PublishEventAction
    from lowcode.rules.actions.writes import CreateRecordAction

    for cls in (
        SetFieldsAction,
        RefuseAction,
        ForEachChildAction,
        ForEachRecordAction,
        CollectAction,
        CreateRecordAction,
        UpdateRecordsAction,
        UpsertAction,
        NotifyAction,
        CallWebhookAction,
        PublishEventAction,
    ):
        if cls.type not in registry:
            registry.register(cls.type, cls())
    return registry


__all__ = ["RuleAction", "rule_actions", "register_builtin_actions"]
