"""RECON (issue 19): the named lines of a funder's pot (continuing healthcare, section 117
aftercare...): officers see a pot's lines with their plans and add lines; a stream chosen
for a line on the budget form names it, and the reconciliation reports each line's plan
against what was allocated to it."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.budgets import pot_lines
from marketplace.budgets import queries as person_budgets
from marketplace.budgets.errors import BudgetError
from marketplace.budgets.models import FunderPot, PotPurpose
from marketplace.council import bp
from marketplace.council.funder_forms import PotLineForm
from marketplace.extensions import db
from marketplace.forms import show_refusal


def _pot(pot_id: uuid.UUID) -> FunderPot:
    pot = person_budgets.pot_by_id(db.session, pot_id)
    if pot is None or pot.purpose is not PotPurpose.BUDGETS:
        abort(404)
    return pot


@bp.route("/funders/pots/<uuid:pot_id>/lines", methods=["GET", "POST"])
@requires("manage_budgets")
def pot_lines_page(pot_id: uuid.UUID) -> Response | tuple[str, int]:
    pot = _pot(pot_id)
    form = PotLineForm()
    if form.validate_on_submit():
        try:
            line = pot_lines.add_pot_line(
                db.session,
                pot,
                name=form.name.data or "",
                cost_centre=form.cost_centre.data or "",
                planned_pence=form.planned.data or 0,
            )
        except BudgetError as refused:
            show_refusal(form.name, refused)
        else:
            flash(f"{line.name} added to {pot.label}", "success")
            return redirect(url_for("council.pot_lines_page", pot_id=pot.id))
    lines = pot_lines.lines_of_pots(db.session, [pot.id])
    return render_template("council/pot_lines.html", pot=pot, lines=lines, form=form), (
        400 if form.errors else 200
    )
