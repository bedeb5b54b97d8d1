"""The citizen's side of card payments over HTTP: checkout's split (budget streams first, the
card last), a self-funder's checkout, the payment page against localstripe (one
PaymentIntent however many tabs, its own CSP and script inventory), and the return page,
which credits only on Stripe's word, and once, whatever else reports it at the same time."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.models import FunderPot, PersonalBudget, StreamKind
from marketplace.extensions import db
from marketplace.formatting import pounds
from marketplace.ledger import Transfer, verify_ledger
from marketplace.orders import queries
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments.models import CardPayment, CardPaymentStatus
from marketplace.payments.verify import check_card_payments
from marketplace.security import PAYMENT_PAGE_POLICY, payment_page_scripts
from providers.models import Organisation, Service
from tests.citizens.helpers import TODAY, give_budget
from tests.conftest import sign_in
from tests.ledger.threads import engine_options
from tests.payments.conftest import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, LocalStripe

HOURLY_PENCE = 26_00
START = TODAY + timedelta(days=8 + (7 - TODAY.weekday()) % 7)  # a Monday, next week or after
ONE_OFF = 2 * HOURLY_PENCE  # two hours, once
RECURRING = 2 * 2 * 4 * HOURLY_PENCE  # two hours, Mondays and Thursdays, four weeks: £416


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _schedule(kind: str = "one_off") -> dict[str, object]:
    return {
        "schedule_kind": kind,
        "starts_on": [str(START.day), str(START.month), str(START.year)],
        "units_per_occasion": "2",
        "days": ["MO", "TH"],
        "weeks": "4",
        "add": "yes",
    }


@pytest.fixture
def service(
    make_organisation: Callable[..., Organisation], make_listing: Callable[..., Service]
) -> Service:
    listing = make_listing(make_organisation("Chiltern Home Care"), price_pence=HOURLY_PENCE)
    db.session.commit()
    return listing


@pytest.fixture
def self_funder(make_user: Callable[..., User], reference_data: None) -> User:
    """A citizen with a person record and no budget: they pay for their own care."""
    return make_user(Role.CITIZEN)


def _orders(user: User) -> list[Order]:
    db.session.rollback()  # see what the requests committed
    return queries.orders_of_person(db.session, user.person_id)


def _buy(
    client: FlaskClient, service: Service, kind: str = "one_off", **extra: str
) -> TestResponse:
    """Add the service to the basket and check out, as the pages do."""
    added = client.post(f"/my/services/{service.id}/order", data=_schedule(kind))
    assert added.status_code == 302, _text(added)
    page = _text(client.get("/my/checkout"))
    items = re.findall(r'name="item" value="([0-9a-f-]+)"', page)
    return client.post("/my/checkout", data={"item": items, **extra})


def _pence(shown: str) -> int:
    whole, _, part = shown.strip("£").replace(",", "").partition(".")
    return int(whole) * 100 + int(part or 0)


def _card_transfers() -> int:
    db.session.rollback()
    return (
        db.session.scalar(
            select(func.count()).select_from(Transfer).where(Transfer.code == "card_payment")
        )
        or 0
    )


def _all_verifies() -> None:
    db.session.rollback()
    assert verify_ledger(db.session).ok
    assert check_card_payments(db.session)[0] == []


# Checkout: the split before the person commits ---------------------------------------------


@pytest.fixture
def short_budget(citizen: User, pots: dict[StreamKind, FunderPot]) -> PersonalBudget:
    """£100 from the council: less than the £416 the recurring order costs."""
    return give_budget(citizen.person, pots, council=100_00)


@pytest.fixture
def card_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(CARD_TOP_UPS_ALLOWED=True)


def test_checkout_shows_the_budget_first_and_the_card_last_with_its_amount(
    card_app: Flask, citizen: User, short_budget: PersonalBudget, service: Service
) -> None:
    client = card_app.test_client()
    sign_in(client, citizen)
    assert (
        client.post(f"/my/services/{service.id}/order", data=_schedule("recurring")).status_code
        == 302
    )

    page = _text(client.get("/my/checkout"))

    rows = re.findall(
        r'<th scope="row" class="govuk-table__header">([^<]+)</th>\s*'
        r'<td class="govuk-table__cell govuk-table__cell--numeric">([^<]+)</td>',
        page,
    )
    # What the budget has released so far pays first; the card pays the rest, last.
    assert [name for name, _ in rows] == ["Council", "Card, paid by you after you place the order"]
    council, card = (_pence(amount) for _, amount in rows)
    assert 0 < council <= 100_00
    assert card == RECURRING - council
    assert "Pay the rest by card" in page


def test_a_budget_holder_who_does_not_choose_the_card_is_refused_and_nothing_is_ordered(
    card_app: Flask, citizen: User, short_budget: PersonalBudget, service: Service
) -> None:
    client = card_app.test_client()
    sign_in(client, citizen)

    refused = _buy(client, service, "recurring")

    assert refused.status_code == 400
    assert "You can also pay the rest by card at checkout" in _text(refused)
    assert _orders(citizen) == []


def test_a_budget_holder_who_chooses_the_card_pays_the_shortfall_by_card(
    card_app: Flask, citizen: User, short_budget: PersonalBudget, service: Service
) -> None:
    client = card_app.test_client()
    sign_in(client, citizen)

    placed = _buy(client, service, "recurring", pay_by_card="y")

    assert placed.status_code == 302
    (order,) = _orders(citizen)
    assert placed.headers["Location"].endswith(f"/my/orders/{order.id}/pay")
    assert order.status is OrderStatus.AWAITING_PAYMENT
    # The card pays what the budget has not released yet (of its £100), no more.
    assert order.total_pence == RECURRING
    assert RECURRING - 100_00 <= order.card_pence < RECURRING


def test_where_the_council_takes_no_card_a_budget_holder_is_told_plainly(
    citizen_client: FlaskClient, short_budget: PersonalBudget, service: Service
) -> None:
    added = citizen_client.post(f"/my/services/{service.id}/order", data=_schedule("recurring"))

    assert added.status_code == 400
    page = _text(added)
    assert "Your council does not take payment by card for what your budget cannot cover" in page
    assert "Pay the rest by card" not in page


def test_a_self_funder_checks_out_and_pays_the_whole_order_by_card(
    client: FlaskClient, self_funder: User, service: Service
) -> None:
    sign_in(client, self_funder)
    added = client.post(f"/my/services/{service.id}/order", data=_schedule())
    assert added.status_code == 302
    checkout = _text(client.get("/my/checkout"))
    assert "You pay for this yourself, by card" in checkout
    assert "Card, paid by you after you place the order" in checkout
    assert pounds(ONE_OFF) in checkout

    page = client.post(
        "/my/checkout",
        data={"item": re.findall(r'name="item" value="([0-9a-f-]+)"', checkout)},
    )

    assert page.status_code == 302
    (order,) = _orders(self_funder)
    assert page.headers["Location"].endswith(f"/my/orders/{order.id}/pay")
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert (order.total_pence, order.card_pence) == (ONE_OFF, ONE_OFF)
    # The order's page offers to pay it later.
    assert f"/my/orders/{order.id}/pay" in _text(client.get(f"/my/orders/{order.id}"))


# The payment page against localstripe ---------------------------------------------------


@pytest.fixture
def stripe_app(make_app: Callable[..., Flask], localstripe: LocalStripe) -> Flask:
    """The app talking to localstripe, with a connection for each of three threads."""
    return make_app(
        STRIPE_API_BASE=localstripe.url,
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_PUBLISHABLE_KEY=PUBLISHABLE_KEY,
        STRIPE_JS_URL="",
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(3),
    )


@pytest.fixture
def unpaid(stripe_app: Flask, self_funder: User, service: Service) -> tuple[FlaskClient, Order]:
    """A self-funder's order awaiting its card payment, and their signed-in client."""
    client = stripe_app.test_client()
    sign_in(client, self_funder)
    assert _buy(client, service).status_code == 302
    (order,) = _orders(self_funder)
    return client, order


def _payment(order: Order) -> CardPayment:
    db.session.rollback()
    payments = list(db.session.scalars(select(CardPayment).where(CardPayment.order_id == order.id)))
    assert len(payments) >= 1
    return payments[-1]


def _stripe(localstripe: LocalStripe, method: str, path: str, **data: str) -> dict[str, object]:
    """Ask localstripe as Stripe's own dashboard or the card holder's bank would."""
    answer = requests.request(
        method, f"{localstripe.url}{path}", data=data, auth=(SECRET_KEY, ""), timeout=10
    )
    answer.raise_for_status()
    result: dict[str, object] = answer.json()
    return result


def _pay_at_stripe(localstripe: LocalStripe, intent_id: str, card: str = "pm_card_visa") -> None:
    """What the card element and Stripe do when the person pays (not through our server)."""
    _stripe(localstripe, "POST", f"/v1/payment_intents/{intent_id}", payment_method=card)
    _stripe(localstripe, "POST", f"/v1/payment_intents/{intent_id}/confirm")


def _client_secret(page: str) -> str:
    found = re.search(r'data-client-secret="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_the_payment_page_makes_one_intent_with_our_key_amount_and_metadata(
    unpaid: tuple[FlaskClient, Order], localstripe: LocalStripe
) -> None:
    client, order = unpaid

    first = client.get(f"/my/orders/{order.id}/pay")
    second = client.get(f"/my/orders/{order.id}/pay")  # a second tab, or a reload

    assert first.status_code == second.status_code == 200
    assert _client_secret(_text(first)) == _client_secret(_text(second))
    payment = _payment(order)
    assert payment.status is CardPaymentStatus.CREATED
    intent = _stripe(localstripe, "GET", f"/v1/payment_intents/{payment.stripe_payment_intent_id}")
    assert (intent["amount"], intent["currency"]) == (ONE_OFF, "gbp")
    assert intent["metadata"] == {
        "card_payment_id": str(payment.id),
        "order_reference": order.reference,
        "person_id": str(order.person_id),
    }
    listed = _stripe(localstripe, "GET", "/v1/payment_intents")
    assert len(listed["data"]) == 1  # type: ignore[arg-type]


def test_two_tabs_opening_the_payment_page_at_once_share_one_intent(
    stripe_app: Flask,
    unpaid: tuple[FlaskClient, Order],
    self_funder: User,
    localstripe: LocalStripe,
) -> None:
    _, order = unpaid
    tabs = [stripe_app.test_client() for _ in range(2)]
    for tab in tabs:
        sign_in(tab, self_funder)
    pages: list[str] = []
    barrier = threading.Barrier(2)

    def open_tab(tab: FlaskClient) -> None:
        barrier.wait(timeout=30)
        pages.append(_text(tab.get(f"/my/orders/{order.id}/pay")))

    threads = [threading.Thread(target=open_tab, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(pages) == 2
    assert _client_secret(pages[0]) == _client_secret(pages[1])
    listed = _stripe(localstripe, "GET", "/v1/payment_intents")
    assert len(listed["data"]) == 1  # type: ignore[arg-type]


def test_the_return_page_credits_nothing_while_stripe_says_it_is_not_paid(
    unpaid: tuple[FlaskClient, Order],
) -> None:
    client, order = unpaid
    client.get(f"/my/orders/{order.id}/pay")
    payment = _payment(order)

    # The browser says it is back from paying; Stripe says nobody has paid.
    page = client.get(f"/my/orders/{order.id}/payments/{payment.id}?redirect_status=succeeded")

    assert page.status_code == 200
    assert "Your payment did not go through" in _text(page)
    assert _card_transfers() == 0
    (order,) = _orders(_owner(order))
    assert order.status is OrderStatus.AWAITING_PAYMENT
    # It can be paid again: a new payment, and a new intent.
    again = client.get(f"/my/orders/{order.id}/pay")
    assert again.status_code == 200
    assert _payment(order).id != payment.id
    _all_verifies()


def _owner(order: Order) -> User:
    return db.session.scalars(select(User).where(User.person_id == order.person_id)).one()


def test_the_return_page_says_processing_while_the_bank_is_asked(
    unpaid: tuple[FlaskClient, Order], localstripe: LocalStripe
) -> None:
    client, order = unpaid
    client.get(f"/my/orders/{order.id}/pay")
    payment = _payment(order)
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

    page = client.get(f"/my/orders/{order.id}/payments/{payment.id}")

    assert page.status_code == 200
    assert "Your payment is being processed" in _text(page)
    assert _card_transfers() == 0
    assert _payment(order).status in (CardPaymentStatus.CREATED, CardPaymentStatus.REQUIRES_ACTION)


def test_the_return_page_credits_once_when_stripe_says_it_succeeded(
    unpaid: tuple[FlaskClient, Order], localstripe: LocalStripe
) -> None:
    client, order = unpaid
    client.get(f"/my/orders/{order.id}/pay")
    payment = _payment(order)
    _pay_at_stripe(localstripe, str(payment.stripe_payment_intent_id))

    first = client.get(f"/my/orders/{order.id}/payments/{payment.id}")
    second = client.get(f"/my/orders/{order.id}/payments/{payment.id}")

    assert first.status_code == second.status_code == 200
    assert "Payment received" in _text(first)
    assert "Payment received" in _text(second)
    assert _card_transfers() == 1
    assert _payment(order).status is CardPaymentStatus.SUCCEEDED
    (order,) = _orders(_owner(order))
    assert order.status is OrderStatus.PLACED
    # Paid: the payment page sends the person to the order.
    assert client.get(f"/my/orders/{order.id}/pay").status_code == 302
    _all_verifies()


def test_the_return_page_and_the_webhook_at_once_credit_once(
    stripe_app: Flask,
    unpaid: tuple[FlaskClient, Order],
    localstripe: LocalStripe,
    sign_webhook: Callable[..., str],
) -> None:
    client, order = unpaid
    client.get(f"/my/orders/{order.id}/pay")
    payment = _payment(order)
    intent_id = str(payment.stripe_payment_intent_id)
    _pay_at_stripe(localstripe, intent_id)
    intent = _stripe(localstripe, "GET", f"/v1/payment_intents/{intent_id}")
    body = json.dumps(
        {
            "id": "evt_race",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": intent},
        }
    )
    webhook = stripe_app.test_client()
    answers: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def return_page() -> None:
        barrier.wait(timeout=30)
        answers["return"] = client.get(f"/my/orders/{order.id}/payments/{payment.id}").status_code

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
    assert _payment(order).status is CardPaymentStatus.SUCCEEDED
    _all_verifies()


def test_a_declined_card_leaves_the_order_payable_and_says_why(
    unpaid: tuple[FlaskClient, Order], localstripe: LocalStripe
) -> None:
    client, order = unpaid
    client.get(f"/my/orders/{order.id}/pay")
    # localstripe's card element makes a token at localstripe, straight from the browser.
    token = requests.post(
        f"{localstripe.url}/v1/tokens",
        data={
            "key": PUBLISHABLE_KEY,
            "card[number]": "4000000000000341",
            "card[exp_month]": "12",
            "card[exp_year]": str(TODAY.year + 2),
            "card[cvc]": "123",
        },
        timeout=10,
    ).json()

    answer = client.post(f"/my/orders/{order.id}/pay/card", data={"card": token["card"]["id"]})

    assert answer.status_code == 200
    assert answer.get_json()["status"] == "declined"
    assert answer.get_json()["message"]
    assert _payment(order).status is CardPaymentStatus.FAILED
    assert _card_transfers() == 0
    (order,) = _orders(_owner(order))
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert "Pay now" in _text(client.get(f"/my/orders/{order.id}"))
    _all_verifies()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_with_stripe_down_the_page_says_so_and_the_order_stays_payable(
    make_app: Callable[..., Flask], self_funder: User, service: Service
) -> None:
    app = make_app(
        STRIPE_API_BASE=f"http://127.0.0.1:{_closed_port()}",
        STRIPE_JS_URL="",
        STRIPE_MAX_NETWORK_RETRIES=0,
        STRIPE_CONNECT_TIMEOUT_SECONDS=1,
    )
    client = app.test_client()
    sign_in(client, self_funder)
    assert _buy(client, service).status_code == 302
    (order,) = _orders(self_funder)

    page = client.get(f"/my/orders/{order.id}/pay")

    assert page.status_code == 503
    assert "Card payments are not working at the moment" in _text(page)
    assert "Nothing has been charged" in _text(page)
    (order,) = _orders(self_funder)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert "Pay now" in _text(client.get(f"/my/orders/{order.id}"))


# The payment page's scripts and its Content-Security-Policy (PCI DSS SAQ A) -------------


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str | None] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.sources.append(dict(attrs).get("src"))
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


def _csp(response: TestResponse) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def test_the_payment_page_loads_only_the_scripts_in_its_inventory(
    stripe_app: Flask, unpaid: tuple[FlaskClient, Order], localstripe: LocalStripe
) -> None:
    client, order = unpaid

    page = client.get(f"/my/orders/{order.id}/pay")

    scripts = _Scripts()
    scripts.feed(_text(page))
    with stripe_app.test_request_context():
        inventory = payment_page_scripts()
    assert scripts.inline == []
    assert sorted(source or "" for source in scripts.sources) == sorted(inventory)
    assert f"{localstripe.url}/js.stripe.com/v3/" in inventory
    policy = _csp(page)
    assert policy["script-src"] == ["'self'", localstripe.url]
    assert policy["connect-src"] == ["'self'", localstripe.url]
    assert policy["frame-src"] == [localstripe.url]
    assert policy["frame-ancestors"] == ["'none'"]


def test_only_the_payment_page_lets_stripe_in(
    stripe_app: Flask, unpaid: tuple[FlaskClient, Order], localstripe: LocalStripe
) -> None:
    client, order = unpaid

    for path in ("/my/checkout", f"/my/orders/{order.id}", "/my/basket"):
        policy = _csp(client.get(path))
        assert policy["script-src"] == ["'self'"], path
        assert policy["connect-src"] == ["'self'"], path
        assert "frame-src" not in policy, path


def test_against_stripe_itself_the_policy_names_stripes_origins(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    with app.test_request_context():
        policy = dict(PAYMENT_PAGE_POLICY)
        scripts = payment_page_scripts()
    assert policy["script-src"] == "'self' https://js.stripe.com"
    assert policy["frame-src"] == "https://js.stripe.com https://hooks.stripe.com"
    assert policy["connect-src"] == "'self' https://api.stripe.com"
    assert "https://js.stripe.com/v3/" in scripts


def test_cancelling_an_unpaid_order_stops_its_payment(
    unpaid: tuple[FlaskClient, Order], localstripe: LocalStripe
) -> None:
    client, order = unpaid
    client.get(f"/my/orders/{order.id}/pay")
    assert "Cancel this order" in _text(client.get(f"/my/orders/{order.id}"))
    assert client.get(f"/my/orders/{order.id}/cancel").status_code == 200

    cancelled = client.post(f"/my/orders/{order.id}/cancel", data={"reason": "Found a neighbour"})

    assert cancelled.status_code == 302
    (order,) = _orders(_owner(order))
    assert order.status is OrderStatus.CANCELLED
    assert _payment(order).status is CardPaymentStatus.CANCELLED
    # Nothing left to pay: the payment page sends the person to the order.
    assert client.get(f"/my/orders/{order.id}/pay").status_code == 302
    _all_verifies()
