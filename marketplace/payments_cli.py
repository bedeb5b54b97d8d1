"""`flask payments expire`: the scheduled job that cancels orders left unpaid too long.

App-level (it reads the app's configuration), beside the other commands; the rule itself is
`marketplace.payments.service.expire_unpaid_orders`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask import current_app

from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.orders.models import Order
from marketplace.payments.errors import PaymentGatewayError
from marketplace.payments.mismatches import MismatchKind
from marketplace.payments.models import CardPayment, CardPaymentStatus
from marketplace.payments.reconcile import mismatches_csv, reconcile
from marketplace.payments.recurring import charge_due_cycles
from marketplace.payments.refunds import issue_owed_refunds
from marketplace.payments.service import (
    expire_unpaid_orders,
    payments_of_order,
    stop_stale_payments,
)
from marketplace.payments_setup import stripe_gateway


@click.group("payments")
def payments() -> None:
    """Card payments: cancel orders left unpaid; refund unspent card money; reconcile with
    Stripe."""


@payments.command("expire")
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Act as if it were this time (UTC; default: now).",
)
def expire(now: datetime | None) -> None:
    """Cancel every order awaiting its card payment for longer than PAYMENT_EXPIRY_MINUTES,
    releasing its budget money and telling the person, and stop the payments still waiting
    for orders cancelled otherwise; then cancel their PaymentIntents at Stripe. Safe to run
    twice (run it every few minutes)."""
    moment = now.replace(tzinfo=UTC) if now else datetime.now(UTC)
    minutes = int(current_app.config["PAYMENT_EXPIRY_MINUTES"])
    expired = expire_unpaid_orders(db.session, now=moment, older_than=timedelta(minutes=minutes))
    stale = stop_stale_payments(db.session)
    db.session.commit()
    _cancel_intents(
        [
            payment.stripe_payment_intent_id
            for payment in [*_stopped(expired), *stale]
            if payment.stripe_payment_intent_id
        ]
    )
    references = ", ".join(order.reference for order in expired)
    plural = "order" if len(expired) == 1 else "orders"
    click.echo(
        f"Cancelled {len(expired)} {plural} awaiting payment"
        + (f": {references}" if expired else f" (none unpaid for over {minutes} minutes)")
    )


def _stopped(expired: list[Order]) -> list[CardPayment]:
    """The payments expiry stopped."""
    return [
        payment
        for order in expired
        for payment in payments_of_order(db.session, order)
        if payment.status is CardPaymentStatus.CANCELLED
    ]


def _cancel_intents(intents: list[str]) -> None:
    """Ask Stripe to cancel the PaymentIntents of the payments we stopped, once our own
    records are committed, so nothing more can be charged on them. Best effort: if Stripe is
    not set up, down, or the intent succeeded meanwhile, the webhook's success is recorded as
    owed back (`payment_succeeded`), so nothing is lost by going on."""
    if not intents:
        return
    try:
        gateway = stripe_gateway()
    except PaymentGatewayError:
        click.echo(f"Stripe is not set up: {len(intents)} PaymentIntents left to expire there")
        return
    for intent_id in intents:
        try:
            gateway.cancel_payment_intent(intent_id)
        except PaymentGatewayError as refused:
            click.echo(f"PaymentIntent {intent_id} not cancelled at Stripe: {refused.message}")


@payments.command("reconcile")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Only what Stripe and we made from this date or time on (UTC; default: everything).",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Also write the unresolved mismatches and this run's repairs to this CSV file.",
)
@click.pass_context
def reconcile_command(ctx: click.Context, since: datetime | None, csv_path: Path | None) -> None:
    """Match Stripe's PaymentIntents, charges, refunds and balance transactions with our card
    payments and the ledger; repair a payment Stripe took that never reached the ledger when
    the evidence is clear; store each mismatch once and list them. Exits 1 while any mismatch
    is unresolved (council finance resolves them on /council/payments), 2 when Stripe cannot
    be read. Safe to run again: nothing found before is stored twice."""
    try:
        gateway = stripe_gateway()
        report = reconcile(
            db.session,
            gateway,
            since=since.replace(tzinfo=UTC) if since else None,
            now=datetime.now(UTC),
        )
    except PaymentGatewayError as unavailable:
        db.session.rollback()
        click.echo(f"Stripe could not be read: {unavailable.detail or unavailable.message}")
        ctx.exit(2)
    db.session.commit()
    checked = report.checked
    click.echo(
        f"Checked {checked['intents']} PaymentIntents, {checked['charges']} charges, "
        f"{checked['refunds']} refunds, {checked['balance_transactions']} balance "
        f"transactions and {checked['payments']} card payments"
        + (f" since {since:%Y-%m-%d %H:%M} UTC" if since else "")
    )
    for repaired in report.repaired:
        click.echo(f"Repaired: {repaired.detail}")
    for closed in report.closed:
        click.echo(f"No longer found: {closed.kind.label}: {closed.detail}")
    click.echo(f"{len(report.new)} new, {len(report.unresolved)} unresolved:")
    counts = report.unresolved_by_kind()
    for kind in MismatchKind:
        click.echo(f"  {kind.label}: {counts[kind]}")
    for mismatch in report.unresolved:
        click.echo(f"- {mismatch.kind.label}: {mismatch.detail} [{mismatch.id}]")
    if csv_path is not None:
        rows = report.unresolved + [m for m in report.repaired if m not in report.unresolved]
        csv_path.write_text(mismatches_csv(rows), encoding="utf-8", newline="")
        click.echo(f"Written to {csv_path}")
    if not report.clean:
        ctx.exit(1)


@payments.command("refunds")
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Act as if it were this time (UTC; default: now).",
)
@click.pass_context
def refunds_command(ctx: click.Context, now: datetime | None) -> None:
    """Ask Stripe for every refund owed to a card (unspent card money), each once: Stripe's
    answer, or its webhook later, records it in the ledger. A refund Stripe could not be asked
    for stays owed for the next run (exit code 1). Safe to run in two processes at once."""
    moment = now.replace(tzinfo=UTC) if now else datetime.now(UTC)
    try:
        gateway = stripe_gateway()
    except PaymentGatewayError as unavailable:
        click.echo(f"Refunds not asked: {unavailable.detail or unavailable.message}")
        ctx.exit(1)
    report = issue_owed_refunds(db.session, gateway, now=moment, commit=db.session.commit)
    click.echo(
        f"Refunds: {len(report.owed)} newly owed, {len(report.confirmed)} confirmed, "
        f"{len(report.pending)} pending at Stripe, {len(report.failed)} failed, "
        f"{len(report.unavailable)} still owed (Stripe not reached)"
    )
    for refund_id, error in report.unavailable:
        click.echo(f"- refund {refund_id} still owed: {error}")
    if report.unavailable:
        ctx.exit(1)


@payments.command("charge-cycles")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if it were this day (default: today in London).",
)
@click.pass_context
def charge_cycles_command(ctx: click.Context, today: datetime | None) -> None:
    """Charge each recurring order's invoicing cycle that starts within
    CARD_CHARGE_DAYS_BEFORE days and whose card share is unpaid to the saved card, each once
    (run it hourly; safe in two processes at once). A declined charge tells the person and
    the provider, and the cycle waits for payment. Exit code 1 when a charge failed or
    Stripe could not be reached."""
    day = today.date() if today else london_today()
    try:
        gateway = stripe_gateway()
    except PaymentGatewayError as unavailable:
        click.echo(f"Cycles not charged: {unavailable.detail or unavailable.message}")
        ctx.exit(1)
    report = charge_due_cycles(
        db.session,
        gateway,
        today=day,
        days_ahead=int(current_app.config["CARD_CHARGE_DAYS_BEFORE"]),
        commit=db.session.commit,
    )
    click.echo(
        f"Cycles charged: {len(report.paid)} paid, {len(report.failed)} declined, "
        f"{len(report.unavailable)} not charged (Stripe not reached)"
    )
    for payment_id in report.failed:
        click.echo(f"- card payment {payment_id} declined: the cycle waits for payment")
    if report.failed or report.unavailable:
        ctx.exit(1)
