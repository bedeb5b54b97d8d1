"""RECON (issue 19): the reconciliation's pages on the varied ledger. An officer drills from the
funders to a pot's lines, to a line's people, to a person's streams, to the transfers behind a
figure, and every figure on the way equals the sum of the transfers its link lists (read from
the CSV of that list); every table's CSV has the rows the page shows; bad periods are the error
summary (400)."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.budgets import funders
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import PaymentFrequency, StreamKind
from marketplace.budgets.spending import reserve, spend
from marketplace.people.models import Person
from tests.conftest import sign_in
from tests.console.reconciliation_fixtures import Varied, period_world, varied
from tests.test_statements_per_page import counting

__all__ = ["period_world", "varied"]

YEAR = "year=2026"
MONEY = re.compile(r"^-?£[0-9,]+(\.[0-9]{2})?$")


def _officer(app: Flask, varied: Varied) -> FlaskClient:
    client = app.test_client()
    sign_in(client, varied.world.officer)
    return client


def _links(page: str) -> list[tuple[str, str]]:
    """Each link's address and its visible text (before any hidden words)."""
    return [
        (html.unescape(href), re.sub(r"<[^>]+>.*", "", text, flags=re.S).strip())
        for href, text in re.findall(r'<a class="govuk-link" href="([^"]+)">(.*?)</a>', page, re.S)
    ]


def _pence(text: str) -> int:
    negative = text.startswith("-")
    pence = int(Decimal(text.lstrip("-£").replace(",", "")) * 100)
    return -pence if negative else pence


def _csv_pence(cell: str) -> int:
    """A CSV's pounds with two decimals ("-12.34") as pence."""
    return int(Decimal(cell) * 100)


def _csv_rows(client: FlaskClient, href: str) -> list[dict[str, str]]:
    response = client.get(href)
    assert response.status_code == 200, href
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _check_drill_downs(client: FlaskClient, page: str) -> int:
    """Every money link on the page lists transfers adding up to the figure it shows."""
    checked = 0
    for href, text in _links(page):
        if not re.search(r"/reconciliation/(pot-)?transfers\?", href):
            continue
        assert MONEY.match(text), text
        csv_href = href.replace("transfers?", "transfers.csv?", 1)
        rows = _csv_rows(client, csv_href)
        assert rows[-1]["Date"] == "Total"
        listed = sum(_csv_pence(row["Amount"]) for row in rows[:-1])
        assert listed == _pence(text), (href, text)
        assert _csv_pence(rows[-1]["Amount"]) == _pence(text)
        checked += 1
    return checked


def test_an_officer_drills_from_the_funders_to_the_penny(
    app: Flask, session: Session, varied: Varied
) -> None:
    client = _officer(app, varied)
    index = client.get(f"/council/reconciliation?{YEAR}")
    assert index.status_code == 200
    page = index.get_data(as_text=True)
    assert "Hertfordshire and West Essex ICB" in page
    assert "<svg" in page  # the chart beside the funders' table
    assert _check_drill_downs(client, page) > 10

    nhs = varied.nhs_pot.funder
    funder_page = client.get(f"/council/reconciliation/funders/{nhs.id}?{YEAR}")
    assert funder_page.status_code == 200
    text = funder_page.get_data(as_text=True)
    assert "Continuing healthcare" in text
    assert "Section 117 aftercare" in text
    assert "CHC01" in text
    assert _check_drill_downs(client, text) > 10

    line_link = next(href for href, words in _links(text) if words == "Continuing healthcare")
    people = client.get(line_link).get_data(as_text=True)
    assert "Bea Adeyemi" in people
    assert "Cyril Marsh" not in people
    person_link = next(href for href, words in _links(people) if words == "Bea Adeyemi")
    person = client.get(person_link)
    assert person.status_code == 200
    person_text = person.get_data(as_text=True)
    assert _check_drill_downs(client, person_text) > 5
    # Her figures are her budget page's.
    page_total = budget_figures(session, varied.budgets["bea"]).total
    spent_link = next(
        text for href, text in _links(person_text)
        if "figure=spent_pence" in href and f"person={varied.people['bea'].id}" in href
        and "stream=" not in href
    )  # fmt: skip
    assert _pence(spent_link) == page_total.spent_pence

    # The penny: a transfer's key, date, amount and accounts.
    transfers = client.get(
        next(
            href
            for href, _ in _links(person_text)
            if "figure=committed_pence" in href and "stream=" not in href
        )
    ).get_data(as_text=True)
    assert re.search(r"<td[^>]*>b2:[0-9]+</td>", transfers)
    assert "stream:" in transfers
    assert "payee:organisation:" in transfers


def test_every_tables_csv_has_the_pages_rows(app: Flask, varied: Varied) -> None:
    client = _officer(app, varied)
    for path, csv_path, first in (
        ("/council/reconciliation", "/council/reconciliation.csv?table=funders", "Funder"),
        ("/council/reconciliation/areas", "/council/reconciliation/areas.csv", "Area"),
        ("/council/reconciliation/providers", "/council/reconciliation/providers.csv", "Provider"),
        ("/council/reconciliation/people", "/council/reconciliation/people.csv", "Person"),
    ):
        page = client.get(f"{path}?{YEAR}")
        assert page.status_code == 200, path
        rows = _csv_rows(client, f"{csv_path}{'&' if '?' in csv_path else '?'}{YEAR}")
        text = page.get_data(as_text=True)
        for row in rows:
            assert row[first] in html.unescape(text), (path, row[first])
        assert _check_drill_downs(client, text) > 0
    checks = client.get(f"/council/reconciliation/checks?{YEAR}&tolerance=10")
    assert checks.status_code == 200
    # The held money of each commitment with nothing delivered drills down to its holds (a
    # budget's, or a reablement pot's).
    checks_text = checks.get_data(as_text=True)
    assert "pot-transfers?" in html.unescape(checks_text)
    assert _check_drill_downs(client, checks_text) >= 2
    overdue = _csv_rows(client, f"/council/reconciliation/checks.csv?table=overdue&{YEAR}")
    assert {row["Person"] for row in overdue} <= {"Margaret Okafor", "Cyril Marsh"}


def test_bad_periods_are_the_error_summary(app: Flask, varied: Varied) -> None:
    client = _officer(app, varied)
    for query, message in (
        ("since=2026-05-01&until=2026-04-01", "The end date must be the same as or after"),
        ("year=1999", "Enter a financial year from 2000 to 2100"),
        ("year=twenty", "Enter a financial year from 2000 to 2100"),
        ("since=2026-05-01", "Enter both dates, or a financial year"),
    ):
        for view in ("", "/people", "/areas", "/checks"):
            path = f"/council/reconciliation{view}"
            response = client.get(f"{path}?{query}")
            assert response.status_code == 400, (path, query)
            text = html.unescape(response.get_data(as_text=True))
            assert "govuk-error-summary" in text, (path, query)
            assert message in text, (path, query)
        assert client.get(f"/council/reconciliation.csv?table=funders&{query}").status_code == 400
    bad_tolerance = client.get(f"/council/reconciliation/checks?{YEAR}&tolerance=500")
    assert bad_tolerance.status_code == 400
    assert "whole number from 0 to 100" in bad_tolerance.get_data(as_text=True)
    for path in ("transfers?figure=nonsense", "people?person=not-an-id"):
        assert client.get(f"/council/reconciliation/{path}&{YEAR}").status_code == 404


def test_the_drill_down_keeps_its_period(app: Flask, varied: Varied) -> None:
    client = _officer(app, varied)
    page = client.get("/council/reconciliation?since=2026-04-01&until=2026-06-30")
    for href, _ in _links(page.get_data(as_text=True)):
        if "/transfers?" in href:
            args = parse_qs(urlparse(href).query)
            assert args["since"] == ["2026-04-01"]
            assert args["until"] == ["2026-06-30"]


def _statements(app: Flask, client: FlaskClient, paths: list[str]) -> dict[str, int]:
    measured = {}
    for path in paths:
        client.get(path)
        with counting(app) as statements:
            assert client.get(path).status_code == 200, path
        measured[path] = len(statements)
    return measured


def test_the_pages_read_as_many_statements_for_more_people_and_transfers(
    app: Flask, session: Session, varied: Varied
) -> None:
    """Grouped reads: with three more people, each with a budget, purchases spent and held and
    a pot line, every page issues the same number of statements."""
    client = _officer(app, varied)
    margaret = varied.people["margaret"].id
    paths = [
        f"/council/reconciliation?{YEAR}",
        f"/council/reconciliation/funders/{varied.nhs_pot.funder_id}?{YEAR}",
        f"/council/reconciliation/people?{YEAR}",
        f"/council/reconciliation/people/{margaret}?{YEAR}",
        f"/council/reconciliation/areas?{YEAR}",
        f"/council/reconciliation/providers?{YEAR}",
        f"/council/reconciliation/transfers?figure=spent_pence&{YEAR}",
        f"/council/reconciliation/pot-transfers?figure=given_pence&pot={varied.nhs_pot.id}&{YEAR}",
        f"/council/reconciliation/checks?{YEAR}",
    ]
    before = _statements(app, client, paths)
    payee = funders.payee_account(
        session, code=f"organisation:{varied.world.provider.id}", name="Chiltern Home Care"
    )
    for n in range(3):
        person = Person(full_name=f"More {n}", postcode="WD17 1EF")
        session.add(person)
        session.flush()
        budget = create_budget(
            session,
            person=person,
            starts_on=date(2026, 4, 1),
            ends_on=date(2027, 3, 31),
            frequency=PaymentFrequency.ANNUAL,
            streams=[
                StreamSpec(StreamKind.NHS, 900_00, pot=varied.nhs_pot, pot_line=varied.chc),
                StreamSpec(StreamKind.COUNCIL, 500_00, pot=varied.council_pot),
            ],
            today=date(2026, 4, 1),
        )
        for k in range(2):
            held = reserve(
                session,
                budget,
                amount_pence=40_00,
                category_codes={"personal-care"},
                payee=payee,
                key=f"more:{n}:{k}",
            )
            if k == 0:
                spend(session, held, key=f"more:{n}:{k}:spent")
    session.commit()
    after = _statements(app, client, paths)
    assert after == before


def test_a_funders_reablement_care_by_person(app: Flask, varied: Varied) -> None:
    """The NHS funder's page lists its reablement pot's care by person and provider, each
    figure the sum of the pot's transfers for that person; its CSV has the same rows."""
    client = _officer(app, varied)
    nhs = varied.nhs_pot.funder
    text = client.get(f"/council/reconciliation/funders/{nhs.id}?{YEAR}").get_data(as_text=True)
    assert "Reablement care" in text
    assert "Cyril Marsh, Chiltern Home Care" in text
    held = [href for href, _ in _links(text) if "person=" in href and "pot-transfers" in href]
    assert held
    assert _check_drill_downs(client, text) > 10
    rows = _csv_rows(
        client,
        f"/council/reconciliation/funders/{nhs.id}.csv?pot={varied.reablement_pot.id}&{YEAR}",
    )
    assert rows[0]["Person and provider"] == "Cyril Marsh, Chiltern Home Care"
    assert _csv_pence(rows[0]["Held for care"]) > 0
