"""Two workers issuing the same owed refund at once, each in its own thread, app context,
session and connection: one claims it, so localstripe sees one refund (it keeps no
idempotency keys, so a second request would have made a second refund). SQLite and
PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.ledger import Transfer, TransferKind
from marketplace.orders import life
from marketplace.payments import refunds
from marketplace.payments.gateway import StripeGateway
from marketplace.payments.models import CardPayment, CardPaymentStatus
from marketplace.payments.refunds import CardRefund, RefundStatus
from marketplace.types import utcnow
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import World
from tests.payments.conftest import LocalStripe
from tests.payments.test_card_money import CARD_PART, _shrink_budget, assert_all_verifies
from tests.payments.test_refunds import _paid_order

WORKERS = 2


def test_two_workers_issuing_the_same_refund_ask_stripe_once(
    make_app: Callable[..., Flask],
    world: World,
    gateway: StripeGateway,
    localstripe: LocalStripe,
) -> None:
    _shrink_budget(db.session, world)
    order, payment = _paid_order(db.session, world, gateway)
    life.decline(db.session, order, by=world.staff, reason="No carers")
    db.session.commit()
    intent_id = payment.stripe_payment_intent_id
    workers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(WORKERS))
    reports: dict[int, refunds.IssueReport] = {}

    # Each worker commits its claims, then waits for the other to have claimed too, so that
    # both are past claiming before either asks Stripe.
    claimed = threading.Barrier(WORKERS)

    def issue(number: int) -> None:
        commits = 0

        def commit() -> None:
            nonlocal commits
            db.session.commit()
            commits += 1
            if commits == 1:
                claimed.wait(timeout=30)

        reports[number] = refunds.issue_owed_refunds(
            db.session, gateway, now=utcnow(), commit=commit
        )

    assert run_together(workers, WORKERS, issue) == ["ok"] * WORKERS

    asked = sorted(len(report.confirmed) for report in reports.values())
    assert asked == [0, 1]  # one worker claimed it; the other found nothing owed
    assert [r.amount_pence for r in gateway.list_refunds() if r.intent_id == intent_id] == [
        CARD_PART
    ]
    db.session.expire_all()
    [refund] = db.session.scalars(select(CardRefund)).all()
    assert (refund.status, refund.attempts) == (RefundStatus.SUCCEEDED, 1)
    paid = db.session.get_one(CardPayment, payment.id)
    assert (paid.status, paid.refunded_pence) == (CardPaymentStatus.REFUNDED, CARD_PART)
    posted = select(func.count()).where(
        Transfer.code == "card_refund", Transfer.kind == TransferKind.POST
    )
    assert db.session.scalar(posted) == 1
    assert_all_verifies(db.session)
