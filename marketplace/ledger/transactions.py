"""Write transactions that take their locks up front, on SQLite and on PostgreSQL alike.

SQLite's default (deferred) transaction reads under a snapshot and asks for the write lock
only at its first write. Two such transactions that both read and then write cannot both
win: one fails at once with "database is locked", whatever the busy timeout. A transaction
begun IMMEDIATE takes the write lock at BEGIN, waits its turn under the busy timeout, and then
reads the latest data. PostgreSQL needs nothing of the kind: its row locks and the guarded
UPDATE at READ COMMITTED are enough, and `lock_accounts` orders the locks of an operation that
touches several accounts so that two of them cannot deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import SessionTransaction

from marketplace.ledger.models import LedgerAccount
from marketplace.types import Session


def dialect_name(session: Session) -> str:
    """The name of the database the session talks to ("sqlite", "postgresql")."""
    return session.get_bind().dialect.name


def begin_immediate(session: Session) -> None:
    """On SQLite, make sure the session's transaction holds the write lock before it reads.

    pysqlite (Python 3.11, its default "legacy" mode) opens a transaction only before the
    first INSERT, UPDATE or DELETE, so until then the connection is outside any transaction
    even when SQLAlchemy's session has begun one. If it is, we begin IMMEDIATE now; if it has
    already written, it already holds the write lock. Does nothing on other databases.
    """
    if dialect_name(session) != "sqlite":
        return
    connection = session.connection()
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_accounts(session: Session, account_ids: Iterable[uuid.UUID]) -> None:
    """Take the write locks of these accounts now, in one order, for an operation on several.

    On PostgreSQL this is SELECT ... FOR UPDATE ordered by id, so two operations that touch
    overlapping accounts queue instead of deadlocking, and what they read next is current.
    On SQLite the IMMEDIATE transaction already serialises every writer.
    """
    begin_immediate(session)
    ids = sorted(set(account_ids))
    if not ids or dialect_name(session) == "sqlite":
        return
    session.execute(
        select(LedgerAccount.id)
        .where(LedgerAccount.id.in_(ids))
        .order_by(LedgerAccount.id)
        .with_for_update()
    ).all()


@contextmanager
def savepoint(session: Session) -> Iterator[SessionTransaction]:
    """A savepoint within the caller's write transaction: whatever fails inside is undone, and
    the transaction goes on.

    Never use `session.begin_nested()` directly for a write on SQLite: there a SAVEPOINT
    outside a transaction begins one, and its RELEASE then commits it, behind the caller's
    back. Beginning IMMEDIATE first keeps the savepoint inside the caller's transaction.
    """
    begin_immediate(session)
    with session.begin_nested() as nested:
        yield nested
