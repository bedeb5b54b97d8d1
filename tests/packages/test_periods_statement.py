"""The statement shows which period paid each cycle of a package (issue 18, PERIODS): each
commitment's lines name the order, its cycle number and dates, on each budget's statement
(page, CSV and API), so a package carried into the next budget reads as such."""

from __future__ import annotations

import csv
import html
import io
import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.api import integration_json
from marketplace.budgets import statement as statements
from marketplace.orders import package_periods
from marketplace.orders.models import Order
from marketplace.orders.package_periods import budget_statement
from tests.conftest import sign_in
from tests.packages.period_fixtures import (
    PeriodWorld,
    assert_ledger_verifies,
    hold_next_cycle,
    period_world,
    settle_cycle,
)

__all__ = ["period_world"]


def _across_the_boundary(session: Session, world: PeriodWorld) -> Order:
    """A package whose cycles 1 to 3 the first budget paid (3 settled) and 4 the second
    holds."""
    first, second = world.first_budget(), world.second_budget()
    order = world.package(session)
    hold_next_cycle(session, order, first)
    hold_next_cycle(session, order, first)
    hold_next_cycle(session, order, second)
    settle_cycle(session, world, order, order.cycles[2])
    return order


def test_each_budget_names_the_cycles_it_paid(session: Session, period_world: PeriodWorld) -> None:
    world = period_world
    order = _across_the_boundary(session, world)
    first, second = order.cycles[0].budget, order.cycles[3].budget
    assert first is not None
    assert second is not None

    first_lines = [(line.what, line.purchase) for line in budget_statement(session, first).lines]
    second_lines = [(line.what, line.purchase) for line in budget_statement(session, second).lines]

    ref, held = order.reference, "Money set aside for a purchase"
    assert first_lines == [
        ("Instalment", None),
        (held, f"Order {ref}: {order.service_name}, cycle 1 (14 September to 20 September 2026)"),
        (held, f"Order {ref}: {order.service_name}, cycle 2 (21 September to 27 September 2026)"),
        (held, f"Order {ref}: {order.service_name}, cycle 3 (28 September to 4 October 2026)"),
        ("Paid", f"Order {ref}: {order.service_name}, cycle 3 (28 September to 4 October 2026)"),
    ]
    assert second_lines == [
        ("Instalment", None),
        (held, f"Order {ref}: {order.service_name}, cycle 4 (5 October to 11 October 2026)"),
    ]
    # Without the orders' names the statement is as before: the same lines and figures.
    plain = statements.budget_statement(session, first)
    assert [line.purchase for line in plain.lines] == [None] * 5
    assert [line.balance_pence for line in plain.lines] == [
        line.balance_pence for line in budget_statement(session, first).lines
    ]
    assert_ledger_verifies(session)


def test_a_cycle_across_the_new_year_names_both_years(
    session: Session, period_world: PeriodWorld
) -> None:
    period_world.first_budget()
    order = period_world.package(session)
    cycle = order.cycles[0]
    cycle.starts_on = cycle.starts_on.replace(year=2026, month=12, day=28)
    cycle.ends_on = cycle.ends_on.replace(year=2027, month=1, day=3)

    assert package_periods.cycle_name(order, cycle) == (
        f"Order {order.reference}: {order.service_name}, "
        "cycle 1 (28 December 2026 to 3 January 2027)"
    )
    session.rollback()


def test_the_csv_and_the_api_name_the_cycle(session: Session, period_world: PeriodWorld) -> None:
    order = _across_the_boundary(session, period_world)
    second = order.cycles[3].budget
    assert second is not None
    found = budget_statement(session, second)

    rows = list(csv.DictReader(io.StringIO(statements.statement_csv(found))))
    lines = integration_json.statement(found)["lines"]

    named = f"Order {order.reference}: {order.service_name}, cycle 4 (5 October to 11 October 2026)"
    assert [row["purchase"] for row in rows] == ["", named]
    assert [line["purchase"] for line in lines] == [None, named]


def test_the_statement_page_names_the_cycle(
    client: FlaskClient, session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    order = _across_the_boundary(session, world)
    second = order.cycles[3].budget
    assert second is not None
    sign_in(client, world.citizen)

    page = client.get(f"/my/budgets/{second.id}/statement")

    text = " ".join(html.unescape(page.get_data(as_text=True)).split())
    assert page.status_code == 200
    assert (
        f"Order {order.reference}: {order.service_name}, cycle 4 (5 October to 11 October 2026)"
        in text
    )


def test_the_order_page_says_which_budget_paid_each_cycle(
    client: FlaskClient, session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    order = _across_the_boundary(session, world)
    sign_in(client, world.citizen)

    page = client.get(f"/my/orders/{order.id}")

    words = re.sub(r"<[^>]+>", " ", page.get_data(as_text=True))
    text = " ".join(html.unescape(words).split())
    assert page.status_code == 200
    assert "3: 28 September to 4 October 2026 Budget for 1 April 2026 to 30 September 2026" in text
    assert "4: 5 October to 11 October 2026 Budget for 1 October 2026 to 31 March 2027" in text
