"""ISF (issue 18): every Individual Service Fund, for officers (routes on `council`): the
list, each fund's statement, and ending a fund early, its unspent money returned to the
person's budget (funds also end at the period's close, and when the council suspends their
provider: `budgets.isf`)."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.budgets import isf
from marketplace.budgets.models import IndividualServiceFund
from marketplace.council import bp
from marketplace.extensions import db
from marketplace.isf_forms import EndFundForm, show_fund_refusal
from marketplace.ledger import LedgerError
from providers import organisations


@bp.route("/isf")
@requires("view_all_isfs")
def isf_list() -> str:
    funds = isf.all_funds(db.session)
    return render_template(
        "council/isf/list.html",
        funds=[(fund, isf.isf_statement(db.session, fund)) for fund in funds],
        providers={o.id: o.name for o in organisations.organisations()},
    )


def _fund(fund_id: uuid.UUID) -> IndividualServiceFund:
    fund = isf.fund_by_id(db.session, fund_id)
    if fund is None:
        abort(404)
    return fund


@bp.route("/isf/<uuid:fund_id>", methods=["GET", "POST"])
@requires("view_all_isfs")
def isf_fund(fund_id: uuid.UUID) -> Response | tuple[str, int]:
    fund = _fund(fund_id)
    form = EndFundForm()
    if form.validate_on_submit():
        if not can(current_user, "end_isf"):
            abort(403)
        try:
            isf.return_unspent(
                db.session, fund, by=current_user._get_current_object(), why=form.why.data or ""
            )
        except LedgerError as refused:
            show_fund_refusal(form, refused)
        else:
            flash("The fund has ended: what was left is back in the person's budget", "success")
            return redirect(url_for("council.isf_fund", fund_id=fund.id))
    return render_template(
        "council/isf/fund.html",
        fund=fund,
        statement=isf.isf_statement(db.session, fund),
        provider=organisations.organisation(fund.organisation_id),
        form=form,
    ), 400 if form.errors else 200
