"""`flask ledger verify` and `flask ledger release-instalments`: for people and schedulers.

The verify command checks the ledger, the budgets, the orders and the card payments together,
so it lives above them all, beside the app's other commands, not in `budgets/` (which orders
build on)."""

from __future__ import annotations

from datetime import date, datetime

import click
from flask import current_app

from marketplace.budgets.allocations import release_due_instalments
from marketplace.budgets.verify import check_budgets
from marketplace.extensions import db
from marketplace.finance.verify import check_payment_runs
from marketplace.formatting import LONDON, pounds
from marketplace.ledger import verify_ledger
from marketplace.orders.verify import check_orders
from marketplace.payments.verify import check_card_payments


@click.group("ledger")
def ledger() -> None:
    """The ledger of personal budgets: check it, release instalments."""


@ledger.command("verify")
def verify() -> None:
    """Recompute every balance from the transfers and check every invariant.

    Prints each problem, then a one-line summary; exits 1 if anything is wrong.
    """
    report = verify_ledger(db.session)
    budget_problems, budgets = check_budgets(db.session)
    order_problems, orders = check_orders(db.session)
    card_problems, card_payments = check_card_payments(db.session)
    # PAYRUNS (issue 19): every pound paid out to providers matches a remittance line.
    run_problems, payment_runs = check_payment_runs(db.session)
    db.session.rollback()
    problems = report.problems + budget_problems + order_problems + card_problems + run_problems
    for problem in problems:
        click.echo(problem)
    counted = (
        f"{report.accounts} accounts, {report.transfers} transfers, {budgets} budgets, "
        f"{orders} orders, {card_payments} card payments, {payment_runs} payment runs"
    )
    if problems:
        click.echo(f"ledger verify: {len(problems)} problems in {counted}")
        click.get_current_context().exit(1)
    click.echo(f"ledger verify: OK, {counted}")


@ledger.command("release-instalments")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Release what is due on or before this day (default: today in London).",
)
def release_instalments(on: datetime | None) -> None:
    """Release every instalment that has fallen due, then hold the ongoing packages' next
    cycles out of what was released (`flask orders roll-packages`). Safe to run twice."""
    today: date = on.date() if on else datetime.now(LONDON).date()
    released = release_due_instalments(db.session, today)
    db.session.commit()
    total = sum(instalment.amount_pence for instalment in released)
    click.echo(f"Released {len(released)} instalments ({pounds(total)}) due by {today:%Y-%m-%d}")
    # PACKAGES (issue 18): after the release, so a cycle is held from the instalment that pays it.
    from marketplace.orders.cli import roll_and_report

    roll_and_report(today, notice_days=int(current_app.config["PACKAGE_SHORTFALL_NOTICE_DAYS"]))
