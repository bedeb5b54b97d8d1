"""Reablement first (issue 18, REABLEMENT): an episode paid from a funder's reablement pot,
free to the person; its outcome recorded at the end; ongoing care continuing as a chargeable
package with the same provider, without a new order; the report. `flask ledger verify`'s
checks pass after each step and each fault."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets import funders, spending
from marketplace.budgets.models import FunderKind, FunderPot, PersonalBudget, PotPurpose
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import cycle_money, deliveries, invoicing, life, packages, reablement
from marketplace.orders.errors import InvalidOrder, NotYours
from marketplace.orders.models import (
    CycleState,
    OrderFunding,
    OrderStatus,
    ReablementEpisode,
    ReablementOutcome,
)
from marketplace.people.models import Person
from providers.models import InvoiceCycle, Organisation, Service
from tests.orders.fixtures import assert_ledger_verifies

HOURLY_PENCE = 26_00
# Two hours on Mondays and Thursdays: £104 a week.
WEEKLY_PENCE = 2 * 2 * HOURLY_PENCE
FIRST_DAY = date(2026, 6, 1)  # a Monday
POT_PENCE = 10_000_00


@dataclass
class ReablementWorld:
    person: Person
    citizen: User
    officer: User
    provider: Organisation
    staff: User
    service: Service
    pot: FunderPot

    def start(
        self, session: Session, *, weeks: int = 6, today: date = FIRST_DAY
    ) -> ReablementEpisode:
        episode = reablement.start_episode(
            session,
            person=self.person,
            service=self.service,
            pot=self.pot,
            starts_on=FIRST_DAY,
            weeks=weeks,
            units_per_occasion=2,
            days=["MO", "TH"],
            by=self.officer,
            today=today,
        )
        session.commit()
        return episode


@pytest.fixture
def reablement_world(
    session: Session,
    person: Person,
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    council_pot: FunderPot,
) -> ReablementWorld:
    citizen = make_user(Role.CITIZEN)
    citizen.person_id = person.id
    officer = make_user(Role.COUNCIL_OFFICER)
    provider = make_organisation("Chiltern Home Care")
    provider.invoice_cycle = InvoiceCycle.WEEKLY
    provider.notice_days = 7
    staff = make_user(Role.PROVIDER_STAFF, organisation=provider)
    service = make_listing(provider, price_pence=HOURLY_PENCE)
    pot = funders.open_pot(session, council_pot.funder, 2026, PotPurpose.REABLEMENT)
    funders.fund_pot(session, pot, amount_pence=POT_PENCE, key="fund:reablement:2026")
    session.commit()
    return ReablementWorld(person, citizen, officer, provider, staff, service, pot)


def _pot_left(session: Session, pot: FunderPot) -> int:
    return ledger.balance(session, pot.account_id).available


def test_a_reablement_pot_is_its_own_beside_the_budgets_pot(
    session: Session, council_pot: FunderPot, reablement_world: ReablementWorld
) -> None:
    pot = reablement_world.pot
    assert pot.id != council_pot.id
    assert pot.account_id != council_pot.account_id
    assert funders.open_pot(session, council_pot.funder, 2026) is council_pot
    assert funders.open_pot(session, council_pot.funder, 2026, PotPurpose.REABLEMENT).id == pot.id
    assert pot.label == "Hertfordshire County Council reablement 2026/27"


def test_an_episode_holds_its_weeks_from_the_pot_free_to_the_person(
    session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    episode = world.start(session)
    order = episode.order
    assert episode.ends_on == date(2026, 7, 12)  # six weeks, Monday to Sunday
    assert order.funding is OrderFunding.REABLEMENT
    assert order.budget_id is None
    assert order.ends_on is None
    assert order.status is OrderStatus.ACCEPTED
    assert [cycle.number for cycle in order.cycles] == [1, 2, 3, 4, 5, 6]
    assert all(cycle.pot_id == world.pot.id and cycle.budget_id is None for cycle in order.cycles)
    assert all(cycle.amount_pence == WEEKLY_PENCE for cycle in order.cycles)
    assert order.total_pence == 6 * WEEKLY_PENCE
    assert _pot_left(session, world.pot) == POT_PENCE - 6 * WEEKLY_PENCE
    assert reablement.free_until(order, episode) == date(2026, 7, 12)
    assert len(order.terms) == 1
    kinds = {n.kind for n in session.query(Notification).all()}
    assert NotificationKind.REABLEMENT_STARTED in kinds
    assert_ledger_verifies(session)


def test_only_an_officer_starts_one_with_a_reablement_pot_for_up_to_the_weeks_allowed(
    session: Session, reablement_world: ReablementWorld, council_pot: FunderPot
) -> None:
    world = reablement_world
    with pytest.raises(NotYours):
        reablement.start_episode(
            session,
            person=world.person,
            service=world.service,
            pot=world.pot,
            starts_on=FIRST_DAY,
            weeks=6,
            units_per_occasion=2,
            days=["MO"],
            by=world.staff,
            today=FIRST_DAY,
        )
    with pytest.raises(InvalidOrder) as refused:
        world.start(session, weeks=7)
    assert "between 1 and 6" in refused.value.details["fields"]["weeks"]
    with pytest.raises(reablement.ReablementError, match="not a reablement pot"):
        reablement.start_episode(
            session,
            person=world.person,
            service=world.service,
            pot=council_pot,
            starts_on=FIRST_DAY,
            weeks=6,
            units_per_occasion=2,
            days=["MO"],
            by=world.officer,
            today=FIRST_DAY,
        )
    session.rollback()
    assert session.query(ReablementEpisode).count() == 0
    world.start(session)
    with pytest.raises(reablement.ReablementError, match="already in reablement"):
        world.start(session)


def test_a_pot_without_the_money_refuses_the_episode_and_records_nothing(
    session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    small = funders.open_pot(
        session,
        funders.create_funder(session, name="Herts ICB", kind=FunderKind.NHS),
        2026,
        PotPurpose.REABLEMENT,
    )
    funders.fund_pot(session, small, amount_pence=5 * WEEKLY_PENCE, key="fund:small")
    session.commit()
    world.pot = small
    with pytest.raises(reablement.ReablementError) as refused:
        world.start(session)
    assert refused.value.details["shortfall_pence"] == WEEKLY_PENCE
    assert "has £520 left; this reablement needs £624" in str(refused.value)
    session.commit()
    assert session.query(ReablementEpisode).count() == 0
    assert _pot_left(session, small) == 5 * WEEKLY_PENCE
    assert_ledger_verifies(session)


def test_no_ongoing_need_ends_the_package_and_gives_the_rest_back_to_the_pot(
    session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    episode = world.start(session)
    # Ended early, on the Wednesday of week 3: weeks 4 to 6 go back to the pot.
    assert reablement.end_episode(
        session,
        episode,
        outcome=ReablementOutcome.NO_ONGOING_NEED,
        by=world.officer,
        note="Managing on her own again",
        today=date(2026, 6, 17),
    )
    session.commit()
    order = episode.order
    assert episode.ended_on == date(2026, 6, 17)
    assert order.cancelled_from == date(2026, 6, 18)
    assert [c.state for c in order.cycles] == [CycleState.HELD] * 3 + [CycleState.RELEASED] * 3
    assert _pot_left(session, world.pot) == POT_PENCE - 3 * WEEKLY_PENCE
    assert order.status is OrderStatus.ACCEPTED
    assert_ledger_verifies(session)

    # Once its bills are settled, it is completed.
    for cycle in order.cycles[:3]:
        invoicing.raise_invoice(session, order, cycle, by=world.staff, today=date(2026, 6, 22))
    session.commit()
    assert order.status is OrderStatus.COMPLETED
    assert_ledger_verifies(session)


def test_ongoing_care_continues_the_same_order_from_the_persons_budget(
    session: Session,
    reablement_world: ReablementWorld,
    make_budget: Callable[..., PersonalBudget],
) -> None:
    world = reablement_world
    budget = make_budget(council=2_000_00)
    episode = world.start(session)
    order_id = episode.order_id
    left_before = sum(spending.available_by_stream(session, budget).values())
    # Recorded on the Thursday of week 4: free to that Sunday, chargeable from week 5.
    reablement.end_episode(
        session,
        episode,
        outcome=ReablementOutcome.ONGOING_CARE,
        by=world.officer,
        note="Needs help with washing",
        today=date(2026, 6, 25),
    )
    session.commit()
    order = episode.order
    assert order.id == order_id
    assert order.funding is OrderFunding.BUDGET
    assert order.budget_id == budget.id
    assert order.organisation_id == world.provider.id
    assert order.ends_on is None
    assert reablement.free_until(order, episode) == date(2026, 6, 28)
    assert [c.pot_id == world.pot.id for c in order.cycles] == [True] * 4 + [False] * 2
    assert [c.budget_id == budget.id for c in order.cycles] == [False] * 4 + [True] * 2
    assert all(c.state is CycleState.HELD for c in order.cycles)
    assert _pot_left(session, world.pot) == POT_PENCE - 4 * WEEKLY_PENCE
    assert sum(spending.available_by_stream(session, budget).values()) == (
        left_before - 2 * WEEKLY_PENCE
    )
    commitment = cycle_money.commitment_of(session, order, order.cycles[5])
    assert commitment is not None
    assert commitment.amount_pence == WEEKLY_PENCE
    assert order.total_pence == 6 * WEEKLY_PENCE
    kinds = [n.kind for n in session.query(Notification).all()]
    assert kinds.count(NotificationKind.REABLEMENT_ENDED) >= 2
    assert_ledger_verifies(session)


def test_ongoing_care_with_no_budget_is_refused_and_changes_nothing(
    session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    episode = world.start(session)
    with pytest.raises(reablement.ReablementError, match="no open personal budget"):
        reablement.end_episode(
            session,
            episode,
            outcome=ReablementOutcome.ONGOING_CARE,
            by=world.officer,
            note="",
            today=date(2026, 6, 10),
        )
    session.rollback()
    session.expire_all()
    assert episode.outcome is None
    assert episode.order.funding is OrderFunding.REABLEMENT
    assert all(c.pot_id == world.pot.id for c in episode.order.cycles)
    assert _pot_left(session, world.pot) == POT_PENCE - 6 * WEEKLY_PENCE
    assert_ledger_verifies(session)


def test_ongoing_care_the_budget_cannot_cover_is_refused_and_changes_nothing(
    session: Session,
    reablement_world: ReablementWorld,
    make_budget: Callable[..., PersonalBudget],
) -> None:
    world = reablement_world
    # Enough for one of the three weeks still held, not for all three.
    budget = make_budget(council=WEEKLY_PENCE + 1)
    episode = world.start(session)
    with pytest.raises(reablement.ReablementError, match="short") as refused:
        reablement.end_episode(
            session,
            episode,
            outcome=ReablementOutcome.ONGOING_CARE,
            by=world.officer,
            note="",
            today=date(2026, 6, 17),
        )
    assert refused.value.details["shortfall_pence"] > 0
    session.commit()
    session.expire_all()
    order = episode.order
    assert episode.outcome is None
    assert order.funding is OrderFunding.REABLEMENT
    assert order.budget_id is None
    assert all(c.pot_id == world.pot.id for c in order.cycles)
    assert order.total_pence == 6 * WEEKLY_PENCE
    assert sum(spending.available_by_stream(session, budget).values()) == WEEKLY_PENCE + 1
    assert_ledger_verifies(session)


def test_the_outcome_recorded_twice_records_it_once_and_another_is_refused(
    session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    episode = world.start(session)

    def record(outcome: ReablementOutcome) -> bool:
        return reablement.end_episode(
            session, episode, outcome=outcome, by=world.officer, note="", today=date(2026, 7, 13)
        )

    assert record(ReablementOutcome.NO_ONGOING_NEED)
    session.commit()
    assert not record(ReablementOutcome.NO_ONGOING_NEED)
    with pytest.raises(reablement.ReablementError, match="recorded already"):
        record(ReablementOutcome.ONGOING_CARE)
    session.commit()
    assert episode.ended_on == date(2026, 7, 12)  # recorded late: it ended on its last day
    ended = [e for e in episode.order.events if e.kind == "reablement_ended"]
    assert len(ended) == 1
    assert_ledger_verifies(session)


def test_the_report_counts_episodes_ended_with_no_ongoing_need(
    session: Session,
    reablement_world: ReablementWorld,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    make_budget: Callable[..., PersonalBudget],
) -> None:
    world = reablement_world
    make_budget(council=2_000_00)
    other = make_organisation("Herts Reablement Ltd")
    other.invoice_cycle = InvoiceCycle.WEEKLY
    other_service = make_listing(other, price_pence=HOURLY_PENCE)
    people = [world.person] + [Person(full_name=f"Person {n}") for n in range(3)]
    session.add_all(people[1:])
    session.commit()
    endings = [
        (world.service, ReablementOutcome.ONGOING_CARE, date(2026, 6, 20)),
        (world.service, ReablementOutcome.NO_ONGOING_NEED, date(2026, 6, 24)),
        (other_service, ReablementOutcome.NO_ONGOING_NEED, date(2026, 7, 2)),
    ]
    for person, (service, outcome, ended) in zip(people, endings, strict=False):
        episode = reablement.start_episode(
            session,
            person=person,
            service=service,
            pot=world.pot,
            starts_on=FIRST_DAY,
            weeks=6,
            units_per_occasion=1,
            days=["MO"],
            by=world.officer,
            today=FIRST_DAY,
        )
        reablement.end_episode(
            session, episode, outcome=outcome, by=world.officer, note="", today=ended
        )
        session.commit()
    # The fourth is still running.
    reablement.start_episode(
        session,
        person=people[3],
        service=other_service,
        pot=world.pot,
        starts_on=FIRST_DAY,
        weeks=6,
        units_per_occasion=1,
        days=["MO"],
        by=world.officer,
        today=FIRST_DAY,
    )
    session.commit()

    report = reablement.reablement_report(session, date(2026, 6, 1), date(2026, 7, 31))
    assert (report.total.ended, report.total.no_ongoing_need) == (3, 2)
    assert report.total.percent == "67%"
    assert report.total.meets_target
    assert {name: (t.ended, t.no_ongoing_need) for name, t in report.by_provider.items()} == {
        "Chiltern Home Care": (2, 1),
        "Herts Reablement Ltd": (1, 1),
    }
    assert {month: (t.ended, t.no_ongoing_need) for month, t in report.by_month.items()} == {
        date(2026, 6, 1): (2, 1),
        date(2026, 7, 1): (1, 1),
    }
    assert report.still_running == 1
    june = reablement.reablement_report(session, date(2026, 6, 1), date(2026, 6, 30))
    assert (june.total.ended, june.total.no_ongoing_need) == (2, 1)
    assert june.total.percent == "50%"
    assert_ledger_verifies(session)


def test_the_daily_job_waits_for_the_outcome_then_rolls_the_package_from_the_budget(
    session: Session,
    reablement_world: ReablementWorld,
    make_budget: Callable[..., PersonalBudget],
) -> None:
    world = reablement_world
    budget = make_budget(council=2_000_00)
    episode = world.start(session)
    packages.roll_packages(session, date(2026, 7, 10))
    session.commit()
    assert len(episode.order.cycles) == 6  # the seventh waits for the officer's outcome
    # Recorded three days late: free to its last day, the missed cycles made at once.
    reablement.end_episode(
        session,
        episode,
        outcome=ReablementOutcome.ONGOING_CARE,
        by=world.officer,
        note="",
        today=date(2026, 7, 15),
    )
    session.commit()
    order = episode.order
    assert episode.ended_on == date(2026, 7, 12)
    assert [c.number for c in order.cycles] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert all(c.pot_id == world.pot.id for c in order.cycles[:6])
    assert all(c.budget_id == budget.id for c in order.cycles[6:])
    assert order.total_pence == 8 * WEEKLY_PENCE
    assert_ledger_verifies(session)
    packages.roll_packages(session, date(2026, 7, 15))
    session.commit()
    assert len(order.cycles) == 8
    assert_ledger_verifies(session)


def test_a_reablement_cycle_billed_and_settled_is_paid_from_the_pot(
    session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    episode = world.start(session)
    order = episode.order
    for day in (date(2026, 6, 1), date(2026, 6, 4)):
        delivery = deliveries.record_delivery(
            session, order, by=world.staff, delivered_on=day, units=2, today=day
        )
        deliveries.confirm_delivery(session, delivery, by=world.citizen)
    session.commit()
    invoice = invoicing.raise_invoice(
        session, order, order.cycles[0], by=world.staff, today=date(2026, 6, 8)
    )
    session.commit()
    assert invoice.amount_pence == WEEKLY_PENCE
    assert order.cycles[0].state is CycleState.SETTLED
    use = reablement.pot_use(session, world.pot)
    assert use["paid"] == WEEKLY_PENCE
    assert use["held"] == 5 * WEEKLY_PENCE
    assert use["left"] == POT_PENCE - 6 * WEEKLY_PENCE
    assert_ledger_verifies(session)


def test_an_episode_whose_order_the_person_cancelled_records_no_ongoing_need_only(
    session: Session,
    reablement_world: ReablementWorld,
    make_budget: Callable[..., PersonalBudget],
) -> None:
    world = reablement_world
    make_budget(council=2_000_00)
    episode = world.start(session, today=date(2026, 5, 28))
    life.cancel(session, episode.order, by=world.citizen, today=date(2026, 5, 28))
    session.commit()
    # The provider's 7 days' notice: cut short from 4 June, the weeks after it back to the pot.
    assert episode.order.cancelled_from == date(2026, 6, 4)
    assert _pot_left(session, world.pot) == POT_PENCE - WEEKLY_PENCE

    with pytest.raises(reablement.ReablementError, match="cannot carry on"):
        reablement.end_episode(
            session,
            episode,
            outcome=ReablementOutcome.ONGOING_CARE,
            by=world.officer,
            note="",
            today=date(2026, 6, 3),
        )
    session.rollback()
    assert reablement.end_episode(
        session,
        episode,
        outcome=ReablementOutcome.NO_ONGOING_NEED,
        by=world.officer,
        note="She said no to it",
        today=date(2026, 6, 3),
    )
    session.commit()
    assert episode.outcome is ReablementOutcome.NO_ONGOING_NEED
    assert episode.ended_on == date(2026, 6, 3)
    assert _pot_left(session, world.pot) == POT_PENCE - WEEKLY_PENCE
    assert reablement.current_episode(session, world.person) is None
    assert_ledger_verifies(session)


def test_ongoing_care_with_held_weeks_in_the_next_budget_period_is_refused_for_now(
    session: Session,
    reablement_world: ReablementWorld,
    make_budget: Callable[..., PersonalBudget],
) -> None:
    world = reablement_world
    make_budget(council=2_000_00, ends_on=date(2026, 6, 21))
    episode = world.start(session)
    with pytest.raises(reablement.ReablementError, match="once the next budget period") as no:
        reablement.end_episode(
            session,
            episode,
            outcome=ReablementOutcome.ONGOING_CARE,
            by=world.officer,
            note="",
            today=date(2026, 6, 10),
        )
    assert no.value.details["starts_on"] == "2026-06-22"
    session.rollback()
    session.expire_all()
    assert episode.outcome is None
    assert all(c.pot_id == world.pot.id for c in episode.order.cycles)
    assert_ledger_verifies(session)
