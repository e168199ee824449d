"""Request rate limits on the API (``/api/...``) with Flask-Limiter, per credential.

Each request is counted under the credential it presents, read without a database lookup: a bearer token
by a hash of the token, a session cookie by its (signed) user id, anything else by the client address.
Three limits (settings ``RATE_LIMIT``, ``RATE_LIMIT_WRITES``, ``RATE_LIMIT_AUTH_FAILURES``): every API
request, the writes among them, and the answers ``401`` per client address - so guessing tokens, each of
which would otherwise be a fresh credential, is limited by where it comes from. Over a limit the answer is
``429`` in the API's error shape with ``Retry-After``; every API answer carries ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (epoch seconds) of the limit closest to being hit.

Counters live in ``RATE_LIMIT_STORAGE``: ``memory://`` counts per process, so where several processes serve
(gunicorn ``--workers``) use a shared store such as ``redis://127.0.0.1:6379/0``. When that store cannot be
reached, each process falls back to counting the general limit in memory until it is back.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, jsonify, request, session
from flask_limiter import ApplicationLimit, Limit, Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.strategies import STRATEGIES

from lowcode.api.edge import bearer_token
from lowcode.api.errors import error_body
from lowcode.config import InsecureSettings

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
LIMIT_SETTINGS = ("RATE_LIMIT", "RATE_LIMIT_WRITES", "RATE_LIMIT_AUTH_FAILURES")
COUNTED = {"api": "requests", "api-writes": "writes", "api-auth-failures": "failed authentications"}
"""What each limit counts, by its scope (the in-memory fallback counts requests under "api" too)."""
WHO = {"token": "this token", "user": "this user", "address": "this address"}


def credential_key() -> str:
    """The key a request is counted under: its bearer token (hashed), else the user of its session cookie,
    else its client address. No database lookup: a token that turns out dead is still counted as itself."""
    token = bearer_token()
    if token is not None:
        digest = hashlib.sha256(b"lowcode-rate-limit:" + token.encode("utf-8", "replace")).hexdigest()
        return f"token:{digest[:32]}"
    user_id = session.get("user_id")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        return f"user:{user_id}"
    return address_key()


def address_key() -> str:
    """The client address (the peer of the connection; see docs/SECURITY.md about reverse proxies)."""
    return f"address:{get_remote_address() or 'unknown'}"


def register_rate_limits(app: Flask, settings: dict[str, Any]) -> Limiter | None:
    """Limit the API's requests as the settings say (nothing when ``RATE_LIMIT_ENABLED`` is off).

    :raises InsecureSettings: for a limit, strategy or storage the limiter cannot use (one line)."""
    if not settings["RATE_LIMIT_ENABLED"]:
        return None
    _check_settings(settings)
    app.after_request(_retry_after_only_when_limited)  # runs after the limiter's own (added below)
    limiter = Limiter(
        credential_key,
        application_limits=[
            ApplicationLimit(settings["RATE_LIMIT"], scope="api"),
            ApplicationLimit(settings["RATE_LIMIT_WRITES"], scope="api-writes", methods=WRITE_METHODS),
            ApplicationLimit(
                settings["RATE_LIMIT_AUTH_FAILURES"],
                scope="api-auth-failures",
                key_function=address_key,
                deduct_when=lambda response: response.status_code == 401,
            ),
        ],
        in_memory_fallback=[
            Limit(settings["RATE_LIMIT"], key_function=credential_key, scope="api", shared=True)
        ],
        storage_uri=settings["RATE_LIMIT_STORAGE"],
        strategy=settings["RATE_LIMIT_STRATEGY"],
        key_prefix=settings["RATE_LIMIT_KEY_PREFIX"],
        headers_enabled=True,
        retry_after="delta-seconds",
    )
    limiter.request_filter(lambda: not request.path.startswith("/api/"))
    try:
        limiter.init_app(app)
    except Exception as exc:  # noqa: BLE001 - an unusable storage URI becomes a one-line reason
        raise InsecureSettings(f"LOWCODE_RATE_LIMIT_STORAGE cannot be used: {exc}") from exc
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    return limiter


def _check_settings(settings: dict[str, Any]) -> None:
    for name in LIMIT_SETTINGS:
        try:
            parse_many(settings[name]) if settings[name] else None
        except ValueError:
            raise InsecureSettings(
                f"LOWCODE_{name} is not a rate limit: {settings[name]!r} (e.g. '600/minute' or "
                "'10/second;600/hour'; empty for none)"
            ) from None
    if not settings["RATE_LIMIT"]:
        raise InsecureSettings("LOWCODE_RATE_LIMIT is empty: set a limit, or LOWCODE_RATE_LIMIT_ENABLED=0")
    if settings["RATE_LIMIT_STRATEGY"] not in STRATEGIES:
        raise InsecureSettings(
            f"LOWCODE_RATE_LIMIT_STRATEGY must be one of {', '.join(sorted(STRATEGIES))}, "
            f"not {settings['RATE_LIMIT_STRATEGY']!r}"
        )


def _too_many_requests(error: RateLimitExceeded):
    """429 in the API's error shape; the limiter adds ``Retry-After`` and the ``X-RateLimit-*`` headers."""
    limit = error.limit.limit
    what = COUNTED[error.limit.scope]
    who = WHO[error.limit.key_func().split(":", 1)[0]]
    message = f"Too many {what}: at most {limit.amount} per {_window(limit)} for {who}. Try again later."
    body = error_body("rate_limited", message, limit=str(limit))
    return jsonify(body), 429


def _window(limit) -> str:
    unit = limit.GRANULARITY.name
    return unit if limit.multiples == 1 else f"{limit.multiples} {unit}s"


def _retry_after_only_when_limited(response):
    """The limiter sets ``Retry-After`` on every answer; it means something only on a 429."""
    if response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response
