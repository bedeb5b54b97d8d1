"""The demo's past export to the finance system (marketplace/demo/console_finance_export.py):
on the whole demo county, made a week back by the demo officer; the next export is the week
since, and the two together add up to the ledger. Seeding twice adds nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import time_machine
from flask import Flask
from sqlalchemy import func, select

from marketplace.demo.budgets_seed import OFFICER_EMAIL
from marketplace.demo.console_finance_export import seed_finance_export
from marketplace.extensions import db
from marketplace.finance import exports
from marketplace.finance.export_lines import LineType
from marketplace.finance.models import FinanceExport
from marketplace.formatting import LONDON
from marketplace.ledger import Transfer, TransferKind
from marketplace.types import utcnow
from tests.conftest import DemoCounty

DEMO_DAY = datetime(2026, 11, 24, 12, tzinfo=LONDON)


def test_the_demo_export_is_a_week_old_and_the_next_one_takes_up_from_it(
    app: Flask, demo_county: DemoCounty
) -> None:
    # The export is seed-demo's last step, dated from today (the day seeded on).
    seeded = demo_county.restore(DEMO_DAY)
    assert seeded.created["finance exports"] == 1
    with time_machine.travel(seeded.finished_at, tick=True):  # just after the seed
        first = db.session.scalars(select(FinanceExport)).one()
        assert first.until == datetime.combine(
            DEMO_DAY.date() - timedelta(days=7), time(17), tzinfo=LONDON
        )
        assert first.made_by is not None
        assert first.made_by.email == OFFICER_EMAIL
        assert first.row_count > 0
        assert "ASC-PB01" in first.content
        assert "PHB-CHC01" in first.content
        # Nothing is being written now, so the export need not leave the last minute to
        # settle: the demo's steps after the first export are dated now.
        second = exports.make_export(
            db.session, by=first.made_by, now=utcnow(), settle=timedelta(0)
        )
        db.session.commit()
        assert second.since == first.until

    totals = dict.fromkeys(LineType, 0)
    for export in (first, second):
        for kind, pence in exports.summary_of_export(export).totals.items():
            totals[kind] += pence
    held = db.session.scalar(
        select(func.coalesce(func.sum(Transfer.amount_pence), 0)).where(
            Transfer.kind == TransferKind.PENDING,
            Transfer.code == "commitment",
            ~Transfer.id.in_(select(Transfer.pending_id).where(Transfer.pending_id.is_not(None))),
        )
    )
    spent = db.session.scalar(
        select(func.coalesce(func.sum(Transfer.amount_pence), 0)).where(
            Transfer.kind == TransferKind.POST, Transfer.code == "commitment"
        )
    )
    assert (totals[LineType.COMMITMENT], totals[LineType.ACTUAL]) == (held, spent)
    assert (spent or 0) > 0

    again = seed_finance_export(DEMO_DAY.date())
    assert again.created("finance exports") == []
    assert db.session.scalar(select(func.count()).select_from(FinanceExport)) == 2
