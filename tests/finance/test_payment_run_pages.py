"""The council's pages for paying providers and the provider's remittances (issue 19,
PAYRUNS): preview, make exactly the run previewed (once, however often it is sent), the files
in their documented layouts, marking sent, cancelling with a reason, and a provider reading
only its own remittances."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.finance.models import PaymentRun, RemittanceLine
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders.models import Invoice
from providers.models import Organisation, Service
from tests.conftest import sign_in
from tests.finance.payruns import (
    Second,
    assert_all_verifies,
    delivered,
    make_second,
    name_nhs_line,
    settle,
)
from tests.orders.fixtures import World

DOCS = Path(__file__).parents[2] / "docs" / "payment-runs.md"


@pytest.fixture
def second(
    make_organisation: Callable[..., Organisation],
    make_user: Callable[..., User],
    make_listing: Callable[..., Service],
) -> Second:
    return make_second(make_organisation, make_user, make_listing)


@pytest.fixture
def invoices(session: Session, world: World, second: Second) -> tuple[Invoice, Invoice]:
    world.person.case_reference = "HCC-100234"
    name_nhs_line(session, world)
    first = settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    other = settle(session, world, delivered(session, world, second.service, second.staff, key="b"))
    return first, other


def _client(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user)
    return client


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page) or re.search(
        rf'type="hidden" name="{name}" value="([^"]*)"', page
    )
    assert found is not None, name
    return found.group(1)


def _documented(title: str) -> list[str]:
    """The header in the ```csv block after the heading `title` in docs/payment-runs.md."""
    text = DOCS.read_text()
    block = re.search(rf"{re.escape(title)}\n.*?```csv\n(.*?)\n", text, re.S)
    assert block is not None, title
    return block.group(1).split(",")


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def _make_through_pages(client: FlaskClient) -> tuple[str, dict[str, str]]:
    preview = client.get("/council/payment-runs/preview", query_string=_today())
    assert preview.status_code == 200
    form = {
        "settled_until": _hidden(preview.text, "settled_until"),
        "fingerprint": _hidden(preview.text, "fingerprint"),
    }
    made = client.post("/council/payment-runs", data=form)
    assert made.status_code == 302
    return made.location, form


def _today() -> list[tuple[str, str]]:
    from marketplace.formatting import london_today

    today = london_today()
    return [
        ("settled_by", str(today.day)),
        ("settled_by", str(today.month)),
        ("settled_by", str(today.year)),
    ]


def test_an_officer_previews_makes_downloads_and_sends_a_run_and_the_provider_reads_it(
    app: Flask, session: Session, world: World, second: Second, invoices: tuple[Invoice, Invoice]
) -> None:
    first, other = invoices
    officer = _client(app, world.officer)
    listing = officer.get("/council/payment-runs")
    assert listing.status_code == 200
    assert "No payment run has been made yet" in listing.text
    assert "Paying providers" in officer.get("/council/").text

    start = officer.get("/council/payment-runs/new")
    assert start.status_code == 200
    preview = officer.get("/council/payment-runs/preview", query_string=_today())
    page = preview.text
    assert "Abbey Care Services" in page
    assert "Chiltern Home Care" in page
    assert "£896" in page  # £480 + £416
    csv_preview = officer.get("/council/payment-runs/preview.csv", query_string=_today())
    assert [(r["supplier_name"], r["amount"]) for r in _rows(csv_preview.data)] == [
        ("Abbey Care Services", "480.00"),
        ("Chiltern Home Care", "416.00"),
    ]

    location, form = _make_through_pages(officer)
    run = session.scalars(select(PaymentRun)).one()
    assert location.endswith(f"/council/payment-runs/{run.reference}?made=1")
    shown = officer.get(location)
    assert "Payment run made" in shown.text
    assert "Made, not sent" in shown.text

    # The same confirmation again (a double click, a retried request): the run it made.
    again = officer.post("/council/payment-runs", data=form)
    assert again.status_code == 302
    assert again.location.endswith(f"/council/payment-runs/{run.reference}")
    assert "already made" in officer.get(again.location).text
    assert session.scalar(select(func.count()).select_from(RemittanceLine)) == 3
    assert_all_verifies(session)

    payment_file = officer.get(f"/council/payment-runs/{run.reference}/payment-file.csv")
    assert payment_file.mimetype == "text/csv"
    header = next(csv.reader(io.StringIO(payment_file.data.decode())))
    assert header == _documented("## The payment file")
    paid = _rows(payment_file.data)
    assert [(r["supplier_name"], r["amount"], r["line_count"]) for r in paid] == [
        ("Abbey Care Services", "480.00", "1"),
        ("Chiltern Home Care", "416.00", "2"),
    ]
    assert {r["bank_sort_code"] + r["bank_account_number"] for r in paid} == {""}

    advice = officer.get(f"/council/payment-runs/{run.reference}/remittance-advice.csv")
    header = next(csv.reader(io.StringIO(advice.data.decode())))
    assert header == _documented("## The remittance advice")
    lines = _rows(advice.data)
    assert sorted(
        (r["invoice_reference"], r["funder"], r["cost_centre"], r["amount"]) for r in lines
    ) == sorted(
        [
            (other.reference, "Hertfordshire and West Essex ICB", "CHC-01", "480.00"),
            (first.reference, "Person's own money", "", "300.00"),
            (first.reference, "Hertfordshire and West Essex ICB", "CHC-01", "116.00"),
        ]
    )
    assert {r["person_reference"] for r in lines} == {"HCC-100234"}
    assert {r["period_start"] for r in lines} == {"2026-06-08"}
    assert {r["status"] for r in lines} == {"paid"}
    remittance = next(r for r in run.remittances if r.organisation_id == world.provider.id)
    detail = officer.get(
        f"/council/payment-runs/{run.reference}/remittances/{remittance.reference}"
    )
    assert detail.status_code == 200
    assert first.reference in detail.text

    # Not sent yet: the provider sees nothing.
    provider = _client(app, world.staff)
    assert "No payment has been sent to you yet" in provider.get("/provider/remittances").text
    assert provider.get(f"/provider/remittances/{remittance.reference}").status_code == 404

    sent = officer.post(f"/council/payment-runs/{run.reference}/sent")
    assert sent.status_code == 302
    assert "Cancel this run" not in officer.get(sent.location).text
    assert (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == NotificationKind.REMITTANCE_ISSUED)
        )
        == 2
    )

    mine = provider.get("/provider/remittances")
    assert remittance.reference in mine.text
    other_remittance = next(r for r in run.remittances if r.organisation_id == second.provider.id)
    assert other_remittance.reference not in mine.text
    own = provider.get(f"/provider/remittances/{remittance.reference}")
    assert own.status_code == 200
    assert "£416" in own.text
    copy = provider.get(f"/provider/remittances/{remittance.reference}.csv")
    header = next(csv.reader(io.StringIO(copy.data.decode())))
    assert header == _documented("### The provider's copy")
    assert "HCC-100234" not in copy.data.decode()  # the council's case reference stays its own
    assert len(_rows(copy.data)) == 2
    # Another provider's remittance is not found, page or file.
    assert provider.get(f"/provider/remittances/{other_remittance.reference}").status_code == 404
    assert (
        provider.get(f"/provider/remittances/{other_remittance.reference}.csv").status_code == 404
    )
    # Sent: cancelling is refused in words.
    refused = officer.post(f"/council/payment-runs/{run.reference}/cancel", data={"reason": "Late"})
    assert refused.status_code == 409
    assert "can no longer be cancelled" in refused.text
    assert_all_verifies(session)


def test_cancelling_needs_a_reason_and_makes_the_invoices_payable_again(
    app: Flask, session: Session, world: World, invoices: tuple[Invoice, Invoice]
) -> None:
    officer = _client(app, world.officer)
    location, _ = _make_through_pages(officer)
    reference = location.split("/")[-1].split("?")[0]
    empty = officer.post(f"/council/payment-runs/{reference}/cancel", data={"reason": " "})
    assert empty.status_code == 400
    assert "There is a problem" in empty.text
    assert 'href="#reason"' in empty.text
    done = officer.post(
        f"/council/payment-runs/{reference}/cancel",
        data={"reason": "The bank file had the wrong date"},
    )
    assert done.status_code == 302
    page = officer.get(done.location).text
    assert "Cancelled" in page
    assert "The bank file had the wrong date" in page
    advice = officer.get(f"/council/payment-runs/{reference}/remittance-advice.csv")
    assert {r["status"] for r in _rows(advice.data)} == {"reversed"}
    assert_all_verifies(session)
    # Payable again.
    preview = officer.get("/council/payment-runs/preview", query_string=_today())
    assert "£896" in preview.text


def test_a_stale_confirmation_pays_nothing_and_shows_the_new_preview(
    app: Flask, session: Session, world: World, invoices: tuple[Invoice, Invoice]
) -> None:
    officer = _client(app, world.officer)
    preview = officer.get("/council/payment-runs/preview", query_string=_today())
    stale = {
        "settled_until": _hidden(preview.text, "settled_until"),
        "fingerprint": _hidden(preview.text, "fingerprint"),
    }
    _make_through_pages(officer)  # another officer's run, previewed a moment later
    refused = officer.post("/council/payment-runs", data=stale)
    assert refused.status_code == 409
    assert "Nothing was paid" in refused.text
    assert "No settled invoice is waiting to be paid" in refused.text
    assert session.scalar(select(func.count()).select_from(PaymentRun)) == 1
    assert (
        officer.post(
            "/council/payment-runs", data={"settled_until": "x", "fingerprint": "y"}
        ).status_code
        == 400
    )


def test_a_bad_or_future_date_is_the_error_summary(app: Flask, world: World) -> None:
    officer = _client(app, world.officer)
    bad = officer.get(
        "/council/payment-runs/preview",
        query_string=[("settled_by", "31"), ("settled_by", "2"), ("settled_by", "2026")],
    )
    assert bad.status_code == 400
    assert "There is a problem" in bad.text
    future = officer.get(
        "/council/payment-runs/preview",
        query_string=[("settled_by", "1"), ("settled_by", "1"), ("settled_by", "2099")],
    )
    assert future.status_code == 400
    assert "The date must be today or earlier" in future.text
    assert officer.get("/council/payment-runs/PR-99999").status_code == 404


def test_the_preview_run_and_remittance_pages_read_in_statements_that_do_not_grow_with_rows(
    app: Flask, session: Session, world: World, second: Second, invoices: tuple[Invoice, Invoice]
) -> None:
    """One statement per kind of thing, never one per invoice, payer or line."""
    from tests.test_statements_per_page import counting

    officer = _client(app, world.officer)
    provider = _client(app, world.staff)

    def measure() -> list[int]:
        counts = []
        with counting(app) as statements:
            assert (
                officer.get("/council/payment-runs/preview", query_string=_today()).status_code
                == 200
            )
        counts.append(len(statements))
        return counts

    few = measure()
    settle(session, world, delivered(session, world, world.service, world.staff, key="c"))
    settle(session, world, delivered(session, world, second.service, second.staff, key="d"))
    more = measure()
    assert few == more

    def pages(run: str, remittance: str) -> list[int]:
        counts = []
        for client, path in (
            (officer, f"/council/payment-runs/{run}"),
            (officer, f"/council/payment-runs/{run}/remittances/{remittance}"),
            (officer, f"/council/payment-runs/{run}/remittance-advice.csv"),
            (provider, f"/provider/remittances/{remittance}"),
            (provider, "/provider/remittances"),
        ):
            with counting(app) as statements:
                assert client.get(path).status_code == 200
            counts.append(len(statements))
        return counts

    def run_and_send() -> tuple[str, str]:
        location, _ = _make_through_pages(officer)
        reference = location.split("/")[-1].split("?")[0]
        assert officer.post(f"/council/payment-runs/{reference}/sent").status_code == 302
        run = session.scalars(select(PaymentRun).where(PaymentRun.reference == reference)).one()
        mine = next(r for r in run.remittances if r.organisation_id == world.provider.id)
        return reference, mine.reference

    big = pages(*run_and_send())  # four invoices, six lines, two providers
    settle(session, world, delivered(session, world, world.service, world.staff, key="e"))
    small = pages(*run_and_send())  # one invoice, two lines, one provider
    assert big == small
