"""OUTCOMES (issue 18): the citizen's outcome pages: buying a service for outcomes of the
support plan ("Pay for outcomes"), confirming a week the provider recorded, and querying one
outcome of it. Routes on `citizens`; the rules are `marketplace.orders.outcomes`."""

from __future__ import annotations

import uuid
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.citizens import bp
from marketplace.citizens.budget_views import own_person
from marketplace.citizens.order_views import order_context, own_order
from marketplace.citizens.outcome_forms import OutcomeOrderForm, QueryOutcomeForm
from marketplace.extensions import db
from marketplace.formatting import london_today, pounds
from marketplace.forms import ButtonForm, refusal_message, show_refusal
from marketplace.ledger import LedgerError
from marketplace.orders import on_behalf, outcomes
from marketplace.orders.errors import InvalidOrder
from marketplace.orders.models import Order, OutcomeRecord
from marketplace.pages.on_behalf import refuse_outside_consent
from providers import directory


@bp.route("/services/<uuid:service_id>/outcomes", methods=["GET", "POST"])
@requires("use_citizen_pages")
def order_for_outcomes(service_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Buy a service sold by the week for outcomes of the person's approved support plan."""
    person = own_person("place_order_for")
    service = directory.public_service(service_id)
    if service is None or not outcomes.offers_outcomes(service):
        abort(404)
    offered = outcomes.outcome_choices(db.session, person, service)
    form = OutcomeOrderForm()
    form.offer(offered)
    not_approved = on_behalf.approval_refusal(db.session, current_user, person, service)
    if offered and form.validate_on_submit():
        if not_approved is not None:
            form.form_errors.append(not_approved)
        else:
            try:
                order = outcomes.place_outcome_order(
                    db.session,
                    person,
                    service,
                    starts_on=form.chosen_start,
                    weeks=form.chosen_weeks,
                    outcome_keys=form.outcomes.data or [],
                    by=current_user._get_current_object(),
                    today=london_today(),
                    placement_key=form.key.data,
                    plan_rule=str(current_app.config["OUT_OF_PLAN_PURCHASES"]),
                )
            except InvalidOrder as refused:
                fields = refused.details.get("fields") or {}
                for name, text in fields.items():
                    field = form._fields.get(name)
                    if field is not None:
                        field.errors = [*field.errors, text]
                    else:
                        form.form_errors.append(text)
                if not fields:
                    show_refusal(form, refused)
            except LedgerError as refused:
                show_refusal(form, refused)
            else:
                flash(
                    f"Your order {order.reference} is placed: {pounds(order.unit_price_pence)} "
                    "a week for the outcomes you chose. The money is held in your budget until "
                    "the provider is paid.",
                    "success",
                )
                return redirect(url_for("citizens.order_page", order_id=order.id))
    return render_template(
        "citizens/outcomes/order.html",
        form=form,
        service=service,
        person=person,
        offered=offered,
        not_approved=not_approved,
    ), 400 if form.errors else 200


def _check_may_confirm(order: Order) -> None:
    if not can(current_user, "confirm_delivery", order):
        if current_user.acting_for is not None:
            refuse_outside_consent(order.person, "confirm_delivery")
        abort(404)


@bp.route("/orders/<uuid:order_id>/outcomes/<week>/confirm", methods=["POST"])
@requires("use_citizen_pages")
def confirm_outcomes(order_id: uuid.UUID, week: str) -> BaseResponse | tuple[str, int]:
    order = own_order(order_id)
    _check_may_confirm(order)
    try:
        day = date.fromisoformat(week)
    except ValueError:
        abort(404)
    if not outcomes.is_outcome_order(order) or not ButtonForm().validate_on_submit():
        abort(404 if not outcomes.is_outcome_order(order) else 400)
    try:
        outcomes.confirm_week(db.session, order, day, by=current_user._get_current_object())
    except LedgerError as refusal:
        return render_template(
            "citizens/orders/order.html",
            problem=refusal_message(refusal),
            **order_context(order, london_today()),
        ), 400
    flash(f"You confirmed the week of {day:%-d %B %Y}", "success")
    return redirect(url_for("citizens.order_page", order_id=order.id))


@bp.route("/orders/<uuid:order_id>/outcomes/<uuid:record_id>/query", methods=["GET", "POST"])
@requires("use_citizen_pages")
def query_outcome(order_id: uuid.UUID, record_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    order = own_order(order_id)
    record = db.session.get(OutcomeRecord, record_id)
    if record is None or record.order_id != order.id:
        abort(404)
    _check_may_confirm(order)
    form = QueryOutcomeForm()
    if form.validate_on_submit():
        try:
            outcomes.query_record(
                db.session, record, by=current_user._get_current_object(), reason=form.reason.data
            )
        except LedgerError as refusal:
            show_refusal(form.reason, refusal)
        else:
            flash(
                "Your query is sent to the provider. The invoice for that week will not be paid "
                "until it is sorted out.",
                "success",
            )
            return redirect(url_for("citizens.order_page", order_id=order.id))
    return render_template(
        "citizens/outcomes/query.html",
        order=order,
        record=record,
        outcome_text=outcomes.outcome_text(order, record.outcome_key),
        form=form,
    ), 400 if form.errors else 200
