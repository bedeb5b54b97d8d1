"""A process killed in the middle of writing money leaves all of it or none of it.

A real child process (tests/ledger/fault_child.py, forked from the test's: tests/forking.py)
writes to the test database and stops at a chosen statement; we kill it with SIGKILL there, as
the kernel's OOM killer or a pulled plug would, and look at what the database kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.ledger import LedgerAccount, Transfer
from tests.forking import kill_when_paused
from tests.ledger import fault_child


def _kill_when_paused(arguments: list[str]) -> None:
    kill_when_paused(fault_child.main, arguments, "paused")


@pytest.mark.parametrize(
    ("mode", "kept_pence"), [("mid-transfer", 0), ("mid-split", 0), ("committed", 300)]
)
def test_a_killed_process_leaves_all_or_nothing(
    app: Flask,
    session: Session,
    make_account: Callable[..., LedgerAccount],
    database_url: str,
    tmp_path: Path,
    mode: str,
    kept_pence: int,
) -> None:
    pot, stream = make_account(1_000), make_account()

    _kill_when_paused([mode, database_url, str(tmp_path / "child"), str(pot.id), str(stream.id)])

    session.rollback()
    written = session.scalar(
        sql_select(func.count()).select_from(Transfer).where(Transfer.code == "c")
    )
    assert written == kept_pence // 300
    assert ledger.balance(session, pot.id).available == 1_000 - kept_pence
    assert ledger.balance(session, stream.id).available == kept_pence
    assert ledger.verify_ledger(session).ok
    # The dead process's locks are gone: the account can be written again at once.
    ledger.transfer(session, key="after", debit=pot, credit=stream, amount_pence=1, code="a")
    session.commit()
