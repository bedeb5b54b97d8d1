"""Committing money against a budget across its streams, in draw order, within their rules;
then spending or releasing it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import PersonalBudget, StreamKind
from marketplace.budgets.spending import find_commitment, release, reserve, spend
from marketplace.budgets.verify import check_budgets
from marketplace.ledger import (
    AlreadyResolved,
    IdempotencyConflict,
    InsufficientFunds,
    LedgerAccount,
    Transfer,
)
from tests.budgets.fixtures import MakeBudget

HEALTH = {"podiatry", "health-and-wellbeing"}
MEALS = {"hot-meal-delivery", "meals"}


def _split(budget: PersonalBudget, split: dict) -> dict[StreamKind, int]:  # type: ignore[type-arg]
    return {s.kind: split[s.id] for s in budget.streams if s.id in split}


def _consistent(session: Session) -> bool:
    return ledger.verify_ledger(session).ok and check_budgets(session)[0] == []


def test_the_client_contribution_is_drawn_first_then_the_council(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=1_000_00, client_contribution=100_00, own_funds=50_00)

    commitment = reserve(
        session, budget, amount_pence=250_00, category_codes=MEALS, payee=payee, key="o1"
    )

    assert _split(budget, commitment.split) == {
        StreamKind.CLIENT_CONTRIBUTION: 100_00,
        StreamKind.COUNCIL: 150_00,
    }
    assert budget_figures(session, budget).total.committed_pence == 250_00
    assert _consistent(session)


def test_the_nhs_stream_pays_only_for_health_related_categories(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=100_00, nhs=1_000_00)

    podiatry = reserve(
        session, budget, amount_pence=150_00, category_codes=HEALTH, payee=payee, key="p"
    )
    meals = reserve(session, budget, amount_pence=50_00, category_codes=MEALS, payee=payee, key="m")

    assert _split(budget, podiatry.split) == {StreamKind.NHS: 150_00}
    assert _split(budget, meals.split) == {StreamKind.COUNCIL: 50_00}
    with pytest.raises(InsufficientFunds) as refused:
        reserve(session, budget, amount_pence=60_00, category_codes=MEALS, payee=payee, key="m2")
    assert refused.value.shortfall_pence == 10_00


def test_a_purchase_the_budget_cannot_cover_records_nothing(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=100_00, client_contribution=20_00)
    before = session.scalar(select(func.count()).select_from(Transfer))

    with pytest.raises(InsufficientFunds) as refused:
        reserve(session, budget, amount_pence=125_00, category_codes=MEALS, payee=payee, key="o")

    assert refused.value.shortfall_pence == 5_00
    assert refused.value.details["available_pence"] == 120_00
    assert session.scalar(select(func.count()).select_from(Transfer)) == before
    assert budget_figures(session, budget).total.available_pence == 120_00


def test_a_commitment_replayed_is_the_same_and_a_different_one_is_refused(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=100_00, client_contribution=20_00)
    first = reserve(session, budget, amount_pence=50_00, category_codes=MEALS, payee=payee, key="o")

    again = reserve(session, budget, amount_pence=50_00, category_codes=MEALS, payee=payee, key="o")

    assert [p.transfer.id for p in again.parts] == [p.transfer.id for p in first.parts]
    assert budget_figures(session, budget).total.committed_pence == 50_00
    with pytest.raises(IdempotencyConflict):
        reserve(session, budget, amount_pence=51_00, category_codes=MEALS, payee=payee, key="o")
    assert find_commitment(session, budget, "o") == first
    assert find_commitment(session, budget, "nothing") is None


def test_spending_part_of_a_commitment_takes_it_in_draw_order_and_releases_the_rest(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=100_00, client_contribution=20_00)
    commitment = reserve(
        session, budget, amount_pence=80_00, category_codes=MEALS, payee=payee, key="o"
    )

    spend(session, commitment, key="invoice-1", amount_pence=30_00)

    by_kind = {s.kind: f for s, f in budget_figures(session, budget).streams}
    assert by_kind[StreamKind.CLIENT_CONTRIBUTION].spent_pence == 20_00
    assert by_kind[StreamKind.COUNCIL].spent_pence == 10_00
    assert by_kind[StreamKind.COUNCIL].available_pence == 90_00
    assert budget_figures(session, budget).total.committed_pence == 0
    assert ledger.balance(session, payee.id).posted == 30_00
    with pytest.raises(AlreadyResolved):
        release(session, commitment, key="cancel")
    assert _consistent(session)


def test_a_released_commitment_gives_the_money_back(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=100_00)
    commitment = reserve(
        session, budget, amount_pence=80_00, category_codes=MEALS, payee=payee, key="o"
    )

    release(session, commitment, key="cancelled")

    total = budget_figures(session, budget).total
    assert (total.committed_pence, total.available_pence) == (0, 100_00)
    with pytest.raises(AlreadyResolved):
        spend(session, commitment, key="late invoice")
    assert _consistent(session)


def test_a_refund_of_spend_is_a_reversal_that_lowers_spent(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=100_00)
    commitment = reserve(
        session, budget, amount_pence=80_00, category_codes=MEALS, payee=payee, key="o"
    )
    (posting,) = spend(session, commitment, key="invoice")

    ledger.reverse(session, posting, key="refund", reason="visit did not happen")

    total = budget_figures(session, budget).total
    assert (total.spent_pence, total.available_pence) == (0, 100_00)
    assert _consistent(session)


def test_spending_more_than_was_committed_is_refused(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=100_00)
    commitment = reserve(
        session, budget, amount_pence=80_00, category_codes=MEALS, payee=payee, key="o"
    )

    with pytest.raises(ledger.InvalidTransfer):
        spend(session, commitment, key="i", amount_pence=80_01)
