"""`POST /webhooks/stripe`: Stripe tells us what happened to a payment.

The body is believed only with a right `Stripe-Signature` (the endpoint's signing secret,
signed at most 300 seconds ago: an older one may be a recording played back). Each event is
kept once and passed to the payment rules (`payments.events.receive_event`); the request
commits once, as every request does. Refusals are JSON in the API's shape, with stable codes:

- 400 `signature_missing`, `signature_invalid`, `signature_expired`, `malformed_event`:
  Stripe would send the same again, so it is told it is wrong;
- 409 `payment_not_recorded_yet`: the event names a payment of ours not yet committed here;
  nothing is kept and Stripe delivers it again later;
- 503 `webhooks_not_configured`: no signing secret is set.

A replay, or a type we do not act on, is a 200: Stripe stops sending it.
"""

from __future__ import annotations

import time

import stripe
from flask import Response, current_app, jsonify, request

from marketplace.extensions import db, limiter
from marketplace.payments import events
from marketplace.types import utcnow
from marketplace.webhooks import bp

# Stripe's own default: a signature older than this is refused (a replayed recording).
TOLERANCE_SECONDS = 300


def _problem(status: int, code: str, message: str) -> Response:
    response = jsonify(error=code, message=message, details={})
    response.status_code = status
    return response


def _signed_at(header: str) -> int | None:
    """The header's `t=` timestamp, if it has one that is a number."""
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            return int(value)
    return None


def _signature_problem(payload: str, header: str, secret: str) -> Response | None:
    """None when the header signs the payload with the secret within the tolerance."""
    try:
        # The SDK's check, as `stripe.Webhook.construct_event` makes it; the event is then
        # read as plain JSON (`events.parse_event`), so a body that is JSON but no event is a
        # 400 with its own code.
        stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError:
        signed_at = _signed_at(header)
        if signed_at is not None and signed_at < time.time() - TOLERANCE_SECONDS:
            return _problem(400, "signature_expired", "The signature is older than five minutes")
        return _problem(400, "signature_invalid", "The signature does not match the body")
    return None


@bp.post("/stripe")
@limiter.limit(lambda: current_app.config["STRIPE_WEBHOOK_RATE_LIMIT"])
def stripe_event() -> Response:
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        return _problem(503, "webhooks_not_configured", "STRIPE_WEBHOOK_SECRET is not set")
    header = request.headers.get("Stripe-Signature", "").strip()
    if not header:
        return _problem(400, "signature_missing", "The Stripe-Signature header is missing")
    try:
        payload = request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        return _problem(400, "malformed_event", "The body is not UTF-8 text")
    refused = _signature_problem(payload, header, secret)
    if refused is not None:
        return refused
    try:
        event = events.parse_event(payload)
    except events.MalformedEvent as error:
        return _problem(400, "malformed_event", str(error))
    try:
        receipt = events.receive_event(db.session, event, now=utcnow())
    except events.MalformedEvent as error:
        return _problem(400, "malformed_event", str(error))
    except events.PaymentNotRecordedYet:
        return _problem(
            409, "payment_not_recorded_yet", "The payment is not recorded here yet: send again"
        )
    return jsonify(
        received=receipt.event_id,
        replay=receipt.replay,
        outcome=receipt.outcome.value if receipt.outcome else None,
        result=receipt.result,
    )
