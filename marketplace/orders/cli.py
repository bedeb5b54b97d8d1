"""`flask orders settle-due` and `flask orders roll-packages`: for schedulers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import click

from marketplace.extensions import db
from marketplace.formatting import LONDON, pounds
from marketplace.orders.invoicing import SETTLE_AFTER_DAYS, settle_due
from marketplace.orders.packages import SHORTFALL_NOTICE_DAYS, roll_packages


@click.group("orders")
def orders() -> None:
    """Orders and invoices: scheduled jobs."""


@orders.command("settle-due")
@click.option(
    "--after-days",
    default=SETTLE_AFTER_DAYS,
    show_default=True,
    help="Settle invoices raised at least this many days ago and not queried.",
)
def settle_due_command(after_days: int) -> None:
    """Settle every invoice nobody has queried in time. Safe to run twice."""
    settled = settle_due(db.session, now=datetime.now(UTC), after_days=after_days)
    db.session.commit()
    total = sum(invoice.amount_pence for invoice in settled)
    click.echo(f"Settled {len(settled)} invoices ({pounds(total)})")


@orders.command("roll-packages")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Roll as on this day (default: today in London).",
)
@click.option(
    "--notice-days",
    envvar="PACKAGE_SHORTFALL_NOTICE_DAYS",
    type=click.IntRange(min=1),
    default=SHORTFALL_NOTICE_DAYS,
    show_default=True,
    help="Flag a cycle that cannot be covered this many days before it starts.",
)
def roll_packages_command(on: datetime | None, notice_days: int) -> None:
    """Hold each ongoing package's next cycles from the budget that pays them, and flag those
    that cannot be covered. `flask ledger release-instalments` runs it after releasing. Safe
    to run twice, or late: it catches up every missed cycle."""
    roll_and_report(on.date() if on else datetime.now(LONDON).date(), notice_days=notice_days)


def roll_and_report(today: date, *, notice_days: int = SHORTFALL_NOTICE_DAYS) -> None:
    """Roll the packages as on `today`, commit, and say what was done."""
    report = roll_packages(db.session, today, notice_days=notice_days)
    db.session.commit()
    click.echo(
        f"Packages: held {len(report.held)} cycles ({pounds(report.held_pence)}), "
        f"{len(report.carried)} carried into a new budget, {len(report.flagged)} shortfalls "
        f"flagged, {len(report.resolved)} resolved, {report.waiting} waiting for money due"
    )
    for reference, message in report.failed:
        click.echo(f"Could not roll {reference}: {message}", err=True)
