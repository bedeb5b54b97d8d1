"""`flask payments expire`: the scheduled job that cancels orders left unpaid too long.

App-level (it reads the app's configuration), beside the other commands; the rule itself is
`marketplace.payments.service.expire_unpaid_orders`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import current_app

from marketplace.extensions import db
from marketplace.payments.service import expire_unpaid_orders


@click.group("payments")
def payments() -> None:
    """Card payments: cancel orders left unpaid."""


@payments.command("expire")
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Act as if it were this time (UTC; default: now).",
)
def expire(now: datetime | None) -> None:
    """Cancel every order awaiting its card payment for longer than PAYMENT_EXPIRY_MINUTES,
    releasing its budget money and telling the person. Safe to run twice (run it every few
    minutes)."""
    moment = now.replace(tzinfo=UTC) if now else datetime.now(UTC)
    minutes = int(current_app.config["PAYMENT_EXPIRY_MINUTES"])
    expired = expire_unpaid_orders(db.session, now=moment, older_than=timedelta(minutes=minutes))
    db.session.commit()
    references = ", ".join(order.reference for order in expired)
    plural = "order" if len(expired) == 1 else "orders"
    click.echo(
        f"Cancelled {len(expired)} {plural} awaiting payment"
        + (f": {references}" if expired else f" (none unpaid for over {minutes} minutes)")
    )
