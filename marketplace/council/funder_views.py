"""Council officers' pages for funders and their yearly pots (routes on the `council`
blueprint): see every pot's figures, add a funder, put money into a pot.

Money goes into a pot only as a ledger transfer from the funder's own account, under a key
made when the form is shown, so pressing the button twice funds the pot once.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from marketplace import ledger
from marketplace.accounts.access import requires
from marketplace.budgets import funders as funding
from marketplace.budgets import queries as person_budgets
from marketplace.budgets.errors import BudgetError
from marketplace.budgets.figures import pot_figures
from marketplace.budgets.models import FunderKind, PotPurpose
from marketplace.budgets.rules import financial_year_of
from marketplace.council import bp
from marketplace.council.funder_forms import CostCentreForm, FunderForm, FundPotForm
from marketplace.extensions import db
from marketplace.formatting import london_today, pounds
from marketplace.forms import choices, show_refusal
from marketplace.orders import reablement


@bp.route("/funders")
@requires("manage_budgets")
def funders() -> str:
    asked = request.args.get("year", "")
    year = int(asked) if asked.isdigit() and 2000 <= int(asked) <= 2100 else None
    year = year or financial_year_of(london_today())
    pots = person_budgets.pots_for_year(db.session, year)
    reablement_pots = [pot for pot in pots if pot.purpose is PotPurpose.REABLEMENT]
    use = reablement.pots_use(db.session, reablement_pots)
    return render_template(
        "council/funders.html",
        year=year,
        pots=[
            (pot, pot_figures(db.session, pot)) for pot in pots if pot.purpose is PotPurpose.BUDGETS
        ],
        # REABLEMENT (issue 18): a reablement pot's money is held for and paid to providers.
        reablement_pots=[(pot, use[pot.id]) for pot in reablement_pots],
        funders=funding.all_funders(db.session),
    )


@bp.route("/funders/new", methods=["GET", "POST"])
@requires("manage_budgets")
def new_funder() -> Response | tuple[str, int]:
    form = FunderForm()
    if form.validate_on_submit():
        try:
            funder = funding.create_funder(
                db.session, name=form.name.data, kind=FunderKind(form.kind.data)
            )
            funding.set_cost_centre(funder, form.cost_centre.data or "")
        except BudgetError as refused:
            show_refusal(form.name, refused)
        else:
            flash(f"{funder.name} added. Put money into its pot for the year.", "success")
            return redirect(url_for("council.fund_pot", funder=funder.id))
    return render_template("council/funder_form.html", form=form), 400 if form.errors else 200


@bp.route("/funders/fund", methods=["GET", "POST"])
@requires("manage_budgets")
def fund_pot() -> Response | tuple[str, int]:
    form = FundPotForm()
    everyone = funding.all_funders(db.session)
    form.funder.choices = choices(
        [("", "Select a funder")] + [(str(f.id), f.name) for f in everyone]
    )
    if not form.is_submitted():
        form.funder.data = request.args.get("funder", "")
        form.financial_year.data = financial_year_of(london_today())
    if form.validate_on_submit():
        funder = _funder(form.funder.data)
        if funder is None:
            form.funder.errors.append("Select a funder from the list")
        else:
            pot = funding.open_pot(
                db.session, funder, form.financial_year.data, PotPurpose(form.purpose.data)
            )
            try:
                funding.fund_pot(
                    db.session,
                    pot,
                    amount_pence=form.amount.data,
                    key=f"funding:{form.key.data}",
                    description=(form.description.data or "").strip(),
                )
            except ledger.LedgerError as refused:
                show_refusal(form.amount, refused)
            else:
                flash(f"{pounds(form.amount.data)} put into {pot.label}", "success")
                return redirect(url_for("council.funders", year=pot.financial_year))
    return render_template("council/fund_pot.html", form=form, funders=everyone), (
        400 if form.errors else 200
    )


@bp.route("/funders/<uuid:funder_id>/cost-centre", methods=["GET", "POST"])
@requires("manage_budgets")
def funder_cost_centre(funder_id: uuid.UUID) -> Response | tuple[str, int]:
    """FINEXPORT (issue 19): the funder's default cost centre for finance files."""
    funder = funding.funder_by_id(db.session, funder_id)
    if funder is None:
        abort(404)
    form = CostCentreForm()
    if not form.is_submitted():
        form.cost_centre.data = funder.cost_centre
    if form.validate_on_submit():
        try:
            funding.set_cost_centre(funder, form.cost_centre.data or "")
        except BudgetError as refused:
            show_refusal(form.cost_centre, refused)
        else:
            flash(f"{funder.name}'s default cost centre is saved.", "success")
            return redirect(url_for("council.funders"))
    return render_template("council/funder_cost_centre.html", form=form, funder=funder), (
        400 if form.errors else 200
    )


def _funder(value: str | None) -> funding.Funder | None:
    try:
        return funding.funder_by_id(db.session, uuid.UUID(value or ""))
    except ValueError:
        return None
