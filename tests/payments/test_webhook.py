"""Stripe's webhook: signatures, each event kept once, refusals in the API's JSON shape."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from marketplace.extensions import db
from marketplace.payments import events
from marketplace.payments.events import EventOutcome, StripeEvent
from marketplace.types import Session
from tests.ledger.threads import engine_options
from tests.payments.conftest import WEBHOOK_SECRET

PATH = "/webhooks/stripe"


def event_body(event_id: str = "evt_1", event_type: str = "customer.created") -> str:
    return json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "data": {"object": {"id": "x"}}}
    )


def deliver(
    client: FlaskClient,
    body: str | bytes,
    sign_webhook: Callable[..., str],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
) -> TestResponse:
    header = sign_webhook(body, secret, timestamp=timestamp)
    return client.post(
        PATH, data=body, headers={"Stripe-Signature": header}, content_type="application/json"
    )


def stored_events() -> list[StripeEvent]:
    db.session.rollback()  # see what the requests committed
    return list(db.session.scalars(select(StripeEvent).order_by(StripeEvent.id)))


def assert_problem(response: TestResponse, status: int, code: str) -> None:
    assert response.status_code == status
    body = response.get_json()
    assert body["error"] == code
    assert body["message"]
    assert body["details"] == {}


def test_an_event_of_a_type_we_do_not_act_on_is_kept_as_ignored(
    client: FlaskClient, sign_webhook: Callable[..., str]
) -> None:
    response = deliver(client, event_body("evt_unknown", "customer.created"), sign_webhook)
    assert response.status_code == 200
    assert response.get_json() == {
        "received": "evt_unknown",
        "replay": False,
        "outcome": "ignored",
        "result": None,
    }
    [event] = stored_events()
    assert (event.id, event.type, event.outcome) == ("evt_unknown", "customer.created", "ignored")
    assert event.received_at is not None
    assert event.handled_at is not None


def test_the_same_event_ten_times_is_kept_once_and_changes_nothing(
    client: FlaskClient, sign_webhook: Callable[..., str]
) -> None:
    body = event_body("evt_ten")
    assert deliver(client, body, sign_webhook).get_json()["replay"] is False
    [first] = stored_events()
    kept = (first.received_at, first.handled_at, first.outcome)
    for _ in range(9):
        response = deliver(client, body, sign_webhook)
        assert response.status_code == 200
        assert response.get_json()["replay"] is True
    [event] = stored_events()
    assert (event.received_at, event.handled_at, event.outcome) == kept


def test_no_signature_is_refused(client: FlaskClient) -> None:
    response = client.post(PATH, data=event_body(), content_type="application/json")
    assert_problem(response, 400, "signature_missing")
    assert stored_events() == []


def test_a_wrong_secret_is_refused(client: FlaskClient, sign_webhook: Callable[..., str]) -> None:
    response = deliver(client, event_body(), sign_webhook, secret="whsec_someone_else")
    assert_problem(response, 400, "signature_invalid")
    assert stored_events() == []


def test_a_body_changed_after_signing_is_refused(
    client: FlaskClient, sign_webhook: Callable[..., str]
) -> None:
    header = sign_webhook(event_body("evt_a"), WEBHOOK_SECRET)
    response = client.post(
        PATH,
        data=event_body("evt_b"),
        headers={"Stripe-Signature": header},
        content_type="application/json",
    )
    assert_problem(response, 400, "signature_invalid")


def test_a_signature_older_than_five_minutes_is_refused(
    client: FlaskClient, sign_webhook: Callable[..., str]
) -> None:
    old = int(time.time()) - 301
    assert_problem(
        deliver(client, event_body(), sign_webhook, timestamp=old), 400, "signature_expired"
    )
    assert stored_events() == []
    recent = int(time.time()) - 240
    assert deliver(client, event_body(), sign_webhook, timestamp=recent).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        b"\xff\xfe not text",
        "[]",
        '{"type": "customer.created", "data": {"object": {}}}',
        '{"id": "evt_1", "data": {"object": {}}}',
        '{"id": "evt_1", "type": "customer.created", "data": {}}',
        '{"id": "evt_1", "type": "customer.created", "data": {"object": "pi_1"}}',
    ],
)
def test_a_signed_body_that_is_not_an_event_is_refused(
    client: FlaskClient, sign_webhook: Callable[..., str], body: str | bytes
) -> None:
    assert_problem(deliver(client, body, sign_webhook), 400, "malformed_event")
    assert stored_events() == []


def _intent_event(intent: Mapping[str, Any], event_type: str = "payment_intent.succeeded") -> str:
    return json.dumps({"id": "evt_h", "type": event_type, "data": {"object": dict(intent)}})


_INTENT = {"id": "pi_h", "amount": 100, "currency": "gbp", "metadata": {}}


@pytest.mark.parametrize(
    "body",
    [
        # A float too big for pence (json reads 1e999999 as infinity): was a 500.
        _intent_event(_INTENT).replace('"amount": 100', '"amount": 1e999999'),
        _intent_event(_INTENT).replace('"amount": 100', '"amount": 1' + "0" * 5000),
        _intent_event({**_INTENT, "amount": -5}),
        _intent_event({**_INTENT, "amount": "100"}),
        _intent_event({**_INTENT, "id": "pi\x00"}),
        _intent_event({**_INTENT, "id": None}),
        _intent_event({k: v for k, v in _INTENT.items() if k != "currency"}),
        _intent_event({**_INTENT, "metadata": ["card_payment_id"]}),
        _intent_event({**_INTENT, "metadata": {"card_payment_id": "x\x00"}}),
        _intent_event(
            {**_INTENT, "last_payment_error": "declined"}, "payment_intent.payment_failed"
        ),
        _intent_event({"id": "re_h", "amount": 1e999999, "status": "succeeded"}, "refund.updated"),
        _intent_event({"id": "ch_h", "refunds": {"data": "re_h"}}, "charge.refunded"),
        _intent_event({"id": "ch_h", "amount_refunded": 2**80}, "charge.refunded"),
    ],
)
def test_a_signed_event_whose_object_is_not_what_stripe_sends_is_refused(
    client: FlaskClient, sign_webhook: Callable[..., str], body: str
) -> None:
    """Only Stripe can sign, but a field the rules read that is out of shape (an amount that
    is not whole pence, text with NUL) is a 400 that keeps nothing, never a crash."""
    assert_problem(deliver(client, body, sign_webhook), 400, "malformed_event")
    assert stored_events() == []


def test_without_a_signing_secret_nothing_is_believed(
    make_app: Callable[..., Flask], sign_webhook: Callable[..., str]
) -> None:
    app = make_app(STRIPE_WEBHOOK_SECRET="")
    response = deliver(app.test_client(), event_body(), sign_webhook)
    assert_problem(response, 503, "webhooks_not_configured")


def test_a_get_is_not_allowed_and_says_so_in_json(client: FlaskClient) -> None:
    response = client.get(PATH)
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"


def test_receiving_an_event_never_commits(app: Flask) -> None:
    """The rule flushes; the request commits once (a rollback leaves nothing)."""
    event = events.parse_event(event_body("evt_flushed"))
    receipt = events.receive_event(db.session, event, now=datetime.now().astimezone())
    assert receipt.outcome is EventOutcome.IGNORED
    assert stored_events() == []


@dataclass(frozen=True)
class Said:
    result: str


def test_a_payment_not_recorded_yet_is_not_kept_so_stripe_sends_it_again(
    client: FlaskClient, sign_webhook: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from marketplace.payments import service

    answers = iter([service.Result.NOT_FOUND, service.Result.CREDITED])

    def handler(_session: Session, _intent: Mapping[str, Any], _now: datetime) -> Said:
        return Said(next(answers))

    monkeypatch.setitem(events.HANDLERS, "payment_intent.succeeded", handler)
    body = json.dumps(
        {
            "id": "evt_early",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_1", "metadata": {"card_payment_id": "42"}}},
        }
    )
    assert_problem(deliver(client, body, sign_webhook), 409, "payment_not_recorded_yet")
    assert stored_events() == []
    response = deliver(client, body, sign_webhook)
    assert response.get_json()["result"] == "credited"
    [event] = stored_events()
    assert (event.outcome, event.result) == ("handled", "credited")


def test_an_intent_that_is_not_ours_is_kept_not_retried(
    client: FlaskClient, sign_webhook: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PaymentIntent made elsewhere on the Stripe account (no card_payment_id of ours)."""
    from marketplace.payments import service

    def handler(_session: Session, _intent: Mapping[str, Any], _now: datetime) -> Said:
        return Said(service.Result.NOT_FOUND)

    monkeypatch.setitem(events.HANDLERS, "payment_intent.succeeded", handler)
    body = json.dumps(
        {"id": "evt_theirs", "type": "payment_intent.succeeded", "data": {"object": {"id": "p"}}}
    )
    assert deliver(client, body, sign_webhook).status_code == 200
    [event] = stored_events()
    assert event.result == "not_found"


def test_two_deliveries_at_once_keep_one_event_and_handle_it_once(
    make_app: Callable[..., Flask],
    sign_webhook: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second delivery, on its own connection, arrives while the first holds its claim
    uncommitted: it waits for the first to commit, then finds the event kept."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(3))
    body = event_body("evt_twice", "payment_intent.succeeded")
    handled: list[str] = []
    second: dict[str, TestResponse] = {}

    def deliver_second() -> None:
        second["response"] = deliver(app.test_client(), body, sign_webhook)

    def handler(_session: Session, intent: Mapping[str, Any], _now: datetime) -> Said:
        handled.append(str(intent["id"]))
        if len(handled) == 1:
            thread = threading.Thread(target=deliver_second)
            thread.start()
            thread.join(timeout=1)
            # The second delivery cannot finish while this one's claim is not committed.
            assert thread.is_alive()
            handler.thread = thread  # type: ignore[attr-defined]
        return Said("credited")

    monkeypatch.setitem(events.HANDLERS, "payment_intent.succeeded", handler)
    first = deliver(app.test_client(), body, sign_webhook)
    handler.thread.join(timeout=30)  # type: ignore[attr-defined]
    assert first.get_json()["replay"] is False
    assert second["response"].status_code == 200
    assert second["response"].get_json()["replay"] is True
    assert handled == ["x"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 1


def test_a_flood_from_one_address_is_held_back_in_json(
    make_app: Callable[..., Flask], sign_webhook: Callable[..., str]
) -> None:
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        STRIPE_WEBHOOK_RATE_LIMIT="2 per minute",
    )
    client = app.test_client()
    for number in range(2):
        assert deliver(client, event_body(f"evt_{number}"), sign_webhook).status_code == 200
    response = deliver(client, event_body("evt_3"), sign_webhook)
    assert response.status_code == 429
    assert response.get_json()["error"] == "rate_limited"
    assert response.headers["Retry-After"]
