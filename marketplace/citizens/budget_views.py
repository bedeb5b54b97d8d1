"""The citizen's home, budget, its statement and their support plan (routes on `citizens`).

The statement page and its CSV are built by `statement_page` and `statement_download`, which
the council's pages use too, so an officer reads exactly what the person reads.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.policy import can, requires
from marketplace.budgets import forecast as forecasting
from marketplace.budgets import statement as statements
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import PersonalBudget
from marketplace.budgets.periods import period_status
from marketplace.citizens.forms import StatementFilterForm
from marketplace.citizens.views import bp
from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.orders import forecast as outlook
from marketplace.people import budgets as person_budgets
from marketplace.people import plans
from marketplace.people.errors import PlanError
from marketplace.people.forms import PlanForm, plan_form
from marketplace.people.models import Person
from marketplace.people.overview import home_summary
from providers.listings import category_choices


def london_today() -> date:
    """Today in London: instalments, periods and forecasts go by the council's calendar."""
    return datetime.now(LONDON).date()


def own_person(action: str = "view_budget") -> Person:
    """The signed-in citizen's own person record (404 if there is none, or it is not theirs)."""
    person = current_user.person
    if person is None or not can(current_user, action, person):
        abort(404)
    return person


def own_budget(budget_id: uuid.UUID) -> tuple[Person, PersonalBudget]:
    """The signed-in citizen's budget with this id; anyone else's answers 404."""
    person = own_person()
    budget = person_budgets.budget_of(db.session, person, budget_id)
    if budget is None:
        abort(404)
    return person, budget


@bp.route("/")
@requires("use_citizen_pages")
def dashboard() -> str:
    """The citizen's home: their details, their budget this period and orders in brief."""
    person = own_person("view_person")
    return render_template(
        "citizens/dashboard.html",
        person=person,
        summary=home_summary(db.session, person, london_today()),
    )


def budget_context(budget: PersonalBudget, today: date) -> dict[str, Any]:
    """What a budget page shows: the figures, the forecast and the alerts."""
    figures = budget_figures(db.session, budget)
    projected = outlook.budget_outlook(db.session, budget, today)
    return {
        "budget": budget,
        "period": period_status(budget, today),
        "figures": figures,
        "forecast": projected,
        "assumption": outlook.ASSUMPTION,
        "alerts": forecasting.budget_alerts(budget, figures.total, projected, today),
        "carried_to": (
            statements.carried_forward_to(db.session, budget)
            if figures.total.carried_forward_pence
            else None
        ),
        "today": today,
    }


@bp.route("/budget")
@requires("use_citizen_pages")
def budget() -> str:
    person = own_person()
    today = london_today()
    current = person_budgets.current_budget(db.session, person, today)
    return _budget_page(person, current, today)


@bp.route("/budgets/<uuid:budget_id>")
@requires("use_citizen_pages")
def budget_period(budget_id: uuid.UUID) -> str:
    person, chosen = own_budget(budget_id)
    return _budget_page(person, chosen, london_today())


def _budget_page(person: Person, chosen: PersonalBudget | None, today: date) -> str:
    context = budget_context(chosen, today) if chosen is not None else {"budget": None}
    budgets = person_budgets.budgets_of(db.session, person)
    return render_template(
        "citizens/budget.html",
        person=person,
        budgets=budgets,
        periods={each.id: period_status(each, today) for each in budgets},
        **context,
    )


@bp.route("/budgets/<uuid:budget_id>/statement")
@requires("use_citizen_pages")
def statement(budget_id: uuid.UUID) -> tuple[str, int]:
    person, chosen = own_budget(budget_id)
    return statement_page(
        person,
        chosen,
        csv_url=url_for("citizens.statement_csv", budget_id=chosen.id),
        back=url_for("citizens.budget_period", budget_id=chosen.id),
    )


@bp.route("/budgets/<uuid:budget_id>/statement.csv")
@requires("use_citizen_pages")
def statement_csv(budget_id: uuid.UUID) -> BaseResponse:
    person, chosen = own_budget(budget_id)
    return statement_download(person, chosen)


def _filter_form(budget: PersonalBudget) -> StatementFilterForm:
    form = StatementFilterForm(
        request.args, [(str(stream.id), stream.kind.label) for stream in budget.streams]
    )
    form.validate()
    return form


def statement_page(
    person: Person, budget: PersonalBudget, *, csv_url: str, back: str
) -> tuple[str, int]:
    """The statement page, filtered by the query string (400 with the errors if a filter is
    wrong: the page then shows the statement without that filter beneath them). `csv_url` is
    the download's address, to which the same filters are added."""
    form = _filter_form(budget)
    found = statements.budget_statement(db.session, budget, form.chosen())
    return render_template(
        "citizens/statement.html",
        person=person,
        budget=budget,
        statement=found,
        form=form,
        csv_url=csv_url + (f"?{request.query_string.decode()}" if request.query_string else ""),
        back=back,
    ), 400 if form.errors else 200


def statement_download(person: Person, budget: PersonalBudget) -> BaseResponse:
    """The filtered statement as a CSV file (the same lines as the page)."""
    form = _filter_form(budget)
    if form.errors:
        abort(400)
    text = statements.statement_csv(statements.budget_statement(db.session, budget, form.chosen()))
    name = re.sub(r"[^a-z0-9]+", "-", person.full_name.lower()).strip("-") or "person"
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="statement-{name}-'
            f'{budget.starts_on:%Y-%m-%d}.csv"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/plan")
@requires("use_citizen_pages")
def support_plan() -> str:
    person = own_person("view_support_plan")
    return render_template(
        "citizens/plan.html",
        person=person,
        approved=plans.approved_plan(db.session, person),
        draft=plans.draft_of(db.session, person),
        category_names=dict(category_choices()),
    )


@bp.route("/plan/draft", methods=["GET", "POST"])
@requires("use_citizen_pages")
def draft_plan() -> BaseResponse | tuple[str, int]:
    person = own_person("draft_support_plan")
    form, saved = save_draft_plan(person)
    if saved:
        flash("Your draft plan is saved. The council will look at it with you", "success")
        return redirect(url_for("citizens.support_plan"))
    return render_template(
        "citizens/plan_form.html",
        form=form,
        person=person,
        own=True,
        back=url_for("citizens.support_plan"),
    ), 400 if form.errors else 200


def save_draft_plan(person: Person) -> tuple[PlanForm, bool]:
    """The plan form for the person (filled from their draft, or else their approved plan),
    and whether a valid submission was saved as their draft."""
    starting_point = plans.draft_of(db.session, person) or plans.approved_plan(db.session, person)
    form = plan_form(category_choices(), plan=starting_point, posted=request.form.keys())
    if not form.validate_on_submit():
        return form, False
    try:
        plans.draft_plan(
            db.session,
            person,
            by=current_user._get_current_object(),
            outcomes=form.outcomes.data,
            items=form.items(),
        )
    except PlanError as refused:
        _show_refusal(form, refused)
        return form, False
    return form, True


def _show_refusal(form: PlanForm, refused: PlanError) -> None:
    """Put the rules' refusal beside the field it is about."""
    field = form.outcomes
    index = refused.details.get("index")
    if refused.details.get("field") == "items":
        # The rules number the items given, which are the rows filled in.
        rows = [row for row in form.rows() if row[0].data] or form.rows()
        field = rows[index][0] if isinstance(index, int) and index < len(rows) else rows[0][0]
    field.errors = [*field.errors, refused.message[:1].upper() + refused.message[1:]]
