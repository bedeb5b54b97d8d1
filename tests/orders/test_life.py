"""The order's life: the transition table, each move's effect on the money, and the moves it
forbids."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.budgets.figures import budget_figures
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.errors import InvalidOrder, InvalidTransition, NotYours
from marketplace.orders.life import TRANSITIONS, Move
from marketplace.orders.models import CycleState, Order, OrderEvent, OrderStatus
from providers.models import InvoiceCycle
from tests.orders.fixtures import HOURLY_PENCE, TODAY, World, assert_ledger_verifies


def _place(session: Session, world: World, **schedule) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(**schedule),
        by=world.citizen,
        today=TODAY,
        placement_key=f"k-{len(schedule)}-{sorted(schedule.items())}",
    )
    session.commit()
    return order


def _committed(session: Session, world: World) -> int:
    return budget_figures(session, world.budget).total.committed_pence


def _events(session: Session, order: Order) -> list[str]:
    session.refresh(order)
    return [event.kind for event in order.events]


def test_every_status_has_its_moves_and_no_others() -> None:
    # The table is the whole truth: terminal states have no moves out.
    for status in (OrderStatus.DECLINED, OrderStatus.COMPLETED, OrderStatus.CANCELLED):
        assert not [move for (s, move) in TRANSITIONS if s is status]
    assert TRANSITIONS[(OrderStatus.PLACED, Move.ACCEPT)] is OrderStatus.ACCEPTED


FORBIDDEN = [
    (status, move)
    for status in OrderStatus
    for move in (Move.APPROVE, Move.ACCEPT, Move.DECLINE)
    if (status, move) not in TRANSITIONS
]


@pytest.mark.parametrize(("status", "move"), FORBIDDEN)
def test_forbidden_moves_are_refused_and_change_nothing(
    session: Session, world: World, status: OrderStatus, move: Move
) -> None:
    order = _place(session, world)
    order.status = status
    session.commit()
    committed = _committed(session, world)
    events = _events(session, order)
    actor = world.officer if move is Move.APPROVE else world.staff
    do = {
        Move.APPROVE: lambda: life.approve(session, order, by=actor),
        Move.ACCEPT: lambda: life.accept(session, order, by=actor),
        Move.DECLINE: lambda: life.decline(session, order, by=actor, reason="No staff"),
    }[move]

    # While the council decides, or the card share is unpaid, the order is not the
    # provider's at all.
    not_yet_theirs = (
        status in (OrderStatus.AWAITING_APPROVAL, OrderStatus.AWAITING_PAYMENT)
        and move is not Move.APPROVE
    )
    with pytest.raises(NotYours if not_yet_theirs else InvalidTransition):
        do()
    session.rollback()

    assert session.get(Order, order.id).status is status
    assert _committed(session, world) == committed
    assert _events(session, order) == events


def test_accepting_twice_is_refused(session: Session, world: World) -> None:
    order = _place(session, world)
    life.accept(session, order, by=world.staff)
    session.commit()

    with pytest.raises(InvalidTransition):
        life.accept(session, order, by=world.staff)
    session.rollback()
    assert _events(session, order) == ["placed", "accept"]


def test_only_the_orders_provider_accepts_or_declines(session: Session, world: World) -> None:
    order = _place(session, world)
    for user in (world.other_staff, world.citizen, world.officer):
        with pytest.raises(NotYours):
            life.accept(session, order, by=user)
        with pytest.raises(NotYours):
            life.decline(session, order, by=user, reason="x")
    session.rollback()
    assert session.get(Order, order.id).status is OrderStatus.PLACED


def test_declining_needs_a_reason_and_releases_the_commitment(
    session: Session, world: World
) -> None:
    order = _place(session, world)
    assert _committed(session, world) == order.total_pence

    with pytest.raises(InvalidOrder):
        life.decline(session, order, by=world.staff, reason="  ")
    session.rollback()

    life.decline(session, order, by=world.staff, reason="We have no carers in Stevenage")
    session.commit()

    assert order.status is OrderStatus.DECLINED
    assert _committed(session, world) == 0
    assert {cycle.state for cycle in order.cycles} == {CycleState.RELEASED}
    assert order.events[-1].reason == "We have no carers in Stevenage"
    assert order.events[-1].actor_id == world.staff.id
    told = session.scalars(
        select(Notification).where(Notification.user_id == world.citizen.id)
    ).all()
    assert [n.kind for n in told] == [NotificationKind.ORDER_DECLINED]
    assert_ledger_verifies(session)


def test_the_provider_hears_of_a_new_order_and_the_person_of_its_acceptance(
    session: Session, world: World
) -> None:
    order = _place(session, world)
    life.accept(session, order, by=world.staff)
    session.commit()

    def kinds(user) -> list[NotificationKind]:
        return [
            n.kind
            for n in session.scalars(select(Notification).where(Notification.user_id == user.id))
        ]

    assert kinds(world.staff) == [NotificationKind.ORDER_PLACED]
    assert kinds(world.citizen) == [NotificationKind.ORDER_ACCEPTED]
    assert kinds(world.other_staff) == []


def test_cancelling_before_acceptance_releases_everything(session: Session, world: World) -> None:
    order = _place(session, world)

    assert life.cancel(session, order, by=world.citizen, today=TODAY) is None
    session.commit()

    assert order.status is OrderStatus.CANCELLED
    assert _committed(session, world) == 0
    assert_ledger_verifies(session)


def test_an_accepted_order_can_be_cancelled_before_it_starts_given_notice(
    session: Session, world: World
) -> None:
    order = _place(session, world, starts_on=date(2026, 6, 15))  # 14 days away, notice is 7
    life.accept(session, order, by=world.staff)
    session.commit()

    assert life.cancel(session, order, by=world.citizen, today=TODAY, reason="Moving") is None
    session.commit()
    assert order.status is OrderStatus.CANCELLED
    assert _committed(session, world) == 0


def test_remaining_weeks_are_cancelled_after_the_notice_period(
    session: Session, world: World
) -> None:
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY
    session.commit()
    order = _place(session, world, starts_on=date(2026, 6, 1), weeks=6)
    life.accept(session, order, by=world.staff)
    session.commit()
    today = date(2026, 6, 10)  # a Wednesday in week 2

    effective = life.cancel(session, order, by=world.citizen, today=today)
    session.commit()

    assert effective == today + timedelta(days=7)
    assert order.status is OrderStatus.ACCEPTED  # the weeks before still happen
    assert order.cancelled_from == effective
    states = [cycle.state for cycle in order.cycles]
    # Weeks 1-3 are still held (week 3 is cut short from the 17th); weeks 4-6 are released.
    assert states == [CycleState.HELD] * 3 + [CycleState.RELEASED] * 3
    assert _committed(session, world) == sum(c.amount_pence for c in order.cycles[:3])
    assert deliveries.deliverable_units(order, order.cycles[2]) == 2  # Monday 15th only
    assert_ledger_verifies(session)


def test_cancelled_visits_money_comes_back_as_said_and_cancelling_again_is_refused(
    session: Session, world: World
) -> None:
    # Four-weekly invoicing: one period, 8 June to 2 July; visits Mondays and Thursdays.
    order = _place(session, world, starts_on=date(2026, 6, 8), weeks=4)
    life.accept(session, order, by=world.staff)
    session.commit()
    today = date(2026, 6, 16)  # a Tuesday: with 7 days' notice, visits from the 23rd go
    before = _committed(session, world)

    said = life.cancellation_money(order, life.earliest_cancellation(order, today))
    effective = life.cancel(session, order, by=world.citizen, today=today)
    session.commit()

    # The 25th, 29th and 2nd July: three visits of 2 hours, held until the period is settled.
    assert effective == date(2026, 6, 23)
    assert said == life.CancellationMoney(0, 3 * 2 * HOURLY_PENCE, date(2026, 7, 2))
    assert _committed(session, world) == before - said.now_pence
    with pytest.raises(InvalidTransition, match="already cancelled from 23 June 2026"):
        life.cancel(session, order, by=world.citizen, today=today)
    session.rollback()

    # The visits before the 23rd are delivered and billed; settling releases the rest.
    for day in (8, 11, 15, 18, 22):
        deliveries.record_delivery(
            session,
            order,
            by=world.staff,
            delivered_on=date(2026, 6, day),
            units=2,
            today=date(2026, 6, 22),
        )
    invoice = invoicing.raise_invoice(
        session, order, order.cycles[0], by=world.staff, today=date(2026, 6, 22)
    )
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()

    assert invoice.amount_pence == 5 * 2 * HOURLY_PENCE
    figures = budget_figures(session, world.budget).total
    assert figures.committed_pence == before - order.total_pence
    assert figures.spent_pence == invoice.amount_pence
    assert order.total_pence - invoice.amount_pence == said.later_pence
    assert_ledger_verifies(session)


def test_a_one_off_inside_the_notice_period_cannot_be_cancelled(
    session: Session, world: World
) -> None:
    order = _place(session, world, starts_on=date(2026, 6, 4), weeks=None)
    life.accept(session, order, by=world.staff)
    session.commit()

    with pytest.raises(InvalidTransition):
        life.cancel(session, order, by=world.citizen, today=TODAY)
    session.rollback()
    assert session.get(Order, order.id).status is OrderStatus.ACCEPTED
    assert _committed(session, world) == order.total_pence


def test_only_the_person_or_an_officer_cancels(session: Session, world: World) -> None:
    order = _place(session, world)
    with pytest.raises(NotYours):
        life.cancel(session, order, by=world.staff, today=TODAY)
    session.rollback()
    life.cancel(session, order, by=world.officer, today=TODAY, reason="At the person's request")
    session.commit()
    assert order.status is OrderStatus.CANCELLED
    # The person is told when someone else cancelled for them.
    assert session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.user_id == world.citizen.id,
            Notification.kind == NotificationKind.ORDER_CANCELLED,
        )
    )


def test_an_order_outside_the_plan_waits_for_the_council(session: Session, world: World) -> None:
    from providers.models import TaxonomyTerm

    world.service.taxonomy_terms = [
        session.scalar(select(TaxonomyTerm).where(TaxonomyTerm.code == "day-centres"))
    ]
    session.commit()
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="outside",
        plan_rule="approval",
    )
    session.commit()
    assert order.status is OrderStatus.AWAITING_APPROVAL

    with pytest.raises(NotYours):  # not sent to the provider yet
        life.accept(session, order, by=world.staff)
    with pytest.raises(NotYours):
        life.approve(session, order, by=world.citizen)
    with pytest.raises(InvalidOrder):
        life.refuse(session, order, by=world.officer, reason="")
    session.rollback()

    life.approve(session, order, by=world.officer, reason="Day centre agreed at review")
    session.commit()
    assert order.status is OrderStatus.PLACED
    life.accept(session, order, by=world.staff)
    session.commit()
    assert [e.kind for e in order.events] == ["placed", "approve", "accept"]
    assert session.scalar(select(func.count()).select_from(OrderEvent)) == 3


def test_the_provider_sees_an_order_only_once_it_is_sent_to_them(
    session: Session, world: World
) -> None:
    from marketplace.accounts.policy import can
    from marketplace.orders import queries
    from providers.models import TaxonomyTerm

    world.service.taxonomy_terms = [
        session.scalar(select(TaxonomyTerm).where(TaxonomyTerm.code == "day-centres"))
    ]
    session.commit()

    def place(key: str) -> Order:
        order = checkout.place_order(
            session,
            world.person,
            world.service,
            world.schedule(),
            by=world.citizen,
            today=TODAY,
            placement_key=key,
            plan_rule="approval",
        )
        session.commit()
        return order

    def inbox() -> list[Order]:
        return [
            order
            for tab in queries.PROVIDER_TABS
            for order in queries.orders_of_organisation(session, world.provider.id, tab=tab)
        ]

    waiting, refused = place("waiting"), place("refused")
    life.refuse(session, refused, by=world.officer, reason="Not agreed at review")
    session.commit()

    for order in (waiting, refused):
        assert not can(world.staff, "view_order", order)
        assert not can(world.staff, "fulfil_order", order)
        assert can(world.citizen, "view_order", order)
        assert can(world.officer, "view_order", order)
    assert inbox() == []
    assert sum(queries.inbox_counts(session, world.provider.id, TODAY).values()) == 0

    life.approve(session, waiting, by=world.officer)
    session.commit()
    assert can(world.staff, "view_order", waiting)
    assert can(world.staff, "fulfil_order", waiting)
    assert inbox() == [waiting]
