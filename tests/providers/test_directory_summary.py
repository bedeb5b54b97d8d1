"""The home page's and council overview's directory figures: counted once per change to the
directory, not on every request, and never stale after a change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, update

from marketplace.extensions import db
from providers import directory_summary
from providers.models import Organisation, OrganisationStatus, Service, ServiceStatus


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _counting(seen: list[str]) -> list[str]:
    """The statements that count the directory (they read the service-category links)."""
    return [sql for sql in seen if "service_taxonomy_terms" in sql]


def test_home_page_counts_the_directory_once_until_it_changes(
    app: Flask,
    client: FlaskClient,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    organisation = make_organisation("Stevenage Home Help")
    make_listing(organisation, name="Morning visits")
    assert "from 1 services approved" in client.get("/").text

    with statements(app) as seen:
        again = client.get("/")
    assert again.status_code == 200
    assert "from 1 services approved" in again.text
    assert _counting(seen) == [], "the second request counted the whole directory again"

    # A new listing is a change: the next request counts again and shows it.
    make_listing(organisation, name="Evening visits")
    with statements(app) as seen:
        page = client.get("/").text
    assert _counting(seen), "the change was not counted"
    assert "from 2 services approved" in page

    # So is a suspension, which hides every listing of the organisation at once.
    organisation.status = OrganisationStatus.SUSPENDED
    db.session.commit()
    page = client.get("/").text
    assert "from 2 services approved" not in page
    assert "Help at home" in page  # the categories are still listed, with no count


def test_figures_are_counted_again_once_old_even_without_a_new_outbox_row(
    app: Flask,
    client: FlaskClient,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    monkeypatch: Any,
) -> None:
    """A change whose outbox row took a lower id than one already read (it committed later)
    leaves the highest id where it was: the age limit still brings it in."""
    organisation = make_organisation()
    listing = make_listing(organisation, name="Morning visits")
    assert "from 1 services approved" in client.get("/").text
    # Changed behind the outbox's back, as a late-committing transaction would look.
    db.session.execute(
        update(Service).where(Service.id == listing.id).values(status=ServiceStatus.DRAFT)
    )
    db.session.commit()
    assert "from 1 services approved" in client.get("/").text  # kept: within its age
    monkeypatch.setattr(directory_summary, "SUMMARY_MAX_AGE_SECONDS", 0.0)
    assert "services approved" not in client.get("/").text
