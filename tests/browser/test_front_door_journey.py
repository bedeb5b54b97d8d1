"""Issue 20's "Done when", in a real browser at phone width (320 px), axe on every page at 320
and at 1280 px: a citizen signed in to the marketplace completes a self-assessment by keyboard,
sees an indicative weekly range and services suggested in her area, chooses an assessment visit
time and then moves it; days pass and the assessor records the visit done; an officer finds the
referral in the work queues, turns it into her record, a draft plan and a budget (first with
streams that do not add up: the error summary), and the council's figures show the journey.
Every figure read on a page is checked against the database behind it, and the ledger verifies.

The data are made as a council would have them: the demo's two resource allocation versions
(`seed_ras`), a funded pot, three services in Stevenage (one free, one item of equipment, one
paid care service), an officer who is also an assessor with three free visit times from
tomorrow, and the citizen's account with no record yet."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.budgets.models import StreamKind
from marketplace.budgets.verify import check_budgets
from marketplace.demo.front_door_ras import seed_ras
from marketplace.extensions import db
from marketplace.formatting import LONDON, pounds
from marketplace.ledger.verify import verify_ledger
from marketplace.referrals import questions as q
from marketplace.referrals.models import (
    DiarySlot,
    Indication,
    Referral,
    ReferralStatus,
    Visit,
    VisitStatus,
)
from providers import listings
from providers.models import Organisation, OrganisationStatus, PriceUnit, ServiceStatus
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths, tab_to
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, navigation, sign_in, sign_out
from tests.browser.test_self_assessment_pages import _answer, _heading, _tab_to
from tests.citizens.helpers import YEAR, funded_pots
from tests.conftest import PASSWORD
from tests.referrals.factories import answers, make_assessor, make_slots

# Walked at phone width, as many people will; every page is also checked at 1280 px.
pytestmark = pytest.mark.parametrize("viewport", ["phone"])

CITIZEN_EMAIL = "winifred@example.org"
OFFICER_EMAIL = "assessor@council.example.org"
SERVICES = ("Stevenage Friends befriending", "Bathing aids delivered", "Bluebell morning care")
# Winifred answers for herself: help every time with washing and dressing, so triage says an
# assessor must visit and she can choose a time at once.
WINIFRED = answers(
    who="person",
    full_name="Winifred Shaw",
    postcode="SG1 1AA",
    contact={"email": CITIZEN_EMAIL, "phone": "01632 960 002"},
    hygiene="lot",
    clothing="lot",
    relationships="some",
    conditions=["physical"],
    urgency="soon",
)


def _world(live_server: LiveServer) -> dict[StreamKind, str]:
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        officer = accounts.create_user(
            email=OFFICER_EMAIL,
            full_name="Helen Brooks",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        accounts.create_user(
            email=CITIZEN_EMAIL, full_name="Winifred Shaw", password=PASSWORD, role=Role.CITIZEN
        )
        organisation = Organisation(
            name="Stevenage Care Network", status=OrganisationStatus.APPROVED
        )
        db.session.add(organisation)
        db.session.flush()
        for name, category, price, unit in (
            (SERVICES[0], "social-activities-and-befriending", 0, PriceUnit.FREE),
            (SERVICES[1], "bathing-aids", 4500, PriceUnit.PER_ITEM),
            (SERVICES[2], "personal-care", 2650, PriceUnit.PER_HOUR),
        ):
            service = listings.create_listing(
                organisation,
                listings.ListingDetails(
                    name=name,
                    description=f"{name} for people in Stevenage.",
                    category_codes=[category],
                    price_pence=price,
                    price_unit=unit,
                    area_codes=["stevenage"],
                    delivery_modes=["at_home"],
                ),
            )
            service.status = ServiceStatus.PUBLISHED
        seed_ras(db.session)
        pots = funded_pots()
        tomorrow = datetime.now(LONDON).date() + timedelta(days=1)
        first = datetime.combine(tomorrow, time(10), LONDON).astimezone(UTC)
        make_slots(db.session, make_assessor(db.session, officer), first, count=3)
        db.session.commit()
        return {kind: str(pot.id) for kind, pot in pots.items()}


def test_a_citizen_self_assesses_books_and_moves_a_visit_and_an_officer_makes_her_budget(
    page: Page, live_server: LiveServer
) -> None:
    pots = _world(live_server)

    # The citizen signs in and starts from the home page, by keyboard.
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, CITIZEN_EMAIL, PASSWORD)
    expect(heading(page)).to_be_visible()
    assert_accessible_at_both_widths(page)  # her home: no referrals yet
    page.goto("/")
    assert_accessible_at_both_widths(page)
    tab_to(page, "Get help with care and support")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Get help with care and support")
    assert_accessible_at_both_widths(page)
    tab_to(page, "Start now")
    page.keyboard.press("Enter")
    for question in q.questions_asked(WINIFRED):
        expect(heading(page)).to_contain_text(_heading(question, someone_else=False))
        assert_accessible_at_both_widths(page)
        _answer(page, question, WINIFRED[question.key], someone_else=False)
    expect(heading(page)).to_have_text("Check your answers before sending your self-assessment")
    assert_accessible_at_both_widths(page)
    _tab_to(page, "Accept and send")
    page.keyboard.press("Enter")

    # The indicative range and the services suggested, as the database holds them.
    expect(page.locator(".govuk-panel")).to_contain_text("Self-assessment sent")
    with live_server.app.app_context():
        referral = db.session.scalars(select(Referral)).one()
        indication = db.session.scalars(select(Indication)).one()
        reference, assessment_id = referral.reference, referral.assessment_id
        low, high = indication.low_weekly_pence, indication.high_weekly_pence
        assert referral.status is ReferralStatus.AWAITING_VISIT  # triage: help every time
        assert referral.assessment.user.email == CITIZEN_EMAIL
    assert 0 < low < high
    expect(page.locator("main")).to_contain_text(f"between {pounds(low)} and {pounds(high)} a week")
    for service in SERVICES:
        expect(page.get_by_role("link", name=re.compile(re.escape(service)))).to_be_visible()
    assert_accessible_at_both_widths(page)

    # Her referral's status, and choosing a visit time.
    page.goto(f"/self-assessment/{assessment_id}/status")
    expect(page.locator("main")).to_contain_text(reference)
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Choose a time for the assessment visit").click()
    expect(heading(page)).to_have_text("Your assessment visit")
    assert_accessible_at_both_widths(page)
    page.get_by_role("radio").first.check()
    page.get_by_role("button", name="Book this time").click()
    expect(page.locator("main")).to_contain_text("Helen Brooks")
    with live_server.app.app_context():
        booked = db.session.scalars(select(Visit).where(Visit.status == VisitStatus.BOOKED)).one()
        first_slot = booked.slot_id
    assert_accessible_at_both_widths(page)

    # The time does not suit after all: she moves it.
    page.get_by_role("link", name="Move the visit to another time").click()
    expect(heading(page)).to_have_text("Move the visit")
    assert_accessible_at_both_widths(page)
    page.get_by_role("radio").first.check()
    page.get_by_role("button", name="Move to this time").click()
    expect(heading(page)).to_have_text("Your assessment visit")
    with live_server.app.app_context():
        visits = {v.status: v for v in db.session.scalars(select(Visit))}
        assert set(visits) == {VisitStatus.MOVED, VisitStatus.BOOKED}
        assert visits[VisitStatus.MOVED].slot_id == first_slot
        assert visits[VisitStatus.MOVED].moved_to_id == visits[VisitStatus.BOOKED].id
        assert visits[VisitStatus.BOOKED].slot_id != first_slot
        visit_id = visits[VisitStatus.BOOKED].id
        when = visits[VisitStatus.BOOKED].slot.starts_at
    expect(page.locator("main")).to_contain_text(when.astimezone(LONDON).strftime("%-d %B %Y"))
    assert_accessible_at_both_widths(page)
    sign_out(page)

    # Days pass (the diary is moved three days back, as if they had): the visit has happened.
    with live_server.app.app_context():
        for slot in db.session.scalars(select(DiarySlot)):
            slot.starts_at -= timedelta(days=3)
            slot.ends_at -= timedelta(days=3)
        db.session.commit()

    # The assessor records the visit done; the referral waits in the work queues.
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    assert_accessible_at_both_widths(page)
    page.goto(f"/council/visits/{visit_id}/outcome")
    assert_accessible_at_both_widths(page)
    page.get_by_label("The visit was done").check()
    page.get_by_role("button", name="Record").click()
    expect(page.locator("main")).to_contain_text("Outcome recorded")
    assert_accessible_at_both_widths(page)
    navigation(page).get_by_role("link", name="Work queues").click()
    expect(page.locator("main")).to_contain_text("Referrals")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name=re.compile("Referrals")).first.click()
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name=re.compile(reference)).first.click()
    expect(page.locator("main")).to_contain_text("Assessed")
    assert_accessible_at_both_widths(page)

    # Converting: first streams that do not add up to the budget (the error summary).
    page.get_by_role("link", name=re.compile("Make a person.s record")).click()
    assert_accessible_at_both_widths(page)
    weekly = (low + high) // 2 // 100  # whole pounds inside the indicated range
    page.get_by_label("Weekly budget agreed, in pounds").fill(str(weekly))
    page.get_by_label("Council: weekly amount in pounds").fill(str(weekly - 20))
    page.get_by_label("Council: from which pot").select_option(pots[StreamKind.COUNCIL])
    page.get_by_label("The person's assessed contribution: weekly amount in pounds").fill("10")
    for field, (day, month, year) in (
        ("Start date", ("1", "4", str(YEAR))),
        ("End date", ("31", "3", str(YEAR + 1))),
    ):
        group = page.get_by_role("group", name=re.compile(field))
        group.get_by_label("Day").fill(day)
        group.get_by_label("Month").fill(month)
        group.get_by_label("Year").fill(year)
    page.get_by_label("The support plan's main category of support").select_option("personal-care")
    page.get_by_role("button", name="Make the person's record, draft plan and budget").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("must add up to the weekly budget")
    assert_accessible_at_both_widths(page)
    page.get_by_label("The person's assessed contribution: weekly amount in pounds").fill("20")
    page.get_by_role("button", name="Make the person's record, draft plan and budget").click()
    expect(page.locator("main")).to_contain_text("Support being arranged")
    assert_accessible_at_both_widths(page)

    with live_server.app.app_context():
        made = db.session.scalars(select(Referral)).one()
        assert made.status is ReferralStatus.CONVERTED
        assert made.person is not None
        assert made.person.full_name == "Winifred Shaw"
        assert made.support_plan is not None
        assert "washed" in made.support_plan.outcomes or "washing" in made.support_plan.outcomes
        streams = {stream.kind: stream for stream in made.budget.streams}
        days = (made.budget.ends_on - made.budget.starts_on).days + 1
        assert streams[StreamKind.COUNCIL].amount_pence == (weekly - 20) * 100 * days // 7
        assert streams[StreamKind.CLIENT_CONTRIBUTION].amount_pence == 20 * 100 * days // 7
        assert str(streams[StreamKind.COUNCIL].pot_id) == pots[StreamKind.COUNCIL]
        assert verify_ledger(db.session).ok
        problems, _checked = check_budgets(db.session)
        assert problems == []

    # The council's figures show the journey, for the week just gone.
    today = datetime.now(LONDON).date()
    since = today - timedelta(days=7)
    page.goto(f"/council/figures?since={since.isoformat()}&until={today.isoformat()}")
    front_door = page.locator("main")
    expect(front_door).to_contain_text("1 started: 1 sent, 0 abandoned")
    expect(front_door).to_contain_text("1 budget agreed")
    expect(front_door).to_contain_text(re.compile(r"Moved:\s*1 of 2"))
    assert_accessible_at_both_widths(page)
