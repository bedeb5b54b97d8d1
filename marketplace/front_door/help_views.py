"""The front door's page on paying for one's own care (HELP, issue 20): what a self-funder can
do here, the capital limits, the council's approved brokers, with links to search and sign-up.
Anyone may read it."""

from __future__ import annotations

from flask import render_template

from marketplace.extensions import db
from marketplace.front_door import bp
from marketplace.referrals import help_now


@bp.route("/paying-for-care")
def paying_for_care() -> str:
    return render_template(
        "front_door/paying_for_care.html",
        brokerages=help_now.approved_brokerages(db.session),
        lower_limit_pence=help_now.LOWER_CAPITAL_LIMIT_PENCE,
        upper_limit_pence=help_now.UPPER_CAPITAL_LIMIT_PENCE,
    )
