"""Fixtures for orders: a citizen with a budget of three streams and an approved support
plan for help at home, a provider with staff and a published home care listing, and an
officer. Dates are fixed: the budget is for 2026/27 and `TODAY` is early in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.models import FunderPot, PersonalBudget
from marketplace.ledger import verify_ledger
from marketplace.orders.models import ScheduleKind
from marketplace.orders.schedule import Schedule
from marketplace.orders.verify import check_orders
from marketplace.people.models import Person
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers.models import Organisation, Service

TODAY = date(2026, 6, 1)  # a Monday
# Council £2,000, NHS £1,000 (health categories only), client contribution £300 (drawn first).
COUNCIL_PENCE = 2_000_00
NHS_PENCE = 1_000_00
CONTRIBUTION_PENCE = 300_00
HOURLY_PENCE = 26_00
# A Monday after the default schedule (2 hours on Mondays and Thursdays for 4 weeks from Monday
# 8 June) has ended, and that schedule's eight visits.
AFTER_THE_SCHEDULE = datetime(2026, 7, 6, 11, 0, tzinfo=UTC)
OCCASIONS = [date(2026, 6, d) for d in (8, 11, 15, 18, 22, 25, 29)] + [date(2026, 7, 2)]


@dataclass
class World:
    person: Person
    citizen: User
    officer: User
    budget: PersonalBudget
    provider: Organisation
    staff: User
    other_staff: User
    service: Service

    def schedule(
        self,
        *,
        units: int = 2,
        starts_on: date = date(2026, 6, 8),
        weeks: int | None = 4,
        days: tuple[str, ...] = ("MO", "TH"),
    ) -> Schedule:
        if weeks is None:
            return Schedule(ScheduleKind.ONE_OFF, starts_on, units)
        return Schedule(ScheduleKind.RECURRING, starts_on, units, weeks, days)


@pytest.fixture
def world(
    app: Flask,
    session: Session,
    person: Person,
    make_budget: Callable[..., PersonalBudget],
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    council_pot: FunderPot,
) -> World:
    budget = make_budget(
        council=COUNCIL_PENCE, nhs=NHS_PENCE, client_contribution=CONTRIBUTION_PENCE
    )
    citizen = make_user(Role.CITIZEN)
    citizen.person_id = person.id
    officer = make_user(Role.COUNCIL_OFFICER)
    provider = make_organisation("Chiltern Home Care")
    staff = make_user(Role.PROVIDER_STAFF, organisation=provider)
    other_staff = make_user(Role.PROVIDER_STAFF)
    service = make_listing(provider, price_pence=HOURLY_PENCE)
    plan = draft_plan(
        session,
        person,
        by=citizen,
        outcomes="To stay living at home and get washed and dressed each morning.",
        items=[PlanItemSpec("help-at-home", 300_00)],
    )
    approve_plan(session, plan, by=officer)
    session.commit()
    return World(person, citizen, officer, budget, provider, staff, other_staff, service)


def assert_ledger_verifies(session: Session) -> None:
    report = verify_ledger(session)
    assert report.ok, report.problems
    problems, _ = check_orders(session)
    assert problems == []


@pytest.fixture
def after_the_schedule() -> Iterator[None]:
    """The clock (and so the pages' "today") at AFTER_THE_SCHEDULE."""
    with time_machine.travel(AFTER_THE_SCHEDULE):
        yield
