"""The budget pages a person and the council's officers both read: a budget's figures, its
statement (page and CSV) and the support plan form. The citizen's pages
(citizens/budget_views.py) and the council's (council/budget_views.py) build them here, so an
officer reads exactly what the person reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask import Response, abort, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.budgets import forecast as forecasting
from marketplace.budgets import queries as budget_queries
from marketplace.budgets import statement as statements
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import PersonalBudget
from marketplace.budgets.periods import period_status
from marketplace.extensions import db
from marketplace.forms import show_refusal
from marketplace.orders import forecast as outlook
from marketplace.orders import package_periods
from marketplace.orders.models import Order
from marketplace.pages.forms import StatementFilterForm
from marketplace.people import plans
from marketplace.people.errors import PlanError
from marketplace.people.forms import PlanForm, plan_form
from marketplace.people.models import Person
from providers.listings import category_choices


def budget_context(
    budget: PersonalBudget, today: date, person_packages: Sequence[Order] | None = None
) -> dict[str, Any]:
    """What a budget page shows: the figures, the forecast and the alerts. A page showing
    several of a person's budgets passes the person's packages (`package_periods.packages_of`),
    read once for them all."""
    figures = budget_figures(db.session, budget)
    budget_queries.with_instalments(db.session, budget)
    # PERIODS: the forecast counts ongoing packages' cycles; the page names each package.
    projected, ongoing = outlook.budget_outlook_and_packages(
        db.session, budget, today, person_packages, figures=figures.total
    )
    return {
        "budget": budget,
        "period": period_status(budget, today),
        "figures": figures,
        "forecast": projected,
        "assumption": outlook.ASSUMPTION,
        "ongoing": ongoing,
        "alerts": forecasting.budget_alerts(budget, figures.total, projected, today),
        "carried_to": (
            statements.carried_forward_to(db.session, budget)
            if figures.total.carried_forward_pence
            else None
        ),
        "today": today,
    }


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
    found = package_periods.budget_statement(db.session, budget, form.chosen())
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
    text = statements.statement_csv(
        package_periods.budget_statement(db.session, budget, form.chosen())
    )
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
    show_refusal(field, refused)
