"""`flask search sync` and `flask search reindex`: keep this machine's index in step."""

from __future__ import annotations

import click
from flask import current_app

from marketplace.extensions import db
from providers import search_index


@click.group("search")
def search() -> None:
    """This machine's search index."""


@search.command("sync")
def sync() -> None:
    """Apply listing changes this machine's index has not seen (safe to run at any time)."""
    indexed, removed = search_index.sync(current_app._get_current_object())
    db.session.rollback()
    click.echo(f"Search index in step: {indexed} listings refreshed, {removed} removed.")


@search.command("reindex")
def reindex() -> None:
    """Rebuild the index from the database into a new folder, then swap it in.

    The site keeps answering from the old index until the swap.
    """
    total = len(list(search_index.public_documents()))
    with click.progressbar(length=total, label="Indexing listings") as bar:
        count = search_index.reindex(
            current_app._get_current_object(), progress=lambda done: bar.update(done - bar.pos)
        )
    db.session.rollback()
    click.echo(f"Search index rebuilt with {count} listings.")
