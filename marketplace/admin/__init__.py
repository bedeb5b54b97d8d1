"""Administrators' pages (the `admin` blueprint, at /admin): accounts, API tokens and the
development mail outbox. Its routes are in `views` and `token_views`, imported at the bottom."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from marketplace.admin import token_views, views  # noqa: E402,F401
