"""The `flask seed-demo` step for exports to the finance system (issue 19, FINEXPORT): one
export made by the demo officer a week ago, so the council's exports page has a past export to
download again, and the next export the officer makes is incremental: the week since.

It gives the demo's funders their default cost centres (the council's adult social care
personal budgets, the ICB's personal health budgets) where they have none, so the files name
them. Idempotent: a county with an export already is left as it is.

Run it LAST among the demo's steps: an export covers the ledger rows recorded up to its end,
and a later step that wrote rows dated before it (the demo dates its stories in the past)
would leave them behind every export.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.budgets.models import Funder, FunderKind
from marketplace.demo.budgets_seed import OFFICER_EMAIL
from marketplace.extensions import db
from marketplace.finance import exports
from marketplace.finance.models import FinanceExport
from marketplace.formatting import LONDON

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

COST_CENTRES = {FunderKind.COUNCIL: "ASC-PB01", FunderKind.NHS: "PHB-CHC01"}
DAYS_AGO = 7


def seed_finance_export(today: date | None = None) -> SeedReport:
    """The demo's first export, made at 5pm London `DAYS_AGO` days before `today` (the real
    today by default) by the demo officer, with timedelta(0) to settle (nothing is being
    written then). Flushes, never commits."""
    from marketplace.demo.seed import SeedReport, Tally

    tally = Tally("finance exports")
    existing = db.session.scalar(select(func.count()).select_from(FinanceExport)) or 0
    if existing:
        tally.existing = existing
        return SeedReport(tallies=[tally])
    for funder in db.session.scalars(select(Funder)):
        if not funder.cost_centre:
            funder.cost_centre = COST_CENTRES[funder.kind]
    officer = db.session.scalar(select(User).where(User.email == OFFICER_EMAIL))
    today = today or datetime.now(LONDON).date()
    made_at = datetime.combine(today - timedelta(days=DAYS_AGO), time(17), tzinfo=LONDON)
    tally.created.append(
        exports.make_export(db.session, by=officer, now=made_at, settle=timedelta(0))
    )
    return SeedReport(tallies=[tally])
