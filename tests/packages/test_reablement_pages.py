"""Reablement's pages (REABLEMENT, issue 18): an officer starts an episode from the person's
page, sees it, records the outcome; the person's order page says it is free and who pays; the
report; a reablement pot on the funders' pages. Flask test client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.budgets.models import FunderPot, PersonalBudget, PotPurpose
from marketplace.orders import reablement
from marketplace.orders.models import OrderFunding, ReablementEpisode, ReablementOutcome
from tests.conftest import sign_in
from tests.orders.fixtures import assert_ledger_verifies
from tests.packages import test_reablement as base
from tests.packages.test_reablement import POT_PENCE, WEEKLY_PENCE, ReablementWorld

reablement_world = base.reablement_world


@pytest.fixture
def on_first_day() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 5, 28, 10, tzinfo=UTC)):
        yield


def _start_form(world: ReablementWorld, **overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "service": str(world.service.id),
        "pot": str(world.pot.id),
        "starts_on": ["1", "6", "2026"],
        "weeks": "6",
        "units_per_occasion": "2",
        "days": ["MO", "TH"],
    }
    return form | overrides


@pytest.mark.usefixtures("on_first_day")
def test_an_officer_starts_reablement_from_the_persons_page(
    client: FlaskClient, session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    sign_in(client, world.officer)
    person_page = client.get(f"/council/people/{world.person.id}").get_data(as_text=True)
    assert "Start reablement" in person_page
    path = f"/council/people/{world.person.id}/reablement/new"
    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Chiltern Home Care: Home care visits" in text
    assert "Hertfordshire County Council reablement 2026/27 (£10,000 left)" in text

    bad = client.post(path, data=_start_form(world, weeks="9", days=[], service=""))
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "There is a problem" in text
    assert "Select the service" in text
    assert "Select at least one day of the week" in text
    too_long = client.post(path, data=_start_form(world, weeks="9"))
    assert too_long.status_code == 400
    assert "Enter a number of weeks between 1 and 6" in too_long.get_data(as_text=True)
    assert session.query(ReablementEpisode).count() == 0

    started = client.post(path, data=_start_form(world))
    assert started.status_code == 302, started.get_data(as_text=True)
    episode = session.query(ReablementEpisode).one()
    assert started.location.endswith(f"/council/reablement/{episode.reference}")
    text = client.get(started.location).get_data(as_text=True)
    assert "Record the outcome" in text
    assert "12 July 2026" in text
    assert "Hertfordshire County Council reablement 2026/27" in text
    listing = client.get(f"/council/people/{world.person.id}/reablement")
    assert episode.reference in listing.get_data(as_text=True)
    assert_ledger_verifies(session)


@pytest.mark.usefixtures("on_first_day")
def test_a_pot_without_the_money_is_an_error_on_the_form(
    client: FlaskClient, session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    sign_in(client, world.officer)
    # Sixteen hours a day, every day, at £26: £2,912 a week, more than the pot's £10,000.
    days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    refused = client.post(
        f"/council/people/{world.person.id}/reablement/new",
        data=_start_form(world, units_per_occasion="16", days=days),
    )
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "There is a problem" in text
    assert "has £10,000 left; this reablement needs" in text
    session.expire_all()
    assert session.query(ReablementEpisode).count() == 0
    assert_ledger_verifies(session)


def test_the_outcome_page_records_ongoing_care_and_the_person_reads_it(
    client: FlaskClient,
    session: Session,
    reablement_world: ReablementWorld,
    make_budget: Callable[..., PersonalBudget],
) -> None:
    world = reablement_world
    budget = make_budget(council=2_000_00)
    with time_machine.travel(datetime(2026, 5, 28, 10, tzinfo=UTC)):
        episode = world.start(session, today=date(2026, 5, 28))
    reference, order_id = episode.reference, episode.order_id

    with time_machine.travel(datetime(2026, 6, 3, 10, tzinfo=UTC)):
        sign_in(client, world.citizen)
        mine = client.get(f"/my/orders/{order_id}").get_data(as_text=True)
        assert "Reablement: free to you until 12 July 2026, paid by Hertfordshire" in mine
        client.post("/sign-out")

        sign_in(client, world.officer)
        path = f"/council/reablement/{reference}/outcome"
        assert client.get(path).status_code == 200
        empty = client.post(path, data={"note": "x"})
        assert empty.status_code == 400
        assert "Select the outcome" in empty.get_data(as_text=True)
        recorded = client.post(
            path, data={"outcome": ReablementOutcome.ONGOING_CARE.value, "note": "Needs help"}
        )
        assert recorded.status_code == 302, recorded.get_data(as_text=True)
        text = client.get(recorded.location).get_data(as_text=True)
        assert "Ongoing care with the same provider" in text
        # Twice: the page says it is recorded already; nothing more happens.
        again = client.post(path, data={"outcome": ReablementOutcome.NO_ONGOING_NEED.value})
        assert again.status_code == 302
    session.expire_all()
    episode = session.query(ReablementEpisode).one()
    assert episode.outcome is ReablementOutcome.ONGOING_CARE
    assert episode.order.funding is OrderFunding.BUDGET
    assert episode.order.budget_id == budget.id

    with time_machine.travel(datetime(2026, 6, 3, 10, tzinfo=UTC)):
        client.post("/sign-out")
        sign_in(client, world.citizen)
        mine = client.get(f"/my/orders/{order_id}").get_data(as_text=True)
        assert "This care began as reablement, free to you until 7 June 2026" in mine
        assert "From 8 June 2026 it carries on with the same provider" in mine
    assert_ledger_verifies(session)


def test_ongoing_care_without_a_budget_is_an_error_on_the_outcome_form(
    client: FlaskClient, session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    with time_machine.travel(datetime(2026, 5, 28, 10, tzinfo=UTC)):
        episode = world.start(session, today=date(2026, 5, 28))
        reference = episode.reference
        sign_in(client, world.officer)
        refused = client.post(
            f"/council/reablement/{reference}/outcome",
            data={"outcome": ReablementOutcome.ONGOING_CARE.value},
        )
    assert refused.status_code == 400
    assert "has no open personal budget" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.query(ReablementEpisode).one().outcome is None
    assert_ledger_verifies(session)


def test_the_report_page_and_the_reablement_pot_on_the_funders_page(
    client: FlaskClient, session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    with time_machine.travel(datetime(2026, 5, 28, 10, tzinfo=UTC)):
        episode = world.start(session, today=date(2026, 5, 28))
        reablement.end_episode(
            session,
            episode,
            outcome=ReablementOutcome.NO_ONGOING_NEED,
            by=world.officer,
            note="",
            today=date(2026, 6, 10),
        )
        session.commit()
    with time_machine.travel(datetime(2026, 7, 1, 10, tzinfo=UTC)):
        sign_in(client, world.officer)
        report = client.get("/council/reablement").get_data(as_text=True)
        assert "1 of 1 ended with no ongoing care needed: 100%" in report
        assert "The target is 50%, so it was met" in report
        assert "June 2026" in report
        assert "No one is in reablement." in report
        funders = client.get("/council/funders").get_data(as_text=True)
        assert "Reablement pots 2026/27" in funders
        left = POT_PENCE - 2 * WEEKLY_PENCE
        assert f"£{left // 100:,}" in funders
        assert "Reablement: who is in it now" in client.get("/council/").get_data(as_text=True)


def test_money_put_into_a_reablement_pot_makes_that_pot(
    client: FlaskClient, session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    sign_in(client, world.officer)
    funder = world.pot.funder
    put = client.post(
        "/council/funders/fund",
        data={
            "funder": str(funder.id),
            "financial_year": "2027",
            "purpose": PotPurpose.REABLEMENT.value,
            "amount": "5000",
            "key": "5f6c2d5e-8a8e-4c3e-9a57-0f3c1d2b9e11",
        },
    )
    assert put.status_code == 302, put.get_data(as_text=True)
    pots = session.query(FunderPot).filter_by(funder_id=funder.id, financial_year=2027).all()
    assert [(pot.purpose, reablement.pot_use(session, pot)["left"]) for pot in pots] == [
        (PotPurpose.REABLEMENT, 5000_00)
    ]
    assert_ledger_verifies(session)


def test_the_providers_order_page_says_who_pays_for_the_reablement(
    client: FlaskClient, session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    with time_machine.travel(datetime(2026, 5, 28, 10, tzinfo=UTC)):
        episode = world.start(session, today=date(2026, 5, 28))
        sign_in(client, world.staff)
        page = client.get(f"/provider/orders/{episode.order_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert (
        f"Reablement {episode.reference}, commissioned by the council: paid by "
        "Hertfordshire County Council until 12 July 2026."
    ) in text
    client.post("/sign-out")
    sign_in(client, world.officer)
    council = client.get(f"/council/orders/{episode.order_id}").get_data(as_text=True)
    assert f"reablement {episode.reference}</a>, free to the person until 12 July 2026" in council


@pytest.mark.usefixtures("on_first_day")
def test_the_longest_episode_is_configured(
    make_app: Callable[..., Flask], session: Session, reablement_world: ReablementWorld
) -> None:
    world = reablement_world
    client = make_app(REABLEMENT_MAX_WEEKS=4).test_client()
    sign_in(client, world.officer)
    path = f"/council/people/{world.person.id}/reablement/new"
    assert "Up to 4 weeks" in client.get(path).get_data(as_text=True)
    refused = client.post(path, data=_start_form(world, weeks="5"))
    assert refused.status_code == 400
    assert "Enter a number of weeks between 1 and 4" in refused.get_data(as_text=True)
    assert client.post(path, data=_start_form(world, weeks="4")).status_code == 302
    session.expire_all()
    assert session.query(ReablementEpisode).one().ends_on == date(2026, 6, 28)
