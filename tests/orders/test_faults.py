"""The server dying between the order and its commitment leaves both or neither.

A real child process (tests/orders/fault_child.py) checks out a basket item against the test
database and stops at a chosen statement; we kill it with SIGKILL there, as the OOM killer or
a pulled plug would, and look at what the database kept: before the commit, no order, no
cycles, no transfers and the basket item still there; after it, all of them.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from marketplace.budgets.figures import budget_figures
from marketplace.ledger import Transfer
from marketplace.notifications.models import Notification
from marketplace.orders import checkout
from marketplace.orders.models import BasketItem, Order, OrderCycle, OrderEvent
from providers.models import InvoiceCycle
from tests.orders.conftest import HOURLY_PENCE, TODAY, World, assert_ledger_verifies

ROOT = Path(__file__).resolve().parents[2]


def _kill_when_paused(arguments: list[str], expect: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.orders.fault_child", *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        line = child.stdout.readline() if ready else ""  # type: ignore[union-attr]
        failed = child.stderr.read() if child.poll() is not None else ""  # type: ignore[union-attr]
        assert line.strip() == f"paused: {expect}", failed
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL


def _count(session: Session, model: type) -> int:
    return session.scalar(sql_select(func.count()).select_from(model)) or 0


def _order_transfers(session: Session) -> int:
    return (
        session.scalar(
            sql_select(func.count()).select_from(Transfer).where(Transfer.reference.like("order:%"))
        )
        or 0
    )


def _verify(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("mode", "said", "kept"),
    [
        ("order-written", "order", False),
        ("first-cycle", "cycle 1 written", False),
        ("committed", "committed", True),
    ],
)
def test_a_checkout_killed_part_way_keeps_the_order_and_its_money_together(
    app: Flask,
    session: Session,
    world: World,
    database_url: str,
    tmp_path: Path,
    mode: str,
    said: str,
    kept: bool,
) -> None:
    # Weekly invoicing: four weeks are four cycles, each with its own commitment.
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY
    item = checkout.add_to_basket(
        session, world.person, world.service, world.schedule(), by=world.citizen, today=TODAY
    )
    session.commit()
    item_id = item.id
    before = budget_figures(session, world.budget).total
    notifications = _count(session, Notification)

    _kill_when_paused(
        [
            mode,
            database_url,
            str(tmp_path / "child"),
            str(world.person.id),
            str(world.citizen.id),
            str(item_id),
            TODAY.isoformat(),
        ],
        said,
    )

    session.rollback()
    session.expire_all()
    after = budget_figures(session, world.budget).total
    total = 16 * HOURLY_PENCE
    if kept:
        order = session.scalars(sql_select(Order)).one()
        assert order.total_pence == total
        assert [cycle.amount_pence for cycle in order.cycles] == [4 * HOURLY_PENCE] * 4
        assert _count(session, OrderEvent) == 1
        assert _order_transfers(session) >= 4
        assert _count(session, BasketItem) == 0
        assert _count(session, Notification) > notifications
        assert after.committed_pence == before.committed_pence + total
        assert after.available_pence == before.available_pence - total
    else:
        assert _count(session, Order) == 0
        assert _count(session, OrderCycle) == 0
        assert _count(session, OrderEvent) == 0
        assert _order_transfers(session) == 0
        assert _count(session, Notification) == notifications
        assert session.scalars(sql_select(BasketItem.id)).all() == [item_id]
        assert after == before
    assert_ledger_verifies(session)
    _verify(app)
    # The dead process's locks are gone: checking out now (again) works at once, and once.
    orders = checkout.check_out(session, world.person, [item_id], by=world.citizen, today=TODAY)
    session.commit()
    assert _count(session, Order) == 1
    assert orders[0].total_pence == total
    assert budget_figures(session, world.budget).total.committed_pence == (
        before.committed_pence + total
    )
    assert_ledger_verifies(session)
