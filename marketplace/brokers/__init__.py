"""Brokers' pages (the `brokers` blueprint, at /broker): the people they act for, with
consent. Its routes are in `views`, imported at the bottom."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("brokers", __name__, url_prefix="/broker")

from marketplace.brokers import views  # noqa: E402,F401
