"""Open-ended packages (PACKAGES, issue 18): placing one holds its first cycles; the daily job
holds each next cycle from the budget whose period contains its first day, run twice or late,
across instalments and across a budget period; a cycle that cannot be covered is flagged and
never skipped; cancelling stops it. `flask ledger verify`'s checks pass after each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets import spending
from marketplace.budgets.allocations import release_due_instalments, revise_stream
from marketplace.budgets.models import PaymentFrequency, StreamKind
from marketplace.budgets.schedule import instalment_dates
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import deliveries, invoicing, life, packages
from marketplace.orders.errors import InvalidOrder
from marketplace.orders.models import (
    CycleState,
    Order,
    OrderEvent,
    PackageShortfall,
    PackageTerms,
)
from marketplace.orders.schedule import Schedule
from marketplace.people import consents
from marketplace.people.models import Authority, ConsentScope
from marketplace.types import utcnow
from providers.models import Organisation
from tests.orders.fixtures import assert_ledger_verifies
from tests.packages import package_fixtures
from tests.packages.package_fixtures import FIRST_DAY, HOURLY_PENCE, WEEKLY_PENCE, PackageWorld

package_world = package_fixtures.package_world

YEAR_END = date(2027, 3, 31)


def _notified(session: Session, user_id: object, kind: NotificationKind) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
        )
    )


def _roll(session: Session, today: date) -> packages.RollReport:
    release_due_instalments(session, today)
    report = packages.roll_packages(session, today)
    session.commit()
    return report


def test_placing_a_package_holds_only_its_first_cycle_and_writes_its_first_terms(
    session: Session, package_world: PackageWorld
) -> None:
    budget = package_world.make_budget(council=2_000_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session)

    assert order.open_ended
    assert (order.ends_on, order.weeks) == (None, None)
    assert [(c.number, c.starts_on, c.ends_on) for c in order.cycles] == [
        (1, FIRST_DAY, FIRST_DAY + timedelta(days=6))
    ]
    assert order.cycles[0].budget_id == budget.id
    assert order.total_pence == WEEKLY_PENCE == order.cycles[0].amount_pence
    assert [(t.sequence, t.effective_from, t.days) for t in order.terms] == [
        (1, FIRST_DAY, ["MO", "TH"])
    ]
    assert sum(spending.available_by_stream(session, budget).values()) == (2_000_00 - WEEKLY_PENCE)
    assert_ledger_verifies(session)


def test_a_package_may_hold_several_cycles_ahead(
    session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(council=2_000_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session, cycles_ahead=3)
    assert [c.number for c in order.cycles] == [1, 2, 3]
    assert order.total_pence == 3 * WEEKLY_PENCE
    assert order.cycles_ahead == 3
    packages.roll_packages(session, FIRST_DAY)
    session.commit()
    # Three cycles ahead of today: the one starting on 22 June too.
    assert [c.number for c in order.cycles] == [1, 2, 3, 4]
    assert_ledger_verifies(session)


def test_a_fixed_schedule_is_not_a_package(session: Session, package_world: PackageWorld) -> None:
    package_world.make_budget(council=2_000_00, starts_on=date(2026, 4, 1))
    fixed = Schedule(package_world.schedule().kind, FIRST_DAY, 2, 4, ("MO",))
    with pytest.raises(InvalidOrder) as refusal:
        packages.place_package(
            session,
            package_world.person,
            package_world.service,
            fixed,
            by=package_world.citizen,
            today=FIRST_DAY,
            placement_key="fixed",
        )
    assert "weeks" in refusal.value.details["fields"]


def test_the_daily_job_run_twice_holds_each_cycle_once(
    session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(council=2_000_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session)

    first = _roll(session, FIRST_DAY)
    second = _roll(session, FIRST_DAY)

    assert [c.number for c in first.held] == [2]
    assert second.held == []
    assert [c.number for c in order.cycles] == [1, 2]
    assert order.total_pence == 2 * WEEKLY_PENCE
    assert_ledger_verifies(session)


def test_the_daily_job_run_late_catches_up_every_missed_cycle(
    session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(council=2_000_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session)

    # Not run for three weeks: cycles 2, 3 and 4 were missed, and 5 is now a cycle ahead.
    report = _roll(session, FIRST_DAY + timedelta(weeks=3))

    assert [c.number for c in report.held] == [2, 3, 4, 5]
    assert [c.starts_on for c in order.cycles] == [FIRST_DAY + timedelta(weeks=n) for n in range(5)]
    assert all(c.state is CycleState.HELD for c in order.cycles)
    assert order.total_pence == 5 * WEEKLY_PENCE
    assert _roll(session, FIRST_DAY + timedelta(weeks=3)).held == []
    assert_ledger_verifies(session)


def test_a_weekly_package_on_a_four_weekly_budget_is_held_as_each_instalment_comes(
    session: Session, package_world: PackageWorld
) -> None:
    # Each four-weekly instalment pays exactly four weeks of the package.
    instalments = len(instalment_dates(FIRST_DAY, YEAR_END, PaymentFrequency.FOUR_WEEKLY))
    budget = package_world.make_budget(
        frequency=PaymentFrequency.FOUR_WEEKLY,
        today=FIRST_DAY,
        starts_on=FIRST_DAY,
        council=4 * WEEKLY_PENCE * instalments,
    )
    order = package_world.place(session)

    day = FIRST_DAY
    waited = 0
    while day < FIRST_DAY + timedelta(weeks=11):
        report = _roll(session, day)
        waited += report.waiting
        assert report.flagged == []
        # Never more held than released: every cycle up to a week ahead is held, except the
        # first of the next instalment, which waits for its release.
        released = 4 * WEEKLY_PENCE * (1 + (day - FIRST_DAY).days // 28)
        assert order.total_pence <= released
        ahead = (day + timedelta(days=7) - FIRST_DAY).days // 7 + 1
        assert len(order.cycles) == min(ahead, released // WEEKLY_PENCE)
        assert spending.available_by_stream(session, budget) == {
            budget.streams[0].id: released - order.total_pence
        }
        day += timedelta(days=1)
    # Three instalments so far (1 June, 29 June, 27 July), twelve weekly cycles.
    assert len(order.cycles) == 12
    assert waited > 0
    assert session.scalars(select(PackageShortfall)).all() == []
    assert_ledger_verifies(session)


def test_a_package_carries_over_into_the_next_periods_budget(
    session: Session, package_world: PackageWorld
) -> None:
    first = package_world.make_budget(
        council=1_000_00, starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 28)
    )
    order = package_world.place(session)
    following = package_world.make_budget(
        council=2_000_00, today=FIRST_DAY, starts_on=date(2026, 6, 29), ends_on=YEAR_END
    )

    before = _roll(session, date(2026, 6, 22))
    report = _roll(session, date(2026, 6, 29))

    # On 22 June the next budget's money is not released yet (it is due on 29 June): the
    # cycle waits for it, unflagged, and is held on the day.
    assert (before.waiting, before.flagged, before.carried) == (1, [], [])
    assert [(c.number, c.budget_id) for c in order.cycles] == [
        (1, first.id),
        (2, first.id),
        (3, first.id),
        (4, first.id),
        (5, following.id),
        (6, following.id),
    ]
    assert report.carried == [(order, following.id)]
    assert order.budget_id == first.id  # placed against the first
    assert sum(spending.available_by_stream(session, following).values()) == (
        2_000_00 - 2 * WEEKLY_PENCE
    )
    # The person is told once, and the timeline says so.
    carried = _notified(session, package_world.citizen.id, NotificationKind.PACKAGE_CARRIED)
    assert len(carried) == 1
    assert "29 June 2026" in carried[0].title
    events = session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id))
    kinds = [event.kind for event in events]
    assert kinds.count("carried") == 1
    assert_ledger_verifies(session)


def test_with_no_budget_for_the_next_period_the_cycle_is_flagged_not_skipped(
    session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(
        council=1_000_00, starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 28)
    )
    order = package_world.place(session)

    # A week before the cycle of 29 June, nothing pays for it.
    report = _roll(session, date(2026, 6, 22))
    again = _roll(session, date(2026, 6, 23))

    assert [c.number for c in order.cycles] == [1, 2, 3, 4]
    [flag] = report.flagged
    assert again.flagged == []
    assert (flag.cycle_starts_on, flag.needed_pence, flag.available_pence) == (
        date(2026, 6, 29),
        WEEKLY_PENCE,
        0,
    )
    assert flag.resolved_at is None
    for user in (package_world.citizen, package_world.officer, package_world.staff):
        [told] = _notified(session, user.id, NotificationKind.PACKAGE_SHORTFALL)
        assert order.reference in told.title
    person_told = _notified(session, package_world.citizen.id, NotificationKind.PACKAGE_SHORTFALL)
    assert "no budget yet" in person_told[0].body
    assert "review your budget" in person_told[0].body
    assert_ledger_verifies(session)

    # The council sets up the next budget: the next run holds the cycle and resolves the flag.
    following = package_world.make_budget(
        council=2_000_00, today=date(2026, 6, 24), starts_on=date(2026, 6, 29), ends_on=YEAR_END
    )
    # Its money is due on 29 June: the flag is resolved at once, the cycle held on the day.
    resolved = _roll(session, date(2026, 6, 24))
    assert (resolved.held, resolved.waiting) == ([], 1)
    session.refresh(flag)
    assert (flag.resolution, flag.resolved_at is not None) == ("covered", True)
    assert [c.number for c in _roll(session, date(2026, 6, 29)).held] == [5, 6]
    assert order.cycles[4].budget_id == following.id
    assert_ledger_verifies(session)


def test_a_budget_reduced_below_what_the_package_needs_flags_the_next_cycle(
    session: Session, package_world: PackageWorld
) -> None:
    budget = package_world.make_budget(council=1_000_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session)
    _roll(session, FIRST_DAY)  # cycles 1 and 2 held: £208
    stream = budget.streams[0]
    assert stream.kind is StreamKind.COUNCIL
    revise_stream(session, stream, amount_pence=300_00, reason="Reassessed", key="cut")
    session.commit()

    report = _roll(session, FIRST_DAY + timedelta(weeks=1))

    assert [c.number for c in order.cycles] == [1, 2]
    [flag] = report.flagged
    assert (flag.cycle_starts_on, flag.needed_pence, flag.available_pence) == (
        FIRST_DAY + timedelta(weeks=2),
        WEEKLY_PENCE,
        300_00 - 2 * WEEKLY_PENCE,
    )
    assert_ledger_verifies(session)

    revise_stream(session, stream, amount_pence=1_000_00, reason="Review", key="restore")
    session.commit()
    assert [c.number for c in _roll(session, FIRST_DAY + timedelta(weeks=1)).held] == [3]
    session.refresh(flag)
    assert flag.resolution == "covered"
    assert_ledger_verifies(session)


def test_a_shortfall_far_ahead_is_not_flagged_until_the_notice_days(
    session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(council=150_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session, cycles_ahead=1)
    order.cycles_ahead = 3  # hold three weeks ahead from now on
    session.commit()
    report = packages.roll_packages(session, FIRST_DAY, notice_days=7)
    session.commit()
    # Cycle 2 starts in 7 days and cannot be covered: flagged; cycle 3 is never tried.
    assert [f.cycle_starts_on for f in report.flagged] == [FIRST_DAY + timedelta(weeks=1)]
    assert_ledger_verifies(session)


def test_cancelling_a_package_stops_its_cycles_and_resolves_its_flags(
    session: Session, package_world: PackageWorld
) -> None:
    budget = package_world.make_budget(council=300_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session)
    _roll(session, FIRST_DAY)  # cycle 2 held
    flagged = _roll(session, FIRST_DAY + timedelta(weeks=1)).flagged  # cycle 3: £92 left
    assert len(flagged) == 1

    cancelled_from = life.cancel(
        session, order, by=package_world.citizen, today=FIRST_DAY + timedelta(weeks=1)
    )
    session.commit()

    assert cancelled_from == FIRST_DAY + timedelta(weeks=2)
    session.refresh(flagged[0])
    assert flagged[0].resolution == "cancelled"
    revise_stream(session, budget.streams[0], amount_pence=1_000_00, reason="Up", key="up")
    session.commit()
    assert _roll(session, FIRST_DAY + timedelta(weeks=2)).held == []
    assert [c.number for c in order.cycles] == [1, 2]
    assert order.status.is_open
    assert_ledger_verifies(session)


def test_a_package_cancelled_before_it_starts_makes_no_more_cycles(
    session: Session, package_world: PackageWorld
) -> None:
    budget = package_world.make_budget(council=1_000_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session, starts_on=FIRST_DAY + timedelta(weeks=2))
    assert life.cancel(session, order, by=package_world.citizen, today=FIRST_DAY) is None
    session.commit()
    assert _roll(session, FIRST_DAY + timedelta(weeks=2)).held == []
    assert [c.state for c in order.cycles] == [CycleState.RELEASED]
    assert sum(spending.available_by_stream(session, budget).values()) == 1_000_00
    assert_ledger_verifies(session)


def test_a_cancellation_beyond_the_cycles_made_is_billed_up_to_its_day(
    session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(council=1_000_00, starts_on=date(2026, 4, 1))
    package_world.provider.notice_days = 17
    session.commit()
    order = package_world.place(session)
    # Cancelled on 1 June with 17 days' notice: from Thursday 18 June, in cycle 3, not made yet.
    assert life.cancel(session, order, by=package_world.citizen, today=FIRST_DAY) == date(
        2026, 6, 18
    )
    session.commit()
    assert not life.complete_if_done(session, order, by=None)
    _roll(session, date(2026, 6, 15))
    # Cycle 3 is made for the Monday before the cancellation only; no cycle 4.
    assert [(c.number, c.amount_pence) for c in order.cycles] == [
        (1, WEEKLY_PENCE),
        (2, WEEKLY_PENCE),
        (3, WEEKLY_PENCE // 2),
    ]
    assert_ledger_verifies(session)


def test_an_order_placed_for_someone_else_is_not_rolled(
    session: Session, package_world: PackageWorld
) -> None:
    """An order for a fixed number of weeks is never touched by the job."""
    package_world.make_budget(council=2_000_00, starts_on=date(2026, 4, 1))
    fixed = Schedule(package_world.schedule().kind, FIRST_DAY, 2, 2, ("MO",))
    from marketplace.orders import checkout

    order = checkout.place_order(
        session,
        package_world.person,
        package_world.service,
        fixed,
        by=package_world.citizen,
        today=FIRST_DAY,
        placement_key="fixed",
    )
    session.commit()
    assert _roll(session, FIRST_DAY + timedelta(weeks=1)).held == []
    assert len(order.cycles) == 2
    assert isinstance(order, Order)


def test_what_cancelling_gives_back_later_follows_the_packages_terms(
    session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(council=1_000_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session)
    _roll(session, FIRST_DAY)  # cycle 2, 8 to 14 June
    # Three hours a visit from 8 June (as an accepted variation would have it).
    session.add(
        PackageTerms(
            order_id=order.id,
            sequence=2,
            effective_from=date(2026, 6, 8),
            units_per_occasion=3,
            days=["MO", "TH"],
            unit_price_pence=HOURLY_PENCE,
        )
    )
    session.commit()
    session.refresh(order)

    # Cancelled from Thursday 11 June: that visit, at three hours, comes back once billed.
    money = life.cancellation_money(order, date(2026, 6, 11))
    assert (money.now_pence, money.later_pence) == (0, 3 * HOURLY_PENCE)
    assert money.later_after == date(2026, 6, 14)


def test_a_flagged_package_whose_cycles_are_all_paid_passes_ledger_verify(
    session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(council=150_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session)
    assert len(_roll(session, FIRST_DAY).flagged) == 1  # cycle 2: £46 left of £104
    cycle = order.cycles[0]
    for day in (FIRST_DAY, FIRST_DAY + timedelta(days=3)):
        deliveries.record_delivery(
            session, order, by=package_world.staff, delivered_on=day, units=2, today=day
        )
    invoice = invoicing.raise_invoice(
        session, order, cycle, by=package_world.staff, today=FIRST_DAY + timedelta(days=7)
    )
    invoicing.settle_invoice(session, invoice, by=None)
    session.commit()
    assert [c.state for c in order.cycles] == [CycleState.SETTLED]
    assert order.status.is_open
    assert_ledger_verifies(session)


def test_a_shortfall_is_told_to_whoever_holds_the_persons_consent(
    session: Session, package_world: PackageWorld, make_user: Callable[..., User]
) -> None:
    broker, other_broker = make_user(Role.BROKER), make_user(Role.BROKER)
    now = utcnow()
    for holder, ends_at in ((broker, now + timedelta(days=90)), (other_broker, None)):
        consent = consents.give(
            session,
            person=package_world.person,
            scopes=[ConsentScope.SEE, ConsentScope.ORDER],
            authority=Authority.PERSON,
            given_by_name=package_world.person.full_name,
            starts_at=now - timedelta(minutes=1),
            ends_at=ends_at or now + timedelta(days=1),
            recorded_by=package_world.citizen,
            brokerage=session.get(Organisation, holder.organisation_id),
        )
        if ends_at is None:  # the other brokerage's consent was withdrawn
            consents.revoke(session, consent, by=package_world.citizen)
    session.commit()
    package_world.make_budget(council=150_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session)

    assert len(_roll(session, FIRST_DAY).flagged) == 1

    [told] = _notified(session, broker.id, NotificationKind.PACKAGE_SHORTFALL)
    assert order.reference in told.title
    assert "review your budget" in told.body
    assert _notified(session, other_broker.id, NotificationKind.PACKAGE_SHORTFALL) == []
