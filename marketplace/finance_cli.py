"""`flask finance ...`: the council's finance jobs a scheduler runs (issue 19).

`flask finance export --output FILE` makes the next export to the finance system (everything
the ledger recorded since the previous export; docs/finance-export.md) and writes its file.
Safe to run on a schedule: run twice, the second file has the header only.

`flask finance payment-run --by EMAIL` pays providers their settled invoices (PAYRUNS;
docs/payment-runs.md). Safe to run twice: the second finds nothing to pay.
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from pathlib import Path

import click
from flask import current_app

from marketplace.accounts.policy import can
from marketplace.accounts.service import user_by_email
from marketplace.extensions import db
from marketplace.finance import exports, payment_runs
from marketplace.formatting import LONDON, pounds
from marketplace.types import utcnow


@click.group("finance")
def finance() -> None:
    """The council's finance jobs: exports to the finance system."""


@finance.command("export")
@click.option(
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the export's CSV file here (it must not exist yet).",
)
@click.option(
    "--by",
    "by_email",
    default=None,
    help="The officer answerable for the export (default: recorded as made by the schedule).",
)
def export(output: Path, by_email: str | None) -> None:
    """Make the next export to the finance system and write its file.

    The export is recorded only once its file is written whole; the same file can be
    downloaded again from the council's pages. Exits 1 (nothing made) if FILE exists or
    --by names no officer.
    """
    if output.exists():
        raise click.ClickException(f"{output} exists: name a new file for each export")
    by = None
    if by_email is not None:
        by = user_by_email(by_email)
        if by is None or not can(by, "export_to_finance"):
            raise click.ClickException(f"{by_email} is not an officer who may export")
    made = exports.make_export(db.session, by=by)
    partial = output.with_name(output.name + ".part")
    try:
        # Bytes as stored: the file the finance system loads is the one kept.
        with open(partial, "w", encoding="utf-8", newline="") as file:
            file.write(made.content)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, output)
    summary = exports.summary_of_export(made)
    totals = ", ".join(
        f"{kind.value} {summary.counts[kind]} ({pounds(summary.totals[kind])})"
        for kind in summary.counts
    )
    click.echo(f"finance export {made.reference}: {made.row_count} lines: {totals}; {output}")


# PAYRUNS (issue 19): a payment run from a scheduler or a terminal.
@finance.command("payment-run")
@click.option(
    "--by",
    "by_email",
    required=True,
    help="The officer answerable for the run (a run is always made by someone).",
)
@click.option(
    "--settled-by",
    "settled_by",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Pay invoices settled on or before this day (default: up to now).",
)
@click.option("--dry-run", is_flag=True, help="Print what the run would pay; record nothing.")
def payment_run(by_email: str, settled_by: datetime | None, dry_run: bool) -> None:
    """Pay providers every settled invoice no run has paid (docs/payment-runs.md): prints each
    provider's total, then makes the run, exactly as previewed. Its files are downloaded from
    the council's Paying providers page, which marks it sent. Safe to run twice: the second
    finds nothing to pay. Exits 1 if --by names no officer who may pay providers."""
    by = user_by_email(by_email)
    if by is None or not can(by, "pay_providers"):
        raise click.ClickException(f"{by_email} is not an officer who may pay providers")
    now = utcnow()
    until = now
    if settled_by is not None:
        end = datetime.combine(settled_by.date() + timedelta(days=1), time(), tzinfo=LONDON)
        until = min(end, now)
    centres = dict(current_app.config.get("PAYMENT_COST_CENTRES") or {})
    preview = payment_runs.preview_run(db.session, settled_until=until, cost_centres=centres)
    for provider in preview.providers:
        click.echo(
            f"{provider.organisation.name}: {provider.invoice_count} invoices, "
            f"{pounds(provider.total_pence)}"
        )
    if not preview.providers:
        db.session.rollback()
        click.echo("payment run: no settled invoice is waiting to be paid")
        return
    if dry_run:
        db.session.rollback()
        click.echo(f"payment run (dry run): {pounds(preview.total_pence)}; nothing recorded")
        return
    try:
        run = payment_runs.make_run(
            db.session,
            settled_until=until,
            fingerprint=preview.fingerprint,
            by=by,
            cost_centres=centres,
        )
    except payment_runs.PaymentRunError as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from None
    db.session.commit()
    click.echo(
        f"payment run {run.reference}: {len(run.remittances)} providers, "
        f"{pounds(run.total_pence)}; not sent yet"
    )
