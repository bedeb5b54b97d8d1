"""The in-app inbox and the emails that go with it: the rules (`models`, `service`) and the
signed-in user's inbox page (the `notifications` blueprint, made here; its routes in `views`)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

from marketplace.notifications import views  # noqa: E402,F401
