"""Refunds to the card: unspent card money owed back in the release's transaction, asked of
localstripe (real HTTP through the SDK) once, and recorded in the ledger only on Stripe's word.
After every step the ledger, budgets, orders, card payments and refunds verify."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.budgets.allocations import revise_stream
from marketplace.budgets.figures import stream_figures
from marketplace.budgets.models import FundingStream, StreamKind
from marketplace.budgets.statement import budget_statement
from marketplace.ledger import Transfer, TransferKind
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import refunds, service
from marketplace.payments.events import StripeEvent
from marketplace.payments.gateway import StripeGateway
from marketplace.payments.models import CardPayment, CardPaymentStatus
from marketplace.payments.reconcile import reconcile
from marketplace.payments.refunds import CardRefund, RefundReason, RefundStatus
from marketplace.payments_setup import EXTENSION
from marketplace.types import utcnow
from providers.models import InvoiceCycle
from tests.conftest import sign_in
from tests.orders.fixtures import HOURLY_PENCE, TODAY, World
from tests.payments.conftest import SECRET_KEY, LocalStripe, start_localstripe
from tests.payments.test_card_money import CARD_PART, _shrink_budget, assert_all_verifies
from tests.payments.test_recurring import (
    CYCLE_2_DUE,
    CYCLE_3_DUE,
    place_recurring,
    run_job,
    save_card,
)

WEEK = 4 * HOURLY_PENCE  # a weekly cycle of the default schedule: £104
WEBHOOK_SECRET = "whsec_test_marketplace"


def _paid_order(
    session: Session, world: World, gateway: StripeGateway, *, key: str = "refund-order"
) -> tuple[Order, CardPayment]:
    """An order whose card share (£216) was paid at localstripe and credited."""
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key=key,
        pay_by_card=True,
        card_top_ups_allowed=True,
    )
    payment = service.start_order_payment(session, order, by=world.citizen)
    session.commit()
    intent = gateway.create_payment_intent(
        amount_pence=payment.amount_pence,
        idempotency_key=payment.idempotency_key,
        metadata=payment.metadata_for_stripe,
        payment_method="pm_card_visa",
        confirm=True,
    )
    assert intent.status == "succeeded"
    outcome = service.payment_succeeded(
        session,
        intent_id=intent.id,
        amount_pence=intent.amount_pence,
        currency=intent.currency,
        metadata=intent.metadata,
    )
    assert outcome.result is service.Result.CREDITED
    session.commit()
    session.refresh(order)
    return order, payment


@pytest.fixture
def short(session: Session, world: World) -> World:
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY  # cycles of £104; the card's are last
    _shrink_budget(session, world)
    return world


def _own_funds(world: World) -> FundingStream:
    return next(s for s in world.budget.streams if s.kind is StreamKind.OWN_FUNDS)


def _refunds(session: Session) -> list[CardRefund]:
    return list(session.scalars(select(CardRefund).order_by(CardRefund.created_at)))


def _issue(session: Session, gateway: StripeGateway) -> refunds.IssueReport:
    return refunds.issue_owed_refunds(session, gateway, now=utcnow(), commit=session.commit)


def _at_stripe(gateway: StripeGateway, intent_id: str) -> list[int]:
    return [r.amount_pence for r in gateway.list_refunds() if r.intent_id == intent_id]


def _told(session: Session, world: World) -> list[str]:
    return list(
        session.scalars(
            select(Notification.title).where(
                Notification.user_id == world.citizen.id,
                Notification.kind == NotificationKind.CARD_REFUNDED,
            )
        )
    )


def _posted_refunds(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Transfer)
            .where(Transfer.code == "card_refund", Transfer.kind == TransferKind.POST)
        )
        or 0
    )


def test_a_decline_after_payment_refunds_all_the_card_share_once_stripe_confirms(
    session: Session, short: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    world = short
    order, payment = _paid_order(session, world, gateway)

    life.decline(session, order, by=world.staff, reason="No carers that week")
    session.commit()

    # Owed in the decline's own transaction: held on the own-funds stream, not yet refunded.
    [refund] = _refunds(session)
    assert (refund.amount_pence, refund.reason, refund.status) == (
        CARD_PART,
        RefundReason.DECLINED,
        RefundStatus.OWED,
    )
    assert refund.card_payment_id == payment.id
    session.refresh(payment)
    assert (payment.refund_due_pence, payment.refunded_pence) == (CARD_PART, 0)
    assert payment.status is CardPaymentStatus.SUCCEEDED
    assert _posted_refunds(session) == 0
    own = _own_funds(world)
    lines = [line.what for line in budget_statement(session, world.budget).lines]
    assert "Being refunded to your card" in lines
    assert "Refunded to your card" not in lines
    assert stream_figures(session, [own])[own.id].available_pence == 0  # held, not spendable
    assert _told(session, world) == []
    assert_all_verifies(session)

    report = _issue(session, gateway)

    assert report.confirmed == [refund.id]
    assert _at_stripe(gateway, payment.stripe_payment_intent_id or "") == [CARD_PART]
    session.refresh(refund)
    session.refresh(payment)
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.stripe_refund_id is not None
    assert refund.confirmed_at is not None
    assert (payment.status, payment.refunded_pence, payment.refund_due_pence) == (
        CardPaymentStatus.REFUNDED,
        CARD_PART,
        0,
    )
    assert _posted_refunds(session) == 1
    figures = stream_figures(session, [own])[own.id]
    assert (figures.returned_pence, figures.available_pence) == (CARD_PART, 0)
    assert "Refunded to your card" in [
        line.what for line in budget_statement(session, world.budget).lines
    ]
    assert _told(session, world) == [f"Order {order.reference}: £216 refunded to your card"]
    kinds = [event.kind for event in order.events]
    assert kinds[-2:] == ["card_refund_owed", "card_refunded"]
    assert_all_verifies(session)

    # The job again: nothing more is owed, nothing more asked of Stripe.
    again = _issue(session, gateway)
    assert (again.confirmed, again.unavailable) == ([], [])
    assert len(_at_stripe(gateway, payment.stripe_payment_intent_id or "")) == 1
    assert_all_verifies(session)


def test_a_missed_visit_settles_less_and_refunds_the_difference_in_part(
    session: Session, short: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    world = short
    order, payment = _paid_order(session, world, gateway)
    life.accept(session, order, by=world.staff)
    session.commit()
    last = order.cycles[-1]  # the card's: £104, visits on 29 June and 2 July
    assert order.card_share_of(last) == WEEK
    deliveries.record_delivery(
        session,
        order,
        by=world.staff,
        delivered_on=date(2026, 6, 29),
        units=2,
        today=date(2026, 6, 29),
    )
    deliveries.record_delivery(
        session,
        order,
        by=world.staff,
        delivered_on=date(2026, 7, 2),
        units=0,
        note="Missed: the carer was ill",
        today=date(2026, 7, 2),
    )
    invoice = invoicing.raise_invoice(session, order, last, by=world.staff, today=date(2026, 7, 2))
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()

    [refund] = _refunds(session)
    assert (refund.amount_pence, refund.reason) == (2 * HOURLY_PENCE, RefundReason.SETTLED_LESS)
    assert_all_verifies(session)

    _issue(session, gateway)

    session.refresh(payment)
    assert (payment.status, payment.refunded_pence) == (
        CardPaymentStatus.PARTLY_REFUNDED,
        2 * HOURLY_PENCE,
    )
    assert _at_stripe(gateway, payment.stripe_payment_intent_id or "") == [2 * HOURLY_PENCE]
    assert_all_verifies(session)
    # Stripe and the ledger agree: reconciliation finds nothing.
    report = reconcile(session, gateway, since=None, now=utcnow())
    session.commit()
    assert report.clean, [m.detail for m in report.unresolved]


def test_cancelling_after_payment_refunds_the_card_share(
    session: Session, short: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    world = short
    order, payment = _paid_order(session, world, gateway)

    life.cancel(session, order, by=world.citizen, today=TODAY, reason="Family will help")
    session.commit()

    assert order.status is OrderStatus.CANCELLED
    [refund] = _refunds(session)
    assert (refund.amount_pence, refund.reason) == (CARD_PART, RefundReason.CANCELLED)
    _issue(session, gateway)
    session.refresh(payment)
    assert payment.status is CardPaymentStatus.REFUNDED
    assert _at_stripe(gateway, payment.stripe_payment_intent_id or "") == [CARD_PART]
    assert_all_verifies(session)


def test_only_what_the_card_brought_in_goes_back_not_the_councils_money_in_the_stream(
    session: Session, short: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    """The own-funds stream also holds £30 the council allocated there: a later order draws
    it before the card, and cancelling that order gives the card back only its own £186."""
    world = short
    first, _ = _paid_order(session, world, gateway, key="first")
    life.cancel(session, first, by=world.citizen, today=TODAY)
    session.commit()
    _issue(session, gateway)
    own = _own_funds(world)
    revise_stream(
        session,
        own,
        amount_pence=own.amount_pence + 30_00,
        reason="Council top-up",
        key="council-top-up",
    )
    session.commit()
    assert stream_figures(session, [own])[own.id].available_pence == 30_00

    second, payment = _paid_order(session, world, gateway, key="second")
    assert second.card_pence == CARD_PART - 30_00  # the stream's £30 drawn before the card
    life.cancel(session, second, by=world.citizen, today=TODAY)
    session.commit()

    owed = [r for r in _refunds(session) if r.order_id == second.id]
    assert [r.amount_pence for r in owed] == [CARD_PART - 30_00]
    _issue(session, gateway)
    assert _at_stripe(gateway, payment.stripe_payment_intent_id or "") == [CARD_PART - 30_00]
    assert stream_figures(session, [own])[own.id].available_pence == 30_00  # the council's
    # Owing again for the same release changes nothing.
    assert refunds.owe_for_release(session, second, "cancelled") == []
    assert_all_verifies(session)


def _refund_events(refund_id: str, intent_id: str, card_refund_id: str, amount: int) -> list[str]:
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": "gbp",
        "payment_intent": intent_id,
        "metadata": {"card_refund_id": card_refund_id},
    }
    charge = {
        "id": "ch_refunded",
        "object": "charge",
        "payment_intent": intent_id,
        "amount_refunded": amount,
        "refunds": {"data": [dict(refund, status="succeeded")]},
    }
    return [
        json.dumps(
            {"id": event_id, "type": kind, "data": {"object": obj}},
        )
        for event_id, kind, obj in (
            ("evt_refund_created", "refund.created", dict(refund, status="pending")),
            ("evt_refund_updated", "refund.updated", dict(refund, status="succeeded")),
            ("evt_charge_refunded", "charge.refunded", charge),
        )
    ]


@pytest.mark.parametrize("seed", range(5))
def test_the_confirmation_three_times_in_a_random_order_is_recorded_once(
    session: Session,
    short: World,
    gateway: StripeGateway,
    localstripe: LocalStripe,
    client: FlaskClient,
    sign_webhook: Callable[..., str],
    seed: int,
) -> None:
    """Stripe took the refund, but our answer was lost (the server killed before its commit):
    the refund is still being issued, and Stripe's events confirm it, each once."""
    world = short
    order, payment = _paid_order(session, world, gateway)
    life.decline(session, order, by=world.staff, reason="No carers")
    session.commit()
    [refund_id] = refunds.claim_owed(session, now=utcnow())
    session.commit()
    request = refunds.request_for(session, refund_id)
    assert request is not None
    answer = gateway.refund(
        intent_id=request.intent_id,
        amount_pence=request.amount_pence,
        idempotency_key=request.idempotency_key,
        metadata=request.metadata,
    )
    session.rollback()  # killed: Stripe's answer never recorded
    deliveries_ = _refund_events(answer.id, request.intent_id, str(refund_id), CARD_PART) * 3
    random.Random(seed).shuffle(deliveries_)

    replays = 0
    for body in deliveries_:
        response = client.post(
            "/webhooks/stripe",
            data=body,
            headers={"Stripe-Signature": sign_webhook(body, WEBHOOK_SECRET)},
            content_type="application/json",
        )
        assert response.status_code == 200, response.get_json()
        replays += bool(response.get_json()["replay"])

    # 9 deliveries: 3 events kept and handled (none lost), 6 replays changing nothing.
    assert replays == 6
    kept = session.scalars(select(StripeEvent)).all()
    assert sorted(e.type for e in kept) == ["charge.refunded", "refund.created", "refund.updated"]
    assert all(e.outcome == "handled" and e.handled_at is not None for e in kept)

    session.expire_all()
    refund = session.get_one(CardRefund, refund_id)
    assert (refund.status, refund.stripe_refund_id) == (RefundStatus.SUCCEEDED, answer.id)
    assert session.get_one(CardPayment, payment.id).refunded_pence == CARD_PART
    assert _posted_refunds(session) == 1
    assert len(_told(session, world)) == 1
    # The job later finds nothing to ask: one refund at Stripe.
    assert _issue(session, gateway).confirmed == []
    assert _at_stripe(gateway, request.intent_id) == [CARD_PART]
    assert_all_verifies(session)


def test_localstripe_stopped_during_a_refund_leaves_it_owed_and_it_is_asked_again(
    session: Session, short: World, tmp_path: Path
) -> None:
    world = short
    server = start_localstripe(tmp_path / "stripe")
    try:
        gateway = _gateway(server.url)
        order, payment = _paid_order(session, world, gateway)
        life.decline(session, order, by=world.staff, reason="No carers")
        session.commit()
        transfers = session.scalar(select(func.count()).select_from(Transfer))
        server.stop()

        report = _issue(session, gateway)

        [refund] = _refunds(session)
        assert [refund_id for refund_id, _ in report.unavailable] == [refund.id]
        assert (refund.status, refund.attempts) == (RefundStatus.OWED, 1)
        assert refund.last_error
        session.refresh(payment)
        assert (payment.refund_due_pence, payment.refunded_pence) == (CARD_PART, 0)
        assert session.scalar(select(func.count()).select_from(Transfer)) == transfers
        assert _posted_refunds(session) == 0
        assert_all_verifies(session)

        # Stripe back (same state, a new port): the next run asks again, and it is recorded.
        server = start_localstripe(tmp_path / "stripe", from_scratch=False)
        gateway = _gateway(server.url)
        again = _issue(session, gateway)

        assert again.confirmed == [refund.id]
        session.refresh(refund)
        assert (refund.status, refund.attempts) == (RefundStatus.SUCCEEDED, 2)
        assert _at_stripe(gateway, payment.stripe_payment_intent_id or "") == [CARD_PART]
        assert _posted_refunds(session) == 1
        assert_all_verifies(session)
    finally:
        server.stop()


def _gateway(url: str) -> StripeGateway:
    return StripeGateway(
        SECRET_KEY,
        api_base=url,
        connect_timeout_seconds=2,
        read_timeout_seconds=10,
        max_network_retries=1,
        allowed_payment_method_types=None,
    )


def test_the_refunds_command_asks_stripe_and_exits_1_while_any_is_still_owed(
    app: Flask, session: Session, short: World, tmp_path: Path
) -> None:
    server = start_localstripe(tmp_path / "stripe")
    try:
        gateway = _gateway(server.url)
        order, payment = _paid_order(session, short, gateway)
        life.decline(session, order, by=short.staff, reason="No carers")
        session.commit()
        server.stop()
        app.extensions[EXTENSION] = gateway

        stopped = app.test_cli_runner().invoke(args=["payments", "refunds"])

        assert stopped.exit_code == 1, stopped.output
        assert "1 still owed (Stripe not reached)" in stopped.output
        server = start_localstripe(tmp_path / "stripe", from_scratch=False)
        app.extensions[EXTENSION] = _gateway(server.url)

        done = app.test_cli_runner().invoke(args=["payments", "refunds"])

        assert done.exit_code == 0, done.output
        assert "1 confirmed" in done.output
        session.expire_all()
        assert session.get_one(CardPayment, payment.id).status is CardPaymentStatus.REFUNDED
        assert_all_verifies(session)
    finally:
        server.stop()


def test_a_payment_for_an_order_cancelled_meanwhile_goes_back_without_touching_the_ledger(
    session: Session, short: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    world = short
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="gone",
        pay_by_card=True,
        card_top_ups_allowed=True,
    )
    payment = service.start_order_payment(session, order, by=world.citizen)
    session.commit()
    intent = gateway.create_payment_intent(
        amount_pence=payment.amount_pence,
        idempotency_key=payment.idempotency_key,
        metadata=payment.metadata_for_stripe,
        payment_method="pm_card_visa",
        confirm=True,
    )
    service.cancel_unpaid_order(session, order, by=world.citizen, today=TODAY)
    session.commit()
    outcome = service.payment_succeeded(
        session,
        intent_id=intent.id,
        amount_pence=intent.amount_pence,
        currency=intent.currency,
        metadata=intent.metadata,
    )
    session.commit()
    assert outcome.result is service.Result.REFUND_DUE
    transfers = session.scalar(select(func.count()).select_from(Transfer))

    report = _issue(session, gateway)

    [refund] = _refunds(session)
    assert report.owed == [refund.id]
    assert report.confirmed == [refund.id]
    assert (refund.reason, refund.amount_pence, refund.hold_key) == (
        RefundReason.ORDER_GONE,
        CARD_PART,
        None,
    )
    assert _at_stripe(gateway, intent.id) == [CARD_PART]
    session.refresh(payment)
    assert (payment.refunded_pence, payment.refund_due_pence) == (CARD_PART, 0)
    # It never entered a budget, so the ledger has nothing to record.
    assert session.scalar(select(func.count()).select_from(Transfer)) == transfers
    assert _told(session, world) == [f"Order {order.reference}: £216 refunded to your card"]
    assert _issue(session, gateway).owed == []  # owed once
    assert_all_verifies(session)


def test_the_person_sees_the_refund_on_their_order_and_statement_pages(
    session: Session,
    short: World,
    gateway: StripeGateway,
    localstripe: LocalStripe,
    client: FlaskClient,
) -> None:
    world = short
    order, _ = _paid_order(session, world, gateway)
    life.decline(session, order, by=world.staff, reason="No carers")
    session.commit()
    sign_in(client, world.citizen)

    owed = client.get(f"/my/orders/{order.id}").get_data(as_text=True)
    assert "£216 to be refunded to the card it was paid with" in owed
    statement = f"/my/budgets/{world.budget.id}/statement"
    assert "Being refunded to your card" in client.get(statement).get_data(as_text=True)

    _issue(session, gateway)

    page = client.get(f"/my/orders/{order.id}").get_data(as_text=True)
    assert "£216 refunded to the card (Stripe confirmed)" in page
    assert "Refunded to your card" in client.get(statement).get_data(as_text=True)


def test_cancelling_the_remaining_weeks_refunds_their_card_share(
    session: Session, short: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    world = short
    order, payment = _paid_order(session, world, gateway)
    life.accept(session, order, by=world.staff)
    session.commit()

    effective = life.cancel(session, order, by=world.citizen, today=date(2026, 6, 12))
    session.commit()

    assert effective is not None
    released_card = sum(
        order.card_share_of(cycle) for cycle in order.cycles if cycle.starts_on >= effective
    )
    assert 0 < released_card < CARD_PART
    [refund] = _refunds(session)
    assert (refund.amount_pence, refund.reason) == (released_card, RefundReason.CANCELLED)
    _issue(session, gateway)
    session.refresh(payment)
    assert (payment.status, payment.refunded_pence) == (
        CardPaymentStatus.PARTLY_REFUNDED,
        released_card,
    )
    assert_all_verifies(session)


def test_cancelling_recurring_care_refunds_each_cycle_charge_already_taken(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    """Cycles 2 (£8 of card money) and 3 (£104) charged to the saved card, cycle 4 not yet:
    cancelling gives back what the two charges brought in, each to its own PaymentIntent."""
    order = place_recurring(session, world)
    save_card(session, world, gateway, order, "pm_card_visa")
    run_job(session, gateway, CYCLE_2_DUE)
    run_job(session, gateway, CYCLE_3_DUE)
    session.refresh(order)
    assert order.status is OrderStatus.PLACED

    life.cancel(session, order, by=world.citizen, today=TODAY)
    session.commit()

    owed = sorted(r.amount_pence for r in _refunds(session))
    assert owed == [8_00, WEEK]
    _issue(session, gateway)
    assert sorted(r.amount_pence for r in gateway.list_refunds()) == [8_00, WEEK]
    session.expire_all()
    paid = session.scalars(select(CardPayment).where(CardPayment.order_id == order.id)).all()
    assert {(p.amount_pence, p.status, p.refunded_pence) for p in paid} == {
        (8_00, CardPaymentStatus.REFUNDED, 8_00),
        (WEEK, CardPaymentStatus.REFUNDED, WEEK),
    }
    assert_all_verifies(session)
