"""A change to a package accepted by one side while the other cancels the package (issue 18,
VARIATIONS): the order's lock makes one go first. Each step a request of its own (thread, app
context, session, connection); on SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.ledger import LedgerError
from marketplace.orders import life, variations
from marketplace.orders.errors import InvalidTransition
from marketplace.orders.models import (
    CycleState,
    Order,
    PackageVariation,
    VariationKind,
    VariationParty,
    VariationState,
)
from tests.ledger.threads import engine_options
from tests.orders.fixtures import World, assert_ledger_verifies
from tests.packages.variation_fixtures import TODAY, WEEKLY_PENCE, make_package

CANCELLED_FROM = date(2026, 6, 15)  # today and the provider's 14 days' notice
MONDAYS_ONLY = 2 * 26_00


def _fewer_days(session: Session, world: World, order: Order) -> PackageVariation:
    variation = variations.propose(
        session,
        order,
        by=world.citizen,
        party=VariationParty.PERSON,
        kind=VariationKind.SCHEDULE,
        effective_from=date(2026, 6, 8),
        days=["MO"],
        today=TODAY,
    )
    session.commit()
    return variation


def test_cancelling_lapses_a_change_still_waiting(session: Session, world: World) -> None:
    order = make_package(session, world)
    variation = _fewer_days(session, world, order)

    life.cancel(session, order, by=world.citizen, today=TODAY)
    session.commit()

    assert variation.state is VariationState.LAPSED
    assert "variation_lapsed" in [event.kind for event in order.events]
    with pytest.raises(InvalidTransition):
        variations.accept(session, variation, by=world.staff, today=TODAY)
    session.rollback()
    assert_ledger_verifies(session)


def _race(app: Flask, steps: list[Callable[[], object]]) -> list[str]:
    barrier = threading.Barrier(len(steps))

    def run(step: Callable[[], object]) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                step()
                db.session.commit()
            except LedgerError as refused:
                db.session.rollback()
                return refused.code
            except BaseException:
                db.session.rollback()
                raise
            return "ok"

    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        return list(pool.map(run, steps))


@pytest.mark.parametrize("attempt", range(3))
def test_accepted_by_the_provider_while_the_person_cancels_one_story(
    make_app: Callable[..., Flask], session: Session, world: World, attempt: int
) -> None:
    order = make_package(session, world)
    variation = _fewer_days(session, world, order)
    order_id, variation_id = order.id, variation.id
    staff_id, citizen_id = world.staff.id, world.citizen.id
    racers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))

    def user(user_id: uuid.UUID) -> User:
        return db.session.get_one(User, user_id)

    def accept() -> None:
        found = db.session.get_one(PackageVariation, variation_id)
        variations.accept(db.session, found, by=user(staff_id), today=TODAY)

    def cancel() -> None:
        found = db.session.get_one(Order, order_id)
        life.cancel(db.session, found, by=user(citizen_id), today=TODAY)

    accepted, cancelled = _race(racers, [accept, cancel])

    assert cancelled == "ok"
    session.expire_all()
    order = session.get_one(Order, order_id)
    variation = session.get_one(PackageVariation, variation_id)
    assert order.cancelled_from == CANCELLED_FROM
    # Cycle 3 (from 15 June) is released whoever went first.
    assert order.cycles[2].state is CycleState.RELEASED
    if accepted == "ok":
        # Accepted first: the change is in force for cycle 2, then the package is cut short.
        assert variation.state is VariationState.ACCEPTED
        assert [c.amount_pence for c in order.cycles[:2]] == [WEEKLY_PENCE, MONDAYS_ONLY]
    else:
        # Cancelled first: the change lapsed and accepting it was refused.
        assert accepted == "invalid_transition"
        assert variation.state is VariationState.LAPSED
        assert [c.amount_pence for c in order.cycles[:2]] == [WEEKLY_PENCE, WEEKLY_PENCE]
    assert_ledger_verifies(session)
    result = racers.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
