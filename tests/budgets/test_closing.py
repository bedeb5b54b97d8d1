"""Closing a period: preview, then confirm; unspent money returned or carried forward."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.budgets.allocations import release_due_instalments, revise_stream
from marketplace.budgets.closing import CloseChoice, close_period, preview_close
from marketplace.budgets.errors import BudgetClosed, CloseRefused
from marketplace.budgets.figures import budget_figures, pot_figures
from marketplace.budgets.models import (
    BudgetStatus,
    FunderPot,
    PaymentFrequency,
    StreamKind,
)
from marketplace.budgets.spending import reserve, spend
from marketplace.budgets.verify import check_budgets
from marketplace.ledger import InsufficientFunds, LedgerAccount
from tests.budgets.fixtures import MakeBudget

MEALS = {"meals"}


def _consistent(session: Session) -> bool:
    return ledger.verify_ledger(session).ok and check_budgets(session)[0] == []


def test_the_preview_says_what_closing_will_return_and_changes_nothing(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(
        frequency=PaymentFrequency.MONTHLY, council=1_200_00, client_contribution=120_00
    )
    release_due_instalments(session, date(2026, 6, 1))
    spend(
        session,
        reserve(session, budget, amount_pence=150_00, category_codes=MEALS, payee=payee, key="o"),
        key="i",
    )

    preview = preview_close(session, budget)

    assert preview.problems == []
    assert preview.unspent_pence == 1_320_00 - 150_00
    assert {line.choice for line in preview.lines} == {CloseChoice.RETURN}
    assert budget_figures(session, budget).total.scheduled_pence == 9 * 110_00
    assert _consistent(session)


def test_closing_returns_what_is_unspent_to_each_funder_and_to_the_person(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount, council_pot: FunderPot
) -> None:
    budget = make_budget(
        frequency=PaymentFrequency.MONTHLY, council=1_200_00, client_contribution=120_00
    )
    spend(
        session,
        reserve(session, budget, amount_pence=50_00, category_codes=MEALS, payee=payee, key="o"),
        key="i",
    )
    preview = preview_close(session, budget)

    close_period(session, budget, expected_unspent_pence=preview.unspent_pence)
    session.commit()

    assert budget.status is BudgetStatus.CLOSED
    assert budget.closed_at is not None
    total = budget_figures(session, budget).total
    assert total.returned_pence == 1_320_00 - 50_00
    assert (total.available_pence, total.scheduled_pence, total.spent_pence) == (0, 0, 50_00)
    assert total.allocated_pence == 1_320_00
    assert pot_figures(session, council_pot).unallocated_pence == 1_000_000_00 - 40_00
    assert _consistent(session)


def test_a_closed_budget_takes_no_more_commitments_revisions_or_closes(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(frequency=PaymentFrequency.MONTHLY, council=1_200_00)
    close_period(session, budget)

    with pytest.raises(BudgetClosed):
        reserve(session, budget, amount_pence=1, category_codes=MEALS, payee=payee, key="o")
    with pytest.raises(BudgetClosed):
        revise_stream(session, budget.streams[0], amount_pence=1, reason="x", key="r")
    with pytest.raises(BudgetClosed):
        close_period(session, budget)
    assert release_due_instalments(session, date(2027, 3, 31)) == []


def test_unspent_money_can_be_carried_forward_into_the_next_budget(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=1_000_00, client_contribution=100_00)
    following = make_budget(
        starts_on=date(2026, 10, 1),
        ends_on=date(2027, 3, 31),
        today=date(2026, 10, 1),
        council=500_00,
    )
    spend(
        session,
        reserve(session, budget, amount_pence=300_00, category_codes=MEALS, payee=payee, key="o"),
        key="i",
    )
    council = next(s for s in budget.streams if s.kind is StreamKind.COUNCIL)
    choices = {council.id: CloseChoice.CARRY_FORWARD}

    preview = preview_close(session, budget, choices=choices, next_budget=following)
    close_period(
        session,
        budget,
        choices=choices,
        next_budget=following,
        expected_unspent_pence=preview.unspent_pence,
    )

    assert following.streams[0].amount_pence == 500_00 + 800_00
    next_total = budget_figures(session, following).total
    assert next_total.allocated_pence == next_total.available_pence == 1_300_00
    closed = budget_figures(session, budget).total
    # Carried forward, not returned: the person keeps it.
    assert (closed.carried_forward_pence, closed.returned_pence) == (800_00, 0)
    assert _consistent(session)


def test_carrying_forward_needs_a_matching_stream_in_the_next_budget(
    session: Session, make_budget: MakeBudget
) -> None:
    budget = make_budget(nhs=100_00)
    following = make_budget(starts_on=date(2026, 10, 1), council=100_00)
    choices = {budget.streams[0].id: CloseChoice.CARRY_FORWARD}

    preview = preview_close(session, budget, choices=choices, next_budget=following)

    assert preview.problems == [
        "NHS personal health budget: the next budget has no stream to carry into"
    ]
    with pytest.raises(CloseRefused):
        close_period(session, budget, choices=choices, next_budget=following)
    assert budget.status is BudgetStatus.OPEN


def test_a_period_with_money_committed_cannot_close(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=100_00)
    reserve(session, budget, amount_pence=10_00, category_codes=MEALS, payee=payee, key="o")

    assert preview_close(session, budget).problems == ["Council: £10 is still committed"]
    with pytest.raises(CloseRefused):
        close_period(session, budget)


def test_closing_is_refused_when_the_budget_changed_since_the_preview(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=100_00)
    preview = preview_close(session, budget)
    spend(
        session,
        reserve(session, budget, amount_pence=10_00, category_codes=MEALS, payee=payee, key="o"),
        key="i",
    )

    with pytest.raises(CloseRefused, match="preview again"):
        close_period(session, budget, expected_unspent_pence=preview.unspent_pence)


def test_returned_money_goes_back_into_the_pot_for_other_budgets(
    session: Session, make_budget: MakeBudget, council_pot: FunderPot
) -> None:
    budget = make_budget(council=400_000_00)
    make_budget(council=500_000_00)
    with pytest.raises(InsufficientFunds):
        make_budget(council=200_000_00)
    session.rollback()

    close_period(session, budget)
    make_budget(council=200_000_00)

    assert pot_figures(session, council_pot).unallocated_pence == 300_000_00
    assert _consistent(session)
