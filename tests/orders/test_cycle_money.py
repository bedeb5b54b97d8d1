"""Holding a cycle's money again (`cycle_money.rework_cycle`): at a new amount, from another
payer, all or nothing, and `flask ledger verify` reading re-worked cycles right (issue 18: a
variation, a package carried into the next budget, reablement turned chargeable)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.budgets import spending
from marketplace.budgets.models import FunderPot
from marketplace.orders import checkout, cycle_money, life
from marketplace.orders.models import Order
from marketplace.orders.verify import check_orders
from tests.orders.fixtures import HOURLY_PENCE, TODAY, World, assert_ledger_verifies


def _accepted(session: Session, world: World) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="cycle-money",
    )
    life.accept(session, order, by=world.staff)
    session.commit()
    return order


def _held_pence(session: Session, order: Order, number: int) -> int:
    commitment = cycle_money.commitment_of(session, order, order.cycles[number - 1])
    return 0 if commitment is None else commitment.amount_pence


def test_a_cycle_held_again_at_more_and_then_less_holds_exactly_that(
    session: Session, world: World
) -> None:
    order = _accepted(session, world)
    cycle = order.cycles[-1]
    total = order.total_pence
    left_before = sum(spending.available_by_stream(session, world.budget).values())

    cycle_money.rework_cycle(
        session,
        order,
        cycle,
        units=cycle.units + 2,
        amount_pence=cycle.amount_pence + 2 * HOURLY_PENCE,
    )
    session.commit()
    assert _held_pence(session, order, len(order.cycles)) == cycle.amount_pence
    assert order.total_pence == total + 2 * HOURLY_PENCE
    assert sum(spending.available_by_stream(session, world.budget).values()) == (
        left_before - 2 * HOURLY_PENCE
    )
    assert_ledger_verifies(session)

    cycle_money.rework_cycle(session, order, cycle, units=1, amount_pence=HOURLY_PENCE)
    session.commit()
    assert _held_pence(session, order, len(order.cycles)) == HOURLY_PENCE
    assert sum(cycle.amount_pence for cycle in order.cycles) == order.total_pence
    assert_ledger_verifies(session)


def test_more_than_the_budget_has_changes_nothing(session: Session, world: World) -> None:
    order = _accepted(session, world)
    cycle = order.cycles[-1]
    before = (cycle.units, cycle.amount_pence, order.total_pence, dict(cycle.split))
    left = sum(spending.available_by_stream(session, world.budget).values())

    with pytest.raises(ledger.InsufficientFunds):
        cycle_money.rework_cycle(
            session, order, cycle, units=99, amount_pence=cycle.amount_pence + left + 1
        )
    session.commit()
    session.expire_all()
    assert (cycle.units, cycle.amount_pence, order.total_pence, cycle.split) == before
    assert _held_pence(session, order, len(order.cycles)) == before[1]
    assert_ledger_verifies(session)


def test_a_cycle_moved_to_another_payer_is_settled_from_it(
    session: Session, world: World, council_pot: FunderPot
) -> None:
    order = _accepted(session, world)
    cycle = order.cycles[0]
    cycle_money.rework_cycle(
        session, order, cycle, units=cycle.units, amount_pence=cycle.amount_pence, pot=council_pot
    )
    session.commit()
    assert cycle.pot_id == council_pot.id
    assert cycle.budget_id is None
    commitment = cycle_money.commitment_of(session, order, cycle)
    assert commitment is not None
    assert {part.transfer.debit_account_id for part in commitment.parts} == {council_pot.account_id}
    assert ledger.balance(session, council_pot.account_id).debits_pending == cycle.amount_pence
    assert_ledger_verifies(session)


def test_holding_a_cycle_twice_is_refused(session: Session, world: World) -> None:
    order = _accepted(session, world)
    with pytest.raises(ledger.InvalidTransfer):
        cycle_money.hold_cycle(session, order, order.cycles[0])


def test_verify_names_a_cycle_held_from_someone_elses_account(
    session: Session, world: World, council_pot: FunderPot
) -> None:
    order = _accepted(session, world)
    cycle = order.cycles[0]
    # Behind the rules' back: the cycle says the pot pays, its money is on the budget.
    cycle.pot_id, cycle.budget_id = council_pot.id, None
    session.commit()
    problems, _ = check_orders(session)
    assert any(
        f"order {order.reference} cycle 1: money held from an account that is not its payer's"
        in problem
        for problem in problems
    )


def test_spending_a_reworked_cycle_leaves_its_superseded_parts_alone(
    session: Session, world: World
) -> None:
    order = _accepted(session, world)
    cycle = order.cycles[0]
    cycle_money.rework_cycle(
        session, order, cycle, units=cycle.units + 1, amount_pence=cycle.amount_pence + HOURLY_PENCE
    )
    session.commit()
    commitment = cycle_money.commitment_of(session, order, cycle)
    assert commitment is not None
    spending.spend(session, commitment, key="test-settle", amount_pence=HOURLY_PENCE)
    session.commit()
    assert all(part.transfer.state is not ledger.TransferState.PENDING for part in commitment.parts)
