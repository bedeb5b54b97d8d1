"""ISF (issue 18): the Individual Service Funds people have asked the organisation to hold
(routes on `provider_portal`): the list, waiting ones first, and each fund's page, where its
staff agree or decline a request, record what the money was spent on, and read its
statement. A fund asked of another organisation answers 404."""

from __future__ import annotations

import secrets
import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.budgets import isf
from marketplace.budgets.models import IndividualServiceFund, IsfState
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.isf_forms import DecideFundForm, SpendForm, show_fund_refusal
from marketplace.ledger import LedgerError
from providers.portal import bp
from providers.portal.views import own_organisation


def _own_fund(fund_id: uuid.UUID) -> IndividualServiceFund:
    organisation = own_organisation()
    fund = db.session.get(IndividualServiceFund, fund_id)
    if (
        fund is None
        or fund.organisation_id != organisation.id
        or not can(current_user, "answer_isf", fund)
    ):
        abort(404)
    return fund


@bp.route("/isf")
@requires("use_provider_portal")
def isf_list() -> str:
    organisation = own_organisation()
    funds = isf.funds_of_organisation(db.session, organisation)
    return render_template(
        "providers/isf/list.html",
        organisation=organisation,
        waiting=[f for f in funds if f.state is IsfState.REQUESTED],
        others=[
            (fund, isf.isf_statement(db.session, fund))
            for fund in funds
            if fund.state is not IsfState.REQUESTED
        ],
    )


def _page(
    fund: IndividualServiceFund,
    decide_form: DecideFundForm | None = None,
    spend_form: SpendForm | None = None,
) -> tuple[str, int]:
    decide_form = decide_form or DecideFundForm(formdata=None)
    if spend_form is None:
        spend_form = SpendForm(formdata=None)
        spend_form.key.data = secrets.token_urlsafe(16)
    failed = bool(decide_form.errors or spend_form.errors)
    return render_template(
        "providers/isf/fund.html",
        fund=fund,
        statement=isf.isf_statement(db.session, fund),
        decide_form=decide_form,
        spend_form=spend_form,
        # The layout's error summary reads `form`: the one sent, when it failed.
        form=spend_form if spend_form.errors else decide_form,
    ), 400 if failed else 200


@bp.route("/isf/<uuid:fund_id>")
@requires("use_provider_portal")
def isf_fund(fund_id: uuid.UUID) -> tuple[str, int]:
    return _page(_own_fund(fund_id))


@bp.route("/isf/<uuid:fund_id>/decide", methods=["POST"])
@requires("use_provider_portal")
def isf_decide(fund_id: uuid.UUID) -> Response | tuple[str, int]:
    fund = _own_fund(fund_id)
    form = DecideFundForm()
    if form.validate_on_submit():
        agree = form.decision.data == "agree"
        try:
            isf.decide(
                db.session,
                fund,
                by=current_user._get_current_object(),
                agree=agree,
                reason=form.reason.data or "",
            )
        except LedgerError as refused:
            show_fund_refusal(form, refused)
        else:
            flash(
                "You have agreed to hold this fund: the money is now in it"
                if agree
                else "You have declined this fund: the person has been told",
                "success",
            )
            return redirect(url_for("provider_portal.isf_fund", fund_id=fund.id))
    return _page(fund, decide_form=form)


@bp.route("/isf/<uuid:fund_id>/spend", methods=["POST"])
@requires("use_provider_portal")
def isf_spend(fund_id: uuid.UUID) -> Response | tuple[str, int]:
    fund = _own_fund(fund_id)
    form = SpendForm()
    if form.validate_on_submit():
        if form.spent_on.data is None:
            form.spent_on.errors = ["Enter when it was spent"]
            return _page(fund, spend_form=form)
        assert form.amount.data is not None
        try:
            isf.record_spend(
                db.session,
                fund,
                spent_on=form.spent_on.data,
                amount_pence=form.amount.data,
                description=form.description.data or "",
                by=current_user._get_current_object(),
                key=f"{fund.id}:{form.key.data or secrets.token_urlsafe(16)}",
                today=london_today(),
            )
        except LedgerError as refused:
            show_fund_refusal(form, refused)
        else:
            flash("The spending has been recorded", "success")
            return redirect(url_for("provider_portal.isf_fund", fund_id=fund.id))
    return _page(fund, spend_form=form)
