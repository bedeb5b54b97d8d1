"""Officers add funders and put money into their pots over HTTP: each a ledger transfer, once
however often the button is pressed, and every refusal a GOV.UK error that changes nothing."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from marketplace.budgets.figures import pot_figures
from marketplace.budgets.models import Funder, FunderPot
from marketplace.extensions import db
from marketplace.ledger import Transfer, verify_ledger


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _add_funder(client: FlaskClient, name: str = "Hertfordshire and West Essex ICB") -> Funder:
    response = client.post("/council/funders/new", data={"name": name, "kind": "nhs"})
    assert response.status_code == 302, _text(response)
    funder = db.session.scalar(select(Funder).where(Funder.name == name))
    assert funder is not None
    return funder


def test_an_officer_adds_a_funder_and_funds_its_pot_once(officer_client: FlaskClient) -> None:
    funder = _add_funder(officer_client)
    form = {
        "funder": str(funder.id),
        "financial_year": "2026",
        "amount": "£250,000.00",
        "description": "Section 75 agreement 2026/27",
        "key": str(uuid.uuid4()),
    }

    first = officer_client.post("/council/funders/fund", data=form)
    again = officer_client.post("/council/funders/fund", data=form)  # a double click

    assert first.status_code == again.status_code == 302
    pot = db.session.scalar(select(FunderPot).where(FunderPot.funder_id == funder.id))
    assert pot is not None
    assert pot.financial_year == 2026
    figures = pot_figures(db.session, pot)
    assert figures.given_pence == figures.unallocated_pence == 250_000_00
    assert _count(Transfer) == 1
    page = _text(officer_client.get("/council/funders?year=2026"))
    assert "Hertfordshire and West Essex ICB" in page
    assert "£250,000" in page
    assert verify_ledger(db.session).ok


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": ""}, "Enter the amount"),
        ({"amount": "0"}, "more than £0"),
        ({"amount": "-5"}, ""),
        ({"amount": "12.345"}, ""),
        ({"amount": "ten pounds"}, ""),
        ({"financial_year": "1999"}, "between 2000 and 2100"),
        ({"funder": str(uuid.uuid4())}, ""),
        ({"key": "not-a-key"}, "expired"),
    ],
)
def test_bad_funding_is_refused_and_records_nothing(
    officer_client: FlaskClient, changes: dict[str, str], message: str
) -> None:
    funder = _add_funder(officer_client)
    form = {
        "funder": str(funder.id),
        "financial_year": "2026",
        "amount": "1000",
        "key": str(uuid.uuid4()),
    } | changes

    response = officer_client.post("/council/funders/fund", data=form)

    assert response.status_code == 400
    assert "govuk-error-summary" in _text(response)
    assert message in _text(response)
    assert _count(Transfer) == 0


def test_a_funder_needs_a_unique_name_and_a_kind(officer_client: FlaskClient) -> None:
    _add_funder(officer_client, "East and North Herts NHS")

    for form in (
        {"name": "East and North Herts NHS", "kind": "nhs"},
        {"name": "", "kind": "council"},
        {"name": "Another", "kind": "charity"},
    ):
        response = officer_client.post("/council/funders/new", data=form)
        assert response.status_code == 400
        assert "govuk-error-summary" in _text(response)
    assert _count(Funder) == 1
