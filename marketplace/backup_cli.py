"""`flask backup create FILE` and `flask backup restore FILE`: for operators and their cron."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from marketplace.backup import BackupError, create_backup, restore_backup
from marketplace.extensions import db
from providers import search_index


@click.group("backup")
def backup() -> None:
    """Back up the database, or restore a backup into an empty one."""


@backup.command("create")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def create(target: Path) -> None:
    """Write a consistent copy of the database to TARGET while the site keeps running."""
    try:
        made = create_backup(current_app.config["SQLALCHEMY_DATABASE_URI"], target)
    except BackupError as problem:
        raise click.ClickException(str(problem)) from problem
    click.echo(f"Backed up the {made.kind} database to {made.path} ({made.size_bytes:,} bytes)")


@backup.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(source: Path) -> None:
    """Load SOURCE into the configured database, which must be empty, then rebuild this
    machine's search index from it (the index on disk describes the database before)."""
    db.session.remove()
    db.engine.dispose()
    try:
        restore_backup(source, current_app.config["SQLALCHEMY_DATABASE_URI"])
    except BackupError as problem:
        raise click.ClickException(str(problem)) from problem
    click.echo(f"Restored {source}. Run `flask db upgrade` if the backup is from an older release.")
    count = search_index.reindex(current_app._get_current_object())
    db.session.rollback()
    click.echo(f"Search index rebuilt with {count} listings.")
