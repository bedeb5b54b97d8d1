"""The statement: every movement on a budget's streams in time order, with running balance,
held and available; filters by date and stream; and its CSV, the same lines in pounds."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy.orm import Session

from marketplace.budgets.allocations import release_due_instalments, revise_stream
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import PaymentFrequency, PersonalBudget, StreamKind
from marketplace.budgets.spending import release, reserve, spend
from marketplace.budgets.statement import (
    CSV_HEADER,
    StatementFilter,
    budget_statement,
    statement_csv,
)
from marketplace.ledger import LedgerAccount, reverse
from tests.budgets.fixtures import YEAR_START, MakeBudget

CARE = {"personal-care", "help-at-home"}


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def history(session: Session, make_budget: MakeBudget, payee: LedgerAccount) -> PersonalBudget:
    """A monthly budget (the council's £100 a month drawn before the person's £10 top-up) with
    a purchase paid in part, one released, and one refunded, each on its own day."""
    with time_machine.travel(_at(YEAR_START), tick=False):
        budget = make_budget(frequency=PaymentFrequency.MONTHLY, council=1_200_00, own_funds=120_00)
    with time_machine.travel(_at(date(2026, 4, 10)), tick=False):
        partly = reserve(
            session, budget, amount_pence=60_00, category_codes=CARE, payee=payee, key="o1"
        )
    with time_machine.travel(_at(date(2026, 4, 20)), tick=False):
        spend(session, partly, key="o1:bill", amount_pence=45_50)
    with time_machine.travel(_at(date(2026, 5, 1)), tick=False):
        release_due_instalments(session, date(2026, 5, 1), budget=budget)
    with time_machine.travel(_at(date(2026, 5, 5)), tick=False):
        cancelled = reserve(
            session, budget, amount_pence=30_00, category_codes=CARE, payee=payee, key="o2"
        )
        release(session, cancelled, key="o2:cancel")
    with time_machine.travel(_at(date(2026, 5, 6)), tick=False):
        paid = reserve(
            session, budget, amount_pence=20_00, category_codes=CARE, payee=payee, key="o3"
        )
        posted = spend(session, paid, key="o3:bill")
    with time_machine.travel(_at(date(2026, 5, 7)), tick=False):
        reverse(session, posted[0], key="o3:refund", reason="Visit did not happen")
    session.commit()
    return budget


def test_lines_run_in_time_order_with_balance_held_and_available(
    session: Session, history: PersonalBudget
) -> None:
    statement = budget_statement(session, history)
    lines = [(line.on, line.stream.kind, line.what) for line in statement.lines]

    assert set(lines[:2]) == {
        (YEAR_START, StreamKind.OWN_FUNDS, "Instalment"),
        (YEAR_START, StreamKind.COUNCIL, "Instalment"),
    }
    assert [what for _, _, what in lines[2:]] == [
        "Money set aside for a purchase",
        "Paid in part; the rest released",
        "Instalment",
        "Instalment",
        "Money set aside for a purchase",
        "Money set aside, released",
        "Money set aside for a purchase",
        "Paid",
        "Refund",
    ]
    held = statement.lines[2]
    assert (held.in_pence, held.out_pence, held.held_change_pence) == (0, 0, 60_00)
    assert held.balance_pence == 110_00
    assert held.available_pence == 50_00
    paid = statement.lines[3]
    assert (paid.out_pence, paid.held_change_pence) == (45_50, -60_00)
    assert paid.balance_pence == paid.available_pence == 110_00 - 45_50
    refund = statement.lines[10]
    assert refund.in_pence == 20_00
    assert refund.reason == "Visit did not happen"

    figures = budget_figures(session, history).total
    last = statement.lines[-1]
    assert last.available_pence == figures.available_pence
    assert last.held_pence == figures.committed_pence == 0
    assert statement.closing_available_pence == figures.available_pence
    # Each line's balance is the last one's plus what came in less what went out.
    running = 0
    for line in statement.lines:
        running += line.in_pence - line.out_pence
        assert line.balance_pence == running


def test_a_date_range_shows_its_lines_with_the_balances_they_had(
    session: Session, history: PersonalBudget
) -> None:
    whole = budget_statement(session, history)
    may = budget_statement(
        session, history, StatementFilter(date_from=date(2026, 5, 1), date_to=date(2026, 5, 6))
    )

    assert {line.on for line in may.lines} == {
        date(2026, 5, 1),
        date(2026, 5, 5),
        date(2026, 5, 6),
    }
    before = [line for line in whole.lines if line.on < date(2026, 5, 1)]
    assert may.opening_balance_pence == before[-1].balance_pence
    assert may.opening_held_pence == before[-1].held_pence == 0
    assert may.closing_balance_pence == may.lines[-1].balance_pence
    by_id = {line.transfer_id: line for line in whole.lines}
    for line in may.lines:
        assert line.balance_pence == by_id[line.transfer_id].balance_pence
    assert may.in_pence == 110_00
    assert may.out_pence == 20_00


def test_one_stream_runs_its_own_balance(session: Session, history: PersonalBudget) -> None:
    contribution = next(s for s in history.streams if s.kind is StreamKind.OWN_FUNDS)

    statement = budget_statement(session, history, StatementFilter(stream_id=contribution.id))

    assert {line.stream.id for line in statement.lines} == {contribution.id}
    figures = dict(budget_figures(session, history).streams)[contribution]
    assert statement.closing_balance_pence - statement.closing_held_pence == (
        figures.available_pence
    )
    assert statement.streams == [contribution]
    assert [line.balance_pence for line in statement.lines] == [10_00, 20_00]


def test_a_stream_of_another_budget_shows_nothing(
    session: Session, history: PersonalBudget
) -> None:
    statement = budget_statement(session, history, StatementFilter(stream_id=uuid.uuid4()))

    assert statement.lines == []
    assert statement.closing_balance_pence == 0


def test_the_csv_has_the_same_lines_in_pounds_with_two_decimals(
    session: Session, history: PersonalBudget
) -> None:
    statement = budget_statement(session, history)

    rows = list(csv.reader(io.StringIO(statement_csv(statement))))

    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == len(statement.lines) + 1
    partly = rows[4]
    assert partly[:4] == ["2026-04-20", "13:00:00", "council", "Paid in part; the rest released"]
    assert partly[6:12] == ["0.00", "45.50", "-60.00", "64.50", "0.00", "64.50"]
    assert rows[-1][3:6] == ["Refund", "Reversal: ", "Visit did not happen"]
    assert [row[12] for row in rows[1:]] == [str(line.transfer_id) for line in statement.lines]


def test_a_revision_shows_with_its_reason_and_no_cell_starts_a_formula(
    session: Session, make_budget: MakeBudget
) -> None:
    budget = make_budget(council=100_00)
    revise_stream(session, budget.streams[0], amount_pence=90_00, reason="=HYPERLINK(1)", key="r")

    statement = budget_statement(session, budget)
    rows = list(csv.reader(io.StringIO(statement_csv(statement))))

    assert statement.lines[-1].what == "Budget revised"
    assert statement.lines[-1].out_pence == 10_00
    assert rows[-1][3] == "Budget revised"
    assert rows[-1][5] == "'=HYPERLINK(1)"
    assert rows[-1][7] == "10.00"
