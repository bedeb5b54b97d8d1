"""The provider's orders: the inbox, each order (accept, decline, record and correct what was
delivered, invoice a period), and the organisation's invoices. Routes on `provider_portal`.

Orders are found only inside the signed-in user's organisation: another organisation's order
answers 404. The order pages' routes are wrapped in `with_own_order`, which loads the order
(and the delivery or period the URL names) once and passes it in, so a view's body is only
its action. Every change goes through the orders' rules; a refusal is shown on the order's
page, which then answers 400 so that the request's transaction rolls back.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.extensions import db
from marketplace.formatting import london_today, pounds
from marketplace.forms import refusal_message, show_refusal
from marketplace.ledger import LedgerError
from marketplace.orders import deliveries, invoicing, life, outcomes, queries, reablement
from marketplace.orders import packages as ongoing
from marketplace.orders.delivery_details import delivery_details
from marketplace.orders.errors import InvalidOrder
from marketplace.orders.models import Delivery, DeliveryStatus, InvoiceStatus, Order, OrderCycle
from marketplace.orders.package_terms import is_package
from marketplace.orders.schedule import schedule_of
from marketplace.people import questions
from providers.portal import bp
from providers.portal.order_forms import (
    UNIT_NAMES,
    CorrectDeliveryForm,
    DeclineOrderForm,
    DeliveryForm,
)
from providers.portal.views import own_organisation

R = TypeVar("R")

# The inbox's tabs, in the order a provider works through them.
TABS = {
    "new": "New",
    "accepted": "Accepted",
    "in_progress": "In progress",
    "to_invoice": "To invoice",
    "closed": "Closed",
}


def _own_order(order_id: uuid.UUID) -> Order:
    organisation = own_organisation()
    order = queries.order_for_page(db.session, order_id)
    if (
        order is None
        or order.organisation_id != organisation.id
        or not can(current_user, "fulfil_order", order)
    ):
        abort(404)
    return order


def with_own_order(view: Callable[..., R]) -> Callable[..., R]:
    """Route `view` with the order its URL names instead of the id: the signed-in user's own
    organisation's order, loaded once, or 404 when there is none, it is another organisation's,
    or the user may not fulfil it. A `delivery_id` or `cycle_id` in the URL is loaded the same
    way and passed as `delivery` or `cycle`: 404 unless it belongs to this order. Goes below
    `requires`, so someone who may not use the portal never has an order looked up."""

    @functools.wraps(view)
    def loaded(order_id: uuid.UUID, **ids: uuid.UUID) -> R:
        order = _own_order(order_id)
        parts: dict[str, Any] = {}
        if "delivery_id" in ids:
            delivery = queries.delivery_by_id(db.session, ids.pop("delivery_id"))
            if delivery is None or delivery.order_id != order.id:
                abort(404)
            parts["delivery"] = delivery
        if "cycle_id" in ids:
            cycle = queries.cycle_by_id(db.session, ids.pop("cycle_id"))
            if cycle is None or cycle.order_id != order.id:
                abort(404)
            parts["cycle"] = cycle
        return view(order, **parts, **ids)

    return loaded


def _delivery_form(order: Order) -> DeliveryForm:
    form = DeliveryForm(prefix="delivery")
    form.name_units(UNIT_NAMES[order.price_unit])
    return form


def _correct_form(order: Order, delivery: Delivery) -> CorrectDeliveryForm:
    form = CorrectDeliveryForm(prefix=f"correct-{delivery.id.hex[:8]}")
    form.units.label.text = f"Corrected {UNIT_NAMES[order.price_unit]}"
    return form


def _order_page(
    order: Order,
    *,
    status: int = 200,
    form: Any = None,
    refusal: dict[str, str] | None = None,
    **forms: Any,
) -> tuple[str, int]:
    """The order's page; `form` is the one with errors (for the error summary), `refusal` a
    message from the rules with where on the page it belongs."""
    today = london_today()
    decline_form = forms.get("decline_form") or DeclineOrderForm(prefix="decline")
    delivery_form = forms.get("delivery_form") or _delivery_form(order)
    correcting = forms.get("correct_forms", {})
    correct_forms = {
        delivery.id: correcting.get(delivery.id) or _correct_form(order, delivery)
        for delivery in order.deliveries
        if delivery.status is DeliveryStatus.QUERIED
    }
    return render_template(
        "providers/orders/order.html",
        order=order,
        person=delivery_details(order, show_access=can(current_user, "see_how_to_get_in", order)),
        schedule_text=schedule_of(order).describe(),
        unit_name=UNIT_NAMES[order.price_unit],
        cycles=[
            (cycle, invoicing.can_invoice(order, cycle, today), _invoice_of(order, cycle))
            for cycle in order.cycles
        ],
        accepting=life.allowed(order, life.Move.ACCEPT),
        recording=order.status.value in ("accepted", "in_progress"),
        decline_form=decline_form,
        delivery_form=delivery_form,
        correct_forms=correct_forms,
        form=form,
        refusal=refusal,
        today=today,
        # The person's questions about this service, kept with the order (issue 17).
        questions=questions.threads_about_order(db.session, order),
        # PACKAGES (issue 18): an ongoing package's next period and shortfall flags.
        package=(ongoing.package_view(db.session, order, today) if is_package(order) else None),
        # REABLEMENT (issue 18): free reablement paid by a funder, or the care it became.
        reablement=reablement.order_note(db.session, order),
        # OUTCOMES (issue 18): an outcome order's weeks to record, instead of deliveries.
        outcome_weeks=(
            outcomes.week_rows(db.session, order, today) if outcomes.is_outcome_order(order) else []
        ),
    ), status


def _invoice_of(order: Order, cycle: OrderCycle) -> Any:
    return next((invoice for invoice in order.invoices if invoice.cycle_id == cycle.id), None)


def _refused(order: Order, refused: LedgerError, href: str, **forms: Any) -> tuple[str, int]:
    return _order_page(
        order, status=400, refusal={"text": refusal_message(refused), "href": href}, **forms
    )


def _fields_onto(form: Any, refused: LedgerError, fallback: str) -> None:
    """Put a refusal on the form with the one helper: beside each of the form's fields the
    rules name (what they say about it), or beside the fallback field when they name none."""
    fields = refused.details.get("fields") if isinstance(refused, InvalidOrder) else None
    named = [name for name in fields or () if name in form]
    for name in named or [fallback]:
        show_refusal(form[name], refused)


@bp.route("/orders")
@requires("use_provider_portal")
def orders() -> str:
    organisation = own_organisation()
    today = london_today()
    tab = request.args.get("tab", "new")
    if tab not in TABS:
        tab = "new"
    if tab == "to_invoice":
        found = queries.orders_to_invoice(db.session, organisation.id, today)
    else:
        found = queries.orders_of_organisation(db.session, organisation.id, tab=tab)
    return render_template(
        "providers/orders/inbox.html",
        organisation=organisation,
        tabs=TABS,
        tab=tab,
        orders=found,
        counts=queries.inbox_counts(db.session, organisation.id, today),
    )


@bp.route("/orders/<uuid:order_id>")
@requires("use_provider_portal")
@with_own_order
def order(found: Order) -> tuple[str, int]:
    return _order_page(found)


@bp.route("/orders/<uuid:order_id>/accept", methods=["POST"])
@requires("use_provider_portal")
@with_own_order
def accept(found: Order) -> Response | tuple[str, int]:
    try:
        life.accept(db.session, found, by=current_user)
    except LedgerError as refused:
        return _refused(found, refused, "#accept")
    flash(f"You have accepted order {found.reference}", "success")
    return redirect(url_for("provider_portal.order", order_id=found.id))


@bp.route("/orders/<uuid:order_id>/decline", methods=["POST"])
@requires("use_provider_portal")
@with_own_order
def decline(found: Order) -> Response | tuple[str, int]:
    form = DeclineOrderForm(prefix="decline")
    if form.validate_on_submit():
        try:
            life.decline(db.session, found, by=current_user, reason=form.reason.data)
        except LedgerError as refused:
            _fields_onto(form, refused, "reason")
        else:
            flash(f"You have declined order {found.reference}", "success")
            return redirect(url_for("provider_portal.order", order_id=found.id))
    return _order_page(found, status=400, form=form, decline_form=form)


@bp.route("/orders/<uuid:order_id>/deliveries", methods=["POST"])
@requires("use_provider_portal")
@with_own_order
def record_delivery(found: Order) -> Response | tuple[str, int]:
    form = _delivery_form(found)
    if form.validate_on_submit():
        try:
            deliveries.record_delivery(
                db.session,
                found,
                by=current_user,
                delivered_on=form.delivered_on.data,
                units=form.units.data,
                note=form.note.data or "",
                today=london_today(),
            )
        except LedgerError as refused:
            _fields_onto(form, refused, "delivered_on")
        else:
            flash(f"The delivery on {form.delivered_on.data:%-d %B %Y} is recorded", "success")
            return redirect(url_for("provider_portal.order", order_id=found.id))
    return _order_page(found, status=400, form=form, delivery_form=form)


@bp.route("/orders/<uuid:order_id>/deliveries/<uuid:delivery_id>/correct", methods=["POST"])
@requires("use_provider_portal")
@with_own_order
def correct_delivery(found: Order, delivery: Delivery) -> Response | tuple[str, int]:
    form = _correct_form(found, delivery)
    if form.validate_on_submit():
        try:
            deliveries.correct_delivery(
                db.session,
                delivery,
                by=current_user,
                units=form.units.data,
                note=form.note.data or "",
            )
        except LedgerError as refused:
            _fields_onto(form, refused, "units")
        else:
            flash(
                f"The delivery on {delivery.delivered_on:%-d %B %Y} is corrected: the person "
                "will be asked to confirm it",
                "success",
            )
            return redirect(url_for("provider_portal.order", order_id=found.id))
    return _order_page(found, status=400, form=form, correct_forms={delivery.id: form})


@bp.route("/orders/<uuid:order_id>/cycles/<uuid:cycle_id>/invoice", methods=["POST"])
@requires("use_provider_portal")
@with_own_order
def raise_invoice(found: Order, cycle: OrderCycle) -> Response | tuple[str, int]:
    try:
        invoice = invoicing.raise_invoice(
            db.session, found, cycle, by=current_user, today=london_today()
        )
    except LedgerError as refused:
        return _refused(found, refused, f"#cycle-{cycle.number}")
    flash(
        f"Invoice {invoice.reference} for {pounds(invoice.amount_pence)} is raised"
        + (" and paid" if invoice.status is InvoiceStatus.SETTLED else ""),
        "success",
    )
    return redirect(url_for("provider_portal.order", order_id=found.id))


@bp.route("/invoices")
@requires("use_provider_portal")
def invoices() -> str:
    organisation = own_organisation()
    found = queries.invoices_of_organisation(db.session, organisation.id)
    raised = [invoice for invoice in found if invoice.status is InvoiceStatus.RAISED]
    paid = [invoice for invoice in found if invoice.status is InvoiceStatus.SETTLED]
    return render_template(
        "providers/orders/invoices.html",
        organisation=organisation,
        raised=raised,
        paid=paid,
        raised_pence=sum(invoice.amount_pence for invoice in raised),
        paid_pence=sum(invoice.amount_pence for invoice in paid),
        held=[invoice for invoice in raised if invoicing.held_by_query(invoice)],
    )
