"""Run by test_faults in a process of its own: begin writing money, stop at a chosen point,
say so on standard output, and wait there to be killed.

    python -m tests.ledger.fault_child MODE DATABASE_URL INSTANCE_PATH FROM_ID TO_ID

MODE is `mid-transfer` (the balances are updated, the transfer row is about to be written),
`mid-split` (one of two transfers of one action written, the second about to be), or
`committed` (a transfer committed).
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event

from marketplace import create_app, ledger
from marketplace.extensions import db
from marketplace.ledger import LedgerAccount
from tests.conftest import test_settings


def _pause() -> None:
    print("paused", flush=True)
    time.sleep(120)


def main(mode: str, url: str, instance: str, debit_id: str, credit_id: str) -> None:
    app = create_app(test_settings(url, Path(instance)))
    with app.app_context():
        inserts = 0

        @event.listens_for(db.engine, "before_cursor_execute")
        def stop_before_an_insert(*args: Any) -> None:
            nonlocal inserts
            if args[2].lstrip().upper().startswith("INSERT INTO LEDGER_TRANSFERS"):
                inserts += 1
                if (mode, inserts) in {("mid-transfer", 1), ("mid-split", 2)}:
                    _pause()

        session = db.session
        debit = session.get_one(LedgerAccount, uuid.UUID(debit_id))
        credit = session.get_one(LedgerAccount, uuid.UUID(credit_id))
        for part in range(2 if mode == "mid-split" else 1):
            ledger.transfer(
                session,
                key=f"{mode}:{part}",
                debit=debit,
                credit=credit,
                amount_pence=300,
                code="c",
            )
        session.commit()
        _pause()


if __name__ == "__main__":
    main(*sys.argv[1:6])
