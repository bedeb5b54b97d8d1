"""The citizen adds money to their own account by card (issue 16, item 3): a self-funder always,
a budget holder where the council takes top-ups by card (CARD_TOP_UPS_ALLOWED).

The amount is read by the one strict money reader (`PenceField`); the payment page is the
order's (one card form macro, one script, the payment page's CSP and script inventory), and the
return page asks Stripe and credits the own-funds stream only on Stripe's word
(`service.payment_succeeded`, which the webhook calls too: whichever comes second changes
nothing). Against localstripe the script posts the tokenised card here, as for an order.
"""

from __future__ import annotations

import uuid

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SubmitField
from wtforms.validators import InputRequired, ValidationError

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.citizens import bp
from marketplace.citizens.budget_views import own_person
from marketplace.citizens.payment_views import NOT_PAID_MESSAGE, PAYABLE, _user
from marketplace.extensions import db, talisman
from marketplace.formatting import london_today
from marketplace.forms import ButtonForm, PenceField
from marketplace.orders.errors import InvalidOrder
from marketplace.orders.on_behalf import refusal_for
from marketplace.payments import service
from marketplace.payments.errors import CardDeclined, StripeUnavailable
from marketplace.payments.gateway import DECLINED_MESSAGE, Intent
from marketplace.payments.models import WAITING, CardPayment, CardPurpose
from marketplace.payments_setup import stripe_gateway
from marketplace.people.models import ConsentScope, Person
from marketplace.security import PAYMENT_PAGE_POLICY

# The most one top-up may bring in: far above a month of care, well below a mistyped figure.
MAX_TOP_UP_PENCE = 5_000_00


class TopUpForm(FlaskForm):
    amount = PenceField(
        "The amount to add",
        description="In pounds, like 50.00",
        max_pence=MAX_TOP_UP_PENCE,
        validators=[InputRequired(message="Enter the amount to add, like 50.00")],
    )
    submit = SubmitField("Continue to pay by card", widget=GovSubmitInput())

    def validate_amount(self, field: PenceField) -> None:
        if field.data is not None and field.data <= 0:
            raise ValidationError("The amount to add must be more than £0.00")


def _refusal(person: Person) -> str | None:
    """Why the user cannot add money to the person's account by card, in words, or None:
    someone acting for them needs a consent covering payment; then the council's rule."""
    if not can(_user(), "pay_by_card_for", person):
        return refusal_for(_user(), person, ConsentScope.PAY)
    return service.top_up_refusal(
        db.session,
        person,
        today=london_today(),
        top_ups_allowed=bool(current_app.config["CARD_TOP_UPS_ALLOWED"]),
    )


@bp.route("/top-up", methods=["GET", "POST"])
@requires("use_citizen_pages")
def top_up() -> BaseResponse | str | tuple[str, int]:
    person = own_person()
    refused = _refusal(person)
    if refused is not None:
        return render_template("citizens/top_up.html", refused=refused), 403
    form = TopUpForm()
    if form.validate_on_submit():
        assert form.amount.data is not None
        try:
            payment = service.start_top_up(
                db.session,
                person,
                amount_pence=form.amount.data,
                by=_user(),
                today=london_today(),
                top_ups_allowed=bool(current_app.config["CARD_TOP_UPS_ALLOWED"]),
            )
        except InvalidOrder as refusal:
            return render_template("citizens/top_up.html", refused=refusal.message), 403
        return redirect(url_for("citizens.pay_top_up", payment_id=payment.id))
    return render_template("citizens/top_up.html", form=form, max_pence=MAX_TOP_UP_PENCE)


def _own_top_up(payment_id: uuid.UUID) -> CardPayment:
    person = own_person("pay_by_card_for")
    payment = db.session.get(CardPayment, payment_id)
    if payment is None or payment.person_id != person.id or payment.purpose != CardPurpose.TOP_UP:
        abort(404)
    return payment


def _intent_for(payment: CardPayment) -> Intent:
    """The top-up's PaymentIntent, made once (keyed by the payment). Raises StripeUnavailable."""
    gateway = stripe_gateway()
    if payment.stripe_payment_intent_id is not None:
        return gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
    intent = gateway.create_payment_intent(
        amount_pence=payment.amount_pence,
        idempotency_key=payment.idempotency_key,
        metadata=payment.metadata_for_stripe,
    )
    service.record_intent(db.session, payment, intent_id=intent.id, status=intent.status)
    return intent


def _return_url(payment: CardPayment) -> str:
    return url_for("citizens.top_up_return", payment_id=payment.id, _external=True)


@bp.route("/top-up/<uuid:payment_id>/pay")
@talisman(content_security_policy=PAYMENT_PAGE_POLICY)
@requires("use_citizen_pages")
def pay_top_up(payment_id: uuid.UUID) -> BaseResponse | str | tuple[str, int]:
    payment = _own_top_up(payment_id)
    if payment.status not in WAITING:
        return redirect(url_for("citizens.top_up_return", payment_id=payment.id))
    try:
        intent = _intent_for(payment)
    except StripeUnavailable as error:
        return render_template(
            "citizens/top_up_pay.html", payment=payment, unavailable=error.message
        ), 503
    if intent.status not in PAYABLE:
        return redirect(url_for("citizens.top_up_return", payment_id=payment.id))
    return render_template(
        "citizens/top_up_pay.html",
        payment=payment,
        client_secret=intent.client_secret,
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
        confirm_on_server=bool(current_app.config["STRIPE_API_BASE"]),
        return_url=_return_url(payment),
    )


@bp.route("/top-up/<uuid:payment_id>/pay/card", methods=["POST"])
@requires("use_citizen_pages")
def pay_top_up_with_card(payment_id: uuid.UUID) -> BaseResponse | tuple[BaseResponse, int]:
    """localstripe only: pay the top-up's PaymentIntent with the card its fake Stripe.js
    tokenised (as `pay_with_card` does for an order). JSON as there."""
    if not current_app.config["STRIPE_API_BASE"]:
        abort(404)
    payment = _own_top_up(payment_id)
    card = request.form.get("card", "")
    if not ButtonForm().validate_on_submit() or not card.startswith("card_"):
        abort(400)
    if payment.status not in WAITING:
        return jsonify(status="finished", return_url=_return_url(payment))
    try:
        intent = _intent_for(payment)
        if intent.status in PAYABLE and intent.status != "requires_action":
            intent = stripe_gateway().attach_and_confirm(intent.id, payment_method=card)
    except CardDeclined as declined:
        # A declined top-up is over: the person starts another from the amount page.
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
        status=intent.status, client_secret=intent.client_secret, return_url=_return_url(payment)
    )


@bp.route("/top-up/<uuid:payment_id>")
@requires("use_citizen_pages")
def top_up_return(payment_id: uuid.UUID) -> BaseResponse | str:
    """Where Stripe.js sends the person after paying. Credits only on Stripe's own word."""
    payment = _own_top_up(payment_id)
    if payment.stripe_payment_intent_id is None:
        return redirect(url_for("citizens.pay_top_up", payment_id=payment.id))
    failed: str | None = None
    if not payment.status.settled:
        try:
            intent = stripe_gateway().retrieve_payment_intent(payment.stripe_payment_intent_id)
        except StripeUnavailable:
            intent = None  # the webhook will tell us; nothing is credited here
        if intent is not None and intent.status == "succeeded":
            service.payment_succeeded(
                db.session,
                intent_id=intent.id,
                amount_pence=intent.amount_pence,
                currency=intent.currency,
                metadata=intent.metadata,
            )
        elif intent is not None and intent.status in ("requires_payment_method", "canceled"):
            service.payment_failed(
                db.session,
                intent_id=intent.id,
                reason="Not paid: declined, or not confirmed by the bank",
                metadata=intent.metadata,
            )
    if payment.status.value == "failed":
        failed = NOT_PAID_MESSAGE
    return render_template("citizens/top_up_result.html", payment=payment, failed=failed)
