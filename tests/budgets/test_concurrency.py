"""Many people buying against one small budget at once, each request on its own connection:
exactly as many succeed as the budget allows, the rest are told `insufficient_funds`, and the
ledger verifies. On SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask

from marketplace.budgets import funders
from marketplace.budgets.allocations import StreamSpec, create_budget, release_due_instalments
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import FunderKind, PaymentFrequency, PersonalBudget, StreamKind
from marketplace.budgets.spending import find_commitment, reserve, spend
from marketplace.extensions import db
from marketplace.ledger import LedgerAccount
from marketplace.people.models import Person
from tests.ledger.threads import engine_options, run_together

THREADS = 24
PRICE_PENCE = 7_00


def _small_budget(app: Flask, frequency: PaymentFrequency = PaymentFrequency.ANNUAL) -> tuple:
    """A budget of £100 (£30 assessed contribution first, then £70 from the council)."""
    with app.app_context():
        session = db.session
        council = funders.create_funder(session, name="Council", kind=FunderKind.COUNCIL)
        pot = funders.open_pot(session, council, 2026)
        funders.fund_pot(session, pot, amount_pence=10_000_00, key="fund")
        person = Person(full_name="Joan Hart")
        session.add(person)
        budget = create_budget(
            session,
            person=person,
            starts_on=date(2026, 4, 1),
            ends_on=date(2027, 3, 31),
            frequency=frequency,
            streams=[
                StreamSpec(StreamKind.CLIENT_CONTRIBUTION, 30_00 * _parts(frequency)),
                StreamSpec(StreamKind.COUNCIL, 70_00 * _parts(frequency), pot=pot),
            ],
            today=date(2026, 4, 1),
        )
        payee = funders.payee_account(session, code="care-co", name="Care Co")
        session.commit()
        return budget.id, payee.id


def _parts(frequency: PaymentFrequency) -> int:
    return 12 if frequency is PaymentFrequency.MONTHLY else 1


def _verify(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output


def test_many_buyers_at_once_never_overspend_one_small_budget(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(THREADS))
    budget_id, payee_id = _small_budget(app)

    def buy(number: int) -> None:
        budget = db.session.get_one(PersonalBudget, budget_id)
        commitment = reserve(
            db.session,
            budget,
            amount_pence=PRICE_PENCE,
            category_codes={"meals"},
            payee=db.session.get_one(LedgerAccount, payee_id),
            key=f"order:{number}",
        )
        if number % 3 == 0:
            spend(db.session, commitment, key=f"invoice:{number}")

    outcomes = run_together(app, THREADS, buy)

    affordable = 100_00 // PRICE_PENCE
    assert outcomes.count("ok") == affordable
    assert outcomes.count("insufficient_funds") == THREADS - affordable
    with app.app_context():
        total = budget_figures(db.session, db.session.get_one(PersonalBudget, budget_id)).total
        assert total.committed_pence + total.spent_pence == affordable * PRICE_PENCE
        assert total.available_pence == 100_00 % PRICE_PENCE
        _verify(app)


def test_the_same_order_retried_at_once_is_committed_once(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(8))
    budget_id, payee_id = _small_budget(app)

    def retry(_: int) -> None:
        reserve(
            db.session,
            db.session.get_one(PersonalBudget, budget_id),
            amount_pence=45_00,
            category_codes={"meals"},
            payee=db.session.get_one(LedgerAccount, payee_id),
            key="order:retried",
        )

    assert run_together(app, 8, retry) == ["ok"] * 8
    with app.app_context():
        budget = db.session.get_one(PersonalBudget, budget_id)
        assert budget_figures(db.session, budget).total.committed_pence == 45_00
        assert find_commitment(db.session, budget, "order:retried") is not None
        _verify(app)


def test_instalments_released_by_two_schedulers_at_once_are_released_once(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(4))
    budget_id, _ = _small_budget(app, PaymentFrequency.MONTHLY)

    run_together(app, 4, lambda _: release_due_instalments(db.session, date(2026, 9, 1)))

    with app.app_context():
        budget = db.session.get_one(PersonalBudget, budget_id)
        assert budget_figures(db.session, budget).total.allocated_pence == 6 * 100_00
        _verify(app)
