"""Council officers' pages for people, their budgets and support plans, and the funders' pots
(routes on the `council` blueprint).

Every refusal of the rules (a pot that cannot cover a stream, a revision below what is spent,
a close that would leave money committed) comes back as a GOV.UK error on the form, and the
request then answers 4xx, which rolls back whatever it began: nothing changes.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import Form

from marketplace import ledger
from marketplace.accounts.access import requires
from marketplace.budgets import allocations, closing, pot_lines
from marketplace.budgets import queries as person_budgets
from marketplace.budgets.errors import BudgetError
from marketplace.budgets.figures import pot_figures, stream_figures
from marketplace.budgets.models import FunderPot, FundingStream, PaymentFrequency, PersonalBudget
from marketplace.budgets.rules import financial_year_of
from marketplace.console import queue_decisions
from marketplace.council import bp
from marketplace.council.forms import (
    STREAM_NAMES,
    ApprovePlanForm,
    BudgetForm,
    ConfirmCloseForm,
    ReviseStreamForm,
    choices_from,
    close_choices_form,
    encode_choices,
)
from marketplace.extensions import db
from marketplace.formatting import london_today, pounds
from marketplace.forms import refusal_message, show_refusal
from marketplace.orders import forecast as forecasting
from marketplace.orders import package_periods
from marketplace.pages.acting_for import acting_for
from marketplace.pages.budgets import (
    budget_context,
    save_draft_plan,
    statement_download,
    statement_page,
)
from marketplace.people import plans
from marketplace.people.errors import PlanError
from marketplace.people.models import Person, SupportPlan
from marketplace.people.service import SEARCH_LIMIT, find_people
from providers.listings import category_choices


def _budget(person: Person, budget_id: uuid.UUID) -> PersonalBudget:
    budget = person_budgets.budget_of(db.session, person, budget_id)
    if budget is None:
        abort(404)
    return budget


@bp.route("/people")
@requires("find_people")
def people() -> str:
    name = request.args.get("name", "").strip()[:100]
    found = find_people(db.session, name, limit=SEARCH_LIMIT)
    return render_template(
        "council/people.html",
        people=found,
        name=name,
        limit=SEARCH_LIMIT,
        awaiting_close=person_budgets.ended_awaiting_close(db.session, london_today()),
    )


@bp.route("/people/<uuid:person_id>")
@requires("find_people")
def person() -> str:
    found = acting_for()
    today = london_today()
    budgets = person_budgets.budgets_of(db.session, found)
    # PERIODS (issue 18): the person's packages once for all their budgets' forecasts.
    packages = package_periods.packages_of(db.session, found.id) if budgets else []
    return render_template(
        "council/person.html",
        person=found,
        budgets=[budget_context(budget, today, packages) for budget in budgets],
        approved=plans.approved_plan(db.session, found),
        draft=plans.draft_of(db.session, found),
        stream_names=STREAM_NAMES,
    )


def _pot_labels(years: list[int]) -> tuple[list[FunderPot], dict[uuid.UUID, str]]:
    """The pots of these years, and each one's label with what it has left to allocate."""
    pots = person_budgets.pots_to_allocate_from(db.session, years)
    labels = {
        pot.id: f"{pot.label} ({pounds(pot_figures(db.session, pot).unallocated_pence)} "
        "unallocated)"
        for pot in pots
    }
    return pots, labels


@bp.route("/people/<uuid:person_id>/budgets/new", methods=["GET", "POST"])
@requires("manage_budgets")
def new_budget() -> Response | tuple[str, int]:
    found = acting_for()
    today = london_today()
    year = financial_year_of(today)
    form = BudgetForm()
    pots, labels = _pot_labels([year, year + 1])
    form.offer_pots(pots, labels)
    if not form.is_submitted():
        form.starts_on.data = date(year, 4, 1)
        form.ends_on.data = date(year + 1, 3, 31)
    if form.validate_on_submit() and _give_budget(form, found, today):
        flash(f"{found.full_name} has a new personal budget", "success")
        return redirect(url_for("council.person", person_id=found.id))
    return render_template(
        "council/budget_form.html", form=form, person=found, stream_names=STREAM_NAMES
    ), 400 if form.errors else 200


def _give_budget(form: BudgetForm, found: Person, today: date) -> bool:
    """Create the budget the form asks for; on a refusal put it on the form and return False."""
    starts_on, ends_on = form.starts_on.data, form.ends_on.data
    overlapping = person_budgets.overlapping_budget(db.session, found, starts_on, ends_on)
    if overlapping is not None:
        form.starts_on.errors.append(
            f"{found.full_name} already has an open budget from "
            f"{overlapping.starts_on:%-d %B %Y} to {overlapping.ends_on:%-d %B %Y}: revise it, "
            "or close it first"
        )
        return False
    specs = []
    for kind in form.streams_given():
        pot_id = form.field(kind, "pot").data if kind.funder_kind else None
        pot = person_budgets.pot_by_id(db.session, uuid.UUID(pot_id)) if pot_id else None
        if pot is not None and pot.financial_year != financial_year_of(starts_on):
            form.field(kind, "pot").errors.append(
                f"Choose a pot for the financial year the budget starts in, not {pot.label}"
            )
            return False
        line_id = form.field(kind, "line").data if kind.funder_kind else None
        specs.append(
            allocations.StreamSpec(
                kind,
                form.field(kind, "amount").data,
                pot=pot,
                draw_order=form.field(kind, "order").data,
                # RECON (issue 19): the line of the pot the stream is drawn for, if chosen.
                pot_line=pot_lines.line_by_id(db.session, uuid.UUID(line_id)) if line_id else None,
            )
        )
    try:
        allocations.create_budget(
            db.session,
            person=found,
            starts_on=starts_on,
            ends_on=ends_on,
            frequency=PaymentFrequency(form.frequency.data),
            streams=specs,
            today=today,
        )
    except ledger.InsufficientFunds as refused:
        short = next(
            (s for s in specs if s.pot and str(s.pot.account_id) == refused.details["account_id"]),
            specs[0],
        )
        form.field(short.kind, "amount").errors.append(
            f"{short.pot.label if short.pot else 'The pot'} has only "
            f"{pounds(refused.details.get('available_pence', 0))} unallocated: choose a smaller "
            "amount, or another pot"
        )
        return False
    except (BudgetError, ledger.InvalidTransfer) as refused:
        show_refusal(form.starts_on, refused)
        return False
    return True


def _stream(budget: PersonalBudget, stream_id: uuid.UUID) -> FundingStream:
    stream = person_budgets.stream_of(budget, stream_id)
    if stream is None:
        abort(404)
    return stream


@bp.route(
    "/people/<uuid:person_id>/budgets/<uuid:budget_id>/streams/<uuid:stream_id>/revise",
    methods=["GET", "POST"],
)
@requires("manage_budgets")
def revise_stream(budget_id: uuid.UUID, stream_id: uuid.UUID) -> Response | tuple[str, int]:
    found = acting_for()
    budget = _budget(found, budget_id)
    stream = _stream(budget, stream_id)
    figures = stream_figures(db.session, [stream])[stream.id]
    form = ReviseStreamForm()
    if not form.is_submitted():
        form.amount.data = stream.amount_pence
    # PERIODS (issue 18): a decrease that would leave ongoing packages short is allowed, once
    # the officer has read which packages and by how much ("Reduce it anyway").
    shortfall = (
        forecasting.shortfall_after_revision(db.session, stream, form.amount.data, london_today())
        if form.is_submitted() and isinstance(form.amount.data, int)
        else None
    )
    warned = shortfall is not None and request.form.get("accept_shortfall") != "yes"
    if form.validate_on_submit() and not warned:
        try:
            revision = allocations.revise_stream(
                db.session,
                stream,
                amount_pence=form.amount.data,
                reason=form.reason.data,
                key=f"revision:{form.key.data}",
            )
        except ledger.InsufficientFunds as refused:
            form.amount.errors.append(
                f"The pot has only {pounds(refused.details.get('available_pence', 0))} "
                "unallocated: the increase cannot come out of it"
            )
        except BudgetError as refused:
            minimum = refused.details.get("minimum_pence")
            form.amount.errors.append(
                f"The amount cannot be less than {pounds(minimum)}, which is already committed, "
                "spent or released and paid"
                if isinstance(minimum, int)
                else refusal_message(refused)
            )
        except ledger.LedgerError as refused:
            show_refusal(form.amount, refused)
        else:
            flash(
                (
                    f"{STREAM_NAMES[stream.kind]} is now {pounds(stream.amount_pence)} for the "
                    "period"
                    + (
                        f". Ongoing care is {pounds(shortfall.short_pence)} short: each period "
                        "that cannot be paid for will be flagged to the person, their provider "
                        "and the council before it starts"
                        if shortfall is not None
                        else ""
                    )
                )
                if revision is not None
                else "The amount is the same as before: nothing has changed",
                "success",
            )
            return redirect(url_for("council.person", person_id=found.id))
    return render_template(
        "council/revise_stream.html",
        form=form,
        person=found,
        budget=budget,
        stream=stream,
        figures=figures,
        stream_names=STREAM_NAMES,
        shortfall=shortfall if warned and not form.errors else None,
    ), 400 if form.errors else 200


def _close_inputs(budget: PersonalBudget) -> tuple[PersonalBudget | None, Form]:
    """The budget money can be carried into, and the choices asked for in the query string."""
    following = person_budgets.next_budget(db.session, budget)
    form = close_choices_form(
        [(s.id, STREAM_NAMES[s.kind]) for s in budget.streams],
        request.args,
        can_carry=following is not None,
    )
    return following, form


@bp.route("/people/<uuid:person_id>/budgets/<uuid:budget_id>/close")
@requires("manage_budgets")
def close_budget(budget_id: uuid.UUID) -> str:
    found = acting_for()
    budget = _budget(found, budget_id)
    following, form = _close_inputs(budget)
    return render_template(
        "council/close_choices.html",
        person=found,
        budget=budget,
        following=following,
        form=form,
        stream_names=STREAM_NAMES,
    )


@bp.route("/people/<uuid:person_id>/budgets/<uuid:budget_id>/close/preview")
@requires("manage_budgets")
def close_preview(budget_id: uuid.UUID) -> tuple[str, int]:
    found = acting_for()
    budget = _budget(found, budget_id)
    following, choice_form = _close_inputs(budget)
    chosen = choices_from(choice_form, [s.id for s in budget.streams])
    return _preview_page(found, budget, following, chosen, ConfirmCloseForm(formdata=None), 200)


def _preview_page(
    found: Person,
    budget: PersonalBudget,
    following: PersonalBudget | None,
    chosen: dict[uuid.UUID, closing.CloseChoice],
    form: ConfirmCloseForm,
    status: int,
    refusal: str | None = None,
) -> tuple[str, int]:
    """The preview of closing with these choices; `refusal` is why a confirmation failed."""
    plan = closing.preview_close(
        db.session,
        budget,
        choices=chosen,
        next_budget=following,
        # PERIODS: the packages that go on after the period, and into which budget.
        carrying_on=package_periods.carrying_on(db.session, budget),
    )
    form.choices.data = encode_choices(chosen)
    form.expected_unspent_pence.data = str(plan.unspent_pence)
    problems = [
        *([refusal] if refusal else []),
        *(_problem(line) for line in plan.lines),
        *(package.problem(budget) for package in plan.carrying_on),
    ]
    problems = [problem for problem in problems if problem]
    return render_template(
        "council/close_preview.html",
        person=found,
        budget=budget,
        following=following,
        plan=plan,
        form=form,
        problems=problems,
        stream_names=STREAM_NAMES,
    ), status


def _problem(line: closing.CloseLine) -> str | None:
    name = STREAM_NAMES[line.stream.kind]
    if line.committed_pence:
        held_for = f" (held for {'; '.join(line.held_for)})" if line.held_for else ""
        return (
            f"{name}: {pounds(line.committed_pence)} is still committed{held_for}. Those "
            "purchases must be paid or released before the period can close"
        )
    if line.problem:
        return f"{name}: the next budget has no stream like it to carry the money into"
    return None


@bp.route("/people/<uuid:person_id>/budgets/<uuid:budget_id>/close", methods=["POST"])
@requires("manage_budgets")
def confirm_close(budget_id: uuid.UUID) -> Response | tuple[str, int]:
    found = acting_for()
    budget = _budget(found, budget_id)
    form = ConfirmCloseForm()
    chosen = form.chosen()
    if not form.validate_on_submit() or chosen is None or form.expected() is None:
        abort(400)
    if set(chosen) - {s.id for s in budget.streams}:
        abort(400)
    following = person_budgets.next_budget(db.session, budget)
    try:
        closing.close_period(
            db.session,
            budget,
            choices=chosen,
            next_budget=following,
            expected_unspent_pence=form.expected(),
            carrying_on=package_periods.carrying_on(db.session, budget),
        )
    except ledger.LedgerError as refused:
        return _preview_page(
            found,
            budget,
            following,
            chosen,
            form,
            409,
            refusal_message(refused),
        )
    flash(
        f"The period from {budget.starts_on:%-d %B %Y} to {budget.ends_on:%-d %B %Y} is closed",
        "success",
    )
    return redirect(url_for("council.person", person_id=found.id))


@bp.route("/people/<uuid:person_id>/budgets/<uuid:budget_id>/statement")
@requires("manage_budgets")
def statement(budget_id: uuid.UUID) -> tuple[str, int]:
    found = acting_for()
    budget = _budget(found, budget_id)
    return statement_page(
        found,
        budget,
        csv_url=url_for("council.statement_csv", person_id=found.id, budget_id=budget.id),
        back=url_for("council.person", person_id=found.id),
    )


@bp.route("/people/<uuid:person_id>/budgets/<uuid:budget_id>/statement.csv")
@requires("manage_budgets")
def statement_csv(budget_id: uuid.UUID) -> Response:
    found = acting_for()
    return statement_download(found, _budget(found, budget_id))


@bp.route("/people/<uuid:person_id>/plan")
@requires("approve_support_plan")
def support_plan() -> str:
    found = acting_for()
    draft = plans.draft_of(db.session, found)
    form = ApprovePlanForm(formdata=None)
    if draft is not None:
        form.plan_id.data = str(draft.id)
        form.drafted_at.data = draft.drafted_at.isoformat()
    return _plan_page(found, draft, form), 200


def _plan_page(found: Person, draft: SupportPlan | None, form: ApprovePlanForm) -> str:
    return render_template(
        "council/plan.html",
        person=found,
        approved=plans.approved_plan(db.session, found),
        draft=draft,
        history=plans.plan_history(db.session, found),
        form=form,
        category_names=dict(category_choices()),
    )


@bp.route("/people/<uuid:person_id>/plan/approve", methods=["POST"])
@requires("approve_support_plan")
def approve_plan() -> Response | tuple[str, int]:
    found = acting_for()
    draft = plans.draft_of(db.session, found)
    form = ApprovePlanForm()
    if draft is None:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    if form.plan_id.data != str(draft.id) or form.drafted_at.data != draft.drafted_at.isoformat():
        form.submit.errors = ["The draft has changed since you opened it: read it again"]
        form.plan_id.data, form.drafted_at.data = str(draft.id), draft.drafted_at.isoformat()
        return _plan_page(found, draft, form), 409
    try:
        plans.approve_plan(
            db.session,
            draft,
            by=current_user._get_current_object(),
            review_months=current_app.config["PLAN_REVIEW_MONTHS"],
        )
    except PlanError as refused:
        show_refusal(form.submit, refused)
        return _plan_page(found, draft, form), 409
    queue_decisions.plan_approved(db.session, draft, by=current_user._get_current_object())
    flash(f"{found.full_name}'s support plan is approved", "success")
    return redirect(url_for("council.person", person_id=found.id))


@bp.route("/people/<uuid:person_id>/plan/draft", methods=["GET", "POST"])
@requires("approve_support_plan")
def draft_plan() -> Response | tuple[str, int]:
    found = acting_for()
    form, saved = save_draft_plan(found)
    if saved:
        flash(f"The draft plan for {found.full_name} is saved", "success")
        return redirect(url_for("council.support_plan", person_id=found.id))
    return render_template(
        "citizens/plan_form.html",
        form=form,
        person=found,
        own=False,
        back=url_for("council.support_plan", person_id=found.id),
    ), 400 if form.errors else 200
