"""A process killed in the middle of writing money leaves all of it or none of it.

A real child process (tests/ledger/fault_child.py) writes to the test database and stops at
a chosen statement; we kill it with SIGKILL there, as the kernel's OOM killer or a pulled plug
would, and look at what the database kept.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.ledger import LedgerAccount, Transfer

ROOT = Path(__file__).resolve().parents[2]


def _kill_when_paused(arguments: list[str]) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.fault_child", *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        line = child.stdout.readline() if ready else ""  # type: ignore[union-attr]
        assert line.strip() == "paused", child.stderr.read() if child.poll() is not None else ""  # type: ignore[union-attr]
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL


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
