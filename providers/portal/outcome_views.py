"""OUTCOMES (issue 18): the provider records a week of an outcome-based order: for each
outcome, achieved or not (with a note), and the answers to the council's safety questions.
Routes on `provider_portal`; the rules are `marketplace.orders.outcomes`."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.forms import ButtonForm, refusal_message
from marketplace.ledger import LedgerError
from marketplace.orders import outcomes
from marketplace.orders.errors import InvalidOrder
from marketplace.orders.models import Order
from providers.portal import bp
from providers.portal.order_views import with_own_order


def _week(order: Order, week: str) -> outcomes.WeekRow:
    """The week the URL names: a week of the order that has started, else 404."""
    try:
        day = date.fromisoformat(week)
    except ValueError:
        abort(404)
    if not outcomes.is_outcome_order(order):
        abort(404)
    rows = outcomes.week_rows(db.session, order, london_today())
    row = next((r for r in rows if r.week_starting == day), None)
    if row is None:
        abort(404)
    return row


def _answers(order: Order) -> tuple[dict[str, outcomes.OutcomeResult], dict[str, bool]]:
    """What the form says: an answer is left out when not chosen, so the rules name it."""
    results = {}
    for outcome in order.outcomes:
        key = outcome["key"]
        said = request.form.get(f"achieved-{key}")
        if said in ("yes", "no"):
            results[key] = outcomes.OutcomeResult(
                said == "yes", request.form.get(f"note-{key}", "")
            )
    safety = {}
    for question in outcomes.safety_questions(order):
        said = request.form.get(f"safety-{question.key}")
        if said in ("yes", "no"):
            safety[question.key] = said == "yes"
    return results, safety


def _field_id(name: str) -> str:
    """The id of the form control a rule's field name means ("outcome:<key>" → its radios)."""
    kind, _, key = name.partition(":")
    return {"outcome": "achieved", "note": "note", "safety": "safety"}.get(kind, "week") + (
        f"-{key}".replace(":", "-") if key else ""
    )


@bp.route("/orders/<uuid:order_id>/outcomes/<week>", methods=["GET", "POST"])
@requires("use_provider_portal")
@with_own_order
def record_outcomes(found: Order, week: str) -> Response | tuple[str, int]:
    day = _week(found, week).week_starting
    errors: dict[str, str] = {}
    problem = None
    if request.method == "POST":
        if not ButtonForm().validate_on_submit():
            abort(400)
        results, safety = _answers(found)
        try:
            outcomes.record_week(
                db.session,
                found,
                by=current_user,
                week_starting=day,
                results=results,
                safety_checks=safety,
                today=london_today(),
            )
        except InvalidOrder as refused:
            errors = {_field_id(k): v for k, v in refused.details.get("fields", {}).items()}
        except LedgerError as refused:
            problem = refusal_message(refused)
        else:
            flash(f"The week of {day:%-d %B %Y} is recorded", "success")
            return redirect(url_for("provider_portal.order", order_id=found.id))
    row = next(
        r for r in outcomes.week_rows(db.session, found, london_today()) if r.week_starting == day
    )
    return render_template(
        "providers/outcomes/week.html",
        order=found,
        row=row,
        questions=outcomes.safety_questions(found),
        errors=errors,
        problem=problem,
        form_values=request.form if request.method == "POST" else None,
        button=ButtonForm(),
    ), 400 if (errors or problem) else 200
