"""The one blueprint of the generic pages; route modules attach their views to it."""

from __future__ import annotations

from flask import Blueprint

from lowcode.pages.security import guard_signed_in

bp = Blueprint("pages", __name__)
bp.before_request(guard_signed_in)
