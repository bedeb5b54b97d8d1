"""Outcome records at the same moment (OUTCOMES, issue 18): the provider's staff record the same
week in several browser tabs at once, each in its own thread, app context, session and
connection: one set of records for the week, the rest correct it, never a duplicate. On SQLite
and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.orders import outcomes
from marketplace.orders.models import Order, OrderEvent, OutcomeRecord
from marketplace.orders.outcomes import OutcomeResult
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import World, assert_ledger_verifies
from tests.packages import test_outcomes as base

weekly = base.weekly
order = base.order
TABS = 4


def test_one_week_recorded_in_several_tabs_at_once_is_recorded_once(
    make_app: Callable[..., Flask], world: World, order: Order
) -> None:
    order_id, staff_id = order.id, world.staff.id
    keys = outcomes.outcome_keys(order)
    tabs = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(TABS))

    def record(tab: int) -> None:
        found = db.session.get_one(Order, order_id)
        outcomes.record_week(
            db.session,
            found,
            by=db.session.get_one(User, staff_id),
            week_starting=base.WEEKS[0],
            # Each tab says a different outcome was missed.
            results={
                key: OutcomeResult(index != tab % len(keys), f"Tab {tab}")
                for index, key in enumerate(keys)
            },
            safety_checks=base.ALL_SAFE,
            today=base.AFTER,
        )

    assert run_together(tabs, TABS, record) == ["ok"] * TABS

    db.session.expire_all()
    records = db.session.scalars(
        select(OutcomeRecord).where(OutcomeRecord.order_id == order_id)
    ).all()
    assert sorted(r.outcome_key for r in records) == sorted(keys)
    # All from the same (last) tab: one outcome missed, its note that tab's.
    assert len({r.note for r in records}) == 1
    assert sum(not r.achieved for r in records) == 1
    kinds = [
        e.kind
        for e in db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id))
        if e.kind in ("outcomes_recorded", "outcomes_corrected")
    ]
    assert sorted(kinds) == ["outcomes_corrected"] * (TABS - 1) + ["outcomes_recorded"], kinds
    assert_ledger_verifies(db.session)
