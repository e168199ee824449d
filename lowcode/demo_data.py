"""Generated demo data sets, by app name (filled below)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

generators: dict[str, Callable[[Flask], str]] = {}
