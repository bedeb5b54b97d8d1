"""The council's reports (issue 19): the index of every report (/council/reports) and the
market insight reports (item 6) under /council/reports/market/..., each a chart with its data
table and a CSV of the same rows. The figures come from `marketplace.console.insight`."""

from __future__ import annotations

from flask import render_template

from marketplace.accounts.access import requires
from marketplace.council import bp


@bp.route("/reports")
@requires("use_council_pages")
def reports() -> str:
    return render_template("council/reports/index.html")
