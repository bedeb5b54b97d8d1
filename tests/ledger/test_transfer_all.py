"""Several transfers recorded together (`transfer_all`, a commitment's parts): the same rows
and balances as one by one, all or none, and replays and conflicts as `transfer` answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.ledger import (
    IdempotencyConflict,
    InsufficientFunds,
    LedgerAccount,
    Move,
    Transfer,
    TransferState,
)

MakeAccount = Callable[..., LedgerAccount]


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Transfer)) or 0


def _hold(first: LedgerAccount, second: LedgerAccount, payee: LedgerAccount) -> list[Move]:
    return [
        Move("c:0", first.id, payee, 700, "commitment", "Order", "c", pending=True),
        Move("c:1", second.id, payee, 300, "commitment", "Order", "c", pending=True),
    ]


def test_a_batch_records_what_one_by_one_would(session: Session, make_account: MakeAccount) -> None:
    first, second = make_account(1_000), make_account(500)
    payee = make_account(guarded=False)

    made = ledger.transfer_all(session, _hold(first, second, payee))
    session.commit()

    assert [t.idempotency_key for t in made] == ["c:0", "c:1"]
    assert all(t.state is TransferState.PENDING for t in made)
    stored = session.scalars(select(Transfer).where(Transfer.reference == "c")).all()
    assert sorted((t.idempotency_key, t.amount_pence, t.description) for t in stored) == [
        ("c:0", 700, "Order"),
        ("c:1", 300, "Order"),
    ]
    assert ledger.balance(session, first.id).available == 300
    assert ledger.balance(session, second.id).available == 200
    assert ledger.balance(session, payee.id).credits_pending == 1_000
    assert ledger.verify_ledger(session).ok


def test_a_batch_replayed_records_nothing_more(session: Session, make_account: MakeAccount) -> None:
    first, second = make_account(1_000), make_account(500)
    payee = make_account(guarded=False)
    made = ledger.transfer_all(session, _hold(first, second, payee))
    session.commit()
    before = _count(session)

    again = ledger.transfer_all(session, _hold(first, second, payee))

    assert [t.id for t in again] == [t.id for t in made]
    assert _count(session) == before
    assert ledger.balance(session, first.id).available == 300


def test_a_key_used_for_something_else_is_refused(
    session: Session, make_account: MakeAccount
) -> None:
    first, second = make_account(1_000), make_account(500)
    payee = make_account(guarded=False)
    ledger.transfer(session, key="c:1", debit=second, credit=payee, amount_pence=5, code="other")
    session.commit()
    before = _count(session)

    with pytest.raises(IdempotencyConflict):
        ledger.transfer_all(session, _hold(first, second, payee))

    assert _count(session) == before
    assert ledger.balance(session, first.id).available == 1_000


def test_one_part_short_records_none_of_them(session: Session, make_account: MakeAccount) -> None:
    first, second = make_account(1_000), make_account(200)
    payee = make_account(guarded=False)
    before = _count(session)

    with pytest.raises(InsufficientFunds) as refused:
        ledger.transfer_all(session, _hold(first, second, payee))

    assert refused.value.shortfall_pence == 100
    assert refused.value.details["account_id"] == str(second.id)
    assert _count(session) == before
    assert ledger.balance(session, first.id).available == 1_000
    assert ledger.balance(session, payee.id).credits_pending == 0


def test_two_moves_from_one_account_are_guarded_together(
    session: Session, make_account: MakeAccount
) -> None:
    account = make_account(1_000)
    payee = make_account(guarded=False)
    moves = [
        Move("a", account.id, payee, 600, "commitment", pending=True),
        Move("b", account.id, payee, 600, "commitment", pending=True),
    ]

    with pytest.raises(InsufficientFunds):
        ledger.transfer_all(session, moves)

    assert ledger.balance(session, account.id).available == 1_000
