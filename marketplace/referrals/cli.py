"""`flask referrals send-reminders`, `lapse-offers` and `book-reviews` (issue 20, VISITS): the
front door's scheduled jobs. Each commits once at its end, and each is safe to run twice or
on two machines at once (a reminder and a lapse are claimed by a conditional update; a plan is
locked before its review visit is booked)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app

from marketplace.extensions import db
from marketplace.referrals import plan_reviews, visits


@click.group("referrals")
def referrals() -> None:
    """The front door's referrals and visits: scheduled jobs."""


def _now(at: datetime | None) -> datetime:
    return at.replace(tzinfo=UTC) if at else datetime.now(UTC)


_AT = click.option(
    "--at",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M"]),
    default=None,
    help="Run as at this UTC time (default: now).",
)


@referrals.command("send-reminders")
@_AT
def send_reminders_command(at: datetime | None) -> None:
    """Remind each person of a booked visit starting within VISIT_REMINDER_HOURS, once."""
    sent = visits.send_reminders(
        db.session, now=_now(at), hours=current_app.config["VISIT_REMINDER_HOURS"]
    )
    db.session.commit()
    click.echo(f"Sent {sent} visit reminders")


@referrals.command("lapse-offers")
@_AT
def lapse_offers_command(at: datetime | None) -> None:
    """Lapse offered visits not accepted in time, offering each slot to the next who fits."""
    lapsed = visits.lapse_offers(
        db.session, now=_now(at), offer_hours=current_app.config["VISIT_OFFER_HOURS"]
    )
    db.session.commit()
    click.echo(f"Lapsed {lapsed} offers")


@referrals.command("book-reviews")
@_AT
def book_reviews_command(at: datetime | None) -> None:
    """Book a review visit for each approved plan due its review within
    REVIEW_BOOKING_DAYS_AHEAD days (or overdue) that has none."""
    booked, unbooked = plan_reviews.book_reviews(
        db.session, now=_now(at), rules=plan_reviews.rules_in_force()
    )
    db.session.commit()
    click.echo(f"Booked {len(booked)} review visits; no free slot fitted {len(unbooked)} plans")
