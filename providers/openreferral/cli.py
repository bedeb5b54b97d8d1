"""`flask directory import FILE` and `flask directory export`: the directory in and out as files.

Formats and columns are described in docs/import.md.
"""

from __future__ import annotations

from pathlib import Path

import click

from marketplace.extensions import db
from providers.openreferral import exporter, importer


@click.group("directory")
def directory() -> None:
    """Import and export the directory (Open Referral UK JSON or the CSV template)."""


@directory.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(importer.FORMATS),
    help="The file's format, if its extension does not say (.json or .csv).",
)
@click.option(
    "--approve",
    is_flag=True,
    help="Approve new organisations whose services the file says are active. Without it they "
    "wait, pending, for a council officer.",
)
@click.option("--dry-run", is_flag=True, help="Check and report, then change nothing.")
def import_directory(file: Path, file_format: str | None, approve: bool, dry_run: bool) -> None:
    """Import organisations, services and venues from FILE.

    Each record is created, updated or rejected on its own (a rejected one changes nothing)
    and the report says which and why. Exits with status 1 if any record was rejected.
    """
    try:
        parsed = importer.read_file(file, file_format)
    except importer.ImportFileError as error:
        raise click.ClickException(f"{error}. Nothing was imported.") from None
    try:
        with click.progressbar(parsed, label=f"Importing {file.name}", show_pos=True) as records:
            report = importer.import_records(records, approve=approve, source=file.name)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
            importer.refresh_statistics(report)
    except Exception:
        db.session.rollback()
        raise
    for line in report.lines():
        click.echo(line)
    if dry_run:
        click.echo("Dry run: nothing was saved.")
    if report.rejected:
        raise click.exceptions.Exit(1)


@directory.command("export")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(importer.FORMATS),
    default="json",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of the standard output.",
)
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Include unpublished listings and organisations the council has not approved.",
)
def export_directory(file_format: str, output: Path | None, everything: bool) -> None:
    """Export the directory: by default, what the public feed shows."""
    export = exporter.export_directory(
        "csv" if file_format == "csv" else "json", everything=everything
    )
    if output is None:
        click.echo(export.text, nl=False)
    else:
        output.write_text(export.text, encoding="utf-8", newline="")
        click.echo(f"Wrote {export.services} services to {output}.", err=True)
    for warning in export.warnings:
        click.echo(f"Warning: {warning}", err=True)
