"""RECON (issue 19): the named lines of a funder's pot. An officer adds lines to a pot (name,
cost centre, planned amount) on the funders' pages; the budget form offers the chosen pot's
lines, and the stream it makes names the line; a line of another pot, a duplicate name or a
reablement pot are refused."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.budgets import funders
from marketplace.budgets.errors import BudgetError
from marketplace.budgets.models import (
    FunderPot,
    FunderPotLine,
    FundingStream,
    PotPurpose,
    StreamKind,
)
from marketplace.budgets.pot_lines import add_pot_line
from marketplace.extensions import db
from tests.council.test_budget_pages import _budget_form

Pots = dict[StreamKind, FunderPot]


def test_an_officer_adds_lines_to_a_pot(officer_client: FlaskClient, pots: Pots) -> None:
    nhs = pots[StreamKind.NHS]
    path = f"/council/funders/pots/{nhs.id}/lines"
    assert "has no lines yet" in officer_client.get(path).get_data(as_text=True)
    response = officer_client.post(
        path, data={"name": "Continuing healthcare", "cost_centre": "CHC01", "planned": "250,000"}
    )
    assert response.status_code == 302
    page = officer_client.get(path).get_data(as_text=True)
    assert "Continuing healthcare" in page
    assert "CHC01" in page
    assert "£250,000" in page
    # The same name again (in other case), and no name: the error summary.
    again = officer_client.post(path, data={"name": "continuing HEALTHCARE", "planned": "1"})
    assert again.status_code == 400
    assert "already has a line called" in again.get_data(as_text=True)
    empty = officer_client.post(path, data={"name": "", "planned": ""})
    assert empty.status_code == 400
    text = empty.get_data(as_text=True)
    assert "There is a problem" in text
    assert "Enter the line&#39;s name" in text or "Enter the line's name" in text
    [line] = db.session.scalars(select(FunderPotLine)).all()
    assert (line.name, line.cost_centre, line.planned_pence) == (
        "Continuing healthcare",
        "CHC01",
        250_000_00,
    )
    funders_page = officer_client.get("/council/funders").get_data(as_text=True)
    assert path in funders_page


def test_the_budget_form_names_a_line_of_the_chosen_pot(
    officer_client: FlaskClient, citizen: User, pots: Pots
) -> None:
    nhs, council = pots[StreamKind.NHS], pots[StreamKind.COUNCIL]
    chc = add_pot_line(
        db.session, nhs, name="Continuing healthcare", cost_centre="", planned_pence=0
    )
    other = add_pot_line(db.session, council, name="Older people", cost_centre="", planned_pence=0)
    db.session.commit()
    path = f"/council/people/{citizen.person_id}/budgets/new"
    form_page = officer_client.get(path).get_data(as_text=True)
    assert "Continuing healthcare" in form_page
    # A line of another kind of funder's pot is not offered; one of the NHS's other pot is
    # offered but refused for this pot.
    wrong = officer_client.post(
        path,
        data=_budget_form(pots, nhs_amount="500", nhs_pot=str(nhs.id), nhs_line=str(other.id)),
    )
    assert wrong.status_code == 400
    assert "Choose a line from the list, or no line" in wrong.get_data(as_text=True)
    assert db.session.scalars(select(FundingStream)).all() == []
    given = officer_client.post(
        path,
        data=_budget_form(pots, nhs_amount="500", nhs_pot=str(nhs.id), nhs_line=str(chc.id)),
    )
    assert given.status_code == 302
    streams = {s.kind: s for s in db.session.scalars(select(FundingStream))}
    assert streams[StreamKind.NHS].pot_line_id == chc.id
    assert streams[StreamKind.COUNCIL].pot_line_id is None


def test_the_rules_refuse_what_is_not_a_line(pots: Pots) -> None:
    nhs = pots[StreamKind.NHS]
    with pytest.raises(BudgetError, match="a name"):
        add_pot_line(db.session, nhs, name="  ", cost_centre="", planned_pence=0)
    with pytest.raises(BudgetError, match="negative"):
        add_pot_line(db.session, nhs, name="X", cost_centre="", planned_pence=-1)
    reablement = funders.open_pot(db.session, nhs.funder, nhs.financial_year, PotPurpose.REABLEMENT)
    with pytest.raises(BudgetError, match="only a personal budgets pot"):
        add_pot_line(db.session, reablement, name="X", cost_centre="", planned_pence=0)
