"""Machines that tell us things happened: Stripe's webhook (the `webhooks` blueprint, made
here, `/webhooks/`).

No person signs in here: a request is believed only when its signature is right. Its routes
are in `stripe_views`, imported at the bottom so that the blueprint has them all when the app
registers it. Answers are JSON, in the API's problem shape.
"""

from __future__ import annotations

from flask import Blueprint

from marketplace.extensions import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
# Signed by Stripe, not sent from our pages: there is no CSRF token to check.
csrf.exempt(bp)

from marketplace.webhooks import stripe_views  # noqa: E402,F401
