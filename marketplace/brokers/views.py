"""Brokers' pages: the people they act for, with consent."""

from __future__ import annotations

from flask import render_template

from marketplace.accounts.access import requires
from marketplace.brokers import bp


@bp.route("/")
@requires("use_broker_pages")
def dashboard() -> str:
    return render_template("brokers/dashboard.html")
