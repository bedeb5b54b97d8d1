"""The rules flush and never commit: the caller's rollback undoes every one of them.

On SQLite this is not automatic: a SAVEPOINT outside a transaction begins one that its
RELEASE commits, so each rule must begin its write transaction before its savepoint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.budgets.allocations import (
    StreamSpec,
    create_budget,
    release_due_instalments,
    revise_stream,
)
from marketplace.budgets.closing import close_period
from marketplace.budgets.models import PaymentFrequency, PersonalBudget, StreamKind
from marketplace.budgets.spending import release, reserve, spend
from marketplace.ledger import LedgerAccount, Transfer
from marketplace.people.models import Person
from tests.budgets.fixtures import MakeBudget

Operation = Callable[[Session, PersonalBudget, LedgerAccount], object]


def _commit(session: Session, budget: PersonalBudget, payee: LedgerAccount) -> object:
    return reserve(session, budget, amount_pence=10, category_codes={"meals"}, payee=payee, key="o")


OPERATIONS: dict[str, Operation] = {
    "commit": _commit,
    "release instalments": lambda s, b, p: release_due_instalments(s, date(2026, 7, 1)),
    "revise": lambda s, b, p: revise_stream(
        s, b.streams[0], amount_pence=600_00, reason="r", key="r"
    ),
    "close": lambda s, b, p: close_period(s, b),
    "transfer": lambda s, b, p: ledger.transfer(
        s, key="t", debit=b.streams[0].account_id, credit=p, amount_pence=1, code="commitment"
    ),
}


def _transfers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Transfer)) or 0


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_a_rollback_undoes_the_operation(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount, operation: Operation
) -> None:
    budget = make_budget(frequency=PaymentFrequency.MONTHLY, council=1_200_00)
    before = _transfers(session)

    operation(session, budget, payee)
    session.rollback()

    assert _transfers(session) == before


@pytest.mark.parametrize("resolve", [spend, release], ids=["spend", "release"])
def test_a_rollback_undoes_spending_or_releasing(
    session: Session,
    make_budget: MakeBudget,
    payee: LedgerAccount,
    resolve: Callable[..., object],
) -> None:
    budget = make_budget(council=1_200_00)
    held = _commit(session, budget, payee)
    session.commit()
    before = _transfers(session)

    resolve(session, held, key="k")
    session.rollback()

    assert _transfers(session) == before


def test_a_rollback_undoes_a_new_budget(session: Session, person: Person) -> None:
    create_budget(
        session,
        person=person,
        starts_on=date(2026, 4, 1),
        ends_on=date(2027, 3, 31),
        frequency=PaymentFrequency.ANNUAL,
        streams=[StreamSpec(StreamKind.OWN_FUNDS, 100_00)],
        today=date(2026, 4, 1),
    )
    session.rollback()

    assert session.scalar(select(func.count()).select_from(PersonalBudget)) == 0
    assert _transfers(session) == 0
