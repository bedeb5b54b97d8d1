"""The citizen's home, budget, its statement and their support plan (routes on `citizens`).

The budget page, the statement page and its CSV and the plan form are built in
`marketplace/pages/budgets.py`, which the council's pages use too, so an officer reads exactly
what the person reads.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.budgets import queries as person_budgets
from marketplace.budgets.models import PersonalBudget
from marketplace.budgets.periods import period_status
from marketplace.citizens import bp
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.orders.overview import home_summary
from marketplace.orders.queries import with_providers
from marketplace.pages.budgets import (
    budget_context,
    save_draft_plan,
    statement_download,
    statement_page,
)
from marketplace.pages.on_behalf import (
    people_to_act_for,
    person_in_hand,
    refuse_outside_consent,
)
from marketplace.payments import service
from marketplace.people import plans
from marketplace.people.models import Person
from marketplace.referrals import referral_lists  # REFERRALS (issue 20)
from providers.listings import category_choices


def own_person(action: str = "view_budget") -> Person:
    """The person these pages are about (`person_in_hand`: the one the user acts for, else the
    signed-in citizen's own), if the user may `action` for them. 404 if there is none; a 403
    page saying so in words when the user acts for them under a consent that does not cover
    `action`."""
    person = person_in_hand()
    if person is None:
        abort(404)
    if not can(current_user, action, person):
        if current_user.acting_for is not None:
            refuse_outside_consent(person, action)
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
    summary = home_summary(db.session, person, london_today())
    with_providers(db.session, summary.orders_in_progress)
    return render_template(
        "citizens/dashboard.html",
        person=person,
        summary=summary,
        # A family member's own home lists whom they may act for (not while acting for one).
        people_to_act_for=(
            people_to_act_for(current_user._get_current_object())
            if current_user.acting_for is None
            else []
        ),
        # REFERRALS (issue 20): the referrals this account sent or that are about its person.
        referrals=(
            referral_lists.referrals_of_account(db.session, current_user._get_current_object())
            if current_user.acting_for is None
            else []
        ),
    )


@bp.route("/budget")
@requires("use_citizen_pages")
def budget() -> str:
    person = own_person()
    today = london_today()
    budgets = person_budgets.budgets_of(db.session, person)
    current = person_budgets.current_among(budgets, today)
    return _budget_page(person, current, today, budgets)


@bp.route("/budgets/<uuid:budget_id>")
@requires("use_citizen_pages")
def budget_period(budget_id: uuid.UUID) -> str:
    person, chosen = own_budget(budget_id)
    return _budget_page(person, chosen, london_today())


def _budget_page(
    person: Person,
    chosen: PersonalBudget | None,
    today: date,
    budgets: list[PersonalBudget] | None = None,
) -> str:
    """The budget page for `chosen`, listing every budget of the person (`budgets`, when the
    caller has read them already)."""
    context = budget_context(chosen, today) if chosen is not None else {"budget": None}
    if budgets is None:
        budgets = person_budgets.budgets_of(db.session, person)
    return render_template(
        "citizens/budget.html",
        person=person,
        budgets=budgets,
        periods={each.id: period_status(each, today) for each in budgets},
        can_top_up=service.top_up_refusal_among(
            budgets, today=today, top_ups_allowed=bool(current_app.config["CARD_TOP_UPS_ALLOWED"])
        )
        is None,
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
