"""Recurring care paid by card, against localstripe over real HTTP: a card saved with a
SetupIntent and the person's agreement, each cycle's card share charged off-session before
the cycle starts, a declined charge told and waiting, paid again, a new card, and stopping
paying by card. After every step the ledger, budgets, orders and card payments verify.

The world: a budget that falls £216 short of four weekly cycles of £104 (2 hours on Mondays
and Thursdays at £26), the card paying last, so cycle 2 carries £8 of card money and cycles
3 and 4 are all card (£104 each); the cycles start on 8, 15, 22 and 29 June.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import checkout, deliveries, life
from marketplace.orders.errors import InvalidTransition
from marketplace.orders.models import CycleState, Order, OrderStatus
from marketplace.payments import recurring, refunds, service
from marketplace.payments.gateway import StripeGateway
from marketplace.payments.mandates import CardMandate, CycleCharge, MandateStatus
from marketplace.payments.models import CardPayment, CardPaymentStatus, CardPurpose
from marketplace.payments_setup import EXTENSION
from marketplace.types import utcnow
from providers.models import InvoiceCycle
from tests.orders.fixtures import TODAY, World
from tests.payments.conftest import LocalStripe
from tests.payments.test_card_money import _shrink_budget, assert_all_verifies

WEEK = 104_00
# Charged three days before each cycle: by 12 June for cycle 2, by 19 June for cycle 3.
CYCLE_2_DUE = date(2026, 6, 12)
CYCLE_3_DUE = date(2026, 6, 19)
CYCLE_4_DUE = date(2026, 6, 26)
AFTER = date(2026, 7, 6)  # after the schedule, when every visit can be recorded


def place_recurring(session: Session, world: World, key: str = "recurring-card") -> Order:
    _shrink_budget(session, world)
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY
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
    session.commit()
    assert [order.card_share_of(cycle) for cycle in order.cycles] == [0, 8_00, WEEK, WEEK]
    return order


def save_card(
    session: Session, world: World, gateway: StripeGateway, order: Order, card: str
) -> CardMandate:
    """What the card page does: a SetupIntent, confirmed as the card element would, and our
    own retrieval of it taken as Stripe's word."""
    mandate, setup = recurring.begin_card_setup(session, order, by=world.citizen, gateway=gateway)
    session.commit()
    gateway.confirm_setup_intent(setup.id, payment_method=card)
    saved = recurring.card_saved(
        session, mandate, setup=gateway.retrieve_setup_intent(setup.id), by=world.citizen
    )
    session.commit()
    assert saved
    return mandate


def run_job(session: Session, gateway: StripeGateway, today: date) -> recurring.ChargeReport:
    return recurring.charge_due_cycles(session, gateway, today=today, commit=session.commit)


def cycle_payments(session: Session) -> list[CardPayment]:
    return list(
        session.scalars(
            select(CardPayment)
            .where(CardPayment.purpose == CardPurpose.CYCLE)
            .order_by(CardPayment.created_at)
        )
    )


def intents_at_stripe(gateway: StripeGateway) -> list[tuple[int, str]]:
    return sorted((i.amount_pence, i.status) for i in gateway.list_payment_intents())


def test_saving_a_card_records_the_agreement_and_sends_the_order_on(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    order = place_recurring(session, world)
    assert order.status is OrderStatus.AWAITING_PAYMENT

    mandate = save_card(session, world, gateway, order, "pm_card_visa")

    assert mandate.status is MandateStatus.ACTIVE
    assert mandate.stripe_payment_method_id
    assert mandate.stripe_customer_id.startswith("cus_")
    assert mandate.agreed_by_id == world.citizen.id
    assert mandate.agreed_at is not None
    assert mandate.agreed_how == recurring.CARD_ELEMENT
    assert mandate.amount_per_cycle_pence == WEEK
    assert mandate.charge_days_before == 3
    assert "£8 or £104 is taken" in mandate.terms
    assert "3 days before" in mandate.terms
    assert order.status is OrderStatus.PLACED
    assert any(event.kind == "card_agreed" for event in order.events)
    # Nothing charged yet, and no card money held.
    assert intents_at_stripe(gateway) == []
    assert cycle_payments(session) == []
    assert recurring.customer_of(session, order.person_id) == mandate.stripe_customer_id
    assert_all_verifies(session)


def test_a_setup_not_confirmed_changes_nothing(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    order = place_recurring(session, world)
    mandate, setup = recurring.begin_card_setup(session, order, by=world.citizen, gateway=gateway)
    session.commit()

    assert not recurring.card_saved(session, mandate, setup=setup, by=world.citizen)

    assert mandate.status is MandateStatus.SETTING_UP
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert_all_verifies(session)


def test_each_cycle_is_charged_off_session_before_it_starts(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    order = place_recurring(session, world)
    save_card(session, world, gateway, order, "pm_card_visa")

    assert run_job(session, gateway, CYCLE_2_DUE - timedelta(days=1)).paid == []
    first = run_job(session, gateway, CYCLE_2_DUE)
    assert_all_verifies(session)
    second = run_job(session, gateway, CYCLE_3_DUE)
    assert_all_verifies(session)

    assert (len(first.paid), len(second.paid)) == (1, 1)
    payments = cycle_payments(session)
    assert [(p.amount_pence, p.status) for p in payments] == [
        (8_00, CardPaymentStatus.SUCCEEDED),
        (WEEK, CardPaymentStatus.SUCCEEDED),
    ]
    assert [p.idempotency_key for p in payments] == [
        f"cycle-charge:{order.cycles[1].id}:1",
        f"cycle-charge:{order.cycles[2].id}:1",
    ]
    assert intents_at_stripe(gateway) == [(8_00, "succeeded"), (WEEK, "succeeded")]
    # Run again: nothing more is charged.
    assert run_job(session, gateway, CYCLE_3_DUE).paid == []
    assert len(gateway.list_payment_intents()) == 2
    session.expire_all()
    # Cycle 1 has no card share; 2 and 3 are paid; 4 is not due yet.
    held = [recurring.life.cycle_card_held(order, c) for c in order.cycles]
    assert held == [False, True, True, False]
    assert_all_verifies(session)


def test_the_webhook_after_the_job_changes_nothing(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    order = place_recurring(session, world)
    save_card(session, world, gateway, order, "pm_card_visa")
    run_job(session, gateway, CYCLE_2_DUE)
    [payment] = cycle_payments(session)
    intent = gateway.retrieve_payment_intent(str(payment.stripe_payment_intent_id))

    outcome = service.payment_succeeded(
        session,
        intent_id=intent.id,
        amount_pence=intent.amount_pence,
        currency=intent.currency,
        metadata=intent.metadata,
    )
    session.commit()

    assert outcome.result is service.Result.ALREADY
    assert intent.metadata["cycle_id"] == str(order.cycles[1].id)
    assert_all_verifies(session)


def test_a_declined_charge_tells_both_and_the_cycle_waits_then_a_new_card_pays_it(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    order = place_recurring(session, world)
    save_card(session, world, gateway, order, "pm_card_chargeCustomerFail")

    report = run_job(session, gateway, CYCLE_2_DUE)

    assert len(report.failed) == 1
    assert report.paid == []
    [payment] = cycle_payments(session)
    assert payment.status is CardPaymentStatus.FAILED
    assert "declined" in payment.failure_reason
    cycle = order.cycles[1]
    assert recurring.cycle_waits_for_payment(session, order, cycle)
    told = session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.CARD_CHARGE_FAILED)
    ).all()
    assert sorted(n.user_id for n in told) == sorted([world.citizen.id, world.staff.id])
    assert_all_verifies(session)
    # The job does not charge the same card again for the cycle: it waits for the person.
    assert run_job(session, gateway, CYCLE_2_DUE).failed == []
    assert session.scalar(select(func.count()).select_from(Notification)) >= 2
    assert len(cycle_payments(session)) == 1

    # Paying now with the same card is declined again, and told once more.
    again = recurring.charge_cycle_now(
        session, cycle, by=world.citizen, gateway=gateway, commit=session.commit
    )
    assert len(again.failed) == 1
    assert_all_verifies(session)

    # Another card: the job tries again, and this time it is paid.
    save_card(session, world, gateway, order, "pm_card_visa")
    retried = run_job(session, gateway, CYCLE_2_DUE)

    assert len(retried.paid) == 1
    assert [(p.status, p.amount_pence) for p in cycle_payments(session)] == [
        (CardPaymentStatus.FAILED, 8_00),
        (CardPaymentStatus.FAILED, 8_00),
        (CardPaymentStatus.SUCCEEDED, 8_00),
    ]
    charges = session.scalars(select(CycleCharge).order_by(CycleCharge.attempt)).all()
    assert [c.attempt for c in charges] == [1, 2, 3]
    assert not recurring.cycle_waits_for_payment(session, order, cycle)
    mandates = session.scalars(select(CardMandate).order_by(CardMandate.created_at)).all()
    assert [m.status for m in mandates] == [MandateStatus.REPLACED, MandateStatus.ACTIVE]
    assert_all_verifies(session)


def test_a_charge_claimed_but_unanswered_is_not_asked_again_while_in_flight(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    """A worker died between claiming and Stripe's answer: a run soon after leaves it alone
    (it may still be on its way); a run after IN_FLIGHT asks again with the same key."""
    order = place_recurring(session, world)
    save_card(session, world, gateway, order, "pm_card_visa")
    cycle = order.cycles[1]
    claimed_at = utcnow()
    request = recurring.claim_charge(session, cycle, now=claimed_at)
    session.commit()
    assert request is not None

    assert recurring.claim_charge(session, cycle, now=claimed_at + timedelta(minutes=1)) is None
    session.rollback()
    later = recurring.claim_charge(
        session, cycle, now=claimed_at + recurring.IN_FLIGHT + timedelta(seconds=1)
    )
    session.commit()

    assert later is not None
    assert later.key == request.key
    assert later.card_payment_id == request.card_payment_id
    assert_all_verifies(session)


def test_stopping_paying_by_card_ends_the_order_under_its_notice(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    order = place_recurring(session, world)
    save_card(session, world, gateway, order, "pm_card_visa")
    run_job(session, gateway, CYCLE_2_DUE)

    recurring.stop_paying_by_card(session, order, by=world.citizen, today=TODAY)
    session.commit()

    assert order.status is OrderStatus.CANCELLED
    assert all(cycle.state is CycleState.RELEASED for cycle in order.cycles)
    [mandate] = session.scalars(select(CardMandate)).all()
    assert mandate.status is MandateStatus.STOPPED
    assert mandate.ended_at is not None
    # The £8 cycle 2's charge brought in goes back to the card (the refunds' job asks Stripe).
    assert [r.amount_pence for r in refunds.refunds_of_order(session, order)] == [8_00]
    assert run_job(session, gateway, CYCLE_4_DUE).paid == []
    assert len(gateway.list_payment_intents()) == 1
    assert_all_verifies(session)


def test_only_recurring_care_with_a_card_share_saves_a_card(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    _shrink_budget(session, world)
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(weeks=None),
        by=world.citizen,
        today=TODAY,
        placement_key="one-off",
        pay_by_card=True,
        card_top_ups_allowed=True,
    )
    session.commit()

    with pytest.raises(checkout.InvalidOrder):
        recurring.begin_card_setup(session, order, by=world.citizen, gateway=gateway)


def test_the_command_charges_the_due_cycles_and_says_what_failed(
    app: Flask, session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    order = place_recurring(session, world)
    save_card(session, world, gateway, order, "pm_card_visa")
    app.extensions[EXTENSION] = gateway
    runner = app.test_cli_runner()

    paid = runner.invoke(args=["payments", "charge-cycles", "--today", CYCLE_3_DUE.isoformat()])
    again = runner.invoke(args=["payments", "charge-cycles", "--today", CYCLE_3_DUE.isoformat()])

    assert paid.exit_code == 0, paid.output
    assert "2 paid, 0 declined" in paid.output
    assert again.exit_code == 0, again.output
    assert "0 paid, 0 declined" in again.output
    save_card(session, world, gateway, order, "pm_card_chargeCustomerFail")
    declined = runner.invoke(args=["payments", "charge-cycles", "--today", CYCLE_4_DUE.isoformat()])
    assert declined.exit_code == 1, declined.output
    assert "0 paid, 1 declined" in declined.output
    assert "the cycle waits for payment" in declined.output
    session.expire_all()
    assert_all_verifies(session)


def test_a_period_waiting_for_its_card_payment_is_not_delivered_against(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    order = place_recurring(session, world)
    save_card(session, world, gateway, order, "pm_card_chargeCustomerFail")
    life.accept(session, order, by=world.staff)
    session.commit()
    run_job(session, gateway, CYCLE_2_DUE)
    assert recurring.cycle_waits_for_payment(session, order, order.cycles[1])

    # Cycle 1 is the budget's money: delivered as usual. Cycle 2 waits for its card share.
    deliveries.record_delivery(
        session, order, by=world.staff, delivered_on=date(2026, 6, 8), units=2, today=AFTER
    )
    with pytest.raises(InvalidTransition, match="waiting for its card payment"):
        deliveries.record_delivery(
            session, order, by=world.staff, delivered_on=date(2026, 6, 15), units=2, today=AFTER
        )
    session.rollback()
    save_card(session, world, gateway, order, "pm_card_visa")
    run_job(session, gateway, CYCLE_2_DUE)
    deliveries.record_delivery(
        session, order, by=world.staff, delivered_on=date(2026, 6, 15), units=2, today=AFTER
    )
    session.commit()
    assert_all_verifies(session)


def test_a_decline_only_the_webhook_reported_is_told_by_the_next_run(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    """The worker claimed a charge and died; Stripe declined it and its webhook said so (the
    payment failed, nobody told). The next run tells the person and the provider, once."""
    order = place_recurring(session, world)
    save_card(session, world, gateway, order, "pm_card_visa")
    request = recurring.claim_charge(session, order.cycles[1], now=utcnow())
    session.commit()
    assert request is not None
    outcome = service.payment_failed(
        session,
        intent_id="pi_declined_elsewhere",
        reason="Your card was declined.",
        metadata={"card_payment_id": str(request.card_payment_id)},
    )
    session.commit()
    assert outcome.result is service.Result.FAILED

    run_job(session, gateway, CYCLE_2_DUE)
    run_job(session, gateway, CYCLE_2_DUE)

    told = session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.CARD_CHARGE_FAILED)
    ).all()
    assert len(told) == 2  # the person and the provider, once each
    assert gateway.list_payment_intents() == []
    assert_all_verifies(session)


def test_cycle_charges_reconcile_with_stripe_and_the_ledger_verifies(
    app: Flask, session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    """A declined charge, then two paid (one after another card): `flask payments reconcile`
    finds nothing amiss and `flask ledger verify` passes."""
    order = place_recurring(session, world)
    save_card(session, world, gateway, order, "pm_card_chargeCustomerFail")
    run_job(session, gateway, CYCLE_2_DUE)
    save_card(session, world, gateway, order, "pm_card_visa")
    run_job(session, gateway, CYCLE_3_DUE)
    app.extensions[EXTENSION] = gateway
    runner = app.test_cli_runner()

    reconciled = runner.invoke(args=["payments", "reconcile"])
    verified = runner.invoke(args=["ledger", "verify"])

    assert reconciled.exit_code == 0, reconciled.output
    assert "Checked 3 PaymentIntents" in reconciled.output  # the declined one too
    assert verified.exit_code == 0, verified.output
    assert len([p for p in cycle_payments(session) if p.status.in_ledger]) == 2
