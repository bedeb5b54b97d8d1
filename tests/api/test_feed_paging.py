"""The feed's pages without search words: the page's ids are found first (sorting and skipping
narrow rows), then only that page's services are read whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from marketplace.extensions import db
from providers.models import Organisation, Service


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_a_page_sorts_ids_and_reads_only_its_own_services_whole(
    app: Flask,
    client: FlaskClient,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    organisation = make_organisation()
    names = [f"Listing {letter}" for letter in "EDCBA"]
    for name in names:
        make_listing(organisation, name=name)

    pages = []
    for page in (1, 2, 3):
        with statements(app) as seen:
            answer = client.get(f"/api/v1/services?per_page=2&page={page}")
        assert answer.status_code == 200
        pages.append([item["name"] for item in answer.get_json()["contents"]])
        assert answer.get_json()["total_items"] == 5
        sorted_ = [sql for sql in seen if "ORDER BY services.name" in sql]
        assert sorted_, "the page was not sorted by name"
        # What is sorted and skipped is the ids alone, never every service's whole row.
        assert all("services.description" not in sql for sql in sorted_), sorted_
    assert pages == [["Listing A", "Listing B"], ["Listing C", "Listing D"], ["Listing E"]]
