"""The declarative base of the system tables and the clock their defaults use."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase


def utcnow() -> dt.datetime:
    """The current time in UTC (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every system table (all prefixed ``lc_``)."""

    type_annotation_map = {dict[str, Any]: sa.JSON, list[Any]: sa.JSON}
