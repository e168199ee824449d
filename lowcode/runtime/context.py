"""Who is acting and in which unit of work: passed explicitly to every service call."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from lowcode.runtime.snapshot import Snapshot

if TYPE_CHECKING:
    from lowcode.rules.hooks import RowTally


@dataclass(frozen=True)
class Actor:
    """A user, or the system acting for a reason (a rule, an import, the CLI)."""

    user_id: int | None
    username: str
    is_admin: bool = False
    language: str = "en"
    attributes: dict[str, Any] = field(default_factory=dict)
    """Extra facts about the user for ``$user.*`` variables (department, level, ...)."""
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """app -> the roles the actor holds in it now (assignments in force, or a token's one role)."""
    ip: str = ""
    """Where the request comes from (for grants limited to address ranges)."""

    @classmethod
    def system(cls, reason: str) -> Actor:
        """The platform itself, e.g. ``Actor.system("template import")``; may do anything."""
        return cls(user_id=None, username=f"system:{reason}", is_admin=True)

    @property
    def is_system(self) -> bool:
        """Whether this is the platform itself (a rule, an import, the CLI) rather than a signed-in person."""
        return self.user_id is None and self.username.startswith("system:")

    @property
    def variables(self) -> dict[str, Any]:
        """The ``$user`` variable of the condition language."""
        return {"id": self.user_id, "username": self.username, **self.attributes}


@dataclass(frozen=True)
class WriteContext:
    """The session, actor and snapshot of one unit of work, plus where the request came from."""

    session: Session
    actor: Actor
    snapshot: Snapshot
    source: str = "api"
    ip: str = ""
    depth: int = 0
    chain: tuple[str, ...] = ()
    """Rules that led to this write (outermost first), to refuse cycles with the chain that formed them."""
    reader: Actor | None = None
    """Inside rules: the user whose write set them off (None: the actor itself). Messages a rule shows -
    refusals - are rendered for them (:mod:`lowcode.rules.messages`)."""
    rows: RowTally | None = field(default=None, compare=False)
    """Inside rules: the tally of the write that set them off (None outside rules)."""
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
    unit: str = field(default_factory=lambda: uuid.uuid4().hex)
    """The unit of work this context belongs to; rules' contexts (``dataclasses.replace``) keep it, so the
    audit rows of one request share it."""

    @property
    def variables(self) -> dict[str, Any]:
        """Variables of the condition language: ``$user``, ``$now``, ``$today``."""
        return {"user": self.actor.variables, "now": self.now, "today": self.now.date()}
