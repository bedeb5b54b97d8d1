"""`flask seed-demo`'s budgets: two funders and their pots, Dorothy's plan, budget and its
instalments, written once, and a ledger that verifies."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select

from marketplace.budgets.figures import budget_figures, pot_figures
from marketplace.budgets.models import Funder, FunderPot, PaymentFrequency, StreamKind
from marketplace.budgets.queries import budgets_of
from marketplace.budgets.statement import budget_statement
from marketplace.demo import seed
from marketplace.demo.budgets_seed import ICB, seed_budgets
from marketplace.demo.data.county import demo_organisations
from marketplace.extensions import db
from marketplace.ledger import Transfer
from marketplace.people import plans
from marketplace.people.models import Person

TODAY = date(2026, 11, 24)
# The organisations the demo users work for (the broker's brokerage among them).
PROVIDERS = {
    "Chiltern Home Care",
    "Lea Valley Day Centre",
    "Bluebell Homecare Stevenage",
    "Herts Independent Brokerage",
}


def _prerequisites() -> None:
    """The steps before budgets, with only the providers the demo users work for."""
    seed.seed_taxonomy()
    seed.seed_localities()
    seed.seed_providers([org for org in demo_organisations() if org.name in PROVIDERS])
    seed.seed_users()


def _transfers() -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer)) or 0


def test_the_demo_citizen_gets_a_plan_and_a_budget_with_its_instalments_once(app: Flask) -> None:
    _prerequisites()

    first = seed_budgets(TODAY)
    db.session.commit()

    assert [(t.kind, len(t.created)) for t in first.tallies] == [
        ("funders", 2),
        ("funder pots", 2),
        ("support plans", 1),
        ("personal budgets", 1),
    ]
    dorothy = db.session.scalar(select(Person).where(Person.full_name == "Dorothy Pearce"))
    (budget,) = budgets_of(db.session, dorothy)
    assert budget.frequency is PaymentFrequency.FOUR_WEEKLY
    assert (budget.starts_on, budget.ends_on) == (date(2026, 4, 1), date(2027, 3, 31))
    assert {s.kind for s in budget.streams} == {
        StreamKind.COUNCIL,
        StreamKind.NHS,
        StreamKind.CLIENT_CONTRIBUTION,
    }
    assert {s.pot.funder.name for s in budget.streams if s.pot} == {
        "Hertfordshire County Council",
        ICB,
    }
    plan = plans.approved_plan(db.session, dorothy)
    assert plan is not None
    assert "my own home" in plan.outcomes
    figures = budget_figures(db.session, budget).total
    assert figures.allocated_pence == 9 * 1_520_00  # released up to 11 November
    # What the budget paid for is the orders step's, through real orders and invoices.
    assert figures.committed_pence == figures.spent_pence == 0
    lines = budget_statement(db.session, budget).lines
    assert {line.what for line in lines} == {"Instalment"}
    assert len(lines) == 9 * 3  # each instalment on each of the three streams
    assert lines[0].on == date(2026, 4, 1)
    assert lines[-1].on == date(2026, 11, 11)
    for pot in db.session.scalars(select(FunderPot)):
        assert pot.financial_year == 2026
        assert pot_figures(db.session, pot).given_pence > 1_000_000_00

    transfers = _transfers()
    second = seed_budgets(TODAY)
    assert second.created_count == 0
    assert second.existing_count == 6
    assert _transfers() == transfers
    assert db.session.scalar(select(func.count()).select_from(Funder)) == 2

    db.session.commit()
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("ledger verify: OK")


def test_early_in_the_year_there_is_less_history(app: Flask) -> None:
    _prerequisites()

    seed_budgets(date(2026, 4, 1))

    dorothy = db.session.scalar(select(Person).where(Person.full_name == "Dorothy Pearce"))
    (budget,) = budgets_of(db.session, dorothy)
    figures = budget_figures(db.session, budget).total
    assert figures.allocated_pence == 1_520_00
    assert figures.committed_pence == figures.spent_pence == 0


def test_budgets_need_the_users_and_providers_first(app: Flask) -> None:
    with pytest.raises(seed.SeedOrderError, match="seed users first"):
        seed_budgets(TODAY)
    assert db.session.scalar(select(func.count()).select_from(Funder)) == 0
