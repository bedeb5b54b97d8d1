"""The council's pages for exports to the finance system: the preview, making exactly the
export previewed, the list, and downloading an export again byte for byte."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.finance import exports
from marketplace.finance.models import FinanceExport, RemittanceLine
from marketplace.orders import checkout
from marketplace.orders.models import Order
from marketplace.types import utcnow
from tests.conftest import sign_in
from tests.finance.test_exports import _pay, _settle
from tests.orders.fixtures import TODAY, World
from tests.test_statements_per_page import counting

PAGES = ("/council/finance-exports", "/council/finance-exports/new")


def _officer(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.officer)
    return client


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page) or re.search(
        rf'type="hidden" name="{name}" value="([^"]*)"', page
    )
    assert found is not None, name
    return found.group(1)


def test_an_officer_previews_makes_and_downloads_an_export(
    app: Flask,
    session: Session,
    world: World,
    order: Order,
    later: None,
) -> None:
    client = _officer(app, world)
    listing = client.get("/council/finance-exports")
    assert listing.status_code == 200
    assert "No export has been made yet" in listing.text

    preview = client.get("/council/finance-exports/new")
    assert preview.status_code == 200
    page = preview.text
    assert "The start of the ledger: this is the first export" in page
    assert re.search(r"Commitment</th>\s*<td[^>]*>\s*8\s*</td>\s*<td[^>]*>\s*£416", page)

    made = client.post(
        "/council/finance-exports",
        data={"since": _hidden(page, "since"), "until": _hidden(page, "until")},
    )
    assert made.status_code == 302
    export = session.scalars(select(FinanceExport)).one()
    assert made.location.endswith(f"/council/finance-exports/{export.reference}?made=1")
    assert export.row_count == 8
    shown = client.get(made.location)
    assert "Export made" in shown.text
    assert export.sha256 in shown.text

    download = client.get(f"/council/finance-exports/{export.reference}.csv")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert download.data == export.content.encode("utf-8")
    assert hashlib.sha256(download.data).hexdigest() == export.sha256
    assert (
        f'filename="finance-export-{export.reference.lower()}.csv"'
        in (download.headers["Content-Disposition"])
    )
    again = client.get(f"/council/finance-exports/{export.reference}.csv")
    assert again.data == download.data

    listing = client.get("/council/finance-exports")
    assert export.reference in listing.text
    assert re.search(r">\s*8\s*</td>", listing.text)

    # The next one starts where this one ended: the range's times go through the form whole.
    page = client.get("/council/finance-exports/new").text
    assert _hidden(page, "since") == export.until.isoformat()
    second = client.post(
        "/council/finance-exports",
        data={"since": _hidden(page, "since"), "until": _hidden(page, "until")},
    )
    assert second.status_code == 302
    latest = exports.latest_export(session)
    assert latest is not None
    assert (latest.since, latest.row_count) == (export.until, 0)


def test_a_preview_overtaken_by_another_export_makes_nothing_and_shows_the_new_one(
    app: Flask,
    session: Session,
    world: World,
    order: Order,
    later: None,
) -> None:
    client = _officer(app, world)
    page = client.get("/council/finance-exports/new").text
    exports.make_export(session, by=world.officer)  # another officer's, meanwhile
    session.commit()

    stale = client.post(
        "/council/finance-exports",
        data={"since": _hidden(page, "since"), "until": _hidden(page, "until")},
    )
    assert stale.status_code == 409
    assert "Another export was made after you looked at the preview" in stale.text
    assert len(session.scalars(select(FinanceExport)).all()) == 1


def test_a_made_up_range_is_refused(
    app: Flask,
    session: Session,
    world: World,
    order: Order,
    later: None,
) -> None:
    client = _officer(app, world)
    for data in (
        {"since": "", "until": "yesterday"},
        {"since": "", "until": "2026-06-01T00:00:00"},  # no time zone
        {},
    ):
        assert client.post("/council/finance-exports", data=data).status_code == 400
    # The future is not the previewed range: it is later than a minute ago.
    future = client.post(
        "/council/finance-exports", data={"since": "", "until": "2099-01-01T00:00:00+00:00"}
    )
    assert future.status_code == 409
    assert session.scalars(select(FinanceExport)).all() == []


def _statements(app: Flask, client: FlaskClient, path: str) -> int:
    client.get(path)
    with counting(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_the_pages_read_the_same_number_of_statements_however_much_there_is(
    app: Flask, session: Session, world: World, order: Order
) -> None:
    # One export of the holds; then a settlement and a payment for the preview.
    exports.make_export(session, by=world.officer, settle=timedelta(0))
    session.commit()
    invoice = _settle(session, world, order)
    _pay(session, world, invoice, world.officer)
    client = _officer(app, world)
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        few = {path: _statements(app, client, path) for path in PAGES}

    # More exports, and a preview with more orders, more payers and a reversed payment.
    for _ in range(2):
        exports.make_export(session, by=None, settle=timedelta(0))
        session.commit()
    payment = session.scalars(
        select(RemittanceLine).where(RemittanceLine.payer_code.startswith("pot:"))
    ).first()
    assert payment is not None
    paid = session.get_one(ledger.Transfer, payment.transfer_id)
    ledger.reverse(session, paid, key="undo", reason="Run cancelled")
    for key, starts_on in (("second", date(2026, 6, 10)), ("third", date(2026, 6, 17))):
        checkout.place_order(
            session,
            world.person,
            world.service,
            world.schedule(units=1, starts_on=starts_on, weeks=None),
            by=world.citizen,
            today=TODAY,
            placement_key=key,
        )
    session.commit()
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        many = {path: _statements(app, client, path) for path in PAGES}
    assert many == few
