"""Placing orders: the price, the split across funding streams, the money committed with the
order in one transaction, and every refusal leaving nothing behind."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import StreamKind
from marketplace.orders import basket, checkout
from marketplace.orders.errors import (
    BasketRefused,
    InsufficientFunds,
    InvalidOrder,
    NotYours,
    OutsideSupportPlan,
    ServiceUnavailable,
)
from marketplace.orders.models import BasketItem, Order, OrderCycle, OrderEvent, OrderStatus
from marketplace.orders.schedule import Schedule
from marketplace.people.models import Person
from providers.models import CapacityStatus, InvoiceCycle, OrganisationStatus, ServiceStatus
from tests.orders.fixtures import (
    CONTRIBUTION_PENCE,
    HOURLY_PENCE,
    TODAY,
    World,
    assert_ledger_verifies,
)


def _stream(world: World, kind: StreamKind):
    return next(s for s in world.budget.streams if s.kind is kind)


def _place(session: Session, world: World, schedule: Schedule | None = None, **options) -> Order:
    options.setdefault("placement_key", "key-1")
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        schedule or world.schedule(),
        by=options.pop("by", world.citizen),
        today=options.pop("today", TODAY),
        **options,
    )
    session.commit()
    return order


def _by_stream(session: Session, world: World) -> dict:
    return {stream.id: figures for stream, figures in budget_figures(session, world.budget).streams}


def _orders(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Order))


def test_an_order_commits_its_price_from_the_streams_in_draw_order(
    session: Session, world: World
) -> None:
    before = budget_figures(session, world.budget).total

    order = _place(session, world)

    total = 16 * HOURLY_PENCE  # 2 hours on Mondays and Thursdays for 4 weeks
    assert order.total_pence == total == 416_00
    assert order.status is OrderStatus.PLACED
    assert order.ends_on == date(2026, 7, 2)
    figures = _by_stream(session, world)
    contribution = figures[_stream(world, StreamKind.CLIENT_CONTRIBUTION).id]
    nhs = figures[_stream(world, StreamKind.NHS).id]
    # The assessed contribution is drawn first, then the NHS stream (personal care is health).
    assert contribution.committed_pence == CONTRIBUTION_PENCE
    assert nhs.committed_pence == total - CONTRIBUTION_PENCE
    after = budget_figures(session, world.budget).total
    assert after.committed_pence == before.committed_pence + total
    assert after.available_pence == before.available_pence - total
    assert [event.kind for event in order.events] == ["placed"]
    assert_ledger_verifies(session)


def test_a_service_outside_health_is_not_paid_from_the_nhs_stream(
    session: Session, world: World
) -> None:
    world.service.taxonomy_terms = [
        term for term in world.service.taxonomy_terms if term.code != "personal-care"
    ] + [_term(session, "domestic-help")]
    session.commit()

    order = _place(session, world)

    split = order.cycles[0].split
    nhs = _stream(world, StreamKind.NHS)
    council = _stream(world, StreamKind.COUNCIL)
    assert str(nhs.id) not in split
    assert split[str(council.id)] == order.total_pence - CONTRIBUTION_PENCE


def _term(session: Session, code: str):
    from providers.models import TaxonomyTerm

    return session.scalar(select(TaxonomyTerm).where(TaxonomyTerm.code == code))


def test_weekly_invoicing_holds_money_per_week(session: Session, world: World) -> None:
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY
    session.commit()

    order = _place(session, world)

    assert [(c.number, c.units, c.amount_pence) for c in order.cycles] == [
        (n, 4, 4 * HOURLY_PENCE) for n in (1, 2, 3, 4)
    ]
    assert sum(c.amount_pence for c in order.cycles) == order.total_pence
    assert_ledger_verifies(session)


def test_a_chosen_split_is_used_when_the_rules_allow_it(session: Session, world: World) -> None:
    council = _stream(world, StreamKind.COUNCIL)
    order = _place(session, world, split={council.id: 416_00})

    assert order.cycles[0].split == {str(council.id): 416_00}
    figures = _by_stream(session, world)
    assert figures[council.id].committed_pence == 416_00
    assert figures[_stream(world, StreamKind.CLIENT_CONTRIBUTION).id].committed_pence == 0


@pytest.mark.parametrize("problem", ["wrong_total", "not_allowed", "negative", "fraction"])
def test_a_split_the_rules_do_not_allow_is_refused(
    session: Session, world: World, problem: str
) -> None:
    world.service.taxonomy_terms = [_term(session, "domestic-help")]
    session.commit()
    council = _stream(world, StreamKind.COUNCIL)
    nhs = _stream(world, StreamKind.NHS)
    split = {
        "wrong_total": {council.id: 100_00},
        "not_allowed": {nhs.id: 416_00},
        "negative": {council.id: 417_00, nhs.id: -1_00},
        "fraction": {council.id: 415.5, nhs.id: 0.5},
    }[problem]

    with pytest.raises(InvalidOrder) as refused:
        _place(session, world, split=split)

    assert "split" in refused.value.details["fields"]
    session.rollback()
    assert _orders(session) == 0


def test_not_enough_money_creates_nothing_and_says_what_is_short(
    session: Session, world: World
) -> None:
    transfers_before = session.scalar(select(func.count()).select_from(ledger.Transfer))
    # 10 hours every day for 20 weeks: £36,400, far more than £3,300.
    schedule = world.schedule(units=10, weeks=20, days=("MO", "TU", "WE", "TH", "FR", "SA", "SU"))

    with pytest.raises(InsufficientFunds) as refused:
        _place(session, world, schedule)

    session.rollback()
    assert refused.value.details["requested_pence"] == 1400 * HOURLY_PENCE
    assert refused.value.details["available_pence"] == 3_300_00
    assert refused.value.shortfall_pence == 1400 * HOURLY_PENCE - 3_300_00
    assert _orders(session) == 0
    assert session.scalar(select(func.count()).select_from(OrderCycle)) == 0
    assert session.scalar(select(func.count()).select_from(ledger.Transfer)) == transfers_before
    assert_ledger_verifies(session)


@pytest.mark.parametrize(
    ("units", "field"),
    [
        (0, "units_per_occasion"),
        (-2, "units_per_occasion"),
        (1.5, "units_per_occasion"),
        (10**9, "units_per_occasion"),
        (True, "units_per_occasion"),
    ],
)
def test_absurd_quantities_are_refused(
    session: Session, world: World, units: object, field: str
) -> None:
    with pytest.raises(InvalidOrder) as refused:
        _place(session, world, world.schedule(units=units))  # type: ignore[arg-type]
    assert field in refused.value.details["fields"]
    session.rollback()
    assert _orders(session) == 0


@pytest.mark.parametrize(
    ("starts_on", "weeks", "field"),
    [
        (date(2026, 5, 31), 4, "starts_on"),  # yesterday
        (date(2027, 3, 1), 8, "weeks"),  # runs past the budget's end on 31 March 2027
        (date(2026, 6, 8), 0, "weeks"),
        (date(2026, 6, 8), 53, "weeks"),
    ],
)
def test_a_schedule_in_the_past_or_beyond_the_period_is_refused(
    session: Session, world: World, starts_on: date, weeks: int, field: str
) -> None:
    with pytest.raises(InvalidOrder) as refused:
        _place(session, world, world.schedule(starts_on=starts_on, weeks=weeks))
    assert field in refused.value.details["fields"]
    session.rollback()
    assert _orders(session) == 0


def test_days_must_be_real_weekdays(session: Session, world: World) -> None:
    for days in ((), ("XX",), ("MO", "MO")):
        with pytest.raises(InvalidOrder) as refused:
            _place(session, world, world.schedule(days=days))
        assert "days" in refused.value.details["fields"]
        session.rollback()


@pytest.mark.parametrize("state", ["draft", "archived", "suspended", "full", "waiting", "free"])
def test_a_service_that_cannot_be_bought_is_refused(
    session: Session, world: World, state: str
) -> None:
    service = world.service
    if state in ("draft", "archived"):
        service.status = ServiceStatus(state)
    elif state == "suspended":
        world.provider.status = OrganisationStatus.SUSPENDED
    elif state == "full":
        service.capacity_status = CapacityStatus.FULL
    elif state == "waiting":
        service.capacity_status = CapacityStatus.WAITING_LIST
    else:
        from providers.models import PriceUnit

        service.price_pence, service.price_unit = 0, PriceUnit.FREE
    session.commit()

    with pytest.raises(ServiceUnavailable):
        _place(session, world)
    session.rollback()
    assert _orders(session) == 0


def test_a_purchase_outside_the_plan_is_refused_or_waits_for_approval(
    session: Session, world: World
) -> None:
    world.service.taxonomy_terms = [_term(session, "day-centres")]
    session.commit()

    with pytest.raises(OutsideSupportPlan):
        _place(session, world, plan_rule="refuse")
    session.rollback()
    assert _orders(session) == 0

    order = _place(session, world, plan_rule="approval")
    assert order.status is OrderStatus.AWAITING_APPROVAL
    # The money is held while the council decides, so it cannot be spent twice meanwhile.
    assert budget_figures(session, world.budget).total.committed_pence == order.total_pence


# The world's plan agrees £300 a week of help at home; the listing is £26 an hour.
THREE_DAYS = ("MO", "TU", "WE")


def test_an_order_over_the_plans_weekly_amount_is_refused_or_waits_for_approval(
    session: Session, world: World
) -> None:
    too_much = world.schedule(units=4, days=THREE_DAYS)  # 12 hours a week: £312

    with pytest.raises(OutsideSupportPlan) as refused:
        _place(session, world, too_much, plan_rule="refuse")
    session.rollback()
    assert refused.value.details["weekly_pence"] == 312_00
    assert refused.value.details["agreed_pence"] == 300_00
    assert "£312 in the week of 8 June 2026" in refused.value.message
    assert _orders(session) == 0

    order = _place(session, world, too_much, plan_rule="approval")
    assert order.status is OrderStatus.AWAITING_APPROVAL
    (placed,) = [event for event in order.events if event.kind == "placed"]
    assert placed.details["over_plan_weekly_pence"] == 312_00


def test_other_open_orders_in_the_category_count_against_the_weekly_amount(
    session: Session, world: World
) -> None:
    half = world.schedule(units=2, days=THREE_DAYS)  # £156 a week
    _place(session, world, half, placement_key="first", plan_rule="refuse")

    quoted = checkout.quote(session, world.person, world.service, half, today=TODAY)
    assert quoted.plan_excess is not None  # £312 a week with the first
    assert quoted.plan_excess.weekly_pence == 312_00
    # The same again in weeks the first order does not reach is within the plan.
    later = world.schedule(units=2, days=THREE_DAYS, starts_on=date(2026, 7, 6))
    assert (
        checkout.quote(session, world.person, world.service, later, today=TODAY).plan_excess is None
    )
    # Within the amount, one order is allowed as before.
    assert (
        checkout.quote(
            session, world.person, world.service, world.schedule(), today=TODAY
        ).plan_excess
        is None
    )


def test_a_basket_counts_its_earlier_items_against_the_weekly_amount(
    session: Session, world: World
) -> None:
    half = world.schedule(units=2, days=THREE_DAYS)  # £156 a week each
    items = [
        basket.add_to_basket(
            session, world.person, world.service, half, by=world.citizen, today=TODAY
        )
        for _ in range(2)
    ]
    session.commit()

    first, second = checkout.quote_basket(session, world.person, items, today=TODAY)

    assert first.quote is not None
    assert first.quote.plan_excess is None
    assert second.quote is not None
    assert second.quote.plan_excess is not None
    assert second.quote.plan_excess.weekly_pence == 312_00


def test_prices_are_fixed_when_the_order_is_placed(session: Session, world: World) -> None:
    order = _place(session, world)
    world.service.price_pence = 40_00
    world.service.name = "Home care visits (new prices)"
    session.commit()
    session.expire_all()

    assert order.unit_price_pence == HOURLY_PENCE
    assert order.service_name == "Home care visits"
    assert order.total_pence == 16 * HOURLY_PENCE


def test_the_same_placement_key_places_one_order(session: Session, world: World) -> None:
    first = _place(session, world)
    again = _place(session, world)

    assert again.id == first.id
    assert _orders(session) == 1
    with pytest.raises(ledger.IdempotencyConflict):
        _place(session, world, world.schedule(units=3))
    session.rollback()
    assert budget_figures(session, world.budget).total.committed_pence == first.total_pence


def test_only_the_person_or_an_officer_can_order_for_them(session: Session, world: World) -> None:
    stranger_person = Person(full_name="Someone Else")
    session.add(stranger_person)
    session.commit()
    with pytest.raises(NotYours):
        checkout.place_order(
            session,
            stranger_person,
            world.service,
            world.schedule(),
            by=world.citizen,
            today=TODAY,
            placement_key="x",
        )
    with pytest.raises(NotYours):
        _place(session, world, by=world.staff)
    session.rollback()
    assert _place(session, world, by=world.officer).placed_by_id == world.officer.id


def test_checking_out_a_basket_orders_every_item_once(session: Session, world: World) -> None:
    first = basket.add_to_basket(
        session, world.person, world.service, world.schedule(), by=world.citizen, today=TODAY
    )
    second = basket.add_to_basket(
        session,
        world.person,
        world.service,
        world.schedule(weeks=None, starts_on=date(2026, 6, 20)),
        by=world.citizen,
        today=TODAY,
    )
    session.commit()
    ids = [first.id, second.id]

    orders = checkout.check_out(session, world.person, ids, by=world.citizen, today=TODAY)
    session.commit()
    # A second submission of the same checkout (a double click) places nothing more.
    again = checkout.check_out(session, world.person, ids, by=world.citizen, today=TODAY)
    session.commit()

    assert [o.id for o in again] == [o.id for o in orders]
    assert _orders(session) == 2
    assert session.scalar(select(func.count()).select_from(BasketItem)) == 0
    assert orders[1].total_pence == 2 * HOURLY_PENCE
    assert_ledger_verifies(session)


def test_a_basket_that_cannot_all_be_paid_for_orders_nothing(
    session: Session, world: World
) -> None:
    small = basket.add_to_basket(
        session, world.person, world.service, world.schedule(), by=world.citizen, today=TODAY
    )
    huge = basket.add_to_basket(
        session,
        world.person,
        world.service,
        world.schedule(units=12, weeks=20, days=("MO", "TU", "WE", "TH", "FR")),
        by=world.citizen,
        today=TODAY,
    )
    session.commit()

    with pytest.raises(BasketRefused) as refused:
        checkout.check_out(
            session, world.person, [small.id, huge.id], by=world.citizen, today=TODAY
        )
    session.rollback()

    # One refusal names the item that cannot be paid for, and only that one.
    ((item, why),) = refused.value.problems
    assert item.id == huge.id
    assert isinstance(why, InsufficientFunds)
    assert refused.value.code == "insufficient_funds"

    assert _orders(session) == 0
    assert session.scalar(select(func.count()).select_from(BasketItem)) == 2
    assert session.scalar(select(func.count()).select_from(OrderEvent)) == 0
    assert budget_figures(session, world.budget).total.committed_pence == 0


def test_a_basket_changed_since_the_page_was_shown_orders_nothing(
    session: Session, world: World
) -> None:
    item = basket.add_to_basket(
        session, world.person, world.service, world.schedule(), by=world.citizen, today=TODAY
    )
    session.commit()
    assert basket.remove_from_basket(session, world.person, item.id)
    session.commit()

    with pytest.raises(InvalidOrder):
        checkout.check_out(session, world.person, [item.id], by=world.citizen, today=TODAY)
    session.rollback()
    assert _orders(session) == 0


def test_a_basket_is_quoted_as_checkout_places_it_each_item_after_the_ones_before(
    session: Session, world: World
) -> None:
    # The first item takes all of the contribution (drawn first); the second must be shown
    # paid from what is left, as checking out will in fact pay it.
    first = basket.add_to_basket(
        session, world.person, world.service, world.schedule(), by=world.citizen, today=TODAY
    )
    second = basket.add_to_basket(
        session, world.person, world.service, world.schedule(), by=world.citizen, today=TODAY
    )
    session.commit()

    lines = checkout.quote_basket(session, world.person, [first, second], today=TODAY)
    shown = [[(s.stream.id, s.pence) for s in line.quote.shares] for line in lines if line.quote]
    orders = checkout.check_out(
        session, world.person, [first.id, second.id], by=world.citizen, today=TODAY
    )
    session.commit()

    placed = [
        sorted(
            (uuid.UUID(stream_id), pence)
            for cycle in order.cycles
            for stream_id, pence in cycle.split.items()
        )
        for order in orders
    ]
    assert len(shown) == 2
    assert [_summed(split) for split in shown] == [_summed(split) for split in placed]
    contribution = next(s for s in world.budget.streams if s.kind is StreamKind.CLIENT_CONTRIBUTION)
    assert contribution.id not in dict(shown[1])
    assert_ledger_verifies(session)


def _summed(shares: list[tuple[uuid.UUID, int]]) -> dict[uuid.UUID, int]:
    total: dict[uuid.UUID, int] = {}
    for stream_id, pence in shares:
        total[stream_id] = total.get(stream_id, 0) + pence
    return total


def test_a_quote_shows_the_cost_and_split_and_records_nothing(
    session: Session, world: World
) -> None:
    quote = checkout.quote(session, world.person, world.service, world.schedule(), today=TODAY)
    session.commit()

    assert quote.total_pence == 416_00
    assert quote.weekly_pence == 4 * HOURLY_PENCE
    assert [(s.stream.kind, s.pence) for s in quote.shares] == [
        (StreamKind.CLIENT_CONTRIBUTION, CONTRIBUTION_PENCE),
        (StreamKind.NHS, 416_00 - CONTRIBUTION_PENCE),
    ]
    assert _orders(session) == 0
    assert budget_figures(session, world.budget).total.committed_pence == 0


def test_the_person_is_told_when_an_order_leaves_the_budget_nearly_spent(
    session: Session, world: World
) -> None:
    from marketplace.notifications.models import Notification, NotificationKind

    _place(session, world, world.schedule(units=2, weeks=1), placement_key="small")
    told = select(Notification.kind).where(Notification.user_id == world.citizen.id)
    assert NotificationKind.BUDGET_NEARLY_SPENT not in session.scalars(told).all()

    # 120 hours: £3,120 of the £3,300 left, under a tenth remains.
    _place(
        session,
        world,
        world.schedule(units=12, weeks=2, days=("MO", "TU", "WE", "TH", "FR")),
        placement_key="big",
    )
    assert session.scalars(told).all().count(NotificationKind.BUDGET_NEARLY_SPENT) == 1
