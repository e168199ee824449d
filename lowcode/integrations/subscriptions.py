"""Subscription definitions: which record events of an entity go out, through which channel.

A subscription is a definition kind (``definitions/schemas/subscription.json``: versioned, published, in
bundles under ``subscriptions/``). Its publish check (:func:`subscription_check`) makes sure the entity
exists, the condition parses over the entity's fields (``$user``-free: there is no user at delivery) and the
mapping, when named, is a mapping of the app whose target is the subscription's entity. Secrets are never in a definition: a webhook
names its secret (:func:`webhook_secret_for`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lowcode.conditions import parse_condition
from lowcode.definitions.checks import AppDocuments
from lowcode.errors import LowcodeError
from lowcode.runtime.snapshot import Snapshot
from lowcode.webhook_signing import webhook_secret


@dataclass(frozen=True)
class Subscription:
    """A published subscription, as the fan-out reads it."""

    app: str
    name: str
    entity: str
    events: frozenset[str]
    channel: Mapping[str, Any]
    condition: Mapping[str, Any] | None
    mapping: str | None
    enabled: bool

    @classmethod
    def from_body(cls, app: str, body: Mapping[str, Any]) -> Subscription:
        """Read a published body (already checked against its schema)."""
        return cls(
            app,
            body["name"],
            body["entity"],
            frozenset(body["events"]),
            body["channel"],
            body.get("condition"),
            body.get("mapping"),
            body.get("enabled", True),
        )


def subscriptions_for(snapshot: Snapshot, app: str, entity: str, kind: str) -> Iterator[Subscription]:
    """The enabled subscriptions of an app's entity that take events of ``kind``, by name."""
    for (sub_app, _name), body in sorted(snapshot.subscriptions.items()):
        if sub_app != app or body.get("entity") != entity:
            continue
        sub = Subscription.from_body(sub_app, body)
        if sub.enabled and kind in sub.events:
            yield sub


def subscription_check(doc: Mapping[str, Any], docs: AppDocuments) -> dict[str, list[str]]:
    """Publish check: entity published with the app, condition over its fields, mapping known."""
    errors: dict[str, list[str]] = {}
    entity = doc.get("entity", "")
    if entity not in docs.entities:
        errors["$.entity"] = [f"unknown entity '{entity}'"]
        return errors
    if doc.get("condition") is not None:
        try:
            parse_condition(doc["condition"], docs.kinds(entity), path="$.condition")
        except LowcodeError as exc:
            for path, messages in (getattr(exc, "fields", None) or {"$.condition": [str(exc)]}).items():
                errors.setdefault(path, []).extend(messages)
    if doc.get("mapping"):
        mapping = docs.of("mapping").get(doc["mapping"])
        if mapping is None:
            errors["$.mapping"] = [f"unknown mapping '{doc['mapping']}'"]
        elif mapping.get("target") != entity:
            errors["$.mapping"] = [
                f"mapping '{doc['mapping']}' makes records of '{mapping.get('target')}', not '{entity}'"
            ]
    return errors


def webhook_secret_for(channel: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    """The secret a webhook channel names (``secret``): ``WEBHOOK_SECRETS[name]`` in the settings, else the
    environment variable ``LOWCODE_WEBHOOK_SECRET_<NAME>``; without a name, the ``WEBHOOK_SECRET`` setting.
    A named secret that is not configured is an error (never an unsigned call by mistake)."""
    name = channel.get("secret")
    if not name:
        return webhook_secret(settings)
    secret = (settings.get("WEBHOOK_SECRETS") or {}).get(name) or os.environ.get(
        f"LOWCODE_WEBHOOK_SECRET_{name.upper()}"
    )
    if not secret:
        raise LookupError(f"webhook secret '{name}' is not configured")
    return str(secret)


def published_channels(session) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Every published subscription's channel by (app, name), in one query."""
    import sqlalchemy as sa

    from lowcode.core.definition_models import Definition, DefinitionVersion

    query = (
        sa.select(Definition.app, Definition.name, DefinitionVersion.body)
        .join(
            DefinitionVersion,
            sa.and_(
                DefinitionVersion.definition_id == Definition.id,
                DefinitionVersion.version == Definition.published_version,
            ),
        )
        .where(Definition.kind == "subscription")
    )
    return {(app, name): body.get("channel") or {} for app, name, body in session.execute(query)}
