"""Opening accounts and reading their balances."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from marketplace.ledger.errors import InvalidTransfer
from marketplace.ledger.models import Balance, LedgerAccount
from marketplace.types import Session


def open_account(session: Session, *, code: str, name: str, guarded: bool) -> LedgerAccount:
    """The account with this `code`, made (and flushed) if there is none yet.

    Raises InvalidTransfer if an account with the code exists with the other `guarded` flag:
    whether an account may go negative is decided once.
    """
    account = session.scalars(select(LedgerAccount).where(LedgerAccount.code == code)).first()
    if account is None:
        account = LedgerAccount(code=code, name=name, guarded=guarded)
        session.add(account)
        session.flush()
    elif account.guarded != guarded:
        raise InvalidTransfer(f"account {code} exists with guarded={account.guarded}", code=code)
    return account


def balance(session: Session, account_id: uuid.UUID) -> Balance:
    """The account's stored balance as the database holds it now (never a cached copy)."""
    row = session.execute(
        select(
            LedgerAccount.debits_pending,
            LedgerAccount.debits_posted,
            LedgerAccount.credits_pending,
            LedgerAccount.credits_posted,
        ).where(LedgerAccount.id == account_id)
    ).one()
    return Balance(*(int(value) for value in row))


def balances(session: Session, account_ids: list[uuid.UUID]) -> dict[uuid.UUID, Balance]:
    """The stored balances of several accounts at once, by account id."""
    rows = session.execute(
        select(
            LedgerAccount.id,
            LedgerAccount.debits_pending,
            LedgerAccount.debits_posted,
            LedgerAccount.credits_pending,
            LedgerAccount.credits_posted,
        ).where(LedgerAccount.id.in_(account_ids))
    ).all()
    return {row[0]: Balance(*(int(value) for value in row[1:])) for row in rows}
