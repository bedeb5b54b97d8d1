"""ISF (issue 18): the person's Individual Service Funds (routes on `citizens`): the list, a
request to a provider to hold part of their budget, and each fund's statement.

Someone acting for the person needs a consent covering orders to ask for one, and one
covering "see" to read them (policy: `request_isf_for`, `view_isf`). A fund of anyone else's
answers 404.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can, live_consent
from marketplace.budgets import isf
from marketplace.budgets.models import IndividualServiceFund, PersonalBudget
from marketplace.citizens import bp
from marketplace.citizens.budget_views import own_person
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.forms import choices
from marketplace.isf_forms import ANY_STREAM, RequestFundForm, show_fund_refusal
from marketplace.ledger import LedgerError
from marketplace.people.models import Person
from providers import organisations
from providers.models import OrganisationStatus


def _open_budget(person: Person) -> PersonalBudget | None:
    return isf.open_budget_of(db.session, person, london_today())


@bp.route("/isf")
@requires("use_citizen_pages")
def isf_list() -> str:
    person = own_person()
    funds = isf.funds_of_person(db.session, person)
    return render_template(
        "citizens/isf/list.html",
        person=person,
        funds=[(fund, isf.isf_statement(db.session, fund)) for fund in funds],
        may_request=can(current_user, "request_isf_for", person)
        and _open_budget(person) is not None,
    )


@bp.route("/isf/new", methods=["GET", "POST"])
@requires("use_citizen_pages")
def isf_request() -> BaseResponse | str | tuple[str, int]:
    person = own_person("request_isf_for")
    budget = _open_budget(person)
    if budget is None:
        return render_template("citizens/isf/new.html", person=person, no_budget=True), 403
    streams = isf.streams_for_isf(budget)
    form = RequestFundForm()
    form.organisation.choices = choices(
        [("", "Select a provider")]
        + [(str(o.id), o.name) for o in organisations.organisations(OrganisationStatus.APPROVED)]
    )
    form.stream.choices = choices(
        [(ANY_STREAM, "Whichever part has the money first")]
        + [(str(s.id), s.kind.label) for s in streams]
    )
    if form.validate_on_submit():
        assert form.amount.data is not None
        organisation = organisations.organisation(uuid.UUID(form.organisation.data))
        stream = next((s for s in streams if str(s.id) == form.stream.data), None)
        if organisation is None:
            abort(400)
        try:
            fund = isf.request_isf(
                db.session,
                person=person,
                budget=budget,
                organisation=organisation,
                amount_pence=form.amount.data,
                agreement=form.agreement.data or "",
                by=current_user._get_current_object(),
                consent=live_consent(current_user, person, "order"),
                stream=stream,
            )
        except LedgerError as refused:
            show_fund_refusal(form, refused)
        else:
            flash(
                f"Your request has been sent to {organisation.name}. We will tell you when "
                "they answer.",
                "success",
            )
            return redirect(url_for("citizens.isf_fund", fund_id=fund.id))
    return render_template(
        "citizens/isf/new.html", person=person, form=form, budget=budget
    ), 400 if form.errors else 200


@bp.route("/isf/<uuid:fund_id>")
@requires("use_citizen_pages")
def isf_fund(fund_id: uuid.UUID) -> str:
    person = own_person()
    fund = db.session.get(IndividualServiceFund, fund_id)
    if fund is None or fund.person_id != person.id or not can(current_user, "view_isf", fund):
        abort(404)
    return render_template(
        "citizens/isf/fund.html",
        person=person,
        fund=fund,
        statement=isf.isf_statement(db.session, fund),
        provider=organisations.organisation(fund.organisation_id),
    )
