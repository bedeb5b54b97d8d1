"""Issue 19's "Done when" as one browser journey on the real demo county (`flask seed-demo`'s
rows, console included): the demo council officer clears every work queue the demo fills,
produces the reconciliation for this financial year and checks its figures against the ledger
(and `flask ledger verify`'s checks), closes the ended periods after their preview, runs a
provider payment run and downloads its files, makes an export to the finance system and checks
its lines sum, reads the searches that found nothing (the demo's unmet searches' words), finds
the review published from the queue in search with its rating, and opens every report (the
reports index and the dashboard's "Reports and finance" list), downloading its CSV files.
Ledger verify passes again at the end.

To keep the suite inside its time budget this is ONE test, at desktop width only
(`viewport` is parametrized as ["desktop"]), and every page it reaches is checked with axe at
both widths in the same browser page (`check_both_widths`: 1280 px, then 320 px, then back).
Key steps are taken by keyboard (Enter on a focused button).

Seeded through the rules, not clicks: the demo (`marketplace.demo.seed.run_all`, seeded once
per worker and copied in: `demo_county` in tests/conftest.py) and, because
the demo's own payment run has already paid every settled invoice, one more week of care
invoiced by its provider and settled, so that the new payment run has something to pay."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.budgets.models import PotPurpose
from marketplace.budgets.verify import check_budgets
from marketplace.console import reconciliation as recon
from marketplace.demo.budgets_seed import OFFICER_EMAIL
from marketplace.demo.console_insight import SEARCHES
from marketplace.extensions import db
from marketplace.finance.models import FinanceExport
from marketplace.finance.verify import check_payment_runs
from marketplace.formatting import LONDON, pounds
from marketplace.ledger import verify_ledger
from marketplace.orders import invoicing
from marketplace.orders.models import InvoiceStatus, Order, OrderStatus
from marketplace.orders.verify import check_orders
from marketplace.payments.verify import check_card_payments
from providers import search_index
from providers.models import ReviewStatus, ServiceReview
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import banner, heading, navigation, sign_in
from tests.browser.test_broker_journey import press
from tests.conftest import DemoCounty

OFFICER_PASSWORD = "beacon heron parsnip"  # marketplace/demo/data/users.json: published


def check_both_widths(page: Page) -> None:
    """axe (and the page checks) on the page as it is, at 1280 px and at 320 px, then back to
    1280 px in the same page (assert_accessible_at_both_widths waits for the page to react)."""
    assert page.viewport_size == {"width": 1280, "height": 800}
    assert_accessible_at_both_widths(page)


def to_dashboard(page: Page) -> None:
    """The council overview, the console's home, checked at both widths."""
    page.goto("/council")
    expect(heading(page)).to_have_text("Council overview")
    check_both_widths(page)


def ledger_problems(live_server: LiveServer) -> list[str]:
    """What `flask ledger verify` would report (its checks, run directly): none is a pass."""
    with live_server.app.app_context():
        session = db.session
        problems = list(verify_ledger(session).problems)
        for check in (check_budgets, check_orders, check_card_payments, check_payment_runs):
            found, _ = check(session)
            problems.extend(found)
        db.session.remove()
    return [str(problem) for problem in problems]


def _seed_demo(live_server: LiveServer, demo_county: DemoCounty) -> None:
    """The demo county, as `flask seed-demo` makes it, and one more settled invoice."""
    with live_server.app.app_context():
        demo_county.restore()
        session = db.session
        officer = accounts.user_by_email(OFFICER_EMAIL)
        today = datetime.now(UTC).astimezone(LONDON).date()
        invoiced = None
        for order in session.scalars(
            select(Order).where(Order.status == OrderStatus.IN_PROGRESS).order_by(Order.reference)
        ):
            ready = [c for c in order.cycles if invoicing.can_invoice(order, c, today)]
            staff = order.service.organisation.staff
            if ready and staff:
                invoiced = invoicing.raise_invoice(
                    session, order, ready[0], by=staff[0], today=today
                )
                break
        assert invoiced is not None, "no demo order has a week ready to invoice"
        if invoiced.status is InvoiceStatus.RAISED:  # settled at once when all confirmed
            invoicing.settle_invoice(session, invoiced, by=officer)
        session.commit()
        search_index.reindex(live_server.app)
        session.remove()


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def _download(page: Page, link_name: str | re.Pattern[str], folder: Path) -> list[list[str]]:
    """Click the link, save the download, and return its CSV rows (header first)."""
    with page.expect_download() as info:
        press(page.get_by_role("link", name=link_name).first, "Enter")
    saved = folder / info.value.suggested_filename
    info.value.save_as(saved)
    rows = _csv_rows(saved.read_text(encoding="utf-8"))
    assert rows, f"{saved.name} is empty"
    assert rows[0], f"{saved.name} has no header row"
    return rows


def _csv_links_have_headers(page: Page) -> int:
    """Fetch every CSV link on the page (with the page's cookies): each is a CSV with a header
    row. Returns how many there were."""
    hrefs = page.locator("main a[href*='.csv'], main a[href*='csv?'], main a[href$='csv']")
    seen = set()
    for href in hrefs.evaluate_all("links => links.map(link => link.href)"):
        if href in seen:
            continue
        seen.add(href)
        response = page.request.get(href)
        assert response.ok, (href, response.status)
        assert "text/csv" in response.headers["content-type"], href
        rows = _csv_rows(response.text())
        assert rows, href
        assert all(cell.strip() for cell in rows[0]), href
    return len(seen)


def _table_cells(page: Page, name: str) -> list[list[str]]:
    table = page.get_by_role("table", name=name)
    # A cell's first line: its link's hidden words (what the figure is) follow on the next.
    return [
        [cell.strip().split("\n")[0].strip() for cell in row]
        for row in table.locator("tbody tr").evaluate_all(
            "rows => rows.map(row => [...row.cells].map(cell => cell.innerText))"
        )
    ]


@pytest.mark.parametrize("viewport", ["desktop"])
def test_a_demo_officer_runs_the_councils_console(
    page: Page, live_server: LiveServer, viewport: str, tmp_path: Path, demo_county: DemoCounty
) -> None:
    _seed_demo(live_server, demo_county)
    assert ledger_problems(live_server) == []

    page.goto("/sign-in")
    check_both_widths(page)
    sign_in(page, OFFICER_EMAIL, OFFICER_PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    check_both_widths(page)

    # (1) Every work queue the demo fills, each item through its own decide page.
    navigation(page).get_by_role("link", name="Work queues").click()
    expect(heading(page)).to_have_text("Work queues")
    check_both_widths(page)
    overview = page.get_by_role("table", name=re.compile("^Waiting for a decision"))
    waiting = {
        row[0]: row[1]
        for row in overview.locator("tbody tr").evaluate_all(
            "rows => rows.map(row => [...row.cells].map(cell => cell.innerText.trim()))"
        )
    }
    filled = [queue for queue, count in waiting.items() if count not in ("0", "")]
    assert set(filled) >= {
        "Providers awaiting approval",
        "Brokerages awaiting approval",
        "Listings reported by the public",
        "Draft support plans",
        "Orders outside a support plan awaiting approval",
        "Reviews waiting for moderation",
        "Support plan reviews overdue",
    }, waiting
    hrefs = {
        queue: overview.get_by_role("link", name=queue, exact=True).get_attribute("href")
        for queue in filled
    }
    reviewed = None
    for queue in filled:
        page.get_by_role("link", name=queue, exact=True).click()
        for _ in range(int(waiting[queue])):
            expect(heading(page)).to_have_text(queue)
            check_both_widths(page)
            page.get_by_role("table", name=re.compile("^Waiting")).get_by_role("link").first.click()
            check_both_widths(page)
            reviewed = _decide(page, queue) or reviewed
            expect(banner(page)).to_be_visible()
            check_both_widths(page)
            page.goto(str(hrefs[queue]))
        expect(heading(page)).to_have_text(queue)
        expect(page.get_by_text("Nothing is waiting in this queue.")).to_be_visible()
        check_both_widths(page)
        page.get_by_role("link", name="Decided", exact=True).click()
        decided = page.get_by_role("table", name=re.compile("^Decided: "))
        expect(decided).to_contain_text("Helen Brooks")
        check_both_widths(page)
        navigation(page).get_by_role("link", name="Work queues").click()
        check_both_widths(page)
    overview = page.get_by_role("table", name=re.compile("^Waiting for a decision"))
    expect(overview).to_contain_text("Waiting for a decision: 0")
    for queue in waiting:
        expect(
            overview.get_by_role("row", name=re.compile(f"^{re.escape(queue)}"))
        ).to_contain_text("Nothing waiting")
    assert reviewed is not None

    # (2) The reconciliation for this financial year: its figures are the ledger's.
    to_dashboard(page)
    page.get_by_role("link", name=re.compile("^Reconciliation: each funder")).click()
    expect(heading(page)).to_have_text("Reconciliation: from each funder to the penny")
    check_both_widths(page)
    _reconciliation_is_the_ledgers(page, live_server, tmp_path)
    assert ledger_problems(live_server) == []

    # (3) Period end: preview, confirm, the closing report and its CSV.
    _close_periods(page, tmp_path)
    assert ledger_problems(live_server) == []

    # (4) Paying providers: a run, its files, marked sent.
    _pay_providers(page, live_server, tmp_path)
    assert ledger_problems(live_server) == []

    # (5) An export to the finance system: its lines sum to the page's totals.
    _export_to_finance(page, live_server, tmp_path)

    # (6) Market insight: the demo's searches that found nothing, in their words.
    navigation(page).get_by_role("link", name="Reports").click()
    expect(heading(page)).to_have_text("Reports")
    check_both_widths(page)
    page.get_by_role("link", name="Searches that found nothing").click()
    expect(heading(page)).to_have_text("Searches that found nothing")
    check_both_widths(page)
    page.get_by_label("Last 365 days").check()
    press(page.get_by_role("button", name="Show this period"), "Enter")
    words = page.get_by_role("table", name=re.compile("^Words of searches that found nothing"))
    unmet = {search.words for search in SEARCHES if search.words and not search.available}
    assert len(unmet) >= 8
    for search_words in unmet:
        expect(words).to_contain_text(search_words)
    check_both_widths(page)
    rows = _download(page, re.compile("^Download this table as CSV"), tmp_path)
    assert len(rows) > 1

    # (7) The review published from its queue is in search with its rating.
    _review_in_search(page, live_server, reviewed)

    # (8) Every report, from the index and from the dashboard: both widths, each CSV.
    report_links: set[str] = set()
    page.goto("/council/reports")
    check_both_widths(page)
    for href in page.locator("main a").evaluate_all("links => links.map(link => link.href)"):
        report_links.add(href)
    to_dashboard(page)
    finance = page.locator("main").get_by_role("heading", name="Reports and finance")
    expect(finance).to_be_visible()
    for href in page.locator("main h2:text-is('Reports and finance') + ul a").evaluate_all(
        "links => links.map(link => link.href)"
    ):
        report_links.add(href)
    assert len(report_links) >= 14, sorted(report_links)
    downloaded = 0
    for href in sorted(report_links):
        response = page.goto(href)
        assert response is not None, href
        assert response.ok, href
        expect(heading(page)).to_be_visible()
        check_both_widths(page)
        downloaded += _csv_links_have_headers(page)
    assert downloaded >= len(report_links)

    assert ledger_problems(live_server) == []


def _decide(page: Page, queue: str) -> str | None:
    """Decide the item whose page is open; for a review, the review's id."""
    if queue in ("Providers awaiting approval", "Brokerages awaiting approval"):
        page.get_by_label("Approve: show its published services to the public").check()
        press(page.get_by_role("button", name="Save decision"), "Enter")
    elif queue == "Listings reported by the public":
        page.get_by_label("Uphold it: ask the provider to correct the listing").check()
        page.get_by_label("Reason").fill("Correct the listing and tell us when it is right")
        press(page.get_by_role("button", name="Record the decision"), "Enter")
    elif queue == "Draft support plans":
        expect(page.get_by_role("heading", name="Draft")).to_be_visible()
        press(page.get_by_role("button", name="Approve this plan"), "Enter")
    elif queue == "Orders outside a support plan awaiting approval":
        press(page.get_by_role("button", name="Approve this order"), "Enter")
    elif queue == "Reviews waiting for moderation":
        expect(page.get_by_text("A review of")).to_be_visible()
        page.get_by_label("Yes, publish it").check()
        review_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        press(page.get_by_role("button", name="Record the decision"), "Enter")
        expect(banner(page)).to_contain_text("is published")
        return review_id
    elif queue == "Support plan reviews overdue":
        page.get_by_label("The plan has been reviewed").check()
        press(page.get_by_role("button", name="Record"), "Enter")
    elif queue == "Referrals waiting for an officer":
        # Each is decided on its own page; closing is open to a referral in any state the
        # queue holds (received, in contact, waiting for a visit with none booked, assessed).
        reference = heading(page).inner_text()
        page.get_by_role("link", name="Close the referral").click()
        check_both_widths(page)
        page.get_by_label("The person no longer wants help from the council").check()
        press(page.get_by_role("button", name="Close the referral"), "Enter")
        expect(banner(page)).to_contain_text("Close the referral: done")
        expect(heading(page)).to_have_text(reference)
    else:
        raise AssertionError(f"the journey does not know how to decide {queue!r}")
    return None


def _reconciliation_is_the_ledgers(page: Page, live_server: LiveServer, folder: Path) -> None:
    """The funders' table on the page is the reconciliation of the ledger for this financial
    year, whose streams' figures are each budgets pot's own ledger figures; drill from a funder
    to a transfer; the CSV holds the page's rows."""
    today = datetime.now(UTC).astimezone(LONDON).date()
    year = today.year if today.month >= 4 else today.year - 1
    with live_server.app.app_context():
        from marketplace.budgets.figures import pot_figures

        found = recon.reconcile(db.session, recon.Period.financial_year(year))
        expected = {row.label: row for row in found.funders()}
        for pot in found.pots:
            if pot.financial_year != year or pot.purpose is not PotPurpose.BUDGETS:
                continue
            ledger_pot = pot_figures(db.session, pot)
            streams = found.totals(recon.Scope(pot=str(pot.id)))
            for figure, _ in recon.FIGURES:
                assert streams[figure] == getattr(ledger_pot.streams, figure), (pot.label, figure)
        db.session.remove()
    funders = page.get_by_role("table", name=re.compile("^Each funder's money"))
    headers = [
        cell.strip()
        for cell in funders.locator("thead th").evaluate_all("cells => cells.map(c => c.innerText)")
    ]
    shown = _table_cells(
        page,
        funders_name
        := "Each funder's money: its pots, and the budgets' streams allocated from them",
    )
    assert len(shown) >= len(expected) - 1
    labels = {label: figure for figure, label in recon.ALL_FIGURE_LABELS.items()}
    compared = 0
    for row in shown:
        name = row[0]
        if name not in expected:
            continue
        for header, cell in zip(headers[1:], row[1:], strict=True):
            shown_figure = labels.get(header)
            if shown_figure is None:
                continue
            assert cell == pounds(expected[name][shown_figure]), (name, header, cell)
            compared += 1
    assert compared >= 8
    funders.get_by_role("link", name=re.compile("^Hertfordshire County Council")).first.click()
    expect(heading(page)).to_have_text("Hertfordshire County Council")
    check_both_widths(page)
    page.locator("main a[href*='/reconciliation/transfers?']").first.click()
    transfers = page.get_by_role("table", name=re.compile("^The ledger transfers behind"))
    expect(transfers).to_be_visible()
    check_both_widths(page)
    page.goto("/council/reconciliation")
    check_both_widths(page)
    rows = _download(
        page, re.compile(f"^Download this table as CSV.*{re.escape(funders_name[:20])}"), folder
    )
    assert [r[0] for r in rows[1:]] == [r[0] for r in shown]


def _close_periods(page: Page, folder: Path) -> None:
    yesterday = datetime.now(UTC).astimezone(LONDON).date() - timedelta(days=1)
    to_dashboard(page)
    page.get_by_role("link", name=re.compile("^Close budget periods")).click()
    expect(heading(page)).to_have_text("Close budget periods")
    check_both_widths(page)
    group = page.get_by_role("group", name="Periods that ended on or before")
    group.get_by_label("Day").fill(str(yesterday.day))
    group.get_by_label("Month").fill(str(yesterday.month))
    group.get_by_label("Year").fill(str(yesterday.year))
    press(page.get_by_role("button", name="Preview"), "Enter")
    expect(heading(page)).to_have_text("Check before closing the periods")
    expect(page.get_by_role("table", name="Budget by budget")).to_be_visible()
    check_both_widths(page)
    preview = _download(page, "Download this preview (CSV)", folder)
    assert len(preview) > 1
    button = page.get_by_role("button", name=re.compile(r"^Close \d+ periods?$"))
    count = re.search(r"\d+", button.inner_text())
    assert count is not None
    press(button, "Enter")
    expect(heading(page)).to_have_text(re.compile(rf"^\s*{count.group(0)} periods? closed\s*$"))
    expect(page.get_by_role("table", name="Whose money went where")).to_be_visible()
    check_both_widths(page)
    report = _download(page, "Download this report (CSV)", folder)
    assert len(report) > 1


def _pay_providers(page: Page, live_server: LiveServer, folder: Path) -> None:
    today = datetime.now(UTC).astimezone(LONDON).date()
    to_dashboard(page)
    page.get_by_role("link", name=re.compile("^Paying providers: payment runs")).click()
    expect(heading(page)).to_have_text("Paying providers")
    check_both_widths(page)
    press(page.get_by_role("button", name="Start a payment run"), "Enter")
    expect(heading(page)).to_have_text("Start a payment run")
    group = page.get_by_role("group", name="Pay invoices settled on or before")
    group.get_by_label("Day").fill(str(today.day))
    group.get_by_label("Month").fill(str(today.month))
    group.get_by_label("Year").fill(str(today.year))
    check_both_widths(page)
    press(page.get_by_role("button", name="Preview the payment run"), "Enter")
    expect(heading(page)).to_have_text("Check the payment run")
    expect(page.get_by_role("table", name="What each provider will be paid")).to_be_visible()
    check_both_widths(page)
    press(page.get_by_role("button", name=re.compile("^Make the payment run of £")), "Enter")
    expect(heading(page)).to_have_text("Payment run PR-00002")
    check_both_widths(page)
    payment_file = _download(page, re.compile("^Payment file"), folder)
    advice = _download(page, re.compile("^Remittance advice"), folder)
    assert len(payment_file) > 1
    assert len(advice) > 1
    header = payment_file[0]
    amount = header.index("amount") if "amount" in header else len(header) - 1
    file_total = sum(Decimal(row[amount]) for row in payment_file[1:])
    expect(page.locator("main")).to_contain_text(pounds(int(file_total * 100)))
    press(page.get_by_role("button", name="Mark the payment file as sent"), "Enter")
    expect(banner(page)).to_be_visible()
    check_both_widths(page)


def _export_to_finance(page: Page, live_server: LiveServer, folder: Path) -> None:
    to_dashboard(page)
    page.get_by_role("link", name=re.compile("^Export to the finance system")).click()
    expect(heading(page)).to_have_text("Export to the finance system")
    check_both_widths(page)
    press(page.get_by_role("button", name="Make an export"), "Enter")
    expect(heading(page)).to_have_text("Make an export to the finance system")
    check_both_widths(page)
    press(page.get_by_role("button", name="Make the export"), "Enter")
    expect(heading(page)).to_have_text("Export made")
    check_both_widths(page)
    reference = "FX-00002"
    rows = _download(page, f"Download {reference} (CSV)", folder)
    header = rows[0]
    kind, amount = header.index("line_type"), header.index("amount")
    sums: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    for row in rows[1:]:
        sums[row[kind]] = sums.get(row[kind], Decimal(0)) + Decimal(row[amount])
        counts[row[kind]] = counts.get(row[kind], 0) + 1
    assert counts, "the export has no lines"
    by_type = {row[0].lower(): row for row in _table_cells(page, "Lines by type")}
    for line_type, total in sums.items():
        shown = by_type[line_type.replace("_", " ").lower()]
        assert shown[1] == str(counts[line_type]), (line_type, shown)
        assert shown[2] == pounds(int(total * 100)), (line_type, shown)
    with live_server.app.app_context():
        export = db.session.scalars(
            select(FinanceExport).where(FinanceExport.reference == reference)
        ).one()
        assert _csv_rows(export.content) == rows
        db.session.remove()


def _review_in_search(page: Page, live_server: LiveServer, review_id: str) -> None:
    """The service of the review published from the queue shows its published reviews'
    count in search, and the review on its page."""
    with live_server.app.app_context():
        review = db.session.get_one(ServiceReview, uuid.UUID(review_id))
        assert review.status is ReviewStatus.PUBLISHED
        service_name, provider = review.service.name, review.service.organisation.name
        words = review.text
        count = len(
            db.session.scalars(
                select(ServiceReview).where(
                    ServiceReview.service_id == review.service_id,
                    ServiceReview.status == ReviewStatus.PUBLISHED,
                )
            ).all()
        )
        db.session.remove()
    page.goto("/search?" + "q=" + "+".join(service_name.lower().split()[:3]))
    result = page.locator(".app-result", has_text=service_name).filter(has_text=provider)
    expect(result).to_contain_text(re.compile(rf"out of 5, from {count} reviews?"))
    check_both_widths(page)
    result.get_by_role("link", name=service_name).first.click()
    expect(page.get_by_role("heading", name="Reviews")).to_be_visible()
    expect(page.get_by_text(words)).to_be_visible()
    check_both_widths(page)
