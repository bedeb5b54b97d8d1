"""Issue 18's pages the ongoing-care journey (test_ongoing_care_journey.py) does not reach, each
checked with axe and the page checks at phone width (320 px: where tables and long words
break a layout; the layouts are the same at desktop): changes to a package (the person's
change and decline pages, the provider's propose and decline pages), outcomes (the person's
'Pay for outcomes' page and its errors, their outcome order, the provider's week, the
council's safety checks), reablement (the person's episodes, the report, the council's order
page while it runs), Individual Service Funds (the person's list, request and statement, the
provider's list and fund, the council's list and fund), lead providers (the council's list,
naming one, the report; the search page's label), and the council's order page of a package.
The data is made through the rules, not by clicking through set-up.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.budgets import isf
from marketplace.budgets.models import FunderPot, PotPurpose
from marketplace.extensions import db
from marketplace.orders import life, outcomes, packages, reablement, variations
from marketplace.orders.models import (
    Order,
    ReablementOutcome,
    ScheduleKind,
    VariationKind,
    VariationParty,
)
from marketplace.orders.schedule import Schedule
from marketplace.people.models import Person, SupportPlan
from marketplace.people.plans import approved_plan
from marketplace.types import Session
from providers import lead_providers, listings, search_index
from providers.models import Locality, Organisation, PriceUnit, Service, ServiceStatus
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, sign_in, sign_out
from tests.browser.test_ongoing_care_journey import (
    DAY_CODE,
    HOURS,
    OFFICER_EMAIL,
    PERSON_EMAIL,
    PROVIDER,
    STAFF_EMAIL,
    dorothy,
    user,
)
from tests.citizens.helpers import TODAY
from tests.conftest import PASSWORD

__all__ = ["dorothy"]

WEEKLY_SERVICE = "Support for what matters to you"
WEEKLY_PENCE = 60_00


class Walk:
    """What the pages are about: ids made in the set-up."""

    def __init__(self) -> None:
        self.ids: dict[str, uuid.UUID | str] = {}


@pytest.fixture
def walk(live_server: LiveServer, dorothy: uuid.UUID) -> Walk:
    """Dorothy (the journey's set-up) with: a package whose provider proposes a new price; a
    reablement episode running, with her request to pause it; an outcome order not yet
    accepted and another accepted a week ago; a fund agreed and spent from, another asked
    for; the provider named lead for personal care in Stevenage."""
    found = Walk()
    with live_server.app.app_context():
        session = db.session
        citizen = user(PERSON_EMAIL)
        staff = user(STAFF_EMAIL)
        officer = user(OFFICER_EMAIL)
        person = citizen.person
        assert person is not None
        provider = session.query(Organisation).filter_by(name=PROVIDER).one()
        home_care = session.query(Service).filter_by(organisation_id=provider.id).one()
        weekly = listings.create_listing(
            provider,
            listings.ListingDetails(
                name=WEEKLY_SERVICE,
                description="An agreed weekly amount for the outcomes in your plan.",
                category_codes=["personal-care"],
                price_pence=WEEKLY_PENCE,
                price_unit=PriceUnit.PER_WEEK,
                area_codes=["stevenage"],
                delivery_modes=["at_home"],
            ),
        )
        weekly.status = ServiceStatus.PUBLISHED
        session.flush()

        package = packages.place_package(
            session,
            person,
            home_care,
            Schedule(ScheduleKind.RECURRING, TODAY, HOURS, None, (DAY_CODE,)),
            by=citizen,
            today=TODAY,
            placement_key="walk-package",
        )
        life.accept(session, package, by=staff)
        variations.propose(
            session,
            package,
            by=staff,
            party=VariationParty.PROVIDER,
            kind=VariationKind.PRICE,
            effective_from=TODAY + timedelta(days=14),
            unit_price_pence=28_00,
            reason="Our carers' pay rises.",
            today=TODAY,
        )

        pot = session.query(FunderPot).filter_by(purpose=PotPurpose.REABLEMENT).one()
        episode = reablement.start_episode(
            session,
            person=person,
            service=home_care,
            pot=pot,
            starts_on=TODAY,
            weeks=2,
            units_per_occasion=1,
            days=[DAY_CODE],
            by=officer,
            today=TODAY,
        )

        key = outcomes.plan_outcomes(_plan(session, person))[0].key
        unaccepted = outcomes.place_outcome_order(
            session,
            person,
            weekly,
            starts_on=TODAY + timedelta(days=7),
            weeks=4,
            outcome_keys=[key],
            by=citizen,
            today=TODAY,
            placement_key="walk-outcomes-new",
        )
        week_ago = TODAY - timedelta(days=7)
        running = outcomes.place_outcome_order(
            session,
            person,
            weekly,
            starts_on=week_ago,
            weeks=4,
            outcome_keys=[key],
            by=citizen,
            today=week_ago,
            placement_key="walk-outcomes",
        )
        assert running.status.value == "placed", running.status
        life.accept(session, running, by=staff)

        fund = isf.request_isf(
            session,
            person=person,
            organisation=provider,
            amount_pence=300_00,
            agreement="Trips out with a carer, chosen week by week.",
            by=citizen,
            today=TODAY,
        )
        isf.decide(session, fund, by=staff, agree=True)
        isf.record_spend(
            session,
            fund,
            spent_on=TODAY,
            amount_pence=45_00,
            description="Cinema trip with a carer",
            by=staff,
            key="walk-spend",
            today=TODAY,
        )
        asked = isf.request_isf(
            session,
            person=person,
            organisation=provider,
            amount_pence=100_00,
            agreement="A gardening morning each month.",
            by=citizen,
            today=TODAY,
        )

        records = outcomes.record_week(
            session,
            running,
            by=staff,
            week_starting=week_ago,
            results={key: outcomes.OutcomeResult(achieved=False, note="Stayed in bed, unwell")},
            safety_checks={},
            today=TODAY,
        )

        # Someone else's reablement, ended last week with no ongoing care needed (the report's
        # tables by provider and by month).
        arthur = accounts.create_user(
            email="arthur@example.org",
            full_name="Arthur Quinn",
            password=PASSWORD,
            role=Role.CITIZEN,
        )
        assert arthur.person is not None
        ended = reablement.start_episode(
            session,
            person=arthur.person,
            service=home_care,
            pot=pot,
            starts_on=TODAY - timedelta(days=14),
            weeks=1,
            units_per_occasion=1,
            days=[DAY_CODE],
            by=officer,
            today=TODAY - timedelta(days=14),
        )
        reablement.end_episode(
            session,
            ended,
            outcome=ReablementOutcome.NO_ONGOING_NEED,
            by=officer,
            note="Managing on her own again.",
            today=TODAY,
        )

        stevenage = session.query(Locality).filter_by(code="stevenage").one()
        lead_providers.name_lead(
            session,
            locality=stevenage,
            category_code="personal-care",
            organisation=provider,
            starts_on=TODAY,
            reason="Won the Stevenage home care contract.",
            by=officer,
            today=TODAY,
        )
        session.commit()
        found.ids = {
            "person": person.id,
            "package": package.id,
            "episode_order": episode.order_id,
            "weekly": weekly.id,
            "unaccepted": unaccepted.id,
            "running": running.id,
            "week": week_ago.isoformat(),
            "fund": fund.id,
            "asked": asked.id,
            "record": records[0].id,
            "arthur": arthur.person.id,
        }
        search_index.sync(live_server.app)
        db.session.remove()
    return found


def _plan(session: Session, person: Person) -> SupportPlan:
    plan = approved_plan(session, person)
    assert plan is not None
    return plan


def _pending_change(server: LiveServer, order_id: object) -> uuid.UUID:
    with server.app.app_context():
        order = db.session.get(Order, order_id)
        assert order is not None
        (waiting,) = variations.pending_of(order)
        found = waiting.id
        db.session.remove()
    return found


def check(page: Page, path: str, title_words: str | None = None) -> None:
    page.goto(path)
    if title_words:
        expect(heading(page)).to_contain_text(title_words)
    assert_accessible(page)


@pytest.mark.parametrize("viewport", ["phone"])
def test_ongoing_care_pages_are_accessible_on_a_phone(
    page: Page, live_server: LiveServer, walk: Walk
) -> None:
    ids = walk.ids
    page.goto("/sign-in")
    assert_accessible(page)

    # The person.
    sign_in(page, PERSON_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible(page)
    price_change = _pending_change(live_server, ids["package"])
    check(page, f"/my/orders/{ids['package']}")
    check(page, f"/my/orders/{ids['package']}/changes/{price_change}")
    check(page, f"/my/orders/{ids['package']}/changes/{price_change}/decline")
    page.get_by_role("button", name="Decline the change").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    check(page, f"/my/orders/{ids['package']}/changes/new/pause")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    check(page, f"/my/orders/{ids['episode_order']}")
    expect(page.locator("#reablement")).to_contain_text("Reablement: free to you until")
    check(page, f"/my/services/{ids['weekly']}/outcomes")
    page.get_by_role("button", name="Place the order").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    check(page, f"/my/orders/{ids['running']}")
    check(page, f"/my/orders/{ids['running']}/outcomes/{ids['record']}/query")
    page.get_by_role("button", name="Send the query").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    check(page, "/my/isf", "Individual Service Funds")
    check(page, "/my/isf/new")
    page.locator("main form button, main form input[type=submit]").last.click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    check(page, f"/my/isf/{ids['fund']}")
    check(page, "/search?q=home+care+stevenage")
    expect(page.get_by_role("main")).to_contain_text("Lead provider for")
    sign_out(page)

    # The provider.
    sign_in(page, STAFF_EMAIL, PASSWORD)
    assert_accessible(page)
    check(page, f"/provider/orders/{ids['package']}")
    check(page, f"/provider/orders/{ids['package']}/changes/{price_change}")
    check(page, f"/provider/orders/{ids['episode_order']}")
    check(page, f"/provider/orders/{ids['episode_order']}/changes/new/price")
    page.get_by_role("button", name="Send the proposal").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    with live_server.app.app_context():
        order = db.session.get(Order, ids["episode_order"])
        citizen = user(PERSON_EMAIL)
        assert order is not None
        variations.propose(
            db.session,
            order,
            by=citizen,
            party=VariationParty.PERSON,
            kind=VariationKind.PAUSE,
            effective_from=TODAY + timedelta(days=7),
            reason="A hospital stay.",
            today=TODAY,
        )
        db.session.commit()
        db.session.remove()
    pause = _pending_change(live_server, ids["episode_order"])
    check(page, f"/provider/orders/{ids['episode_order']}/changes/{pause}/decline")
    check(page, f"/provider/orders/{ids['running']}")
    check(page, f"/provider/orders/{ids['running']}/outcomes/{ids['week']}")
    check(page, "/provider/isf", "Individual Service Funds")
    check(page, f"/provider/isf/{ids['fund']}")
    page.get_by_role("button", name="Record the spending").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say what the money was spent on")
    assert_accessible(page)
    check(page, f"/provider/isf/{ids['asked']}")
    page.get_by_role("button", name="Send your answer").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select yes or no")
    assert_accessible(page)
    sign_out(page)

    # The council.
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    assert_accessible(page)
    check(page, f"/council/orders/{ids['package']}")
    check(page, f"/council/orders/{ids['episode_order']}")
    check(page, f"/council/people/{ids['person']}/reablement")
    check(page, "/council/reablement")
    expect(page.get_by_role("table", name="By provider")).to_be_visible()
    # Dorothy is in reablement already: the page says so; Arthur's offers the form.
    check(page, f"/council/people/{ids['person']}/reablement/new")
    expect(page.locator(".govuk-warning-text")).to_contain_text("already in reablement")
    check(page, f"/council/people/{ids['arthur']}/reablement/new")
    page.get_by_role("button", name="Start reablement").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    check(page, f"/council/orders/{ids['unaccepted']}/safety")
    check(page, "/council/isf", "Individual Service Funds")
    check(page, f"/council/isf/{ids['fund']}")
    page.get_by_role("button", name="End the fund and return what is left").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why the fund is ending")
    assert_accessible(page)
    check(page, "/council/lead-providers")
    check(page, "/council/lead-providers/new")
    page.locator("main form button, main form input[type=submit]").last.click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    check(page, "/council/lead-providers/report")
    sign_out(page)
