"""Helpers for the periods tests (PERIODS, issue 18): a person whose year is cut into two
budget periods (April to September, October to March, both in the 2026/27 pots), a
weekly-invoicing home care provider, and packages placed (PACKAGES's `place_package`) and then
held cycle by cycle from the budget chosen by each test (`hold_next_cycle`), as the roll job
does from the budget whose period contains each cycle's first day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.models import FunderPot, PaymentFrequency, PersonalBudget
from marketplace.ledger import verify_ledger
from marketplace.orders import cycle_money, deliveries, invoicing, life, packages
from marketplace.orders.models import Order, OrderCycle, ScheduleKind
from marketplace.orders.package_terms import cycle_cost
from marketplace.orders.schedule import Schedule
from marketplace.orders.verify import check_orders
from marketplace.people.models import Person
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers.models import InvoiceCycle, Organisation, Service

HOURLY_PENCE = 26_00
# Two hours on Mondays and Thursdays: £104 a week.
WEEKLY_PENCE = 2 * 2 * HOURLY_PENCE
FIRST_PERIOD = (date(2026, 4, 1), date(2026, 9, 30))
SECOND_PERIOD = (date(2026, 10, 1), date(2027, 3, 31))
# A Monday two weeks before the first period ends: cycle 1 is 14 to 20 September, cycle 2
# 21 to 27 September, cycle 3 28 September to 4 October (it starts in the first period, so
# the first budget pays it), cycle 4 from 5 October (the second budget's).
PACKAGE_STARTS = date(2026, 9, 14)


@dataclass
class PeriodWorld:
    person: Person
    citizen: User
    officer: User
    provider: Organisation
    staff: User
    service: Service
    make_budget: Callable[..., PersonalBudget]

    def first_budget(self, council: int = 2_000_00) -> PersonalBudget:
        return self.make_budget(
            starts_on=FIRST_PERIOD[0],
            ends_on=FIRST_PERIOD[1],
            today=FIRST_PERIOD[0],
            council=council,
        )

    def second_budget(
        self,
        council: int = 2_000_00,
        frequency: PaymentFrequency = PaymentFrequency.ANNUAL,
        today: date = SECOND_PERIOD[0],
    ) -> PersonalBudget:
        """The next period's budget, with what is due by `today` released (by default its
        first day's instalment)."""
        return self.make_budget(
            starts_on=SECOND_PERIOD[0],
            ends_on=SECOND_PERIOD[1],
            today=today,
            frequency=frequency,
            council=council,
        )

    def package(
        self,
        session: Session,
        *,
        starts_on: date = PACKAGE_STARTS,
        today: date | None = None,
        key: str = "package",
    ) -> Order:
        """A package placed (`packages.place_package`: its first weekly cycle held) and
        accepted."""
        order = packages.place_package(
            session,
            self.person,
            self.service,
            Schedule(ScheduleKind.RECURRING, starts_on, 2, None, ("MO", "TH")),
            by=self.citizen,
            today=today or starts_on,
            placement_key=key,
        )
        life.accept(session, order, by=self.staff)
        session.commit()
        return order


def hold_next_cycle(session: Session, order: Order, budget: PersonalBudget) -> OrderCycle:
    """Make the package's next cycle and hold it from `budget`, as the roll job does."""
    number = max(cycle.number for cycle in order.cycles) + 1
    cost = cycle_cost(order, number)
    cycle = OrderCycle(
        order_id=order.id,
        budget_id=budget.id,
        number=number,
        starts_on=cost.starts_on,
        ends_on=cost.ends_on,
        units=cost.units,
        amount_pence=cost.amount_pence,
        commitment_key=f"order:{order.id}:cycle:{number}",
        split={},
    )
    session.add(cycle)
    session.flush()
    cycle_money.hold_cycle(session, order, cycle)
    order.total_pence += cycle.amount_pence
    session.commit()
    return cycle


def settle_cycle(session: Session, world: PeriodWorld, order: Order, cycle: OrderCycle) -> None:
    """Every visit of the cycle delivered and confirmed, then invoiced (and so settled)."""
    for day in deliveries.visits_in(order, cycle):
        delivery = deliveries.record_delivery(
            session, order, by=world.staff, delivered_on=day, units=2, today=day
        )
        deliveries.confirm_delivery(session, delivery, by=world.citizen)
    invoicing.raise_invoice(session, order, cycle, by=world.staff, today=cycle.ends_on)
    session.commit()


def assert_ledger_verifies(session: Session) -> None:
    report = verify_ledger(session)
    assert report.ok, report.problems
    problems, _ = check_orders(session)
    assert problems == [], problems


@pytest.fixture
def period_world(
    session: Session,
    person: Person,
    make_budget: Callable[..., PersonalBudget],
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    council_pot: FunderPot,
) -> PeriodWorld:
    """Everything but the budgets: each test makes the ones it needs."""
    citizen = make_user(Role.CITIZEN)
    citizen.person_id = person.id
    officer = make_user(Role.COUNCIL_OFFICER)
    provider = make_organisation("Chiltern Home Care")
    provider.invoice_cycle = InvoiceCycle.WEEKLY
    staff = make_user(Role.PROVIDER_STAFF, organisation=provider)
    service = make_listing(provider, price_pence=HOURLY_PENCE)
    plan = draft_plan(
        session,
        person,
        by=citizen,
        outcomes="To stay living at home.",
        items=[PlanItemSpec("help-at-home", 300_00)],
    )
    approve_plan(session, plan, by=officer)
    session.commit()
    return PeriodWorld(person, citizen, officer, provider, staff, service, make_budget)
