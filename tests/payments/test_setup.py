"""The Stripe gateway built from the settings: localstripe offline, real keys in production."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from flask import Flask

from marketplace.config import ConfigurationError
from marketplace.payments.errors import StripeUnavailable
from marketplace.payments_setup import stripe_gateway
from tests.payments.conftest import LocalStripe

NO_KEYS = {"STRIPE_SECRET_KEY": "", "STRIPE_PUBLISHABLE_KEY": "", "STRIPE_WEBHOOK_SECRET": ""}


def test_with_localstripe_and_no_keys_the_app_pays_at_localstripe(
    make_app: Callable[..., Flask], localstripe: LocalStripe
) -> None:
    app = make_app(STRIPE_API_BASE=localstripe.url + "/", **NO_KEYS)
    assert app.config["STRIPE_JS_URL"] == f"{localstripe.url}/js.stripe.com/v3/"
    assert app.config["STRIPE_PUBLISHABLE_KEY"].startswith("pk_test_")
    script = requests.get(app.config["STRIPE_JS_URL"], timeout=10)
    assert script.status_code == 200
    assert "javascript" in script.headers["Content-Type"]
    with app.app_context():
        intent = stripe_gateway().create_payment_intent(
            amount_pence=5_00, idempotency_key="card-payment-setup", metadata={"person_id": "1"}
        )
    assert intent.id.startswith("pi_")


def test_real_stripe_by_default(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    assert app.config["STRIPE_JS_URL"] == "https://js.stripe.com/v3/"


def test_without_a_key_card_payments_are_unavailable_not_an_error(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(**NO_KEYS)
    with app.app_context(), pytest.raises(StripeUnavailable) as unavailable:
        stripe_gateway()
    assert "later" in unavailable.value.message


def test_production_refuses_to_start_without_the_stripe_keys(
    make_app: Callable[..., Flask],
) -> None:
    settings = {"ENVIRONMENT": "production", "MAIL_SERVER": "smtp.example.org"}
    with pytest.raises(ConfigurationError, match="STRIPE_WEBHOOK_SECRET must be set"):
        make_app(**settings, STRIPE_WEBHOOK_SECRET="")
    with pytest.raises(ConfigurationError, match="STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY"):
        make_app(**settings, STRIPE_SECRET_KEY="", STRIPE_PUBLISHABLE_KEY=" ")
    assert make_app(**settings).config["STRIPE_WEBHOOK_SECRET"]


def test_production_refuses_a_fake_stripe(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ConfigurationError, match="STRIPE_API_BASE"):
        make_app(
            ENVIRONMENT="production",
            MAIL_SERVER="smtp.example.org",
            STRIPE_API_BASE="http://127.0.0.1:8420",
        )
