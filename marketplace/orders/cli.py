"""`flask orders settle-due`: for schedulers."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from marketplace.extensions import db
from marketplace.formatting import pounds
from marketplace.orders.invoicing import SETTLE_AFTER_DAYS, settle_due


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
