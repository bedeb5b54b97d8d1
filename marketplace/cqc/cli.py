"""`flask cqc import FILE`: the CQC's care directory with ratings, imported."""

from __future__ import annotations

from pathlib import Path

import click

from marketplace.cqc import care_directory
from marketplace.extensions import db
from marketplace.types import utcnow


@click.group("cqc")
def cqc() -> None:
    """The CQC's published care directory: registrations and ratings."""


@cqc.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_directory(file: Path) -> None:
    """Import the CQC's "care directory with ratings" FILE (CSV).

    Adds new locations, updates changed ratings and marks every location missing from FILE
    as deregistered, so import the whole file, not an extract. Importing the same file again
    changes nothing.
    """
    try:
        entries = care_directory.read_care_directory_file(file)
    except care_directory.CareDirectoryError as error:
        raise click.ClickException(f"{error}. Nothing was imported.") from None
    try:
        summary = care_directory.import_care_directory(db.session, entries, now=utcnow())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"{file.name}: {len(entries)} locations read")
    for line in summary.lines():
        click.echo(line)
