"""Recurring care paid by card: the citizen saves a card for an order's invoicing cycles,
pays a cycle whose charge failed, changes the card, or stops paying by card.

The card page is the payment page's sibling: the same Content-Security-Policy and scripts
(Stripe.js and our `card-payment.js`, which confirms the SetupIntent with Stripe.js's
`confirmCardSetup`, 3-D Secure included). Card details go from the browser to Stripe only.
The page Stripe.js returns to never takes the browser's word: it retrieves the SetupIntent
from Stripe, and only Stripe's `succeeded` saves the card and records the agreement.
"""

from __future__ import annotations

import uuid

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.access import requires
from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.citizens import bp
from marketplace.citizens.order_views import own_order
from marketplace.citizens.payment_views import card_refusal, refuse_card
from marketplace.extensions import db, talisman
from marketplace.formatting import london_today, pounds
from marketplace.forms import ButtonForm
from marketplace.orders.errors import InvalidTransition
from marketplace.orders.models import Order
from marketplace.pages.on_behalf import refuse_outside_consent
from marketplace.payments import recurring
from marketplace.payments.errors import StripeUnavailable
from marketplace.payments_setup import stripe_gateway
from marketplace.security import PAYMENT_PAGE_POLICY


def _user() -> User:
    return current_user._get_current_object()


def _order_page(order: Order) -> BaseResponse:
    return redirect(url_for("citizens.order_page", order_id=order.id))


def _charge_days() -> int:
    return int(current_app.config["CARD_CHARGE_DAYS_BEFORE"])


@bp.route("/orders/<uuid:order_id>/card")
@talisman(content_security_policy=PAYMENT_PAGE_POLICY)
@requires("use_citizen_pages")
def save_card(order_id: uuid.UUID) -> BaseResponse | str | tuple[str, int]:
    order = own_order(order_id)
    if not recurring.pays_by_saved_card(order):
        abort(404)
    refused = card_refusal(order)
    if refused is not None:
        return refuse_card(order, refused)
    try:
        mandate, setup = recurring.begin_card_setup(
            db.session,
            order,
            by=_user(),
            gateway=stripe_gateway(),  # raises StripeUnavailable too
            charge_days_before=_charge_days(),
        )
    except InvalidTransition:
        return _order_page(order)
    except StripeUnavailable as error:
        return render_template(
            "citizens/orders/save_card.html", order=order, unavailable=error.message
        ), 503
    return_url = url_for(
        "citizens.card_return", order_id=order.id, mandate_id=mandate.id, _external=True
    )
    if setup.status == "succeeded":
        return redirect(return_url)
    return render_template(
        "citizens/orders/save_card.html",
        order=order,
        mandate=mandate,
        client_secret=setup.client_secret,
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
        return_url=return_url,
    )


@bp.route("/orders/<uuid:order_id>/card/<uuid:mandate_id>")
@requires("use_citizen_pages")
def card_return(order_id: uuid.UUID, mandate_id: uuid.UUID) -> BaseResponse:
    """Where Stripe.js sends the browser after confirming the card: ask Stripe."""
    order = own_order(order_id)
    mandate = recurring.mandate_of(db.session, order, mandate_id)
    if mandate is None:
        abort(404)
    try:
        setup = stripe_gateway().retrieve_setup_intent(mandate.stripe_setup_intent_id)
    except StripeUnavailable as error:
        flash(error.message, "error")
        return _order_page(order)
    if recurring.card_saved(db.session, mandate, setup=setup, by=_user()):
        flash(
            "Your card is saved. Each period's share is taken from it "
            f"{mandate.charge_days_before} days before the period starts",
            "success",
        )
    elif setup.status != "succeeded" and mandate.status.value == "setting_up":
        flash("Your card was not saved. Try again, or use another card", "error")
    return _order_page(order)


@bp.route("/orders/<uuid:order_id>/card/stop", methods=["POST"])
@requires("use_citizen_pages")
def stop_paying_by_card(order_id: uuid.UUID) -> BaseResponse:
    order = own_order(order_id)
    if not ButtonForm().validate_on_submit() or not recurring.pays_by_saved_card(order):
        abort(400)
    if not can(current_user, "cancel_order", order):
        # Stopping the card ends the order: someone acting for the person needs "order".
        refuse_outside_consent(order.person, "cancel_order")
    try:
        cancelled_from = recurring.stop_paying_by_card(
            db.session, order, by=_user(), today=london_today()
        )
    except InvalidTransition as refusal:
        flash(str(refusal), "error")
        return _order_page(order)
    flash(
        "You stopped paying by card: the order is cancelled"
        if cancelled_from is None
        else "You stopped paying by card: the order ends under its notice period, with no "
        f"visits from {cancelled_from:%-d %B %Y}",
        "success",
    )
    return _order_page(order)


@bp.route("/orders/<uuid:order_id>/cycles/<uuid:cycle_id>/pay", methods=["POST"])
@requires("use_citizen_pages")
def pay_cycle_now(order_id: uuid.UUID, cycle_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Pay a period whose charge failed, now, with the saved card."""
    order = own_order(order_id)
    cycle = recurring.cycle_of(db.session, order, cycle_id)
    if cycle is None:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    refused = card_refusal(order)
    if refused is not None:
        return refuse_card(order, refused)
    try:
        gateway = stripe_gateway()
    except StripeUnavailable as error:
        flash(error.message, "error")
        return _order_page(order)
    report = recurring.charge_cycle_now(
        db.session, cycle, by=_user(), gateway=gateway, commit=db.session.commit
    )
    if report.paid:
        flash(f"Paid {pounds(order.card_share_of(cycle))} by card", "success")
    elif report.unavailable:
        flash("Card payments are not working at the moment. Try again later", "error")
    else:
        flash("Your card was not charged. Use another card, or stop paying by card", "error")
    return _order_page(order)
