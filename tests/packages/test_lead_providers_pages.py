"""Lead providers' pages (issue 18, LEAD): the council names and lists them and reads the
report; search puts a lead's services first, labelled, for people in its area."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.formatting import london_today, pounds
from marketplace.orders import checkout
from providers import lead_providers as leads
from providers import search_index
from providers.models import LeadProvider, Locality, Organisation, Service
from tests.brokers.acting_helpers import consent, start_acting
from tests.conftest import sign_in
from tests.orders.fixtures import TODAY, World

APRIL = date(2026, 4, 1)
LABEL = "Lead provider for help at home in Stevenage: the council's chosen provider for this area"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _district(session: Session, code: str) -> Locality:
    return session.scalars(select(Locality).where(Locality.code == code)).one()


def _name_lead(session: Session, world: World, organisation: Organisation) -> LeadProvider:
    named = leads.name_lead(
        session,
        locality=_district(session, "stevenage"),
        category_code="help-at-home",
        organisation=organisation,
        starts_on=APRIL,
        reason="Won the Stevenage home care contract",
        by=world.officer,
        today=APRIL,
    )
    session.commit()
    return named.lead


def test_an_officer_names_a_lead_provider_and_sees_it_listed(
    client: FlaskClient, session: Session, world: World
) -> None:
    sign_in(client, world.officer)
    assert "No area has a lead provider" in _text(client.get("/council/lead-providers"))
    day = london_today()
    form = {
        "locality": str(_district(session, "stevenage").id),
        "category": "help-at-home",
        "organisation": str(world.provider.id),
        "starts_on": [str(day.day), str(day.month), str(day.year)],
        "reason": "Won the Stevenage home care contract",
    }
    response = client.post("/council/lead-providers/new", data=form)
    assert response.status_code == 302
    page = _text(client.get("/council/lead-providers"))
    assert "Chiltern Home Care is the lead provider for help at home in Stevenage" in page
    assert "Won the Stevenage home care contract" in page
    assert f"From {day.strftime('%-d %B %Y')}" in page

    again = client.post("/council/lead-providers/new", data=form)
    assert again.status_code == 400
    assert "govuk-error-summary" in _text(again)
    assert "Chiltern Home Care is already the lead provider" in _text(again)
    assert len(leads.all_leads(session)) == 1


def test_the_naming_form_answers_bad_input_with_the_error_summary(
    client: FlaskClient, session: Session, world: World
) -> None:
    sign_in(client, world.officer)
    response = client.post(
        "/council/lead-providers/new",
        data={
            "locality": "not-an-id",
            "category": "",
            "organisation": str(world.provider.id),
            "starts_on": ["1", "", "2027"],
            "reason": "",
        },
    )
    text = _text(response)
    assert response.status_code == 400
    assert "govuk-error-summary" in text
    for message in ("Select a kind of care", "must include a day, month and year", "Enter why"):
        assert message in text
    past = client.post(
        "/council/lead-providers/new",
        data={
            "locality": str(_district(session, "stevenage").id),
            "category": "help-at-home",
            "organisation": str(world.provider.id),
            "starts_on": ["1", "1", "2020"],
            "reason": "A reason",
        },
    )
    assert past.status_code == 400
    assert "The date it starts must be today or later" in _text(past)
    assert leads.all_leads(session) == []


def test_the_report_page_shows_the_areas_care_through_its_lead(
    client: FlaskClient,
    session: Session,
    world: World,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    world.person.postcode = "SG1 1AA"
    others = make_listing(make_organisation("Bluebell Home Care"), price_pence=30_00)
    _name_lead(session, world, world.provider)
    for key, service in (("lead", world.service), ("other", others)):
        checkout.place_order(
            session,
            world.person,
            service,
            world.schedule(),
            by=world.citizen,
            today=TODAY,
            placement_key=key,
        )
    session.commit()
    sign_in(client, world.officer)
    text = _text(client.get("/council/lead-providers/report", query_string={"year": "2026"}))
    row = re.search(r"Stevenage</th>(.*?)</tr>", text, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>\s*(.*?)\s*</td>", row.group(1), re.S)
    assert cells == [
        "Help at home",
        "Chiltern Home Care",
        pounds(8 * 2 * 26_00 + 8 * 2 * 30_00),
        pounds(8 * 2 * 26_00),
        "46%",
    ]
    # The first quarter (April to June 2026) holds the same care; the next year none.
    q1 = _text(client.get("/council/lead-providers/report?year=2026&quarter=1"))
    assert "1 April 2026 to 30 June 2026" in q1
    assert pounds(8 * 2 * 26_00) in q1
    later = _text(client.get("/council/lead-providers/report?year=2027"))
    assert "No care ordered" in later


def _results(client: FlaskClient, **params: str) -> list[tuple[str, bool]]:
    """Each result's provider and whether it carries the lead label, in order."""
    text = _text(client.get("/search", query_string={"sort": "price", **params}))
    found = []
    for item in re.findall(r'<li class="app-result">(.*?)</li>', text, re.S):
        provider = re.search(r'<p class="govuk-body-s govuk-!-margin-bottom-1">([^<·]+)', item)
        assert provider is not None
        found.append((provider.group(1).strip(), LABEL in " ".join(item.split())))
    return found


def test_search_puts_the_lead_first_with_its_label_for_people_in_its_area(
    app: Flask,
    client: FlaskClient,
    session: Session,
    world: World,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    make_listing(make_organisation("Bluebell Home Care"), name="Bluebell visits", price_pence=20_00)
    _name_lead(session, world, world.provider)
    search_index.sync(app)
    cheapest_first = [("Bluebell Home Care", False), ("Chiltern Home Care", False)]
    lead_first = [("Chiltern Home Care", True), ("Bluebell Home Care", False)]

    assert _results(client) == cheapest_first
    assert _results(client, locality="stevenage") == lead_first
    assert _results(client, locality="north-herts") == []
    assert _results(client, near="SG2") == lead_first
    assert _results(client, q="visits in Stevenage") == lead_first

    world.person.postcode = "SG1 2AB"
    session.commit()
    sign_in(client, world.citizen)
    assert _results(client) == lead_first
    # An area chosen on the page is the one searched, wherever the person lives.
    assert _results(client, near="AL1") == cheapest_first

    world.person.postcode = "AL1 3JE"
    session.commit()
    assert _results(client) == cheapest_first

    # Someone signed in with no person of their own (an officer) has no area.
    officer = app.test_client()
    sign_in(officer, world.officer)
    assert _results(officer) == cheapest_first


def test_someone_acting_for_a_person_sees_the_leads_of_where_the_person_lives(
    app: Flask,
    client: FlaskClient,
    session: Session,
    world: World,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    make_user: Callable[..., User],
) -> None:
    make_listing(make_organisation("Bluebell Home Care"), name="Bluebell visits", price_pence=20_00)
    _name_lead(session, world, world.provider)
    search_index.sync(app)
    world.person.postcode = "SG1 2AB"
    broker = make_user(Role.BROKER)
    consent(world.person, broker=broker)
    sign_in(client, broker)
    assert _results(client) == [("Bluebell Home Care", False), ("Chiltern Home Care", False)]
    start_acting(client, world.person)
    assert _results(client) == [("Chiltern Home Care", True), ("Bluebell Home Care", False)]
