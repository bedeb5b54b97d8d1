"""Council officers' pages for orders (routes on the `council` blueprint): every order with
filters, an order with its timeline (approving one outside a support plan), and the invoices
to settle.

Every change goes through the orders' rules; a refusal is shown on the page, which then
answers 400 so that the request's transaction rolls back.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.console import queue_decisions
from marketplace.council import bp
from marketplace.council.order_forms import OrderFiltersForm, RefuseOrderForm
from marketplace.council.paging import Paged, page_number
from marketplace.extensions import db
from marketplace.formatting import london_today, pounds
from marketplace.forms import refusal_message, show_refusal
from marketplace.ledger import LedgerError
from marketplace.orders import invoicing, life, queries, reablement
from marketplace.orders import packages as ongoing
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.package_terms import is_package
from marketplace.orders.schedule import schedule_of


def _order(order_id: uuid.UUID) -> Order:
    found = queries.order_for_page(db.session, order_id)
    if found is None:
        abort(404)
    return found


def _filters(form: OrderFiltersForm) -> queries.OrderFilters:
    """The filters the form asks for; a part with an error is left out, not guessed."""

    def good(field: Any) -> Any:
        return None if field.errors else field.data

    status, provider = good(form.status), good(form.provider)
    return queries.OrderFilters(
        status=OrderStatus(status) if status else None,
        organisation_id=uuid.UUID(provider) if provider else None,
        reference=good(form.reference) or None,
        placed_from=good(form.placed_from),
        placed_to=good(form.placed_to),
    )


@bp.route("/orders")
@requires("view_all_orders")
def orders() -> tuple[str, int]:
    form = OrderFiltersForm(request.args)
    form.offer(queries.organisations_with_orders(db.session))
    valid = form.validate()
    page = page_number()
    found, total = queries.all_orders(
        db.session, _filters(form), page=page, per_page=queries.PAGE_SIZE
    )
    args = {key: request.args.getlist(key) for key in request.args if key != "page"}
    return render_template(
        "council/orders/orders.html",
        form=form,
        orders=found,
        total=total,
        paged=Paged(page=page, per_page=queries.PAGE_SIZE, total=total),
        page_url=lambda number: url_for("council.orders", page=number, **args),
        filtered=any(key != "page" for key in request.args),
    ), 200 if valid else 400


def _order_page(
    order: Order, *, status: int = 200, form: Any = None, refusal: dict[str, str] | None = None
) -> tuple[str, int]:
    return render_template(
        "council/orders/order.html",
        order=order,
        schedule_text=schedule_of(order).describe(),
        deciding=life.allowed(order, life.Move.APPROVE),
        refuse_form=form or RefuseOrderForm(prefix="refuse"),
        form=form,
        refusal=refusal,
        # PACKAGES (issue 18): an ongoing package's next period and shortfall flags.
        package=(
            ongoing.package_view(db.session, order, london_today()) if is_package(order) else None
        ),
        # REABLEMENT (issue 18): free reablement paid by a funder, or the care it became.
        reablement=reablement.order_note(db.session, order),
    ), status


@bp.route("/orders/<uuid:order_id>")
@requires("view_all_orders")
def order(order_id: uuid.UUID) -> tuple[str, int]:
    return _order_page(_order(order_id))


@bp.route("/orders/<uuid:order_id>/approve", methods=["POST"])
@requires("approve_order")
def approve_order(order_id: uuid.UUID) -> Response | tuple[str, int]:
    found = _order(order_id)
    try:
        life.approve(db.session, found, by=current_user)
    except LedgerError as refused:
        return _order_page(
            found, status=400, refusal={"text": refusal_message(refused), "href": "#approve"}
        )
    queue_decisions.order_decided(db.session, found, by=current_user, approved=True)
    flash(f"Order {found.reference} is approved: the provider has been told", "success")
    return redirect(url_for("council.order", order_id=found.id))


@bp.route("/orders/<uuid:order_id>/refuse", methods=["POST"])
@requires("approve_order")
def refuse_order(order_id: uuid.UUID) -> Response | tuple[str, int]:
    found = _order(order_id)
    form = RefuseOrderForm(prefix="refuse")
    if form.validate_on_submit():
        try:
            life.refuse(db.session, found, by=current_user, reason=form.reason.data)
        except LedgerError as refused:
            show_refusal(form.reason, refused)
        else:
            queue_decisions.order_decided(
                db.session, found, by=current_user, approved=False, reason=form.reason.data
            )
            flash(
                f"Order {found.reference} is not approved: its money is back in the budget",
                "success",
            )
            return redirect(url_for("council.order", order_id=found.id))
    return _order_page(found, status=400, form=form)


def _invoices_page(status: int = 200, refusal: dict[str, str] | None = None) -> tuple[str, int]:
    found = queries.invoices_to_settle(db.session)
    held = [invoice for invoice in found if invoicing.held_by_query(invoice)]
    return render_template(
        "council/orders/invoices.html",
        invoices=found,
        held=held,
        due_pence=sum(invoice.amount_pence for invoice in found if invoice not in held),
        refusal=refusal,
    ), status


@bp.route("/invoices")
@requires("settle_invoice")
def invoices() -> tuple[str, int]:
    return _invoices_page()


@bp.route("/invoices/<uuid:invoice_id>/settle", methods=["POST"])
@requires("settle_invoice")
def settle_invoice(invoice_id: uuid.UUID) -> Response | tuple[str, int]:
    invoice = queries.invoice_by_id(db.session, invoice_id)
    if invoice is None:
        abort(404)
    try:
        invoicing.settle_invoice(db.session, invoice, by=current_user)
    except LedgerError as refused:
        return _invoices_page(
            400,
            refusal={
                "text": f"{invoice.reference}: {refusal_message(refused)}",
                "href": f"#invoice-{invoice.reference}",
            },
        )
    flash(
        f"Invoice {invoice.reference} is paid: {pounds(invoice.amount_pence)} to "
        f"{invoice.order.organisation.name}",
        "success",
    )
    return redirect(url_for("council.invoices"))
