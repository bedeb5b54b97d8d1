"""Brokers' pages: the people they act for, with consent."""

from __future__ import annotations

from flask import Blueprint, render_template

from marketplace.accounts.access import requires

bp = Blueprint("brokers", __name__, url_prefix="/broker")


@bp.route("/")
@requires("use_broker_pages")
def dashboard() -> str:
    return render_template("brokers/dashboard.html")
