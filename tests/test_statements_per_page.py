"""How many SQL statements each page of each journey issues on the demo county, against the
figures recorded in tests/statement_counts.json: a page that grows past its figure (an N+1
query slipping in) fails, and says which pages and by how much.

When a change lowers a figure, or a new page is added, record the figures again:

    RECORD_STATEMENT_COUNTS=1 .venv/bin/pytest tests/test_statements_per_page.py
    RECORD_STATEMENT_COUNTS=1 scripts/with-postgres.sh .venv/bin/pytest \
        tests/test_statements_per_page.py

Each database keeps its own figures: SQLite takes its write lock with a statement of its own,
PostgreSQL locks rows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from marketplace.accounts.models import User
from marketplace.budgets.models import PersonalBudget
from marketplace.demo import seed
from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.orders.models import Order
from marketplace.people.models import Person
from providers.models import Organisation, Service, ServiceStatus
from tests.conftest import sign_in

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
        "council invoices": (officer, "/council/invoices"),
        "council people": (officer, "/council/people"),
        "council person": (officer, f"/council/people/{person.id}"),
        "council statement": (
            officer,
            f"/council/people/{person.id}/budgets/{budget.id}/statement",
        ),
        "council funders": (officer, "/council/funders"),
        "council plans": (officer, "/council/plans"),
        "council cqc": (officer, "/council/cqc"),
        "admin users": (admin, "/admin/users"),
    }


# The demo county's history grows with the date it is seeded on; a fixed day keeps a page's
# figure from moving with the calendar.
DEMO_DAY = datetime(2026, 11, 24, 12, tzinfo=LONDON)


def test_no_page_issues_more_statements_than_its_recorded_figure(app: Flask) -> None:
    with time_machine.travel(DEMO_DAY, tick=True):
        _check_pages(app)


def _check_pages(app: Flask) -> None:
    seed.run_all()
    db.session.commit()
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
