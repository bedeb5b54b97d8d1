"""`verify_ledger` and `flask ledger verify`: recompute everything, report what is wrong."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.ledger import LedgerAccount, Transfer, TransferKind

MakeAccount = Callable[..., LedgerAccount]


def _activity(session: Session, make_account: MakeAccount) -> tuple[LedgerAccount, ...]:
    pot, stream, payee = make_account(5_000), make_account(), make_account(guarded=False)
    ledger.transfer(session, key="a", debit=pot, credit=stream, amount_pence=3_000, code="a")
    held = ledger.transfer(
        session, key="h", debit=stream, credit=payee, amount_pence=1_000, code="c", pending=True
    )
    ledger.post_pending(session, held, key="p", amount_pence=700)
    paid = ledger.transfer(session, key="s", debit=stream, credit=payee, amount_pence=50, code="c")
    ledger.reverse(session, paid, key="r", reason="refund")
    ledger.transfer(
        session, key="h2", debit=stream, credit=payee, amount_pence=20, code="c", pending=True
    )
    session.commit()
    return pot, stream, payee


def test_a_ledger_written_through_the_functions_verifies(
    session: Session, make_account: MakeAccount
) -> None:
    _activity(session, make_account)

    report = ledger.verify_ledger(session)

    assert report.problems == []
    assert report.transfers == 7
    for account in session.scalars(select(LedgerAccount)):
        assert report.recomputed[account.id] == ledger.balance(session, account.id)


def test_a_stored_balance_that_disagrees_with_the_transfers_is_reported(
    session: Session, make_account: MakeAccount
) -> None:
    _, stream, _ = _activity(session, make_account)
    session.execute(
        update(LedgerAccount)
        .where(LedgerAccount.id == stream.id)
        .values(credits_posted=LedgerAccount.credits_posted + 1)
    )

    problems = ledger.verify_ledger(session).problems

    assert any(stream.code in problem and "stored" in problem for problem in problems)
    assert any("do not net to zero" in problem for problem in problems)


def test_a_transfer_written_behind_the_ledgers_back_is_reported(
    session: Session, make_account: MakeAccount
) -> None:
    pot, stream, _ = _activity(session, make_account)
    session.add(
        Transfer(
            idempotency_key="sneaky",
            kind=TransferKind.POSTED,
            debit_account_id=pot.id,
            credit_account_id=stream.id,
            amount_pence=10_000,
            code="a",
        )
    )
    session.flush()

    problems = ledger.verify_ledger(session).problems

    assert any(pot.code in problem and "guarded" in problem for problem in problems)
    assert any(stream.code in problem and "stored" in problem for problem in problems)


def test_the_command_passes_with_a_summary_last(
    app: Flask, session: Session, make_account: MakeAccount
) -> None:
    _activity(session, make_account)

    result = app.test_cli_runner().invoke(args=["ledger", "verify"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("ledger verify: OK, ")


def test_the_command_prints_each_problem_and_fails(
    app: Flask, session: Session, make_account: MakeAccount
) -> None:
    _, stream, _ = _activity(session, make_account)
    session.execute(
        update(LedgerAccount)
        .where(LedgerAccount.id == stream.id)
        .values(debits_pending=LedgerAccount.debits_pending + 5)
    )
    session.commit()

    result = app.test_cli_runner().invoke(args=["ledger", "verify"])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(stream.code in line for line in lines[:-1])
    assert lines[-1].startswith("ledger verify: 2 problems in ")
