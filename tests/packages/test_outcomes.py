"""Outcome-based orders (OUTCOMES, issue 18): bought as an agreed weekly amount for outcomes of
the support plan; the provider records each week what was achieved (and answers the council's
safety questions), the person confirms or queries, and the invoice is the weekly amount less
each outcome not achieved. `flask ledger verify`'s checks pass after each."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.budgets.figures import budget_figures
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import deliveries, invoicing, life, outcomes, variations
from marketplace.orders.errors import InvalidOrder, InvalidTransition, NotYours
from marketplace.orders.models import (
    CycleState,
    InvoiceStatus,
    Order,
    OrderPricing,
    OrderStatus,
    OutcomeStatus,
    VariationKind,
    VariationParty,
)
from marketplace.orders.outcomes import OutcomeResult
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers.models import PriceUnit
from tests.orders.fixtures import TODAY, World, assert_ledger_verifies

WEEKLY_PENCE = 200_00  # three outcomes: 66.68, 66.66, 66.66
STARTS_ON = date(2026, 6, 8)  # a Monday
WEEKS = [STARTS_ON + timedelta(days=7 * n) for n in range(4)]
AFTER = date(2026, 7, 6)  # the last week (from 29 June) is over
PLAN_OUTCOMES = """- Get up and dressed by 9 each day
- Go to the day centre twice a week

* Eat a hot meal every evening"""
DRESSED, DAY_CENTRE, MEAL = (
    "get-up-and-dressed-by-9-each-day",
    "go-to-the-day-centre-twice-a-week",
    "eat-a-hot-meal-every-evening",
)


@pytest.fixture
def weekly(session: Session, world: World) -> World:
    """The world's home care sold by the week, and a plan naming three outcomes."""
    world.service.price_unit = PriceUnit.PER_WEEK
    world.service.price_pence = WEEKLY_PENCE
    plan = draft_plan(
        session,
        world.person,
        by=world.officer,
        outcomes=PLAN_OUTCOMES,
        items=[PlanItemSpec("help-at-home", 300_00)],
    )
    approve_plan(session, plan, by=world.officer)
    session.commit()
    return world


def _place(session: Session, world: World, keys=(DRESSED, DAY_CENTRE, MEAL), **kw) -> Order:
    order = outcomes.place_outcome_order(
        session,
        world.person,
        world.service,
        starts_on=kw.pop("starts_on", STARTS_ON),
        weeks=kw.pop("weeks", 4),
        outcome_keys=list(keys),
        by=world.citizen,
        today=TODAY,
        placement_key=kw.pop("placement_key", "outcomes"),
    )
    session.commit()
    return order


@pytest.fixture
def order(session: Session, weekly: World) -> Order:
    order = _place(session, weekly)
    outcomes.set_safety(
        session,
        order,
        by=weekly.officer,
        medication_times=["08:00", "18:00"],
        not_in_bed_after="10:00",
    )
    life.accept(session, order, by=weekly.staff)
    session.commit()
    return order


def _kinds(session: Session, user: object) -> list[NotificationKind]:
    return list(
        session.scalars(
            select(Notification.kind).where(
                Notification.user_id == user.id,  # type: ignore[attr-defined]
                Notification.kind == NotificationKind.SAFETY_CHECK_MISSED,
            )
        )
    )


ALL_SAFE = {"medication:08:00": True, "medication:18:00": True, "out_of_bed": True}


def _record(session: Session, world: World, order: Order, week: date, missed=(), **kw):
    results = {
        key: OutcomeResult(key not in missed, "" if key not in missed else "Was unwell")
        for key in outcomes.outcome_keys(order)
    }
    records = outcomes.record_week(
        session,
        order,
        by=kw.pop("by", world.staff),
        week_starting=week,
        results=kw.pop("results", results),
        safety_checks=kw.pop("safety", ALL_SAFE),
        today=kw.pop("today", AFTER),
    )
    session.commit()
    return records


def test_the_plan_outcomes_are_its_lines_and_the_shares_add_up_to_the_week() -> None:
    class Plan:
        outcomes = PLAN_OUTCOMES + "\n- Go to the day centre twice a week"

    found = outcomes.plan_outcomes(Plan())  # type: ignore[arg-type]

    assert [o.key for o in found] == [DRESSED, DAY_CENTRE, MEAL, DAY_CENTRE + "-2"]
    assert found[0].text == "Get up and dressed by 9 each day"
    shares = outcomes.outcome_shares(WEEKLY_PENCE, [DRESSED, DAY_CENTRE, MEAL])
    assert shares == {DRESSED: 66_68, DAY_CENTRE: 66_66, MEAL: 66_66}
    assert sum(shares.values()) == WEEKLY_PENCE
    assert outcomes.outcome_shares(100, ["a", "b", "c", "d", "e", "f", "g"])["a"] == 16


def test_an_outcome_order_holds_the_weekly_amount_for_each_week(
    session: Session, weekly: World
) -> None:
    order = _place(session, weekly, keys=(MEAL, DRESSED))

    assert order.pricing is OrderPricing.OUTCOMES
    # In the plan's order, whatever order they were chosen in.
    assert [o["key"] for o in order.outcomes] == [DRESSED, MEAL]
    assert all(o["plan_item_id"] for o in order.outcomes)
    assert order.days == ["MO"]
    assert order.units_per_occasion == 1
    assert order.total_pence == 4 * WEEKLY_PENCE
    assert sum(c.amount_pence for c in order.cycles) == 4 * WEEKLY_PENCE
    assert budget_figures(session, weekly.budget).total.committed_pence == 4 * WEEKLY_PENCE
    assert "outcomes_agreed" in [e.kind for e in order.events]
    # The same key again is the same order.
    assert _place(session, weekly, keys=(MEAL, DRESSED)).id == order.id
    assert_ledger_verifies(session)


def test_placing_refuses_a_service_not_sold_by_the_week_and_unknown_outcomes(
    session: Session, weekly: World
) -> None:
    with pytest.raises(InvalidOrder) as unknown:
        _place(session, weekly, keys=("sing-in-a-choir",))
    assert "outcomes" in unknown.value.details["fields"]
    with pytest.raises(InvalidOrder):
        _place(session, weekly, keys=())
    weekly.service.price_unit = PriceUnit.PER_HOUR
    assert outcomes.outcome_choices(session, weekly.person, weekly.service) == []
    with pytest.raises(InvalidOrder):
        _place(session, weekly)


def test_the_invoice_is_the_weekly_amount_less_each_outcome_not_achieved(
    session: Session, world: World, order: Order
) -> None:
    _record(session, world, order, WEEKS[0])
    _record(session, world, order, WEEKS[1], missed=(DRESSED,))
    _record(session, world, order, WEEKS[2], missed=(DAY_CENTRE, MEAL))
    # Week 4 never recorded: nothing of it is billed.
    cycle = order.cycles[0]
    left_before = budget_figures(session, world.budget).total.available_pence

    invoice = invoicing.raise_invoice(session, order, cycle, by=world.staff, today=AFTER)
    session.commit()

    expected = WEEKLY_PENCE + (WEEKLY_PENCE - 66_68) + (WEEKLY_PENCE - 2 * 66_66)
    assert invoice.amount_pence == expected
    assert invoice.status is InvoiceStatus.RAISED  # nothing confirmed yet
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()
    assert cycle.state is CycleState.SETTLED
    assert budget_figures(session, world.budget).total.available_pence == left_before + (
        4 * WEEKLY_PENCE - expected
    )
    assert_ledger_verifies(session)


def test_every_week_confirmed_settles_the_invoice_at_once(
    session: Session, world: World, order: Order
) -> None:
    for week in WEEKS:
        _record(session, world, order, week)
        assert outcomes.confirm_week(session, order, week, by=world.citizen) == 3
    session.commit()

    invoice = invoicing.raise_invoice(session, order, order.cycles[0], by=world.staff, today=AFTER)
    session.commit()

    assert invoice.status is InvoiceStatus.SETTLED
    assert invoice.amount_pence == 4 * WEEKLY_PENCE
    assert_ledger_verifies(session)


def test_a_queried_record_holds_the_invoice_until_the_provider_records_the_week_again(
    session: Session, world: World, order: Order
) -> None:
    for week in WEEKS:
        _record(session, world, order, week)
    record = next(
        r
        for r in outcomes.records_of(session, order)
        if r.week_starting == WEEKS[1] and r.outcome_key == DAY_CENTRE
    )
    outcomes.query_record(
        session, record, by=world.citizen, reason="I did not go to the day centre that week"
    )
    session.commit()
    invoice = invoicing.raise_invoice(session, order, order.cycles[0], by=world.staff, today=AFTER)
    session.commit()
    assert invoice.amount_pence == 4 * WEEKLY_PENCE

    with pytest.raises(InvalidTransition):
        invoicing.settle_invoice(session, invoice, by=world.officer)
    session.rollback()
    assert invoicing.settle_due(session, now=invoice.raised_at + timedelta(days=30)) == []

    # The provider corrects the week: the invoice follows, and the hold is gone.
    _record(session, world, order, WEEKS[1], missed=(DAY_CENTRE,))
    assert invoice.amount_pence == 4 * WEEKLY_PENCE - 66_66
    assert record.status is OutcomeStatus.RECORDED
    assert record.invoice_id == invoice.id
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()
    assert invoice.status is InvoiceStatus.SETTLED
    assert_ledger_verifies(session)

    # Paid: the week can no longer be changed or queried.
    with pytest.raises(InvalidTransition):
        _record(session, world, order, WEEKS[1])
    session.rollback()
    with pytest.raises(InvalidTransition):
        outcomes.query_record(session, record, by=world.citizen, reason="Again")
    session.rollback()


def test_recording_asks_every_outcome_a_note_when_missed_and_every_safety_question(
    session: Session, world: World, order: Order
) -> None:
    with pytest.raises(InvalidOrder) as missing:
        _record(
            session,
            world,
            order,
            WEEKS[0],
            results={DRESSED: OutcomeResult(False, ""), MEAL: OutcomeResult(True)},
            safety={"medication:08:00": True},
        )
    session.rollback()
    fields = missing.value.details["fields"]
    assert set(fields) == {
        f"note:{DRESSED}",
        f"outcome:{DAY_CENTRE}",
        "safety:medication:18:00",
        "safety:out_of_bed",
    }
    assert outcomes.records_of(session, order) == []

    _record(session, world, order, WEEKS[0])
    assert _kinds(session, world.officer) == []
    _record(session, world, order, WEEKS[1], safety={**ALL_SAFE, "medication:18:00": False})
    assert outcomes.safety_answers(order, WEEKS[1])["medication:18:00"] is False
    # The council is told a safety check was not met.
    assert _kinds(session, world.officer) == [NotificationKind.SAFETY_CHECK_MISSED]
    assert [q.text for q in outcomes.safety_questions(order)] == [
        "Medication given at 08:00 every day?",
        "Medication given at 18:00 every day?",
        "Up and out of bed by 10:00 every day?",
    ]
    assert order.status is OrderStatus.IN_PROGRESS


def test_recording_refuses_a_week_to_come_a_day_not_a_week_a_stranger_and_a_confirmed_week(
    session: Session, world: World, order: Order
) -> None:
    with pytest.raises(InvalidOrder):
        _record(session, world, order, WEEKS[3], today=WEEKS[3] - timedelta(days=1))
    session.rollback()
    with pytest.raises(InvalidOrder):
        _record(session, world, order, WEEKS[0] + timedelta(days=1))
    session.rollback()
    with pytest.raises(NotYours):
        _record(session, world, order, WEEKS[0], by=world.other_staff)
    session.rollback()
    _record(session, world, order, WEEKS[0])
    outcomes.confirm_week(session, order, WEEKS[0], by=world.citizen)
    session.commit()
    with pytest.raises(InvalidTransition):
        _record(session, world, order, WEEKS[0], missed=(MEAL,))
    session.rollback()
    with pytest.raises(InvalidTransition):
        outcomes.confirm_week(session, order, WEEKS[0], by=world.citizen)
    session.rollback()
    with pytest.raises(NotYours):
        outcomes.confirm_week(session, order, WEEKS[0], by=world.staff)
    session.rollback()


def test_an_outcome_order_has_no_delivery_records_and_is_invoiced_once_its_last_week_is_over(
    session: Session, world: World, order: Order
) -> None:
    with pytest.raises(InvalidTransition) as refused:
        deliveries.record_delivery(
            session, order, by=world.staff, delivered_on=WEEKS[0], units=1, today=AFTER
        )
    assert "outcomes" in refused.value.message
    session.rollback()
    with pytest.raises(InvalidTransition) as early:
        invoicing.raise_invoice(
            session, order, order.cycles[0], by=world.staff, today=date(2026, 7, 4)
        )
    assert "5 July 2026" in early.value.message
    session.rollback()


def test_safety_is_set_by_an_officer_only_in_24_hour_times(session: Session, weekly: World) -> None:
    order = _place(session, weekly)
    with pytest.raises(NotYours):
        outcomes.set_safety(
            session, order, by=weekly.citizen, medication_times=["08:00"], not_in_bed_after=None
        )
    with pytest.raises(InvalidOrder) as bad:
        outcomes.set_safety(
            session, order, by=weekly.officer, medication_times=["8am"], not_in_bed_after=None
        )
    assert "medication_times" in bad.value.details["fields"]
    outcomes.set_safety(
        session,
        order,
        by=weekly.officer,
        medication_times=["9:30", "08:00", "08:00"],
        not_in_bed_after=None,
    )
    session.commit()
    assert order.safety == {"medication_times": ["08:00", "09:30"]}
    assert [q.key for q in outcomes.safety_questions(order)] == [
        "medication:08:00",
        "medication:09:30",
    ]


def test_cancelling_an_outcome_order_releases_its_money_and_verifies(
    session: Session, world: World, order: Order
) -> None:
    life.cancel(session, order, by=world.citizen, reason="Moving away", today=TODAY)
    session.commit()
    assert order.status is OrderStatus.CANCELLED
    assert budget_figures(session, world.budget).total.committed_pence == 0
    assert_ledger_verifies(session)


def test_an_outcome_order_until_further_notice_is_a_package_billed_the_same_way(
    session: Session, weekly: World
) -> None:
    order = _place(session, weekly, weeks=None, placement_key="ongoing")

    assert order.open_ended
    assert order.pricing is OrderPricing.OUTCOMES
    assert [(t.sequence, t.days, t.unit_price_pence) for t in order.terms] == [
        (1, ["MO"], WEEKLY_PENCE)
    ]
    # Its first invoicing period (four weeks) is held, as for any package.
    assert [c.amount_pence for c in order.cycles] == [4 * WEEKLY_PENCE]
    life.accept(session, order, by=weekly.staff)
    session.commit()
    for week in WEEKS:
        _record(session, weekly, order, week, missed=(MEAL,) if week == WEEKS[3] else ())

    invoice = invoicing.raise_invoice(session, order, order.cycles[0], by=weekly.staff, today=AFTER)
    session.commit()

    assert invoice.amount_pence == 4 * WEEKLY_PENCE - 66_66
    assert_ledger_verifies(session)


def test_an_outcome_package_changes_by_its_weekly_amount_not_its_hours(
    session: Session, weekly: World
) -> None:
    """Care bought for outcomes is one agreed amount a week: asking for other hours or days
    would multiply it (its one weekly occasion twice), so it is refused; a new weekly amount
    from the provider, with notice, is the way it changes."""
    order = _place(session, weekly, weeks=None, placement_key="ongoing")
    life.accept(session, order, by=weekly.staff)
    session.commit()

    with pytest.raises(InvalidOrder) as refused:
        variations.propose(
            session,
            order,
            by=weekly.citizen,
            party=VariationParty.PERSON,
            kind=VariationKind.SCHEDULE,
            effective_from=STARTS_ON + timedelta(days=14),
            days=["MO", "TH"],
            today=TODAY,
        )
    assert "weekly amount" in refused.value.details["fields"]["kind"]
    assert order.variations == []
    proposed = variations.propose(
        session,
        order,
        by=weekly.staff,
        party=VariationParty.PROVIDER,
        kind=VariationKind.PRICE,
        effective_from=STARTS_ON + timedelta(days=35),
        unit_price_pence=WEEKLY_PENCE + 10_00,
        today=TODAY,
    )
    assert proposed.unit_price_pence == WEEKLY_PENCE + 10_00
