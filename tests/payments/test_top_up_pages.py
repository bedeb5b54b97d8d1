"""Adding money to one's own account by card, over HTTP against localstripe (issue 16, item 3):
the amount read strictly (bad input changes nothing), the payment page's CSP and script
inventory, the return page crediting once on Stripe's word (with the webhook at the same time),
a declined card said in the error summary, and a budget holder refused where the council takes
no card. `flask ledger verify`'s checks pass after each."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.models import FunderPot, PersonalBudget, StreamKind
from marketplace.budgets.own_funds import own_funds_stream
from marketplace.extensions import db
from marketplace.payments.models import CardPayment, CardPaymentStatus, CardPurpose
from marketplace.security import payment_page_scripts
from tests.citizens.helpers import TODAY, give_budget
from tests.conftest import sign_in
from tests.ledger.threads import engine_options
from tests.payments.conftest import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, LocalStripe
from tests.payments.test_payment_pages import (
    _all_verifies,
    _card_transfers,
    _csp,
    _pay_at_stripe,
    _Scripts,
    _stripe,
    _text,
)


def _app(make_app: Callable[..., Flask], localstripe: LocalStripe, **settings: object) -> Flask:
    return make_app(
        STRIPE_API_BASE=localstripe.url,
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_PUBLISHABLE_KEY=PUBLISHABLE_KEY,
        STRIPE_JS_URL="",
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(3),
        **settings,
    )


@pytest.fixture
def stripe_app(make_app: Callable[..., Flask], localstripe: LocalStripe) -> Flask:
    return _app(make_app, localstripe)


@pytest.fixture
def self_funder(stripe_app: Flask, make_user: Callable[..., User], reference_data: None) -> User:
    """A citizen with no budget: they pay for their own care, and may add money any time."""
    return make_user(Role.CITIZEN)


@pytest.fixture
def client(stripe_app: Flask, self_funder: User) -> FlaskClient:
    client = stripe_app.test_client()
    sign_in(client, self_funder)
    return client


def _top_ups() -> list[CardPayment]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(CardPayment)
            .where(CardPayment.purpose == CardPurpose.TOP_UP)
            .order_by(CardPayment.created_at)
        )
    )


def _start(client: FlaskClient, amount: str = "50.00") -> CardPayment:
    answer = client.post("/my/top-up", data={"amount": amount})
    assert answer.status_code == 302, _text(answer)
    (payment,) = _top_ups()
    assert answer.headers["Location"].endswith(f"/my/top-up/{payment.id}/pay")
    return payment


def _token(localstripe: LocalStripe, number: str) -> str:
    """What localstripe's card element does in the browser: a token made at localstripe."""
    token = requests.post(
        f"{localstripe.url}/v1/tokens",
        data={
            "key": PUBLISHABLE_KEY,
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": str(TODAY.year + 2),
            "card[cvc]": "123",
        },
        timeout=10,
    ).json()
    return str(token["card"]["id"])


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Enter the amount to add, like 50.00"),
        ("fifty", "The amount to add must be an amount in pounds"),
        ("1e3", "The amount to add must be an amount in pounds"),
        ("0", "The amount to add must be more than £0.00"),
        ("0.00", "The amount to add must be more than £0.00"),
        ("-5", "The amount to add cannot be negative"),
        ("12.345", "The amount to add must be in pounds and pence"),
        ("5000.01", "The amount to add must be £5,000 or less"),
        ("99999999999", "The amount to add must be £5,000 or less"),
    ],
)
def test_a_bad_amount_is_shown_in_the_error_summary_and_changes_nothing(
    client: FlaskClient, amount: str, message: str
) -> None:
    page = client.post("/my/top-up", data={"amount": amount})

    assert page.status_code == 200
    text = _text(page)
    assert "govuk-error-summary" in text
    assert "There is a problem" in text
    assert message in text
    assert _top_ups() == []
    assert _card_transfers() == 0
    _all_verifies()


def test_a_self_funders_budget_page_links_to_the_top_up(client: FlaskClient) -> None:
    page = client.get("/my/budget")

    assert 'href="/my/top-up"' in _text(page)
    assert client.get("/my/top-up").status_code == 200


def test_the_top_up_page_loads_only_the_scripts_in_its_inventory(
    stripe_app: Flask, client: FlaskClient, localstripe: LocalStripe
) -> None:
    payment = _start(client)

    page = client.get(f"/my/top-up/{payment.id}/pay")

    assert page.status_code == 200
    assert "Pay £50" in _text(page)
    scripts = _Scripts()
    scripts.feed(_text(page))
    with stripe_app.test_request_context():
        inventory = payment_page_scripts()
    assert scripts.inline == []
    assert sorted(source or "" for source in scripts.sources) == sorted(inventory)
    policy = _csp(page)
    assert policy["script-src"] == ["'self'", localstripe.url]
    assert policy["frame-src"] == [localstripe.url]
    assert policy["frame-ancestors"] == ["'none'"]
    # The amount page is an ordinary page: Stripe is let in on the payment page only.
    assert _csp(client.get("/my/top-up"))["script-src"] == ["'self'"]


def test_a_top_up_paid_and_reported_by_the_return_page_and_webhook_at_once_credits_once(
    stripe_app: Flask,
    client: FlaskClient,
    self_funder: User,
    localstripe: LocalStripe,
    sign_webhook: Callable[..., str],
) -> None:
    payment = _start(client, "£1,250.50")
    assert client.get(f"/my/top-up/{payment.id}/pay").status_code == 200
    (payment,) = _top_ups()
    intent_id = str(payment.stripe_payment_intent_id)
    intent = _stripe(localstripe, "GET", f"/v1/payment_intents/{intent_id}")
    assert intent["amount"] == 1_250_50
    assert intent["metadata"]["card_payment_id"] == str(payment.id)  # type: ignore[index]
    # Before the person pays, the return page credits nothing.
    early = client.get(f"/my/top-up/{payment.id}?redirect_status=succeeded")
    assert "Money added" not in _text(early)
    assert _card_transfers() == 0

    # Stripe says nobody paid it: that top-up is over, and the person starts another.
    assert _top_ups()[0].status is CardPaymentStatus.FAILED
    assert client.post("/my/top-up", data={"amount": "1250.50"}).status_code == 302
    payment = _top_ups()[-1]
    assert client.get(f"/my/top-up/{payment.id}/pay").status_code == 200
    payment = _top_ups()[-1]
    intent_id = str(payment.stripe_payment_intent_id)
    _pay_at_stripe(localstripe, intent_id)
    body = json.dumps(
        {
            "id": "evt_top_up_race",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": _stripe(localstripe, "GET", f"/v1/payment_intents/{intent_id}")},
        }
    )
    webhook = stripe_app.test_client()
    answers: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def return_page() -> None:
        barrier.wait(timeout=30)
        answers["return"] = client.get(f"/my/top-up/{payment.id}").status_code

    def stripe_says() -> None:
        barrier.wait(timeout=30)
        answers["webhook"] = webhook.post(
            "/webhooks/stripe",
            data=body,
            headers={"Stripe-Signature": sign_webhook(body, WEBHOOK_SECRET)},
            content_type="application/json",
        ).status_code

    threads = [threading.Thread(target=return_page), threading.Thread(target=stripe_says)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert answers == {"return": 200, "webhook": 200}
    assert _card_transfers() == 1
    assert _top_ups()[-1].status is CardPaymentStatus.SUCCEEDED
    assert "Money added" in _text(client.get(f"/my/top-up/{payment.id}"))
    assert _card_transfers() == 1
    budget = db.session.scalars(
        select(PersonalBudget).where(PersonalBudget.person_id == self_funder.person_id)
    ).one()
    stream = own_funds_stream(budget)
    assert stream is not None
    assert stream.amount_pence == 1_250_50
    statement = _text(client.get(f"/my/budgets/{budget.id}/statement"))
    assert "Top-up by card" in statement
    assert "£1,250.50" in statement
    _all_verifies()
    db.session.remove()
    verified = stripe_app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert verified.exit_code == 0, verified.output


def test_a_declined_card_is_shown_in_the_error_summary_and_credits_nothing(
    client: FlaskClient, localstripe: LocalStripe
) -> None:
    payment = _start(client, "20")
    client.get(f"/my/top-up/{payment.id}/pay")

    answer = client.post(
        f"/my/top-up/{payment.id}/pay/card", data={"card": _token(localstripe, "4000000000000341")}
    )

    assert answer.get_json()["status"] == "declined"
    assert answer.get_json()["message"]
    page = _text(client.get(f"/my/top-up/{payment.id}"))
    assert "govuk-error-summary" in page
    assert "Your payment did not go through" in page
    assert _top_ups()[0].status is CardPaymentStatus.FAILED
    assert _card_transfers() == 0
    _all_verifies()


def test_a_card_paid_through_the_page_credits_the_account(
    client: FlaskClient, localstripe: LocalStripe
) -> None:
    payment = _start(client, "20")
    client.get(f"/my/top-up/{payment.id}/pay")

    answer = client.post(
        f"/my/top-up/{payment.id}/pay/card", data={"card": _token(localstripe, "4242424242424242")}
    )

    assert answer.get_json()["status"] == "succeeded"
    assert "Money added" in _text(client.get(f"/my/top-up/{payment.id}"))
    assert _card_transfers() == 1
    _all_verifies()


def test_someone_elses_top_up_is_not_found(
    stripe_app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    payment = _start(client)
    other = stripe_app.test_client()
    sign_in(other, make_user(Role.CITIZEN))

    assert other.get(f"/my/top-up/{payment.id}/pay").status_code == 404
    assert other.get(f"/my/top-up/{payment.id}").status_code == 404


@pytest.mark.parametrize("allowed", [False, True])
def test_a_budget_holder_tops_up_only_where_the_council_takes_cards(
    make_app: Callable[..., Flask],
    localstripe: LocalStripe,
    citizen: User,
    pots: dict[StreamKind, FunderPot],
    allowed: bool,
) -> None:
    app = _app(make_app, localstripe, CARD_TOP_UPS_ALLOWED=allowed)
    give_budget(citizen.person, pots, council=100_00)
    client = app.test_client()
    sign_in(client, citizen)

    budget_page = _text(client.get("/my/budget"))
    form = client.get("/my/top-up")
    posted = client.post("/my/top-up", data={"amount": "30"})

    if allowed:
        assert 'href="/my/top-up"' in budget_page
        assert form.status_code == 200
        assert posted.status_code == 302
        assert len(_top_ups()) == 1
    else:
        assert 'href="/my/top-up"' not in budget_page
        assert form.status_code == 403
        assert "does not take money by card" in _text(form)
        assert posted.status_code == 403
        assert _top_ups() == []
    assert _card_transfers() == 0
    _all_verifies()


def test_the_return_page_says_processing_while_the_bank_is_asked(
    client: FlaskClient, localstripe: LocalStripe
) -> None:
    payment = _start(client, "20")
    client.get(f"/my/top-up/{payment.id}/pay")
    (payment,) = _top_ups()
    # A 3-D Secure card: Stripe waits for the bank.
    card = _stripe(
        localstripe,
        "POST",
        "/v1/payment_methods",
        type="card",
        **{
            "card[number]": "4000002760003184",
            "card[exp_month]": "12",
            "card[exp_year]": str(TODAY.year + 2),
            "card[cvc]": "123",
        },
    )
    _pay_at_stripe(localstripe, str(payment.stripe_payment_intent_id), str(card["id"]))

    page = client.get(f"/my/top-up/{payment.id}")

    assert page.status_code == 200
    assert "Your payment is being processed" in _text(page)
    assert "Money added" not in _text(page)
    assert _card_transfers() == 0
    assert _top_ups()[0].status in (CardPaymentStatus.CREATED, CardPaymentStatus.REQUIRES_ACTION)
    _all_verifies()
