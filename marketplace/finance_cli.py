"""`flask finance ...`: the council's finance jobs a scheduler runs (issue 19).

`flask finance export --output FILE` makes the next export to the finance system (everything
the ledger recorded since the previous export; docs/finance-export.md) and writes its file.
Safe to run on a schedule: run twice, the second file has the header only.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from marketplace.accounts.policy import can
from marketplace.accounts.service import user_by_email
from marketplace.extensions import db
from marketplace.finance import exports
from marketplace.formatting import pounds


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
