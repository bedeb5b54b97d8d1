"""Card payments at the edge: the Stripe gateway built from the app's configuration.

The rules in `marketplace/payments/` never read configuration; views and command lines take
the gateway from here (`stripe_gateway()`) and pass it in. docs/payments.md lists the settings.
"""

from __future__ import annotations

from flask import Flask, current_app

from marketplace.config import ConfigurationError
from marketplace.orders import hooks
from marketplace.payments import refunds
from marketplace.payments.errors import StripeUnavailable
from marketplace.payments.gateway import UNAVAILABLE_MESSAGE, StripeGateway

STRIPE_JS_URL = "https://js.stripe.com/v3/"
# localstripe takes any key of this shape.
LOCALSTRIPE_SECRET_KEY = "sk_test_localstripe"  # noqa: S105 - a fake server's stand-in
LOCALSTRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
EXTENSION = "stripe_gateway"


def init_app(app: Flask) -> None:
    """Put the gateway in `app.extensions["stripe_gateway"]` (None when no key is set, outside
    production: card payments then answer "not working at the moment").

    With STRIPE_API_BASE (localstripe) and no keys, localstripe's stand-in keys are used, and
    Stripe.js is localstripe's. Raises ConfigurationError in production without the secret,
    publishable and webhook keys, or with STRIPE_API_BASE (a fake Stripe there would let
    anyone "pay" with a made-up card).
    """
    # Card money an order gives back is owed back to the card, in the release's transaction.
    hooks.on_money_released(refunds.owe_for_release)
    config = app.config
    api_base = config["STRIPE_API_BASE"].rstrip("/")
    if config["ENVIRONMENT"] == "production":
        _check_production(config)
    if api_base:
        config["STRIPE_SECRET_KEY"] = config["STRIPE_SECRET_KEY"] or LOCALSTRIPE_SECRET_KEY
        config["STRIPE_PUBLISHABLE_KEY"] = (
            config["STRIPE_PUBLISHABLE_KEY"] or LOCALSTRIPE_PUBLISHABLE_KEY
        )
    config["STRIPE_JS_URL"] = config["STRIPE_JS_URL"] or (
        f"{api_base}/js.stripe.com/v3/" if api_base else STRIPE_JS_URL
    )
    app.extensions[EXTENSION] = (
        StripeGateway(
            config["STRIPE_SECRET_KEY"],
            api_base=api_base or None,
            connect_timeout_seconds=config["STRIPE_CONNECT_TIMEOUT_SECONDS"],
            read_timeout_seconds=config["STRIPE_TIMEOUT_SECONDS"],
            max_network_retries=config["STRIPE_MAX_NETWORK_RETRIES"],
            # localstripe speaks an older API, which names no allowed payment methods.
            allowed_payment_method_types=None if api_base else ("card",),
        )
        if config["STRIPE_SECRET_KEY"]
        else None
    )


def _check_production(config: dict[str, object]) -> None:
    missing = [
        name
        for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")
        if not str(config[name]).strip()
    ]
    if missing:
        raise ConfigurationError(
            f"{', '.join(missing)} must be set in production: the keys from Stripe's dashboard "
            "(Developers, API keys) and the webhook endpoint's signing secret (docs/payments.md)"
        )
    if config["STRIPE_API_BASE"]:
        raise ConfigurationError(
            "STRIPE_API_BASE must not be set in production: it points the app at a fake Stripe"
        )


def stripe_gateway() -> StripeGateway:
    """The app's gateway. Raises StripeUnavailable when card payments are not set up."""
    gateway: StripeGateway | None = current_app.extensions[EXTENSION]
    if gateway is None:
        raise StripeUnavailable(UNAVAILABLE_MESSAGE, detail="STRIPE_SECRET_KEY is not set")
    return gateway
