"""The forecast of a budget's end balance and the alerts: arithmetic tested without a
database, then once against the ledger. What spending to expect is the orders' rule
(tests/orders/test_forecast.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from marketplace.budgets.figures import Figures, budget_figures
from marketplace.budgets.forecast import (
    AlertKind,
    Forecast,
    Movement,
    budget_alerts,
    budget_forecast,
    forecast,
    instalments_to_come,
    what_if,
)
from marketplace.budgets.models import (
    BudgetStatus,
    FundingStream,
    Instalment,
    PaymentFrequency,
    PersonalBudget,
    StreamKind,
)
from marketplace.budgets.spending import reserve
from marketplace.ledger import LedgerAccount
from tests.budgets.fixtures import YEAR_END, YEAR_START, MakeBudget


def _budget(status: BudgetStatus = BudgetStatus.OPEN) -> PersonalBudget:
    """A year's budget, not stored: the pure functions need only its dates and instalments."""
    budget = PersonalBudget(
        starts_on=YEAR_START,
        ends_on=YEAR_END,
        frequency=PaymentFrequency.MONTHLY,
        status=status,
    )
    stream = FundingStream(kind=StreamKind.COUNCIL, amount_pence=1_200_00, draw_order=30)
    stream.instalments = [
        Instalment(
            number=month + 1,
            due_on=date(2026 + (3 + month) // 12, (3 + month) % 12 + 1, 1),
            amount_pence=100_00,
            released=month < 6,
        )
        for month in range(12)
    ]
    budget.streams = [stream]
    return budget


def test_the_balance_walks_day_by_day_income_before_spending() -> None:
    today = date(2026, 6, 1)
    projected = forecast(
        today=today,
        ends_on=date(2026, 6, 30),
        available_pence=50_00,
        income=[Movement(date(2026, 6, 15), 100_00, "instalment")],
        spending=[
            Movement(date(2026, 6, 15), 120_00, "bill"),
            Movement(date(2026, 6, 29), 40_00, "bill"),
        ],
    )

    assert projected.end_balance_pence == -10_00
    assert projected.lowest_balance_pence == -10_00
    assert projected.runs_out_on == date(2026, 6, 29)
    assert projected.income_pence == 100_00
    assert projected.spending_pence == 160_00


def test_movements_outside_the_rest_of_the_period_are_ignored() -> None:
    projected = forecast(
        today=date(2026, 6, 1),
        ends_on=date(2026, 6, 30),
        available_pence=10_00,
        income=[Movement(date(2026, 6, 1), 500_00, "today: already in available")],
        spending=[Movement(date(2026, 7, 1), 500_00, "after the period")],
    )

    assert projected.end_balance_pence == 10_00
    assert projected.runs_out_on is None
    assert projected.income == projected.spending == ()


def test_instalments_to_come_are_the_unreleased_ones_none_before_tomorrow() -> None:
    budget = _budget()
    late = budget.streams[0].instalments[6]
    today = date(2026, 10, 5)  # the 1 October instalment is due but not yet released

    income = instalments_to_come(budget, today)

    assert len(income) == 6
    assert income[0].on == today + timedelta(days=1)
    assert income[0].amount_pence == late.amount_pence
    assert sum(m.amount_pence for m in income) == 600_00


def _projected() -> Forecast:
    """A forecast that never runs out."""
    return forecast(
        today=date(2026, 10, 1), ends_on=YEAR_END, available_pence=0, income=(), spending=()
    )


def test_alert_when_nearly_spent() -> None:
    budget = _budget()
    figures = Figures(allocated_pence=1_200_00, spent_pence=1_100_00, available_pence=100_00)

    alerts = budget_alerts(budget, figures, _projected(), date(2026, 12, 1))

    assert [a.kind for a in alerts] == [AlertKind.NEARLY_SPENT]


@pytest.mark.parametrize(
    ("today", "spent", "alerted"),
    [
        (date(2026, 10, 1), 100_00, True),  # half the year gone, under a tenth used
        (date(2026, 10, 1), 400_00, False),  # a third used: behind, but not by a quarter
        (date(2026, 5, 1), 0, False),  # too early to say
    ],
)
def test_alert_when_much_underspent_for_the_point_in_the_period(
    today: date, spent: int, alerted: bool
) -> None:
    budget = _budget()
    figures = Figures(
        allocated_pence=600_00,
        spent_pence=spent,
        available_pence=600_00 - spent,
        scheduled_pence=600_00,
    )

    alerts = budget_alerts(budget, figures, _projected(), today)

    assert (AlertKind.UNDERSPENT in [a.kind for a in alerts]) is alerted
    if alerted:
        assert "talk to your social worker" in alerts[0].message


def test_alert_before_it_would_run_out_and_none_for_a_closed_budget() -> None:
    figures = Figures(allocated_pence=600_00, spent_pence=300_00, available_pence=300_00)
    projected = forecast(
        today=date(2026, 10, 1),
        ends_on=YEAR_END,
        available_pence=300_00,
        income=(),
        spending=[Movement(date(2027, 2, 1), 400_00, "care")],
    )

    alerts = budget_alerts(_budget(), figures, projected, date(2026, 10, 1))
    closed = budget_alerts(_budget(BudgetStatus.CLOSED), figures, projected, date(2026, 10, 1))

    assert alerts[0].kind is AlertKind.RUNS_OUT
    assert "1 February 2027" in alerts[0].message
    assert closed == []


def test_the_forecast_of_a_stored_budget_reads_the_ledger(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(frequency=PaymentFrequency.FOUR_WEEKLY, council=1_300_00)
    reserve(session, budget, amount_pence=80_00, category_codes={"meals"}, payee=payee, key="meals")
    today = YEAR_START + timedelta(days=13)
    spending = [Movement(today + timedelta(days=1), 30_00, "care")]

    projected = budget_forecast(session, budget, today, spending=spending)

    figures = budget_figures(session, budget).total
    assert projected.available_pence == figures.available_pence == 20_00
    assert projected.income_pence == figures.scheduled_pence == 1_200_00
    assert projected.income_days == 12
    assert projected.spending_pence == 30_00
    assert projected.end_balance_pence == 20_00 + 1_200_00 - 30_00
    assert projected.runs_out_on == today + timedelta(days=1)


def test_what_if_holds_the_purchase_now_and_expects_the_spending_given(
    session: Session, make_budget: MakeBudget
) -> None:
    budget = make_budget(council=2_000_00)
    today = YEAR_START + timedelta(days=30)
    before = budget_forecast(session, budget, today, spending=[])
    later = [Movement(today + timedelta(days=7), 100_00, "care")]

    change = what_if(before, held_pence=150_00, spending=later)
    too_much = what_if(before, held_pence=2_500_00, spending=[])

    assert change.available_before_pence == before.available_pence == 2_000_00
    assert change.available_after_pence == 1_850_00
    assert change.end_before_pence == before.end_balance_pence
    assert change.end_after_pence == before.end_balance_pence - 150_00 - 100_00
    assert change.runs_out_after is None
    assert too_much.runs_out_after == today
    # Asking records nothing.
    assert budget_figures(session, budget).total.committed_pence == 0
