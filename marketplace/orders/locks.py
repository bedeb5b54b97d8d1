"""One order's steps, one at a time: the order's lock, taken before its state is read.

Every step that changes an order, its cycles, deliveries or invoices (accept, decline,
cancel, approve, refuse, record, confirm, query or correct a delivery, raise or settle an
invoice) first calls `lock_order`. Two steps sent at the same moment then queue on the order:
the second reads what the first committed, and its own checks refuse it (InvalidTransition)
before it writes or tells anyone anything.

The lock comes before any of the ledger's account locks (`ledger.lock_accounts`, taken when a
step holds, releases or spends money), and checkout takes account locks only for orders that
do not exist yet, so the locks are always taken in the same order and cannot deadlock.
"""

from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.orm import scoped_session

from marketplace import ledger
from marketplace.ledger.transactions import dialect_name
from marketplace.orders.models import Delivery, Invoice, Order, OrderCycle
from marketplace.types import Session

# session.info key: (the root transaction, ids of the orders it has locked).
_LOCKED = "orders.locked"
_FAMILY = (Order, OrderCycle, Delivery, Invoice)


def lock_order(session: Session, order: Order) -> None:
    """Hold the order's write lock until the transaction ends, and make what the session knows
    of it current: the order, and every cycle, delivery and invoice the session has loaded,
    are read again (from the database, after the lock) the next time they are used.

    SQLite: the transaction begins IMMEDIATE (the database's one write lock). PostgreSQL:
    SELECT ... FOR UPDATE on the order's row, waiting for whoever holds it to commit. Taking
    the lock again in the same transaction (a step that calls another) does nothing.
    """
    ledger.begin_immediate(session)
    # Flask-SQLAlchemy's db.session is a scoped_session, which does not pass this method on.
    own = session() if isinstance(session, scoped_session) else session
    transaction = own.get_transaction()
    held_in, locked = session.info.get(_LOCKED, (None, set()))
    if held_in is not transaction:
        locked = set()
    if order.id in locked:
        return
    if dialect_name(session) != "sqlite":
        session.execute(select(Order.id).where(Order.id == order.id).with_for_update()).one()
    locked.add(order.id)
    session.info[_LOCKED] = (transaction, locked)
    # Write out anything pending first: expiring an object forgets its unflushed changes.
    session.flush()
    for instance in list(session.identity_map.values()):
        if isinstance(instance, _FAMILY) and not inspect(instance).expired:
            session.expire(instance)
