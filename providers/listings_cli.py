"""`flask listings remind-stale`: for schedulers, once a day like the other jobs."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from marketplace.extensions import db
from providers.models import STALE_AFTER_DAYS
from providers.reminders import REMIND_DAYS_BEFORE, remind_before_stale


@click.group("listings")
def listings() -> None:
    """Providers' listings: scheduled jobs."""


@listings.command("remind-stale")
@click.option(
    "--days-before",
    default=REMIND_DAYS_BEFORE,
    show_default=True,
    type=click.IntRange(1, STALE_AFTER_DAYS),
    help=f"Remind this many days before a listing is flagged stale ({STALE_AFTER_DAYS} days "
    "after its capacity was last confirmed).",
)
def remind_stale_command(days_before: int) -> None:
    """Email the staff of each listing about to be flagged stale, once for each time it was
    confirmed. Safe to run twice."""
    reminded = remind_before_stale(db.session, now=datetime.now(UTC), days_before=days_before)
    db.session.commit()
    click.echo(f"Reminded the providers of {len(reminded)} listings")
