"""Helpers for the packages tests (PACKAGES, issue 18): a person with a budget chosen per
test, a weekly-invoicing home care provider, and packages placed through checkout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.models import FunderPot, PaymentFrequency, PersonalBudget
from marketplace.orders import life, packages
from marketplace.orders.models import Order, ScheduleKind
from marketplace.orders.schedule import Schedule
from marketplace.people.models import Person
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers.models import InvoiceCycle, Organisation, Service

HOURLY_PENCE = 26_00
# Two hours on Mondays and Thursdays: £104 a week.
WEEKLY_PENCE = 2 * 2 * HOURLY_PENCE
FIRST_DAY = date(2026, 6, 1)  # a Monday


@dataclass
class PackageWorld:
    person: Person
    citizen: User
    officer: User
    provider: Organisation
    staff: User
    service: Service
    make_budget: Callable[..., PersonalBudget]

    def schedule(
        self, *, starts_on: date = FIRST_DAY, units: int = 2, days: tuple[str, ...] = ("MO", "TH")
    ) -> Schedule:
        return Schedule(ScheduleKind.RECURRING, starts_on, units, None, days)

    def place(
        self,
        session: Session,
        *,
        today: date = FIRST_DAY,
        starts_on: date = FIRST_DAY,
        key: str = "package",
        cycles_ahead: int = 1,
        accept: bool = True,
    ) -> Order:
        order = packages.place_package(
            session,
            self.person,
            self.service,
            self.schedule(starts_on=starts_on),
            by=self.citizen,
            today=today,
            placement_key=key,
            cycles_ahead=cycles_ahead,
        )
        if accept:
            life.accept(session, order, by=self.staff)
        session.commit()
        return order


@pytest.fixture
def package_world(
    session: Session,
    person: Person,
    make_budget: Callable[..., PersonalBudget],
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    council_pot: FunderPot,
) -> PackageWorld:
    """Everything but the budget: each test makes the one it needs."""
    citizen = make_user(Role.CITIZEN)
    citizen.person_id = person.id
    officer = make_user(Role.COUNCIL_OFFICER)
    provider = make_organisation("Chiltern Home Care")
    provider.invoice_cycle = InvoiceCycle.WEEKLY
    provider.notice_days = 7
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
    return PackageWorld(person, citizen, officer, provider, staff, service, make_budget)


__all__ = ["PaymentFrequency"]
