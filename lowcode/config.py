"""Settings: defaults here, overridden by ``LOWCODE_*`` environment variables or a test mapping."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None -> sqlite file in the instance folder
    "SECRET_KEY": None,  # None -> generated once and kept in the instance folder
    "MAX_BODY_BYTES": 2 * 1024 * 1024,
    "MAX_JSON_DEPTH": 32,
    "PAGE_SIZE": 50,
    "MAX_PAGE_SIZE": 500,
    "RULE_MAX_DEPTH": 8,
    "LANGUAGES": ["en", "zh_CN"],
    "DEFAULT_LANGUAGE": "en",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SQLITE_BUSY_TIMEOUT_MS": 30000,
    "WEBHOOK_SECRET": "",  # whsec_<base64 of 24-64 random bytes>: signs outgoing webhooks; empty: unsigned
    "WEBHOOK_TIMEOUT": 10,  # seconds
    "TOKEN_TTL_HOURS": 12,  # a sign-in (bearer token and cookie) ends this long after it began; refresh renews
}


def load_settings(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, ``LOWCODE_<NAME>`` environment variables and explicit overrides (in that order)."""
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = os.environ.get(f"LOWCODE_{key}")
        if raw is None:
            continue
        settings[key] = int(raw) if isinstance(default, int) and not isinstance(default, bool) else raw
    settings.update(overrides or {})
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'lowcode.db'}"
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(Path(instance_path))
    return settings


def _instance_secret(instance: Path) -> str:
    """A secret key generated once per instance folder, so sessions survive restarts."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
