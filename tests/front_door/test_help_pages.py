"""The help pages (issue 20, HELP): the public page on paying for one's own care, and the
`help_now_panel` macro the result page shows (rendered here on its own, so these tests do not
wait for the result page)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from marketplace.extensions import db
from marketplace.referrals import help_now
from providers.models import Organisation, OrganisationKind, OrganisationStatus, PriceUnit
from tests.referrals.factories import answers
from tests.referrals.test_help_now import NO_NEEDS, TODAY, listing

PANEL = (
    '{% from "front_door/_help_now.html" import help_now_panel %}'
    "{{ help_now_panel(help, someone_else) }}"
)


def render_panel(app: Flask, **changes: Any) -> str:
    someone_else = changes.pop("someone_else", False)
    found = help_now.help_for(db.session, answers(**changes), today=TODAY)
    with app.test_request_context("/"):
        return render_template_string(PANEL, help=found, someone_else=someone_else)


def text_of(html: str) -> str:
    """The words a reader gets: inline tags dropped, block tags as spaces."""
    inline_dropped = re.sub(r"</?(a|strong|span)\b[^>]*>", "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", inline_dropped).split())


def item_with(html: str, link: str) -> str:
    """The text of the list item holding `link`."""
    (item,) = [item for item in html.split("<li>") if link in item]
    return text_of(item.split("</li>")[0])


def headings(html: str) -> list[str]:
    return [text_of(h) for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", html, re.S)]


@pytest.fixture
def org(reference_data: None, make_organisation: Callable[..., Organisation]) -> Organisation:
    return make_organisation("Stevenage Helpers")


def brokerage(
    make_organisation: Callable[..., Organisation],
    name: str,
    status: OrganisationStatus = OrganisationStatus.APPROVED,
) -> Organisation:
    made = make_organisation(name, status)
    made.kind = OrganisationKind.BROKERAGE
    made.phone = "01438 000000"
    db.session.commit()
    return made


def test_the_panel_lists_prevention_first_each_service_linked_with_its_price(
    app: Flask, org: Organisation
) -> None:
    calls = listing(org, "Friendly calls", "social-activities-and-befriending")
    rails = listing(org, "Grab rails", "bathing-aids", price_pence=4050, unit=PriceUnit.PER_ITEM)
    care = listing(org, "Morning care", "personal-care", price_pence=2600, unit=PriceUnit.PER_HOUR)

    html = render_panel(app)

    assert headings(html) == [
        "Help you can get now",
        "Free services in the community",
        "Equipment and changes to the home",
        "Free short-term help to get back on your feet (reablement)",
        "Services you can pay for",
    ]
    for service, price in ((calls, "Free"), (rails, "£40.50 per item"), (care, "£26 per hour")):
        link = f'href="/services/{service.id}">{service.name}</a>'
        assert item_with(html, link).startswith(f"{service.name} Stevenage Helpers. {price}.")
    assert "it lasts up to 6 weeks" in html
    assert "If you pay for your own care" not in html


def test_the_panel_says_they_for_someone_else(
    app: Flask, org: Organisation, make_organisation: Callable[..., Organisation]
) -> None:
    listing(org, "Friendly calls", "social-activities-and-befriending")
    brokerage(make_organisation, "Herts Care Finders")

    html = text_of(
        render_panel(app, someone_else=True, urgency="leaving_hospital", savings="prefer_not")
    )

    assert "Help they can get now" in html
    assert "They may be able to get free short-term help at home straight away" in html
    assert "back on their feet" in html
    assert "Brokers approved by the council near them: Herts Care Finders" in html
    assert "Paying for their own care" in html
    assert re.search(r"\byour?\b", html, re.IGNORECASE) is None


def test_the_panel_puts_urgent_reablement_first(app: Flask, org: Organisation) -> None:
    html = text_of(render_panel(app, urgency="leaving_hospital"))

    first = html.index("free short-term help at home straight away")
    assert first < html.index("Free services in the community")
    assert "Call Hertfordshire County Council on 0300 123 4042 today" in html


def test_nothing_in_the_area_says_so_and_gives_the_advice_line(
    app: Flask, org: Organisation
) -> None:
    listing(org, "Watford calls", "social-activities-and-befriending", areas=("watford-town",))

    html = text_of(render_panel(app))

    assert "We did not find any in Stevenage. These are the nearest we found: Watford calls" in html
    assert (
        "We did not find equipment for this yet. Call Hertfordshire County Council on "
        "0300 123 4042 to ask what is available nearby." in html
    )
    assert "0300 123 4042" in html


def test_no_needs_is_no_dead_end(app: Flask, org: Organisation) -> None:
    html = text_of(render_panel(app, **NO_NEEDS))

    assert "you do not need extra help at the moment" in html
    assert "call Hertfordshire County Council on 0300 123 4042" in html


def test_a_self_funder_is_shown_how_to_buy_and_the_areas_brokers(
    app: Flask, org: Organisation, make_organisation: Callable[..., Organisation]
) -> None:
    found_broker = brokerage(make_organisation, "Herts Care Finders")
    brokerage(make_organisation, "Suspended Finders", OrganisationStatus.SUSPENDED)

    html = render_panel(app, savings="over_upper")

    assert "If you pay for your own care" in text_of(html)
    assert "create an account and pay by card" in text_of(html)
    assert f'href="/providers/{found_broker.id}">Herts Care Finders</a>, 01438 000000' in html
    assert "Suspended Finders" not in html
    assert 'href="/self-assessment/paying-for-care"' in html
    assert "If you have more than £23,250" in render_panel(app, savings="prefer_not")


def test_the_paying_for_care_page(
    client: FlaskClient, make_organisation: Callable[..., Organisation]
) -> None:
    brokerage(make_organisation, "Herts Care Finders")
    brokerage(make_organisation, "Pending Finders", OrganisationStatus.PENDING)
    make_organisation("A care provider, not a broker")

    response = client.get("/self-assessment/paying-for-care")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(html)
    assert '<h1 class="govuk-heading-l">Paying for your own care</h1>' in html
    assert "more than £23,250: you will usually pay for all your own care" in page
    assert "less than £14,250" in page
    assert "Herts Care Finders, 01438 000000" in page
    assert "Pending Finders" not in page
    assert "A care provider, not a broker" not in page
    assert 'href="/search"' in html
    assert 'href="/sign-up"' in html
    assert "0300 123 4042" in page


def test_the_paying_for_care_page_with_no_brokers(client: FlaskClient) -> None:
    page = text_of(client.get("/self-assessment/paying-for-care").get_data(as_text=True))

    assert "There are no approved brokers listed yet" in page
