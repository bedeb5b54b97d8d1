"""The citizen pays an order's card share: the payment page, and the page Stripe.js returns to.

Card details go from the browser to Stripe only (Stripe.js's card element, in Stripe's own
frame): our server makes the PaymentIntent (through the gateway, keyed by our own payment
record, so two tabs or a reload go on with one intent and the person is charged once) and
hands the page its client secret. The return page never takes the browser's word that a
payment went through: it asks Stripe, and credits the payment only when Stripe says it
succeeded (the webhook does the same, and whichever comes second changes nothing).

Against localstripe (STRIPE_API_BASE set; never in production), whose fake Stripe.js cannot
confirm a card payment from the browser, the page's script has the fake card element make a
token at localstripe and posts the token's card id here (`pay_with_card`), and the server
confirms the intent with it; 3-D Secure then goes through Stripe.js's modal as with Stripe.
"""

from __future__ import annotations

import uuid

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.access import requires
from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.citizens import bp
from marketplace.citizens.order_views import own_order
from marketplace.extensions import db, talisman
from marketplace.forms import ButtonForm
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.on_behalf import refusal_for
from marketplace.payments import service
from marketplace.payments.errors import CardDeclined, StripeUnavailable
from marketplace.payments.gateway import DECLINED_MESSAGE, Intent
from marketplace.payments.models import WAITING, CardPayment
from marketplace.payments_setup import stripe_gateway
from marketplace.people.models import ConsentScope
from marketplace.security import PAYMENT_PAGE_POLICY

# Stripe's words for an intent the person can still pay on this page.
PAYABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
# ...and for one nobody can pay any more: a new payment (and intent) is made.
FINISHED_UNPAID = ("canceled",)
NOT_PAID_MESSAGE = (
    "Your payment did not go through: your card was declined, or your bank did not confirm "
    "it. Nothing has been taken. Try again, or use another card."
)


def _user() -> User:
    return current_user._get_current_object()


def _confirm_on_server() -> bool:
    """Whether this app talks to localstripe, whose fake Stripe.js cannot confirm a card."""
    return bool(current_app.config["STRIPE_API_BASE"])


def card_refusal(order: Order) -> str | None:
    """Why the signed-in user may not pay the order by card, in words (someone acting for the
    person under a consent that does not cover paying by card), or None when they may."""
    if can(current_user, "pay_by_card_for", order.person):
        return None
    return refusal_for(_user(), order.person, ConsentScope.PAY)


def refuse_card(order: Order, refused: str) -> tuple[str, int]:
    """The card step refused in words, 403: the order itself stands."""
    return render_template("citizens/orders/card_refused.html", order=order, refused=refused), 403


def _payment_of(order: Order, payment_id: uuid.UUID) -> CardPayment:
    payment = db.session.get(CardPayment, payment_id)
    if payment is None or payment.order_id != order.id:
        abort(404)
    return payment


def _intent_for(order: Order) -> tuple[CardPayment, Intent]:
    """The order's waiting payment and its PaymentIntent: the one Stripe already has for it
    if it can still be paid, else a new one. Raises StripeUnavailable."""
    gateway = stripe_gateway()
    payment = service.start_order_payment(db.session, order, by=_user())
    if payment.stripe_payment_intent_id is not None:
        intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
        if intent.status not in FINISHED_UNPAID:
            return payment, intent
        service.payment_failed(
            db.session,
            intent_id=intent.id,
            reason="The payment was cancelled at Stripe",
            metadata=intent.metadata,
        )
        payment = service.start_order_payment(db.session, order, by=_user())
    intent = gateway.create_payment_intent(
        amount_pence=payment.amount_pence,
        idempotency_key=payment.idempotency_key,
        metadata=payment.metadata_for_stripe,
    )
    service.record_intent(db.session, payment, intent_id=intent.id, status=intent.status)
    return payment, intent


def _unavailable(order: Order, message: str) -> tuple[str, int]:
    """Stripe cannot be reached: say so; the order stays payable later (nothing is kept)."""
    return render_template(
        "citizens/orders/pay.html", order=order, unavailable=message, button=ButtonForm()
    ), 503


@bp.route("/orders/<uuid:order_id>/pay")
@talisman(content_security_policy=PAYMENT_PAGE_POLICY)
@requires("use_citizen_pages")
def pay_for_order(order_id: uuid.UUID) -> BaseResponse | str | tuple[str, int]:
    order = own_order(order_id)
    if order.status is not OrderStatus.AWAITING_PAYMENT:
        return redirect(url_for("citizens.order_page", order_id=order.id))
    refused = card_refusal(order)
    if refused is not None:
        return refuse_card(order, refused)
    try:
        payment, intent = _intent_for(order)
    except StripeUnavailable as error:
        return _unavailable(order, error.message)
    if intent.status not in PAYABLE:
        # Paid, or being paid, in another tab: the return page asks Stripe where it stands.
        return redirect(
            url_for("citizens.payment_return", order_id=order.id, payment_id=payment.id)
        )
    return render_template(
        "citizens/orders/pay.html",
        order=order,
        payment=payment,
        client_secret=intent.client_secret,
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
        confirm_on_server=_confirm_on_server(),
        return_url=url_for(
            "citizens.payment_return", order_id=order.id, payment_id=payment.id, _external=True
        ),
        button=ButtonForm(),
    )


@bp.route("/orders/<uuid:order_id>/pay/card", methods=["POST"])
@requires("use_citizen_pages")
def pay_with_card(order_id: uuid.UUID) -> BaseResponse | tuple[BaseResponse, int]:
    """localstripe only: pay the order's waiting PaymentIntent (a new one after a decline)
    with the card its fake Stripe.js tokenised. JSON: the intent's status, its client secret
    (for 3-D Secure) and the return page, or a message to show."""
    if not _confirm_on_server():
        abort(404)
    order = own_order(order_id)
    card = request.form.get("card", "")
    if not ButtonForm().validate_on_submit() or not card.startswith("card_"):
        abort(400)
    if order.status is not OrderStatus.AWAITING_PAYMENT:
        return jsonify(status="finished", return_url=_order_url(order))
    refused = card_refusal(order)
    if refused is not None:
        return jsonify(status="refused", message=refused), 403
    try:
        payment, intent = _intent_for(order)
        if intent.status in PAYABLE and intent.status != "requires_action":
            intent = stripe_gateway().attach_and_confirm(intent.id, payment_method=card)
    except CardDeclined as declined:
        # Stripe's own event says the same; taking it now lets the next try start afresh.
        service.payment_failed(
            db.session,
            intent_id=payment.stripe_payment_intent_id or "",
            reason=declined.decline_code or "declined",
            metadata=payment.metadata_for_stripe,
        )
        return jsonify(status="declined", message=declined.message or DECLINED_MESSAGE)
    except StripeUnavailable as error:
        return jsonify(status="unavailable", message=error.message), 503
    service.record_intent(db.session, payment, intent_id=intent.id, status=intent.status)
    return jsonify(
        status=intent.status,
        client_secret=intent.client_secret,
        return_url=url_for(
            "citizens.payment_return", order_id=order.id, payment_id=payment.id, _external=True
        ),
    )


def _order_url(order: Order) -> str:
    return url_for("citizens.order_page", order_id=order.id, _external=True)


@bp.route("/orders/<uuid:order_id>/payments/<uuid:payment_id>")
@requires("use_citizen_pages")
def payment_return(order_id: uuid.UUID, payment_id: uuid.UUID) -> BaseResponse | str:
    """Where Stripe.js sends the person after paying. Credits only on Stripe's own word."""
    order = own_order(order_id)
    payment = _payment_of(order, payment_id)
    if payment.stripe_payment_intent_id is None:
        return redirect(url_for("citizens.pay_for_order", order_id=order.id))
    if payment.status.settled:
        return _answer(order, payment)
    try:
        intent = stripe_gateway().retrieve_payment_intent(payment.stripe_payment_intent_id)
    except StripeUnavailable:
        # We cannot ask Stripe now: the webhook will tell us. Nothing is credited here.
        return _answer(order, payment)
    if intent.status == "succeeded":
        service.payment_succeeded(
            db.session,
            intent_id=intent.id,
            amount_pence=intent.amount_pence,
            currency=intent.currency,
            metadata=intent.metadata,
        )
    elif intent.status in ("requires_payment_method", "canceled") and payment.status in WAITING:
        # Declined, or 3-D Secure failed or abandoned: Stripe says it is not paid. The order
        # stays payable (a new attempt starts afresh) or can be cancelled.
        service.payment_failed(
            db.session,
            intent_id=intent.id,
            reason="Not paid: declined, or not confirmed by the bank",
            metadata=intent.metadata,
        )
        return render_template(
            "citizens/orders/payment_result.html",
            order=order,
            payment=payment,
            failed=NOT_PAID_MESSAGE,
        )
    return _answer(order, payment)


def _answer(order: Order, payment: CardPayment) -> str:
    return render_template(
        "citizens/orders/payment_result.html",
        order=order,
        payment=payment,
        failed=NOT_PAID_MESSAGE if payment.status.value == "failed" else None,
    )
