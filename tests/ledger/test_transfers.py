"""Transfers: posted, pending then posted (in full or part) or voided, reversed; guards,
idempotency and refusals."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.ledger import (
    AlreadyResolved,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
    LedgerAccount,
    Transfer,
    TransferKind,
    TransferState,
)

MakeAccount = Callable[..., LedgerAccount]


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Transfer)) or 0


def test_a_posted_transfer_moves_money_and_stores_both_balances(
    session: Session, make_account: MakeAccount
) -> None:
    pot, stream = make_account(10_000), make_account()

    moved = ledger.transfer(
        session, key="t1", debit=pot, credit=stream, amount_pence=2_500, code="allocation"
    )

    assert moved.state is TransferState.POSTED
    assert ledger.balance(session, pot.id).available == 7_500
    assert ledger.balance(session, stream.id).available == 2_500
    assert ledger.verify_ledger(session).ok


def test_a_guarded_account_cannot_go_below_zero_and_nothing_is_recorded(
    session: Session, make_account: MakeAccount
) -> None:
    pot, stream = make_account(1_000), make_account()
    before = _count(session)

    with pytest.raises(InsufficientFunds) as refused:
        ledger.transfer(
            session, key="t1", debit=pot, credit=stream, amount_pence=1_001, code="allocation"
        )

    assert refused.value.shortfall_pence == 1
    assert refused.value.code == "insufficient_funds"
    assert _count(session) == before
    assert ledger.balance(session, pot.id).available == 1_000
    assert ledger.balance(session, stream.id).credits_posted == 0
    # The session is still usable: the refusal was undone by its own savepoint.
    ledger.transfer(
        session, key="t2", debit=pot, credit=stream, amount_pence=1_000, code="allocation"
    )
    assert ledger.balance(session, pot.id).available == 0


def test_an_unguarded_account_may_go_negative(session: Session, make_account: MakeAccount) -> None:
    funder, pot = make_account(guarded=False), make_account()

    ledger.transfer(session, key="t", debit=funder, credit=pot, amount_pence=50, code="funding")

    assert ledger.balance(session, funder.id).available == -50


def test_pending_money_is_held_then_posted_in_part_and_the_rest_released(
    session: Session, make_account: MakeAccount
) -> None:
    stream, payee = make_account(1_000), make_account(guarded=False)

    held = ledger.transfer(
        session,
        key="hold",
        debit=stream,
        credit=payee,
        amount_pence=600,
        code="commitment",
        pending=True,
    )
    assert held.state is TransferState.PENDING
    assert ledger.balance(session, stream.id).available == 400
    assert ledger.balance(session, stream.id).posted == 1_000

    posting = ledger.post_pending(session, held, key="post", amount_pence=450)

    session.expire(held)
    assert posting.kind is TransferKind.POST
    assert held.state is TransferState.POSTED
    assert ledger.balance(session, stream.id).available == 550
    assert ledger.balance(session, payee.id).posted == 450
    assert ledger.balance(session, payee.id).credits_pending == 0
    assert ledger.verify_ledger(session).ok


def test_a_pending_transfer_can_be_voided(session: Session, make_account: MakeAccount) -> None:
    stream, payee = make_account(1_000), make_account(guarded=False)
    held = ledger.transfer(
        session, key="h", debit=stream, credit=payee, amount_pence=1_000, code="c", pending=True
    )

    ledger.void_pending(session, held, key="v")

    session.expire(held)
    assert held.state is TransferState.VOIDED
    assert ledger.balance(session, stream.id) == ledger.Balance(0, 0, 0, 1_000)
    assert ledger.verify_ledger(session).ok


@pytest.mark.parametrize("first", ["post", "void"])
@pytest.mark.parametrize("second", ["post", "void"])
def test_a_pending_transfer_is_resolved_at_most_once(
    session: Session, make_account: MakeAccount, first: str, second: str
) -> None:
    stream, payee = make_account(1_000), make_account(guarded=False)
    held = ledger.transfer(
        session, key="h", debit=stream, credit=payee, amount_pence=300, code="c", pending=True
    )
    resolve = {
        "post": lambda key: ledger.post_pending(session, held, key=key),
        "void": lambda key: ledger.void_pending(session, held, key=key),
    }
    resolve[first]("first")

    with pytest.raises(AlreadyResolved):
        resolve[second]("second")
    assert ledger.verify_ledger(session).ok


def test_posting_more_than_was_held_is_refused(session: Session, make_account: MakeAccount) -> None:
    stream, payee = make_account(1_000), make_account(guarded=False)
    held = ledger.transfer(
        session, key="h", debit=stream, credit=payee, amount_pence=300, code="c", pending=True
    )

    with pytest.raises(InvalidTransfer):
        ledger.post_pending(session, held, key="p", amount_pence=301)


def test_only_pending_transfers_are_posted_or_voided(
    session: Session, make_account: MakeAccount
) -> None:
    stream, payee = make_account(1_000), make_account(guarded=False)
    moved = ledger.transfer(session, key="m", debit=stream, credit=payee, amount_pence=1, code="c")

    with pytest.raises(InvalidTransfer):
        ledger.post_pending(session, moved, key="p")
    with pytest.raises(InvalidTransfer):
        ledger.void_pending(session, moved, key="v")


def test_the_same_key_and_details_return_the_first_transfer_and_record_nothing(
    session: Session, make_account: MakeAccount
) -> None:
    pot, stream = make_account(1_000), make_account()
    first = ledger.transfer(
        session, key="once", debit=pot, credit=stream, amount_pence=100, code="allocation"
    )
    before = _count(session)

    again = ledger.transfer(
        session, key="once", debit=pot, credit=stream, amount_pence=100, code="allocation"
    )

    assert again.id == first.id
    assert _count(session) == before
    assert ledger.balance(session, pot.id).available == 900


@pytest.mark.parametrize(
    "changed",
    [{"amount_pence": 101}, {"code": "revision"}, {"pending": True}, {"swap": True}],
)
def test_the_same_key_with_different_details_is_refused(
    session: Session, make_account: MakeAccount, changed: dict[str, object]
) -> None:
    pot, stream = make_account(1_000), make_account(100)
    ledger.transfer(
        session, key="once", debit=pot, credit=stream, amount_pence=100, code="allocation"
    )
    details: dict[str, object] = {
        "debit": pot,
        "credit": stream,
        "amount_pence": 100,
        "code": "allocation",
    }
    if changed.pop("swap", False):
        details["debit"], details["credit"] = stream, pot
    details.update(changed)

    with pytest.raises(IdempotencyConflict) as refused:
        ledger.transfer(session, key="once", **details)  # type: ignore[arg-type]
    assert refused.value.code == "conflict"
    assert ledger.balance(session, pot.id).available == 900


def test_replaying_a_posting_returns_it_even_though_the_hold_is_now_resolved(
    session: Session, make_account: MakeAccount
) -> None:
    stream, payee = make_account(1_000), make_account(guarded=False)
    held = ledger.transfer(
        session, key="h", debit=stream, credit=payee, amount_pence=300, code="c", pending=True
    )
    posting = ledger.post_pending(session, held, key="p", amount_pence=200)

    assert ledger.post_pending(session, held, key="p", amount_pence=200).id == posting.id
    with pytest.raises(IdempotencyConflict):
        ledger.post_pending(session, held, key="p", amount_pence=100)
    assert ledger.balance(session, payee.id).posted == 200


def test_a_reversal_undoes_a_posted_transfer_once_with_a_reason(
    session: Session, make_account: MakeAccount
) -> None:
    stream, payee = make_account(1_000), make_account(guarded=False)
    paid = ledger.transfer(session, key="p", debit=stream, credit=payee, amount_pence=400, code="c")

    reversal = ledger.reverse(session, paid, key="r", reason="invoiced twice")

    assert (reversal.debit_account_id, reversal.credit_account_id) == (payee.id, stream.id)
    assert reversal.reverses_id == paid.id
    assert reversal.reason == "invoiced twice"
    assert ledger.balance(session, stream.id).available == 1_000
    assert ledger.reverse(session, paid, key="r", reason="invoiced twice").id == reversal.id
    with pytest.raises(AlreadyResolved):
        ledger.reverse(session, paid, key="r2", reason="again")
    with pytest.raises(InvalidTransfer):
        ledger.reverse(session, reversal, key="r3", reason="undo the undo")
    assert ledger.verify_ledger(session).ok


def test_a_reversal_needs_a_reason_and_posted_money(
    session: Session, make_account: MakeAccount
) -> None:
    stream, payee = make_account(1_000), make_account(guarded=False)
    paid = ledger.transfer(session, key="p", debit=stream, credit=payee, amount_pence=4, code="c")
    held = ledger.transfer(
        session, key="h", debit=stream, credit=payee, amount_pence=4, code="c", pending=True
    )

    with pytest.raises(InvalidTransfer):
        ledger.reverse(session, paid, key="r", reason="  ")
    with pytest.raises(InvalidTransfer):
        ledger.reverse(session, held, key="r", reason="held money did not move")


def test_a_reversal_cannot_take_back_money_a_guarded_account_has_spent(
    session: Session, make_account: MakeAccount
) -> None:
    pot, stream, payee = make_account(1_000), make_account(), make_account(guarded=False)
    allocation = ledger.transfer(
        session, key="a", debit=pot, credit=stream, amount_pence=500, code="allocation"
    )
    ledger.transfer(session, key="s", debit=stream, credit=payee, amount_pence=300, code="c")

    with pytest.raises(InsufficientFunds) as refused:
        ledger.reverse(session, allocation, key="r", reason="wrong person")
    assert refused.value.shortfall_pence == 300


@pytest.mark.parametrize(
    "amount", [0, -1, 1.5, 100.0, Decimal("1"), True, "100", None, 1_000_000_001]
)
def test_amounts_must_be_positive_whole_pence(
    session: Session, make_account: MakeAccount, amount: object
) -> None:
    pot, stream = make_account(10_000), make_account()

    with pytest.raises(InvalidTransfer):
        ledger.transfer(session, key="bad", debit=pot, credit=stream, amount_pence=amount, code="c")  # type: ignore[arg-type]
    assert _count(session) == 1


def test_a_transfer_needs_two_accounts(session: Session, make_account: MakeAccount) -> None:
    pot = make_account(10_000)

    with pytest.raises(InvalidTransfer):
        ledger.transfer(session, key="x", debit=pot, credit=pot, amount_pence=1, code="c")


def test_an_account_keeps_its_guard(session: Session, make_account: MakeAccount) -> None:
    make_account(name="pot")

    assert ledger.open_account(session, code="pot", name="pot", guarded=True).code == "pot"
    with pytest.raises(InvalidTransfer):
        ledger.open_account(session, code="pot", name="pot", guarded=False)


def test_the_database_refuses_a_guarded_balance_below_zero(
    session: Session, make_account: MakeAccount
) -> None:
    pot = make_account(100)

    with pytest.raises(IntegrityError):
        session.execute(
            update(LedgerAccount).where(LedgerAccount.id == pot.id).values(debits_posted=101)
        )
    session.rollback()


def test_the_database_refuses_to_update_a_transfer(
    session: Session, make_account: MakeAccount
) -> None:
    make_account(100)

    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("UPDATE ledger_transfers SET amount_pence = 1"))
    session.rollback()


@pytest.mark.parametrize(
    "details",
    [{"key": ""}, {"key": "k" * 201}, {"description": "d" * 301}, {"reason": "r" * 501}],
)
def test_keys_descriptions_and_reasons_must_fit(
    session: Session, make_account: MakeAccount, details: dict[str, str]
) -> None:
    pot, stream = make_account(10_000), make_account()
    arguments: dict[str, object] = {"key": "k", "amount_pence": 1, "code": "c", **details}

    with pytest.raises(InvalidTransfer):
        ledger.transfer(session, debit=pot, credit=stream, **arguments)  # type: ignore[arg-type]
    assert _count(session) == 1


def test_accounts_can_be_named_by_id(session: Session, make_account: MakeAccount) -> None:
    pot, stream = make_account(100), make_account()

    ledger.transfer(session, key="k", debit=pot.id, credit=stream.id, amount_pence=60, code="c")

    assert pot.credits_posted - pot.debits_posted == 40  # the loaded object was refreshed
    with pytest.raises(InsufficientFunds):
        ledger.transfer(session, key="k2", debit=pot.id, credit=stream, amount_pence=41, code="c")
