"""Fixtures for the ledger: a session on the test database and accounts to move money between."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.extensions import db
from marketplace.ledger import LedgerAccount


@pytest.fixture
def session(app: Flask) -> Session:
    return db.session


@pytest.fixture
def make_account(session: Session) -> Callable[..., LedgerAccount]:
    """Open an account, guarded unless told otherwise, holding `pence` posted (from a
    throw-away unguarded account) and committed."""

    def build(pence: int = 0, *, guarded: bool = True, name: str = "") -> LedgerAccount:
        label = name or f"account {uuid.uuid4().hex[:6]}"
        account = ledger.open_account(session, code=label, name=label, guarded=guarded)
        if pence:
            world = ledger.open_account(session, code=f"world:{label}", name="World", guarded=False)
            ledger.transfer(
                session,
                key=f"fund:{label}",
                debit=world,
                credit=account,
                amount_pence=pence,
                code="funding",
            )
        session.commit()
        return account

    return build
