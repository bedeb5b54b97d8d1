"""The `flask seed-demo` step for paying providers (issue 19, PAYRUNS): one payment run made by
the demo officer a fortnight ago, paying every invoice settled by then, its payment file sent
the next morning (each provider told), so the council's Paying providers page has a past run
with its files, and each paid provider's portal a remittance advice. The next run the officer
previews pays what was settled since.

Its ledger rows are dated when the run was made (as the demo's other past events are), so run
this step BEFORE the finance export's (`console_finance_export`, which must come last): that
export then carries the run's payment lines. Idempotent: a county with a run already is left
as it is; a county with nothing settled by then gets no run.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.demo.budgets_seed import OFFICER_EMAIL, _ledger_clock
from marketplace.extensions import db
from marketplace.finance import payment_runs
from marketplace.finance.models import PaymentRun
from marketplace.formatting import LONDON

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

DAYS_AGO = 14


def seed_payment_runs(today: date | None = None) -> SeedReport:
    """The demo's payment run, made at 10am London `DAYS_AGO` days before `today` (the real
    today by default) by the demo officer for the invoices settled by then, and marked sent at
    9am the next day. Flushes, never commits."""
    from marketplace.demo.seed import SeedReport, Tally

    tally = Tally("payment runs")
    existing = db.session.scalar(select(func.count()).select_from(PaymentRun)) or 0
    if existing:
        tally.existing = existing
        return SeedReport(tallies=[tally])
    officer = db.session.scalar(select(User).where(User.email == OFFICER_EMAIL))
    if officer is None:
        return SeedReport(tallies=[tally])
    today = today or datetime.now(LONDON).date()
    made_at = datetime.combine(today - timedelta(days=DAYS_AGO), time(10), tzinfo=LONDON)
    sent_at = made_at + timedelta(hours=23)
    preview = payment_runs.preview_run(db.session, settled_until=made_at)
    if not preview.providers:
        return SeedReport(tallies=[tally])
    with _ledger_clock(made_at):
        run = payment_runs.make_run(
            db.session, settled_until=made_at, fingerprint=preview.fingerprint, by=officer
        )
    run.made_at = made_at
    db.session.flush()  # mark_sent reads the run again
    payment_runs.mark_sent(db.session, run, by=officer)
    run.sent_at = sent_at
    db.session.flush()
    tally.created.append(run)
    return SeedReport(tallies=[tally])
