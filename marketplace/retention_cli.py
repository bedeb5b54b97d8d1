"""`flask retention run [--dry-run]`: the daily job that deletes or anonymises what is past its
retention period (marketplace/retention.py), printing how many of each kind."""

from __future__ import annotations

import click
from flask import current_app

from marketplace import retention
from marketplace.extensions import db


@click.group("retention")
def retention_group() -> None:
    """Delete or anonymise what is kept no longer (docs/operations.md, Retention)."""


@retention_group.command("run")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Say what would be removed, and change nothing (the run is rolled back).",
)
def run(dry_run: bool) -> None:
    """Anonymise people whose budgets closed longer ago than the retention period and delete
    the sessions, keys, search log, notifications and links past theirs (run daily; safe to
    run twice). The ledger and the audit entries are never touched."""
    policy = retention.RetentionPolicy.from_config(current_app.config)
    report = retention.run(db.session, policy)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "Would remove" if dry_run else "Removed"
    click.echo(
        f"{verb} as of {report.now:%Y-%m-%d %H:%M} UTC"
        + (" (dry run: nothing changed)" if dry_run else "")
        + ":"
    )
    for kind, words in retention.KINDS.items():
        click.echo(f"{report.counts[kind]:>8}  {words}")
    click.echo(f"{report.total:>8}  in all")
