"""The cost centre a funder's money is booked to: the pot line's, else the funder's default."""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.budgets.models import Funder, FunderKind, FunderPotLine, StreamKind
from marketplace.finance.cost_centres import cost_centre
from marketplace.orders.models import Order
from tests.conftest import sign_in
from tests.orders.fixtures import World


def test_a_pot_line_with_its_own_cost_centre_comes_before_the_funders_default() -> None:
    funder = Funder(name="Herts Valleys ICB", kind=FunderKind.NHS, cost_centre="NHS100")
    assert cost_centre(funder, FunderPotLine(name="Section 117", cost_centre="S117")) == "S117"
    assert cost_centre(funder, FunderPotLine(name="CHC", cost_centre="")) == "NHS100"
    assert cost_centre(funder) == "NHS100"
    assert cost_centre(None) == ""


def test_an_officer_sets_a_funders_default_cost_centre_and_exports_use_it(
    app: Flask, session: Session, world: World, order: Order, later: None
) -> None:
    council = next(s.pot for s in world.budget.streams if s.kind is StreamKind.COUNCIL)
    assert council is not None
    funder = council.funder
    client = app.test_client()
    sign_in(client, world.officer)
    path = f"/council/funders/{funder.id}/cost-centre"
    assert "Default cost centre" in client.get("/council/funders").text

    too_long = client.post(path, data={"cost_centre": "X" * 41})
    assert too_long.status_code == 400
    assert "The cost centre must be 40 characters or fewer" in too_long.text
    assert "govuk-error-summary" in too_long.text

    saved = client.post(path, data={"cost_centre": " ASC-PB01 "})
    assert saved.status_code == 302
    session.expire_all()
    assert funder.cost_centre == "ASC-PB01"
    assert "ASC-PB01" in client.get("/council/funders").text

    added = client.post(
        "/council/funders/new",
        data={"name": "East and North Herts ICB", "kind": "nhs", "cost_centre": "ENH-01"},
    )
    assert added.status_code == 302
    assert session.scalars(select(Funder).where(Funder.cost_centre == "ENH-01")).one()


def test_the_cost_centre_page_is_for_funders_that_exist(app: Flask, world: World) -> None:
    client = app.test_client()
    sign_in(client, world.officer)
    assert client.get(f"/council/funders/{uuid.uuid4()}/cost-centre").status_code == 404
