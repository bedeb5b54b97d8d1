"""The Stripe gateway over real HTTP: the SDK talking to localstripe, and to servers that fail."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests

from marketplace.payments.errors import CardDeclined, StripeUnavailable
from marketplace.payments.gateway import Intent, StripeGateway
from tests.payments.conftest import PUBLISHABLE_KEY, SECRET_KEY, LocalStripe, start_localstripe

METADATA = {"card_payment_id": "3f1c", "order_reference": "ORD-1234", "person_id": "9a2b"}


def card(localstripe: LocalStripe, number: str) -> str:
    """A payment method for a test card number (as Stripe.js would make in the browser)."""
    response = requests.post(
        f"{localstripe.url}/v1/payment_methods",
        auth=(SECRET_KEY, ""),
        data={
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def charge_of(localstripe: LocalStripe, intent: Intent) -> dict[str, object]:
    assert intent.latest_charge_id is not None
    response = requests.get(
        f"{localstripe.url}/v1/charges/{intent.latest_charge_id}",
        auth=(SECRET_KEY, ""),
        timeout=10,
    )
    response.raise_for_status()
    return dict(response.json())


def test_a_payment_intent_is_created_in_pence_and_gbp_with_our_metadata(
    gateway: StripeGateway,
) -> None:
    intent = gateway.create_payment_intent(
        amount_pence=12_34, idempotency_key="card-payment-3f1c", metadata=METADATA
    )
    assert intent.id.startswith("pi_")
    assert (intent.amount_pence, intent.currency) == (12_34, "gbp")
    assert intent.status == "requires_payment_method"
    assert intent.metadata == METADATA
    assert intent.client_secret is not None
    assert intent.latest_charge_id is None
    assert gateway.retrieve_payment_intent(intent.id) == intent


def test_a_card_charged_at_once_succeeds_with_a_charge(gateway: StripeGateway) -> None:
    intent = gateway.create_payment_intent(
        amount_pence=50_00,
        idempotency_key="card-payment-1",
        metadata=METADATA,
        payment_method="pm_card_visa",
        confirm=True,
    )
    assert intent.status == "succeeded"
    assert intent.latest_charge_id is not None
    assert intent.latest_charge_id.startswith("ch_")
    assert gateway.retrieve_payment_intent(intent.id).status == "succeeded"


def test_an_unpaid_intent_is_cancelled(gateway: StripeGateway) -> None:
    intent = gateway.create_payment_intent(
        amount_pence=10_00, idempotency_key="card-payment-2", metadata=METADATA
    )
    assert gateway.cancel_payment_intent(intent.id).status == "canceled"
    assert gateway.retrieve_payment_intent(intent.id).status == "canceled"


def test_part_of_a_payment_is_refunded_to_the_card(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    intent = gateway.create_payment_intent(
        amount_pence=100_00,
        idempotency_key="card-payment-3",
        metadata=METADATA,
        payment_method="pm_card_visa",
        confirm=True,
    )
    first = gateway.refund(intent_id=intent.id, amount_pence=26_00, idempotency_key="refund-1")
    assert first.id.startswith("re_")
    assert (first.status, first.amount_pence) == ("succeeded", 26_00)
    gateway.refund(intent_id=intent.id, amount_pence=4_00, idempotency_key="refund-2")
    charge = charge_of(localstripe, intent)
    assert charge["amount_refunded"] == 30_00
    assert charge["refunded"] is False  # a part, not the whole


def test_a_declined_card_is_card_declined_with_stripes_message(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    with pytest.raises(CardDeclined) as declined:
        gateway.create_payment_intent(
            amount_pence=20_00,
            idempotency_key="card-payment-4",
            metadata=METADATA,
            payment_method=card(localstripe, "4000000000000341"),
            confirm=True,
        )
    assert declined.value.message
    assert declined.value.decline_code


def test_the_test_method_that_fails_on_charge_is_declined(gateway: StripeGateway) -> None:
    with pytest.raises(CardDeclined):
        gateway.create_payment_intent(
            amount_pence=20_00,
            idempotency_key="card-payment-5",
            metadata=METADATA,
            payment_method="pm_card_chargeCustomerFail",
            confirm=True,
        )


def authenticate(localstripe: LocalStripe, intent: Intent, *, success: bool) -> None:
    """Answer the 3-D Secure challenge as the card holder would in Stripe.js's modal."""
    requests.post(
        f"{localstripe.url}/v1/payment_intents/{intent.id}/_authenticate",
        data={
            "key": PUBLISHABLE_KEY,
            "client_secret": intent.client_secret,
            "success": "true" if success else "false",
        },
        timeout=10,
    ).raise_for_status()


def test_3d_secure_asks_for_action_then_succeeds_once_authenticated(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    intent = gateway.create_payment_intent(
        amount_pence=75_00,
        idempotency_key="card-payment-6",
        metadata=METADATA,
        payment_method=card(localstripe, "4000002760003184"),
        confirm=True,
    )
    assert intent.status == "requires_action"
    assert intent.latest_charge_id is None
    authenticate(localstripe, intent, success=True)
    paid = gateway.retrieve_payment_intent(intent.id)
    assert paid.status == "succeeded"
    assert paid.latest_charge_id is not None


def test_3d_secure_failed_leaves_the_intent_wanting_a_card(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    intent = gateway.create_payment_intent(
        amount_pence=75_00,
        idempotency_key="card-payment-7",
        metadata=METADATA,
        payment_method=card(localstripe, "4000002760003184"),
        confirm=True,
    )
    authenticate(localstripe, intent, success=False)
    assert gateway.retrieve_payment_intent(intent.id).status == "requires_payment_method"


def test_what_stripe_refuses_is_stripe_unavailable_not_an_sdk_error(
    gateway: StripeGateway,
) -> None:
    with pytest.raises(StripeUnavailable) as refused:
        gateway.retrieve_payment_intent("pi_doesnotexist")
    assert "later" in refused.value.message
    assert refused.value.detail  # Stripe's own words, for the log


def test_localstripe_stopped_is_stripe_unavailable(tmp_path: Path) -> None:
    server = start_localstripe(tmp_path / "second")
    gateway = StripeGateway(
        SECRET_KEY, api_base=server.url, max_network_retries=1, allowed_payment_method_types=None
    )
    intent = gateway.create_payment_intent(
        amount_pence=10_00, idempotency_key="card-payment-8", metadata=METADATA
    )
    server.stop()
    with pytest.raises(StripeUnavailable):
        gateway.retrieve_payment_intent(intent.id)
    with pytest.raises(StripeUnavailable):
        gateway.refund(intent_id=intent.id, amount_pence=1_00, idempotency_key="refund-3")


class SilentServer:
    """Accepts connections and never answers: Stripe too slow. Counts the connections."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        # shutdown wakes the thread blocked in accept(); close alone does not (on Linux), and
        # the join below then waited its whole 5 s after every test that used this server.
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for connection in self.connections:
            connection.close()
        self.thread.join(timeout=5)


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_stripe_too_slow_is_retried_then_stripe_unavailable(silent_server: SilentServer) -> None:
    gateway = StripeGateway(
        SECRET_KEY,
        api_base=silent_server.url,
        connect_timeout_seconds=1,
        read_timeout_seconds=0.2,
        max_network_retries=2,
    )
    with pytest.raises(StripeUnavailable):
        gateway.retrieve_payment_intent("pi_slow")
    assert len(silent_server.connections) == 3  # the first try and two retries


class FailingStripe(BaseHTTPRequestHandler):
    """Answers every request with Stripe's 500, noting each request's Idempotency-Key and
    form."""

    keys: list[str | None] = []
    forms: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        FailingStripe.forms.append(parse_qs(body))
        FailingStripe.keys.append(self.headers.get("Idempotency-Key"))
        body = json.dumps({"error": {"type": "api_error", "message": "Something went wrong"}})
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_server_error_is_retried_with_the_same_idempotency_key() -> None:
    FailingStripe.keys = []
    FailingStripe.forms = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FailingStripe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        gateway = StripeGateway(
            SECRET_KEY,
            api_base=f"http://127.0.0.1:{server.server_address[1]}",
            max_network_retries=2,
        )
        with pytest.raises(StripeUnavailable):
            gateway.create_payment_intent(
                amount_pence=10_00, idempotency_key="card-payment-9", metadata=METADATA
            )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert FailingStripe.keys == ["card-payment-9"] * 3
    # Real Stripe is told cards only, in its current API's words.
    assert FailingStripe.forms[0]["allowed_payment_method_types[0]"] == ["card"]
    assert FailingStripe.forms[0]["currency"] == ["gbp"]
