"""Settings: defaults here, overridden by ``LOWCODE_*`` environment variables or a test mapping."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "ENV": "production",  # or "development" (make run) / "testing" (the test suite): see docs/SECURITY.md
    "DATABASE_URL": None,  # None -> sqlite file in the instance folder
    "SECRET_KEY": None,  # None -> generated once and kept in the instance folder
    "MAX_BODY_BYTES": 2 * 1024 * 1024,
    "MAX_JSON_DEPTH": 32,
    "PAGE_SIZE": 50,
    "MAX_PAGE_SIZE": 500,
    "BULK_MAX_ITEMS": 1000,  # items of one bulk create/update/delete request (more: 413)
    "RULE_MAX_DEPTH": 8,
    "LANGUAGES": ["en", "zh_CN"],
    "DEFAULT_LANGUAGE": "en",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SECURE_COOKIES": None,  # None -> on (cookies only over HTTPS) unless ENV is development or testing
    "SQLITE_BUSY_TIMEOUT_MS": 30000,
    "SQLITE_GROUP_COMMIT": True,  # queued writers of a process share one COMMIT/fsync (lowcode/core/group_commit.py)
    "SQLITE_GROUP_COMMIT_MAX_MEMBERS": 32,  # a group commits once it has this many writers
    "SQLITE_GROUP_COMMIT_MAX_MS": 20,  # ... or once its transaction is this old (ms)
    "WEBHOOK_SECRET": "",  # whsec_<base64 of 24-64 random bytes>: signs outgoing webhooks; empty: unsigned
    "WEBHOOK_TIMEOUT": 10,  # seconds
    "WEBHOOK_ALLOW": "",  # hosts/CIDRs webhooks may call although local or private (comma or space separated)
    # outbound deliveries of subscriptions (lowcode/integrations); numbers as text so env values parse alike
    "DELIVERY_LEASE_SECONDS": "15",  # a claim lasts this long unless the dispatcher's heartbeat renews it
    "DELIVERY_MAX_ATTEMPTS": 12,  # then the delivery is a dead letter
    "DELIVERY_BACKOFF_SECONDS": "5",  # first retry after 2.5-5 s, doubling (with jitter)
    "DELIVERY_BACKOFF_MAX_SECONDS": "3600",
    "DELIVERY_WORKERS": 8,  # subscriptions sent to at once
    "DELIVERY_BATCH": 50,
    "DELIVERY_AHEAD": 16,  # rows a lane may send beyond its written outcomes (a crash re-sends that many + 1)
    "DELIVERY_WRITE_SECONDS": "0.02",  # outcomes wait at most this long for a round to write them
    "INTEGRATION_POLL_SECONDS": "0.05",  # idle loop's look for work (commits with outbox rows wake it sooner)
    "JOB_LEASE_SECONDS": "60",  # a background job's claim lasts this long unless a chunk renews it
    "REPORT_EXPORT_BACKGROUND_ROWS": 1000,  # report exports of more rows run as background jobs
    "JOBS_IN_PROCESS": True,  # `lowcode serve` runs background jobs (imports) in a thread of its own
    "MQTT_URL": "mqtt://127.0.0.1:1883",
    "INTEGRATION_REDIS_URL": "redis://127.0.0.1:6379/0",
    "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
    "TOKEN_TTL_HOURS": 12,  # a sign-in (bearer token and cookie) ends this long after it began; refresh renews
    "RATE_LIMIT_ENABLED": True,  # request rate limits on /api/ (lowcode/api/ratelimit.py, docs/SECURITY.md)
    "RATE_LIMIT": "600/minute",  # every API request, per credential (token, cookie user, else client address)
    "RATE_LIMIT_WRITES": "120/minute",  # POST/PUT/PATCH/DELETE on the API, per credential; "" for none
    "RATE_LIMIT_AUTH_FAILURES": "60/minute",  # API answers 401 per client address (guessed tokens); "" for none
    "RATE_LIMIT_STORAGE": "memory://",  # redis://host:6379/N where several processes serve the app
    "RATE_LIMIT_STRATEGY": "fixed-window",  # or moving-window, sliding-window-counter
    "RATE_LIMIT_KEY_PREFIX": "lowcode",  # distinguishes instances sharing one Redis
    "RULE_ROW_BUDGET": 20000,  # rows the rules of one write may loop over or write (docs/SECURITY.md)
    # Cost limits of a request (lowcode/core/budget.py, lowcode/query_costs.py, docs/SECURITY.md); 0 = none
    "STATEMENT_TIMEOUT_MS": 5000,  # one statement of a read transaction of a request (PG and SQLite)
    "WRITE_STATEMENT_TIMEOUT_MS": 30000,  # one statement of a write transaction (rules, publish DDL)
    "SQLITE_STEP_BUDGET": 200_000_000,  # SQLite VM steps of one statement of a read transaction
    "SQLITE_WRITE_STEP_BUDGET": 2_000_000_000,  # SQLite VM steps of one statement of a write transaction
    "FILTER_MAX_TERMS": 50,  # comparisons in a client's filter (list, export, list page)
    "FILTER_MAX_DEPTH": 6,  # nested all/any/not levels in a client's filter
    "FILTER_MAX_TEXT_TERMS": 10,  # contains/starts_with comparisons + the search text, per request
    "FILTER_MAX_TEXT_LENGTH": 100,  # characters of one contains/starts_with value or of the search text
    "COSTLY_QUERY_SLOTS": 4,  # filtered/searched lists running at once per process (the rest wait)
    "COSTLY_QUERY_WAIT_MS": 10000,  # how long one waits for a slot before a 503 server_busy
    "COUNT_LIMIT": 10000,  # rows a list counts exactly; beyond, it answers "more than N" (0 = always exact)
    "REPORT_CACHE_SIZE": 256,  # report results kept per process (0: no cache; docs/REPORTS.md)
    "REPORT_SLOW_MS": 1000,  # a report run slower than this gets index advice in its designer (0: never)
    "DB_POOL_SIZE": 10,  # database connections kept per process
    "DB_POOL_OVERFLOW": 20,  # extra connections opened under load
    "DB_POOL_TIMEOUT_S": 10,  # seconds a request waits for a connection before a 503 server_busy
}

TESTING_DEFAULTS: dict[str, Any] = {
    "RATE_LIMIT": "1000000/minute",
    "RATE_LIMIT_WRITES": "1000000/minute",
    "RATE_LIMIT_AUTH_FAILURES": "1000000/minute",
}
"""Defaults of the "testing" environment where they differ (the suite is not throttled); a setting given by
an environment variable or an override still wins, so a test can set a small limit."""


ENVIRONMENTS = ("production", "development", "testing")
RELAXED_ENVIRONMENTS = frozenset({"development", "testing"})  # plain-http cookies and short keys allowed
BOOLEAN_SETTINGS = frozenset(
    {"SECURE_COOKIES", "RATE_LIMIT_ENABLED", "JOBS_IN_PROCESS", "SQLITE_GROUP_COMMIT"}
)
MIN_SECRET_KEY_BYTES = 32


class InsecureSettings(Exception):
    """The settings are unsafe (or unknown) for the environment; the message is one line."""


def load_settings(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, ``LOWCODE_<NAME>`` environment variables and explicit overrides (in that order)."""
    settings = dict(DEFAULTS)
    explicit = set(overrides or {})
    for key, default in DEFAULTS.items():
        raw = os.environ.get(f"LOWCODE_{key}")
        if raw is None:
            continue
        settings[key] = _parse(key, default, raw)
        explicit.add(key)
    settings.update(overrides or {})
    if settings["ENV"] not in ENVIRONMENTS:
        raise InsecureSettings(
            f"LOWCODE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {settings['ENV']!r}"
        )
    if settings["ENV"] == "testing":
        settings.update({k: v for k, v in TESTING_DEFAULTS.items() if k not in explicit})
    if settings["SECURE_COOKIES"] is None:
        settings["SECURE_COOKIES"] = settings["ENV"] not in RELAXED_ENVIRONMENTS
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'lowcode.db'}"
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(Path(instance_path))
    return settings


def _parse(key: str, default: Any, raw: str) -> Any:
    if key in BOOLEAN_SETTINGS:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return int(raw) if isinstance(default, int) and not isinstance(default, bool) else raw


def check_startup(settings: dict[str, Any]) -> None:
    """Refuse to run outside development/testing with a weak secret key (it signs the session cookies).

    :raises InsecureSettings: with a one-line reason."""
    if settings["ENV"] in RELAXED_ENVIRONMENTS:
        return
    if len(str(settings["SECRET_KEY"]).encode()) < MIN_SECRET_KEY_BYTES:
        raise InsecureSettings(
            f"LOWCODE_SECRET_KEY is shorter than {MIN_SECRET_KEY_BYTES} bytes: set a long random one "
            "(python -c 'import secrets; print(secrets.token_hex(32))'), or unset it to generate one "
            "in the instance folder"
        )


def _instance_secret(instance: Path) -> str:
    """A secret key generated once per instance folder, so sessions survive restarts."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
