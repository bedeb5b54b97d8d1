"""Run by test_faults in a process of its own: check out a basket item as the checkout page
does, stop at a chosen point, say where on standard output (one line), and wait there to be killed.

    python -m tests.orders.fault_child MODE DATABASE_URL INSTANCE_PATH PERSON USER ITEM TODAY

MODE is `order-written` (the order row is inserted, no ledger transfer yet), `first-cycle`
(the first cycle's commitment is written, the second's is about to be) or `committed` (the
request's transaction committed). If the point is reached in another state, the line says so.
"""

from __future__ import annotations

import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import event

from marketplace import create_app
from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.orders import checkout
from marketplace.people.models import Person
from tests.conftest import test_settings


def _pause(where: str) -> None:
    print(f"paused: {where}", flush=True)
    time.sleep(120)


def main(mode: str, url: str, instance: str, person: str, user: str, item: str, today: str) -> None:
    app = create_app(test_settings(url, Path(instance)))
    with app.app_context():
        seen: list[str] = []

        @event.listens_for(db.engine, "before_cursor_execute")
        def stop_before(*args: Any) -> None:
            statement, parameters = args[2].lstrip().upper(), str(args[3])
            if statement.startswith("INSERT INTO ORDERS "):
                seen.append("order")
            if not statement.startswith("INSERT INTO LEDGER_TRANSFERS"):
                return
            if mode == "order-written":
                _pause("order" if "order" in seen else "no order yet")
            if mode == "first-cycle" and ":cycle:2" in parameters:
                first = any(":cycle:1" in part for part in seen)
                _pause("cycle 1 written" if first else "cycle 1 missing")
            seen.append(parameters)

        session = db.session
        checkout.check_out(
            session,
            session.get_one(Person, uuid.UUID(person)),
            [uuid.UUID(item)],
            by=session.get_one(User, uuid.UUID(user)),
            today=date.fromisoformat(today),
        )
        session.commit()
        _pause("committed")


if __name__ == "__main__":
    main(*sys.argv[1:8])
