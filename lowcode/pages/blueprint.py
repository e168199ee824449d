"""The one blueprint of the generic pages; route modules attach their views to it."""

from __future__ import annotations

from flask import Blueprint

from lowcode.pages.security import guard_signed_in, refuse_undecodable_form

bp = Blueprint("pages", __name__)
bp.before_request(refuse_undecodable_form)
bp.before_request(guard_signed_in)
