"""The demo's past payment run (marketplace/demo/console_payment_runs.py): on the whole demo
county, made a fortnight back by the demo officer for what was settled by then, and sent; the
ledger verifies, the next preview pays only what was settled since, and seeding twice adds
nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import time_machine
from flask import Flask
from sqlalchemy import func, select

from marketplace.budgets.verify import check_budgets
from marketplace.demo.budgets_seed import OFFICER_EMAIL
from marketplace.demo.console_payment_runs import seed_payment_runs
from marketplace.extensions import db
from marketplace.finance import payment_runs
from marketplace.finance.models import PaymentRun, RemittanceLine
from marketplace.finance.verify import check_payment_runs
from marketplace.formatting import LONDON
from marketplace.ledger import Transfer, verify_ledger
from marketplace.orders.models import Invoice
from marketplace.orders.verify import check_orders
from marketplace.types import utcnow
from tests.conftest import DemoCounty

DEMO_DAY = datetime(2026, 11, 24, 12, tzinfo=LONDON)


def test_the_demo_run_is_a_fortnight_old_sent_and_the_next_pays_only_what_came_since(
    app: Flask, demo_county: DemoCounty
) -> None:
    seeded = demo_county.restore(DEMO_DAY)
    with time_machine.travel(seeded.finished_at, tick=True):  # just after the seed
        report = seed_payment_runs(DEMO_DAY.date())
        db.session.commit()
        # The demo's seeding may have made it already (once seed.py runs this step).
        run = (report.created("payment runs") or db.session.scalars(select(PaymentRun)).all())[0]
        made_at = datetime.combine(DEMO_DAY.date() - timedelta(days=14), time(10), tzinfo=LONDON)
        assert run.made_at == made_at
        assert run.settled_until == made_at
        assert run.sent_at == made_at + timedelta(hours=23)
        assert run.made_by.email == OFFICER_EMAIL
        lines = db.session.scalars(select(RemittanceLine)).all()
        assert lines
        assert sum(line.amount_pence for line in lines) == run.total_pence > 0
        settled = db.session.scalars(
            select(Invoice.settled_at).where(Invoice.id.in_({line.invoice_id for line in lines}))
        ).all()
        assert all(moment is not None and moment <= made_at for moment in settled)
        # The ledger rows are dated when the run was made.
        transfers = db.session.scalars(
            select(Transfer.created_at).where(Transfer.id.in_([line.transfer_id for line in lines]))
        ).all()
        assert set(transfers) == {made_at}

        later = payment_runs.preview_run(db.session, settled_until=utcnow())
        paid = {line.invoice_id for line in lines}
        assert not paid & {due.invoice.id for p in later.providers for due in p.dues}

        again = seed_payment_runs(DEMO_DAY.date())
        assert again.created("payment runs") == []
        assert db.session.scalar(select(func.count()).select_from(PaymentRun)) == 1

    assert verify_ledger(db.session).ok
    assert check_budgets(db.session)[0] == []
    assert check_orders(db.session)[0] == []
    assert check_payment_runs(db.session)[0] == []
