"""Two workers charging the due cycles at once, each in its own thread, app context, session
and connection: each cycle is claimed by one, so localstripe sees one charge per cycle (it
keeps no idempotency keys, so a second request would have charged the card twice). SQLite
and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.payments import recurring
from marketplace.payments.gateway import StripeGateway
from marketplace.payments.models import CardPayment, CardPaymentStatus, CardPurpose
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import World
from tests.payments.conftest import LocalStripe
from tests.payments.test_card_money import assert_all_verifies
from tests.payments.test_recurring import CYCLE_3_DUE, WEEK, place_recurring, save_card

WORKERS = 2


def test_two_workers_charging_at_once_charge_each_cycle_once(
    make_app: Callable[..., Flask],
    world: World,
    gateway: StripeGateway,
    localstripe: LocalStripe,
) -> None:
    order = place_recurring(db.session, world)
    save_card(db.session, world, gateway, order, "pm_card_visa")
    workers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(WORKERS))
    reports: dict[int, recurring.ChargeReport] = {}
    # Both workers have found the due cycles before either claims one.
    found = threading.Barrier(WORKERS)

    def charge(number: int) -> None:
        commits = 0

        def commit() -> None:
            nonlocal commits
            db.session.commit()
            commits += 1
            if commits == 1:
                found.wait(timeout=30)

        reports[number] = recurring.charge_due_cycles(
            db.session, gateway, today=CYCLE_3_DUE, commit=commit
        )

    assert run_together(workers, WORKERS, charge) == ["ok"] * WORKERS

    assert sorted(len(report.paid) for report in reports.values()) in ([0, 2], [1, 1])
    assert sorted(i.amount_pence for i in gateway.list_payment_intents()) == [8_00, WEEK]
    db.session.expire_all()
    payments = db.session.scalars(
        select(CardPayment).where(CardPayment.purpose == CardPurpose.CYCLE)
    ).all()
    assert sorted((p.amount_pence, p.status) for p in payments) == [
        (8_00, CardPaymentStatus.SUCCEEDED),
        (WEEK, CardPaymentStatus.SUCCEEDED),
    ]
    assert_all_verifies(db.session)
