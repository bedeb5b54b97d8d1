"""ISF (issue 18) on the pages: the person asks a provider to hold part of their budget, the
provider agrees and records spending (never more than the fund holds), the person and the
council read the statement; an officer ends a fund; suspending the provider returns what is
left. Flask test client; the ledger and budget checks after each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import IndividualServiceFund, IsfState
from tests.conftest import sign_in
from tests.packages import isf_fixtures
from tests.packages.isf_fixtures import TODAY, IsfWorld, assert_all_verifies

isf_world = isf_fixtures.isf_world


@pytest.fixture(autouse=True)
def on_today() -> Iterator[None]:
    with time_machine.travel(datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=UTC)):
        yield


def _only_fund(session: Session) -> IndividualServiceFund:
    session.expire_all()
    return session.scalars(select(IndividualServiceFund)).one()


def _ask(client: FlaskClient, world: IsfWorld, **data: str) -> object:
    return client.post(
        "/my/isf/new",
        data={
            "organisation": str(world.provider.id),
            "amount": "150.00",
            "agreement": "A support worker for trips out on Saturday afternoons",
            "stream": "any",
            **data,
        },
    )


def test_asked_agreed_spent_and_read_by_everyone(
    client: FlaskClient, session: Session, isf_world: IsfWorld
) -> None:
    sign_in(client, isf_world.citizen)
    listed = client.get("/my/isf")
    assert listed.status_code == 200
    assert "Ask a provider to hold a fund" in listed.get_data(as_text=True)
    form = client.get("/my/isf/new").get_data(as_text=True)
    assert "Chiltern Home Care" in form

    missing = _ask(client, isf_world, amount="", agreement="")
    assert missing.status_code == 400
    text = missing.get_data(as_text=True)
    assert "There is a problem" in text
    assert "Enter how much they should hold" in text
    assert "Say how the money will be spent" in text
    too_much = _ask(client, isf_world, amount="5000.00")
    assert too_much.status_code == 400
    assert "No part of the budget has £5,000 to spend now" in too_much.get_data(as_text=True)

    asked = _ask(client, isf_world)
    assert asked.status_code == 302
    fund = _only_fund(session)
    assert fund.state is IsfState.REQUESTED
    page = client.get(f"/my/isf/{fund.id}").get_data(as_text=True)
    assert "Chiltern Home Care has not answered yet" in page
    client.post("/sign-out")

    sign_in(client, isf_world.staff)
    waiting = client.get("/provider/isf").get_data(as_text=True)
    assert f"{fund.reference}: £150 for Margaret Okafor" in waiting
    no_answer = client.post(f"/provider/isf/{fund.id}/decide", data={})
    assert no_answer.status_code == 400
    assert "Select yes or no" in no_answer.get_data(as_text=True)
    agreed = client.post(f"/provider/isf/{fund.id}/decide", data={"decision": "agree"})
    assert agreed.status_code == 302
    assert _only_fund(session).state is IsfState.AGREED
    page = client.get(f"/provider/isf/{fund.id}").get_data(as_text=True)
    assert "Record spending" in page
    spend = {
        "key": "form-1",
        "spent_on": ["30", "5", "2026"],
        "amount": "40.00",
        "description": "Cinema tickets and the bus there",
    }
    too_much = client.post(f"/provider/isf/{fund.id}/spend", data={**spend, "amount": "150.01"})
    assert too_much.status_code == 400
    assert "The fund holds £150: you cannot record £150.01" in too_much.get_data(as_text=True)
    assert client.post(f"/provider/isf/{fund.id}/spend", data=spend).status_code == 302
    # The same form sent again records nothing more.
    assert client.post(f"/provider/isf/{fund.id}/spend", data=spend).status_code == 302
    assert len(_only_fund(session).spends) == 1
    client.post("/sign-out")

    for user, path in ((isf_world.citizen, "/my/isf"), (isf_world.officer, "/council/isf")):
        sign_in(client, user)
        page = client.get(f"{path}/{fund.id}").get_data(as_text=True)
        assert "Cinema tickets and the bus there" in page
        assert "30 May 2026" in page
        assert "£110" in page  # left in the fund
        client.post("/sign-out")
    assert_all_verifies(session)


def test_another_provider_and_another_person_find_no_fund(
    client: FlaskClient,
    session: Session,
    isf_world: IsfWorld,
    make_user: Callable[..., User],
) -> None:
    fund = isf_world.request(session)
    stranger = make_user(Role.PROVIDER_STAFF)
    sign_in(client, stranger)
    assert client.get(f"/provider/isf/{fund.id}").status_code == 404
    assert (
        client.post(f"/provider/isf/{fund.id}/decide", data={"decision": "agree"}).status_code
        == 404
    )
    client.post("/sign-out")
    other = make_user(Role.CITIZEN)
    sign_in(client, other)
    assert client.get(f"/my/isf/{fund.id}").status_code == 404
    assert ledger.balance(session, fund.account_id).posted == 0


def test_declining_needs_a_reason_the_person_reads(
    client: FlaskClient, session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.request(session)
    sign_in(client, isf_world.staff)
    bare = client.post(f"/provider/isf/{fund.id}/decide", data={"decision": "decline"})
    assert bare.status_code == 400
    assert "Say why you are declining" in bare.get_data(as_text=True)
    assert (
        client.post(
            f"/provider/isf/{fund.id}/decide",
            data={"decision": "decline", "reason": "We have no staff free on Saturdays"},
        ).status_code
        == 302
    )
    client.post("/sign-out")
    sign_in(client, isf_world.citizen)
    page = client.get(f"/my/isf/{fund.id}").get_data(as_text=True)
    assert "We have no staff free on Saturdays" in page
    assert "Declined" in page


def test_an_officer_ends_a_fund_and_what_is_left_goes_back(
    client: FlaskClient, session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.agreed(session, 100_00)
    sign_in(client, isf_world.officer)
    assert "Margaret Okafor" in client.get("/council/isf").get_data(as_text=True)
    bare = client.post(f"/council/isf/{fund.id}", data={"why": ""})
    assert bare.status_code == 400
    assert "Say why the fund is ending" in bare.get_data(as_text=True)
    ended = client.post(f"/council/isf/{fund.id}", data={"why": "The person moved away"})
    assert ended.status_code == 302
    fund = _only_fund(session)
    assert fund.state is IsfState.CLOSED
    assert budget_figures(session, isf_world.budget).total.isf_pence == 0
    assert "The person moved away" in client.get(f"/council/isf/{fund.id}").get_data(as_text=True)
    assert_all_verifies(session)


def test_suspending_the_provider_stops_its_funds_and_returns_what_is_left(
    client: FlaskClient, session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.agreed(session, 100_00)
    sign_in(client, isf_world.officer)
    done = client.post(
        f"/council/providers/{isf_world.provider.id}",
        data={"decision": "suspended", "reason": "Safeguarding concerns"},
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    fund = _only_fund(session)
    assert fund.state is IsfState.SUSPENDED
    assert ledger.balance(session, fund.account_id).posted == 0
    client.post("/sign-out")
    sign_in(client, isf_world.citizen)
    page = client.get(f"/my/isf/{fund.id}").get_data(as_text=True)
    assert "no more can be spent from this fund" in page
    assert_all_verifies(session)


def test_without_an_open_budget_there_is_nothing_to_ask_from(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    sign_in(client, make_user(Role.CITIZEN))
    page = client.get("/my/isf/new")
    assert page.status_code == 403
    assert "There is no open personal budget" in page.get_data(as_text=True)


def test_the_budget_page_shows_what_is_in_funds_and_links_to_them(
    client: FlaskClient, session: Session, isf_world: IsfWorld
) -> None:
    isf_world.agreed(session, 120_00)
    sign_in(client, isf_world.citizen)
    page = client.get("/my/budget").get_data(as_text=True)
    assert "£120 is in Individual Service Funds" in page
    assert 'href="/my/isf"' in page
    client.post("/sign-out")
    sign_in(client, isf_world.staff)
    assert 'href="/provider/isf"' in client.get("/provider/isf").get_data(as_text=True)


def test_the_api_s_budget_figures_count_what_is_in_funds(
    client: FlaskClient, session: Session, isf_world: IsfWorld
) -> None:
    from tests.api.integration_helpers import bearer, matches, new_token

    isf_world.agreed(session, 120_00)
    officer = bearer(new_token())
    document = client.get("/api/v1/openapi.json").get_json()
    got = client.get(f"/api/v1/people/{isf_world.person.id}/budget", headers=officer).get_json()
    matches(document, "BudgetFigures", got)
    total = got["total"]
    assert total["isf_pence"] == 120_00
    assert total["allocated_pence"] == sum(
        total[name]
        for name in (
            "committed_pence",
            "spent_pence",
            "available_pence",
            "returned_pence",
            "carried_forward_pence",
            "isf_pence",
        )
    )


def test_the_close_preview_says_what_comes_back_from_funds(
    client: FlaskClient, session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.agreed(session, 120_00)
    isf_fixtures.spend(session, isf_world, fund, 20_00, "form-1")
    sign_in(client, isf_world.officer)
    page = client.get(
        f"/council/people/{isf_world.person.id}/budgets/{isf_world.budget.id}/close/preview"
    )
    assert page.status_code == 200
    assert "includes £100 still held by providers in Individual Service Funds" in page.get_data(
        as_text=True
    )


def test_a_broker_with_an_order_consent_asks_and_one_without_cannot(
    client: FlaskClient,
    session: Session,
    isf_world: IsfWorld,
    make_user: Callable[..., User],
) -> None:
    from tests.brokers.acting_helpers import start_acting
    from tests.brokers.shortlist_fixtures import give_consent

    seeing = make_user(Role.BROKER)
    give_consent(isf_world.person, broker=seeing, scopes=["see"])
    sign_in(client, seeing)
    start_acting(client, isf_world.person)
    listed = client.get("/my/isf").get_data(as_text=True)
    assert "Margaret Okafor\u2019s Individual Service Funds" in listed
    assert "Ask a provider to hold a fund" not in listed
    assert client.get("/my/isf/new").status_code == 403
    assert _ask(client, isf_world).status_code == 403
    client.post("/sign-out")

    ordering = make_user(Role.BROKER)
    consent = give_consent(isf_world.person, broker=ordering, scopes=["see", "order"])
    sign_in(client, ordering)
    start_acting(client, isf_world.person)
    assert _ask(client, isf_world).status_code == 302
    fund = _only_fund(session)
    assert fund.consent_id == consent.id
    assert fund.requested_by_id == ordering.id


def test_the_funders_page_counts_what_is_in_funds(
    client: FlaskClient, session: Session, isf_world: IsfWorld
) -> None:
    # More than the £300 contribution: the council's stream pays.
    isf_world.agreed(session, 400_00)
    sign_in(client, isf_world.officer)
    page = client.get("/council/funders").get_data(as_text=True)
    # The council's pot's card comes first, then the ICB's.
    council_pot = page.split("Hertfordshire and West Essex ICB")[0]
    figure = council_pot.split("In Individual Service Funds")[1].split("</dd>")[0]
    assert "£400" in figure
