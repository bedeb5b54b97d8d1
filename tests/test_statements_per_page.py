"""How many SQL statements each page of each journey issues on the demo county, against the
figures recorded in tests/statement_counts.json: a page that grows past its figure (an N+1
query slipping in) fails, and says which pages and by how much.

When a change lowers a figure, or a new page is added, record the figures again:

    RECORD_STATEMENT_COUNTS=1 .venv/bin/pytest tests/test_statements_per_page.py
    RECORD_STATEMENT_COUNTS=1 scripts/with-postgres.sh .venv/bin/pytest \
        tests/test_statements_per_page.py

Each database keeps its own figures: SQLite takes its write lock with a statement of its own,
PostgreSQL locks rows.

A figure on the demo says nothing about growth, so the tests below it also measure pages twice,
with more of what they list the second time (cycles, budgets paying them, packages, people who
took the steps, reablement pots), and expect the same count: one statement per kind of thing,
never one per row.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets import funders
from marketplace.budgets.models import FunderKind, PersonalBudget, PotPurpose
from marketplace.budgets.rules import financial_year_of
from marketplace.extensions import db
from marketplace.formatting import LONDON, london_today
from marketplace.orders import deliveries, invoicing, packages
from marketplace.orders.models import Order, OrderCycle, ScheduleKind
from marketplace.orders.schedule import Schedule
from marketplace.people.models import Person
from providers.models import Organisation, Service, ServiceStatus
from tests.conftest import DemoCounty, sign_in
from tests.packages.period_fixtures import (
    PACKAGE_STARTS,
    PeriodWorld,
    hold_next_cycle,
    period_world,
)

__all__ = ["period_world"]

FIGURES = Path(__file__).with_name("statement_counts.json")
DEMO_PASSWORDS = {
    "citizen@demo.example.org": "marmalade lighthouse tandem",
    "provider@demo.example.org": "copper kettle meadow",
    "council@demo.example.org": "beacon heron parsnip",
    "admin@demo.example.org": "granite puffin lantern",
}


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _client(app: Flask, email: str | None) -> FlaskClient:
    client = app.test_client()
    if email is not None:
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            assert user is not None
        sign_in(client, user, DEMO_PASSWORDS[email])
    return client


def _pages(app: Flask) -> dict[str, tuple[str | None, str]]:
    """Each page worth watching: a label, who asks (an email, or None for anyone), its path."""
    with app.app_context():
        session = db.session
        citizen = session.scalar(select(User).where(User.email == "citizen@demo.example.org"))
        assert citizen is not None
        assert citizen.person is not None
        person: Person = citizen.person
        budget = session.scalar(
            select(PersonalBudget)
            .where(PersonalBudget.person_id == person.id)
            .order_by(PersonalBudget.starts_on.desc())
        )
        assert budget is not None
        order = session.scalar(
            select(Order).where(Order.person_id == person.id).order_by(Order.placed_at.desc())
        )
        assert order is not None
        # Issue 18: her home care, an ongoing package that began as reablement, carried into a
        # second budget and varied (the pages' partials for packages, variations, reablement).
        package = session.scalar(
            select(Order)
            .where(Order.person_id == person.id, Order.ends_on.is_(None))
            .order_by(Order.placed_at)
        )
        assert package is not None
        provider = session.scalar(
            select(Organisation).where(Organisation.name == "Chiltern Home Care")
        )
        assert provider is not None
        provider_order = session.scalar(
            select(Order)
            .where(Order.organisation_id == provider.id)
            .order_by(Order.placed_at.desc())
        )
        assert provider_order is not None
        service = session.scalar(
            select(Service)
            .where(
                Service.organisation_id == provider.id, Service.status == ServiceStatus.PUBLISHED
            )
            .order_by(Service.name)
        )
        assert service is not None
    me, staff, officer, admin = DEMO_PASSWORDS
    return {
        "home": (None, "/"),
        "search": (None, "/search?q=help+at+home+in+Stevenage"),
        "search suggestions": (None, "/search/suggestions?q=day+cen"),
        "service page": (None, f"/services/{service.id}"),
        "provider page": (None, f"/providers/{provider.id}"),
        "api services": (None, "/api/v1/services"),
        "api service": (None, f"/api/v1/services/{service.id}"),
        "api service at locations": (None, "/api/v1/service_at_locations"),
        "citizen home": (me, "/my/"),
        "citizen budget": (me, "/my/budget"),
        "citizen statement": (me, f"/my/budgets/{budget.id}/statement"),
        "citizen orders": (me, "/my/orders"),
        "citizen order": (me, f"/my/orders/{order.id}"),
        "citizen package": (me, f"/my/orders/{package.id}"),
        "citizen basket": (me, "/my/basket"),
        "citizen plan": (me, "/my/plan"),
        "citizen details": (me, "/my/details"),
        "notifications": (me, "/notifications"),
        "provider dashboard": (staff, "/provider/"),
        "provider orders": (staff, "/provider/orders"),
        "provider order": (staff, f"/provider/orders/{provider_order.id}"),
        "provider invoices": (staff, "/provider/invoices"),
        "council overview": (officer, "/council/"),
        "council providers": (officer, "/council/providers"),
        "council providers, a tab": (officer, "/council/providers?status=approved"),
        "council orders": (officer, "/council/orders"),
        "council orders, filtered": (officer, "/council/orders?status=placed"),
        "council package": (officer, f"/council/orders/{package.id}"),
        "council invoices": (officer, "/council/invoices"),
        "council people": (officer, "/council/people"),
        "council person": (officer, f"/council/people/{person.id}"),
        "council statement": (
            officer,
            f"/council/people/{person.id}/budgets/{budget.id}/statement",
        ),
        "council funders": (officer, "/council/funders"),
        # RECON (issue 19): the reconciliation's pages, read in grouped statements.
        "council reconciliation": (officer, "/council/reconciliation"),
        "council reconciliation people": (officer, "/council/reconciliation/people"),
        "council reconciliation person": (officer, f"/council/reconciliation/people/{person.id}"),
        "council reconciliation areas": (officer, "/council/reconciliation/areas"),
        "council reconciliation transfers": (
            officer,
            "/council/reconciliation/transfers?figure=spent_pence",
        ),
        "council reconciliation checks": (officer, "/council/reconciliation/checks"),
        "council plans": (officer, "/council/plans"),
        "council cqc": (officer, "/council/cqc"),
        # REVIEWS and PERF (issue 19): the moderation queue, the provider's reviews, and
        # providers' performance over the demo's last twelve months.
        "council reviews": (officer, "/council/reviews"),
        "provider reviews": (staff, "/provider/reviews"),
        "council performance": (officer, "/council/reports/performance?period=12-months"),
        # INSIGHT (issue 19): the market insight reports, over the longest period offered.
        "council reports": (officer, "/council/reports"),
        "council market searches": (officer, "/council/reports/market/searches?period=365"),
        "council market demand": (officer, "/council/reports/market/demand?period=365"),
        "council market prices": (officer, "/council/reports/market/prices"),
        "council market lapsed": (officer, "/council/reports/market/lapsed"),
        "council market position": (officer, "/council/reports/market/position?period=365"),
        # FINEXPORT (issue 19): the exports made, and the next one's preview (the demo's ledger).
        "council finance exports": (officer, "/council/finance-exports"),
        "council finance export preview": (officer, "/council/finance-exports/new"),
        # PAYRUNS (issue 19): the runs made, the next run's preview (every settled invoice of
        # the demo not yet paid), and a provider's remittances.
        "council payment runs": (officer, "/council/payment-runs"),
        "council payment run preview": (
            officer,
            "/council/payment-runs/preview?settled_by=24&settled_by=11&settled_by=2026",
        ),
        "provider remittances": (staff, "/provider/remittances"),
        # QUEUES (issue 19): the work queues' overview, a queue's items and its decisions.
        "council work queues": (officer, "/council/queues"),
        "council work queue": (officer, "/council/queues/providers"),
        "council work queue decided": (officer, "/council/queues/providers?tab=decided"),
        "admin users": (admin, "/admin/users"),
    }


# The demo county's history grows with the date it is seeded on; a fixed day keeps a page's
# figure from moving with the calendar.
DEMO_DAY = datetime(2026, 11, 24, 12, tzinfo=LONDON)


def test_no_page_issues_more_statements_than_its_recorded_figure(
    app: Flask, demo_county: DemoCounty
) -> None:
    seeded = demo_county.restore(DEMO_DAY)
    # The clock stands still just after the seed: what the app does at most once a minute (a
    # signed-in session's last-seen write, say) must not land in a measured request because a
    # loaded machine took over a minute between signing in and a page (it did: a shifted
    # clock adds one statement to every signed-in page).
    with time_machine.travel(seeded.finished_at, tick=False):
        _check_pages(app)


def _check_pages(app: Flask) -> None:
    dialect = db.engine.dialect.name
    pages = _pages(app)
    clients: dict[str | None, FlaskClient] = {}
    measured: dict[str, int] = {}
    for label, (email, path) in pages.items():
        client = clients.get(email) or clients.setdefault(email, _client(app, email))
        client.get(path)  # once to warm what is kept between requests (the search index)
        with counting(app) as statements:
            response = client.get(path)
        assert response.status_code == 200, f"{label}: {path} answered {response.status_code}"
        measured[label] = len(statements)

    recorded: dict[str, dict[str, int]] = (
        json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    )
    if os.environ.get("RECORD_STATEMENT_COUNTS"):
        recorded[dialect] = measured
        FIGURES.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
        return
    figures = recorded.get(dialect, {})
    grown = {
        label: f"{figures.get(label, 'no figure')} -> {count}"
        for label, count in measured.items()
        if label not in figures or count > figures[label]
    }
    assert not grown, f"pages issue more statements than recorded ({dialect}): {grown}"


# A page's figure must not grow with what an order or a person has: the same pages, on a
# person with two packages (one with two cycles, one settled) and then with three (the first
# with five cycles, paid by two budgets, three settled, visits recorded by a second member of
# the provider's staff), issue the same number of statements. Each budget, stream list, actor,
# package's cycles or terms loaded one at a time would add statements to the second count.


def _settle(session: Session, order: Order, cycle: OrderCycle, staff: User, citizen: User) -> None:
    """Every visit of the cycle recorded by `staff` and confirmed, then invoiced."""
    for day in deliveries.visits_in(order, cycle):
        delivery = deliveries.record_delivery(
            session, order, by=staff, delivered_on=day, units=2, today=day
        )
        deliveries.confirm_delivery(session, delivery, by=citizen)
    invoicing.raise_invoice(session, order, cycle, by=staff, today=cycle.ends_on)
    session.commit()


def _another_package(session: Session, world: PeriodWorld, key: str) -> None:
    """One more package for the person, placed (its first cycle held) and waiting for the
    provider: the person's pages count it among those going on."""
    schedule = Schedule(ScheduleKind.RECURRING, PACKAGE_STARTS, 2, None, ("MO", "TH"))
    packages.place_package(
        session,
        world.person,
        world.service,
        schedule,
        by=world.citizen,
        today=PACKAGE_STARTS,
        placement_key=key,
    )
    session.commit()


def _figures(app: Flask, pages: dict[str, tuple[User, str]]) -> dict[str, int]:
    clients: dict[uuid.UUID, FlaskClient] = {}
    measured = {}
    for label, (user, path) in pages.items():
        client = clients.get(user.id)
        if client is None:
            client = clients[user.id] = app.test_client()
            sign_in(client, user)
        client.get(path)
        with counting(app) as statements:
            response = client.get(path)
        assert response.status_code == 200, f"{label}: {path} answered {response.status_code}"
        measured[label] = len(statements)
    return measured


def test_no_page_issues_more_statements_for_more_cycles_budgets_or_packages(
    app: Flask,
    session: Session,
    period_world: PeriodWorld,
    make_user: Callable[..., User],
) -> None:
    world = period_world
    first, second = world.first_budget(), world.second_budget()
    package = world.package(session)
    hold_next_cycle(session, package, first)
    _settle(session, package, package.cycles[0], world.staff, world.citizen)
    _another_package(session, world, "package-b")
    pages = {
        "citizen order": (world.citizen, f"/my/orders/{package.id}"),
        "provider order": (world.staff, f"/provider/orders/{package.id}"),
        "council order": (world.officer, f"/council/orders/{package.id}"),
        "council person": (world.officer, f"/council/people/{world.person.id}"),
        "citizen budget": (world.citizen, "/my/budget"),
        "citizen statement": (world.citizen, f"/my/budgets/{first.id}/statement"),
    }
    before = _figures(app, pages)

    colleague = make_user(Role.PROVIDER_STAFF, organisation=world.provider)
    hold_next_cycle(session, package, first)
    hold_next_cycle(session, package, second)
    hold_next_cycle(session, package, second)
    for cycle in package.cycles[1:3]:
        _settle(session, package, cycle, colleague, world.citizen)
    _another_package(session, world, "package-c")
    after = _figures(app, pages)

    assert len({cycle.budget_id for cycle in package.cycles}) == 2
    assert after == before


def test_the_funders_page_reads_the_reablement_pots_money_at_once(
    app: Flask, session: Session, make_user: Callable[..., User]
) -> None:
    """The council's funders page issues as many statements with two reablement pots as with
    one: their money is read together, not once a pot."""
    year = financial_year_of(london_today())
    officer = make_user(Role.COUNCIL_OFFICER)
    page = {"council funders": (officer, f"/council/funders?year={year}")}

    def reablement_pot(name: str) -> None:
        funder = funders.create_funder(session, name=name, kind=FunderKind.NHS)
        pot = funders.open_pot(session, funder, year, PotPurpose.REABLEMENT)
        funders.fund_pot(session, pot, amount_pence=5_000_00, key=f"{name} reablement")
        session.commit()

    reablement_pot("North Herts CCG")
    one = _figures(app, page)
    reablement_pot("East and North Herts NHS Trust")
    two = _figures(app, page)

    assert two == one
