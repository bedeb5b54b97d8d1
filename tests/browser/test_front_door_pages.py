"""The front door's pages (issue 20) that the journeys do not walk, in a real browser, axe on
every page at 1280 and 320 px; each form sent once with bad input (the error summary shows, and
its first link puts the focus on the field), then properly, with what changed read back from
the database.

Two people, each in a browser of their own:
- the person, with no account: their self-assessment is held by the browser that followed its
  emailed "come back later" link. They save it again for later (a new link replaces the old),
  find the old link refused, and the new one refused once the assessment is sent; later they
  accept a visit offered to them from their status page, cancel it, and read about paying for
  their own care;
- a council officer (who is also an assessor): the resource allocation system's versions and
  a new one (tried without saving first), the assessors, a new assessor and her first slots,
  an absence (the visit in it re-booked with the new assessor at the same time), a referral's
  first contact and resolution, another's visit needed, booked, moved and cancelled (its time
  offered to the person), assessed and closed.

The data are made with the rules and tests/referrals/factories.py: a resource allocation
version, the officer's diary with four free times from tomorrow, two referrals with light needs
(triage leaves them "received"), one with help needed every time (triage sends it to wait for
a visit) booked on the day the officer will be away, and the person's assessment with every
answer but the last, and its emailed link."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.referrals import assessments, queue, visits
from marketplace.referrals.models import (
    Assessor,
    DiarySlot,
    RasVersion,
    Referral,
    ReferralStatus,
    SelfAssessment,
    Visit,
    VisitStatus,
)
from marketplace.types import utcnow
from tests.browser.accessibility import add_axe, assert_accessible, watch
from tests.browser.accessibility import assert_accessible_at_both_widths as check
from tests.browser.conftest import _FAILED, TIMEOUT_MS, VIEWPORTS, LiveServer
from tests.browser.test_account_journeys import heading, sign_in
from tests.conftest import PASSWORD
from tests.referrals.factories import (
    answers,
    make_assessment,
    make_assessor,
    make_ras_version,
    make_referral,
    make_slots,
)

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

OFFICER_EMAIL = "helen@council.example.org"
NEW_ASSESSOR = "Priya Shah"
PERSON_EMAIL = "winifred@example.org"
NEW_EMAIL = "winifred.shaw@example.org"
RESUME_SUBJECT = "Your self-assessment: carry on where you left off"
LIGHT = {"hygiene": "some", "clothing": "some", "community": "some"}  # no visit from triage


@dataclass
class World:
    helen: uuid.UUID  # the officer's assessor id
    contacted: uuid.UUID  # received: first contact, then resolved
    light: uuid.UUID  # received: a visit needed, booked, moved, cancelled, assessed, closed
    away: uuid.UUID  # waiting for a visit, booked with Helen on the day she will be away
    assessment: uuid.UUID  # the person's, in progress
    away_day: date
    resume_path: str


def _world(live_server: LiveServer) -> World:
    with live_server.app.app_context():
        helen = accounts.create_user(
            email=OFFICER_EMAIL,
            full_name="Helen Brooks",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        accounts.create_user(
            email="priya@council.example.org",
            full_name=NEW_ASSESSOR,
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        version = make_ras_version(db.session)
        now = utcnow()
        tomorrow = datetime.now(LONDON).date() + timedelta(days=1)
        first = datetime.combine(tomorrow, time(10), LONDON).astimezone(UTC)
        assessor = make_assessor(db.session, helen)
        slots = make_slots(db.session, assessor, first, count=4)
        made = {}
        for name, given in (
            ("contacted", answers(full_name="Colin Baker", **LIGHT)),
            ("light", answers(full_name="Lena Marsh", **LIGHT)),
            ("away", answers(full_name="Arthur Dent")),  # a lot of help: a visit at once
        ):
            referral = make_referral(db.session, version, given, sent_at=now)
            queue.triage(db.session, referral, now=now)
            made[name] = referral
        assert made["light"].status is ReferralStatus.RECEIVED
        assert made["away"].status is ReferralStatus.AWAITING_VISIT
        visits.book(db.session, made["away"], slots[1], by=helen, now=now)
        person = make_assessment(
            db.session,
            version,
            answers(
                full_name="Winifred Shaw",
                contact={"email": PERSON_EMAIL, "phone": ""},
                urgency="urgent",
                income=None,
            ),
            started_at=now,
            last_question="savings",
        )
        assessments.send_resume_link(
            db.session,
            person,
            email=PERSON_EMAIL,
            now=now,
            link_path=lambda token: f"/self-assessment/resume/{token}",
        )
        db.session.commit()
        world = World(
            helen=assessor.id,
            contacted=made["contacted"].id,
            light=made["light"].id,
            away=made["away"].id,
            assessment=person.id,
            away_day=tomorrow + timedelta(days=1),
            resume_path="",
        )
    world.resume_path = _path(live_server.link_in_email(PERSON_EMAIL, RESUME_SUBJECT))
    return world


def _path(link: str) -> str:
    return urlsplit(link).path


def _refused(page: Page, messages: tuple[str, ...], field: Locator) -> None:
    """The error summary names each problem, the page passes its checks, and the summary's
    first link puts the focus on `field`."""
    summary = page.locator(".govuk-error-summary")
    for message in messages:
        expect(summary).to_contain_text(message)
    check(page)
    summary.get_by_role("link").first.click()
    expect(field).to_be_focused()


def _fill_date(page: Page, group: str, day: date) -> None:
    fields = page.get_by_role("group", name=group)
    fields.get_by_label("Day").fill(str(day.day))
    fields.get_by_label("Month").fill(str(day.month))
    fields.get_by_label("Year").fill(str(day.year))


def _status(live_server: LiveServer, referral_id: uuid.UUID) -> ReferralStatus:
    with live_server.app.app_context():
        found = db.session.get(Referral, referral_id)
        assert found is not None
        return found.status


def _live_visit(
    live_server: LiveServer, referral_id: uuid.UUID
) -> tuple[uuid.UUID, VisitStatus] | None:
    with live_server.app.app_context():
        found = db.session.get(Referral, referral_id)
        assert found is not None
        live = visits.live_visit(db.session, found)
        return (live.id, live.status) if live else None


@pytest.fixture
def person_page(
    browser: Browser,
    live_server: LiveServer,
    viewport: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> Iterator[Page]:
    """The person's own browser (a second context, no account), watched as `page` is."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=VIEWPORTS[viewport],
        locale="en-GB",
        timezone_id="Europe/London",
    )
    context.set_default_timeout(TIMEOUT_MS)
    add_axe(context)
    page = context.new_page()
    page_watch = watch(page)
    yield page
    try:
        if request.node.stash.get(_FAILED, False):
            with contextlib.suppress(PlaywrightError):
                page.screenshot(path=tmp_path / "person-failure.png", full_page=True)
            return
        problems = page_watch.problems()
        assert not problems, "The person's browser reported problems:\n  " + "\n  ".join(problems)
        unchecked = page_watch.unchecked()
        assert not unchecked, f"Person's pages never checked with assert_accessible: {unchecked}"
    finally:
        with contextlib.suppress(PlaywrightError):
            context.close()


def test_every_other_front_door_page_and_form(
    page: Page, person_page: Page, live_server: LiveServer
) -> None:
    world = _world(live_server)
    _person_saves_for_later(person_page, live_server, world)
    with live_server.app.app_context():
        person = db.session.get(SelfAssessment, world.assessment)
        assert person is not None
        assessments.save_answer(
            db.session,
            person,
            "income",
            "200_400",
            revision_seen=person.revision,
            now=utcnow(),
            by=None,
        )
        sent = assessments.submit(db.session, person, revision_seen=person.revision, now=utcnow())
        assert sent.status is ReferralStatus.AWAITING_VISIT  # urgent, and a lot of help
        db.session.commit()
        referral_id = sent.id
    _person_links_after_sending(person_page, live_server, world)

    page.goto("/sign-in")
    assert_accessible(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    assert_accessible(page)
    _ras_versions(page, live_server)
    _assessors_and_diaries(page, live_server, world)
    _first_contact_and_resolve(page, live_server, world)
    _visit_needed_booked_moved_cancelled(page, live_server, world, referral_id)
    _assessed_and_closed(page, live_server, world)

    _person_accepts_and_cancels(person_page, live_server, world, referral_id)


# The person -----------------------------------------------------------------------------


def _person_saves_for_later(page: Page, live_server: LiveServer, world: World) -> None:
    # The emailed link opens the assessment at the question not yet answered.
    page.goto(world.resume_path)
    expect(page).to_have_url(re.compile(f"/self-assessment/{world.assessment}/"))
    check(page)
    page.get_by_role("button", name="Save and come back later").click()
    expect(heading(page)).to_have_text("Save your answers and come back later")
    check(page)
    email = page.get_by_label("Email address")
    email.fill("winifred at example")
    page.get_by_role("button", name=re.compile("^Send")).click()
    _refused(page, ("Enter an email address in the correct format",), email)
    email.fill(NEW_EMAIL)
    page.get_by_role("button", name=re.compile("^Send")).click()
    expect(heading(page)).to_have_text("Your answers are saved")
    expect(page.locator("main")).to_contain_text(NEW_EMAIL)
    check(page)
    with live_server.app.app_context():
        saved = db.session.get(SelfAssessment, world.assessment)
        assert saved is not None
        assert saved.resume_email == NEW_EMAIL
    new_path = _path(live_server.link_in_email(NEW_EMAIL, RESUME_SUBJECT))
    assert new_path != world.resume_path

    # A new link replaces the old: the old one is refused.
    page.goto(world.resume_path)
    expect(heading(page)).to_have_text("This link does not work")
    check(page)
    world.resume_path = new_path


def _person_links_after_sending(page: Page, live_server: LiveServer, world: World) -> None:
    page.goto(world.resume_path)
    expect(heading(page)).to_have_text("This self-assessment has been sent")
    check(page)
    page.goto(f"/self-assessment/{world.assessment}/status")
    expect(heading(page)).to_have_text("Waiting for an assessment visit")
    expect(page.get_by_role("link", name="Choose a time for the assessment visit")).to_be_visible()
    check(page)


def _person_accepts_and_cancels(
    page: Page, live_server: LiveServer, world: World, referral_id: uuid.UUID
) -> None:
    # The time the council freed was offered to her: her status page says so.
    page.goto(f"/self-assessment/{world.assessment}/status")
    expect(page.locator("main")).to_contain_text("The council has offered a time")
    check(page)
    page.get_by_role("link", name="See and accept the visit offered").click()
    expect(page.locator("main")).to_contain_text("A visit has become free sooner")
    check(page)
    page.get_by_role("button", name="Accept this time").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your visit is booked for")
    check(page)
    live = _live_visit(live_server, referral_id)
    assert live is not None
    assert live[1] is VisitStatus.BOOKED
    assert _status(live_server, referral_id) is ReferralStatus.VISIT_BOOKED
    page.get_by_role("link", name="Back to the referral").click()
    expect(heading(page)).to_have_text("Assessment visit booked")
    check(page)

    page.get_by_role("link", name="See, move or cancel the assessment visit").click()
    assert_accessible(page)
    page.get_by_role("link", name="Cancel the visit").click()
    expect(heading(page)).to_contain_text("Cancel the visit on")
    check(page)
    page.get_by_role("button", name="Cancel the visit").click()
    reason = page.get_by_role("textbox")
    _refused(page, ("Enter why you want to cancel the visit",), reason)
    reason.fill("My daughter cannot be there that day")
    page.get_by_role("button", name="Cancel the visit").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your visit is cancelled")
    check(page)
    with live_server.app.app_context():
        visit = db.session.get(Visit, live[0])
        assert visit is not None
        assert visit.status is VisitStatus.CANCELLED
        assert visit.ended_by == "person"
        assert visit.reason == "My daughter cannot be there that day"
    assert _status(live_server, referral_id) is ReferralStatus.AWAITING_VISIT
    assert _live_visit(live_server, referral_id) is None

    page.goto("/self-assessment/paying-for-care")
    expect(heading(page)).to_have_text("Paying for your own care")
    check(page)


# The officer ----------------------------------------------------------------------------


def _ras_versions(page: Page, live_server: LiveServer) -> None:
    page.goto("/council/ras")
    check(page)
    page.get_by_role("link", name="Version 1").click()
    expect(heading(page)).to_contain_text("Version 1")
    check(page)
    page.get_by_role("link", name="All versions").click()
    assert_accessible(page)  # the list again, checked above
    page.get_by_role("button", name="Make a new version").click()
    expect(heading(page)).to_have_text("Make a new version")
    check(page)
    price = page.get_by_label("Price per point each week, in pounds")
    price.fill("ten")
    page.get_by_role("button", name="Save as the next version").click()
    _refused(page, ("Price per point",), price)
    price.fill("11")
    page.get_by_role("button", name="Try it without saving").click()
    expect(page.get_by_role("table", name="Example people")).to_be_visible()
    check(page)
    page.get_by_label("Why are you making this version?").fill("The price goes up in April")
    page.get_by_role("button", name="Save as the next version").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Version 2 saved")
    check(page)
    with live_server.app.app_context():
        newest = db.session.scalars(select(RasVersion).order_by(RasVersion.number.desc())).first()
        assert newest is not None
        assert newest.number == 2
        assert newest.config["price_per_point_pence"] == 1100
        assert newest.note == "The price goes up in April"


def _assessors_and_diaries(page: Page, live_server: LiveServer, world: World) -> None:
    page.goto("/council/assessors")
    check(page)
    page.get_by_role("link", name="Add an assessor").click()
    expect(heading(page)).to_have_text("Add an assessor")
    check(page)
    page.get_by_role("button", name="Save assessor").click()
    officer = page.get_by_label("Which officer?")
    _refused(page, ("Select the officer",), officer)
    officer.select_option(label=NEW_ASSESSOR)
    page.get_by_label("Which postcode districts do they cover?").fill("SG1, SG2")
    page.get_by_role("button", name="Save assessor").click()
    expect(heading(page)).to_contain_text(NEW_ASSESSOR)
    check(page)
    with live_server.app.app_context():
        priya = db.session.scalars(select(Assessor).where(Assessor.id != world.helen)).one()
        assert priya.user.full_name == NEW_ASSESSOR
        assert priya.districts == ["SG1", "SG2"]

    # Her first slots: on the day Helen will be away, at the time of Helen's visit, and later.
    page.get_by_role("link", name="Add a day\u2019s slots").click()
    check(page)
    page.get_by_role("button", name="Add slots").click()
    day = page.get_by_role("group", name="Day").get_by_label("Day")
    _refused(page, ("Enter the day", "Enter at least one start time"), day)
    _fill_date(page, "Day", world.away_day)
    page.get_by_label("Start times").fill("10:00, 14:00")
    page.get_by_role("button", name="Add slots").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("2 slots added")
    check(page)
    with live_server.app.app_context():
        slots = db.session.scalars(
            select(DiarySlot).where(DiarySlot.assessor_id == priya.id).order_by(DiarySlot.starts_at)
        ).all()
        assert [slot.starts_at.astimezone(LONDON).strftime("%H:%M") for slot in slots] == [
            "10:00",
            "14:00",
        ]
        assert {slot.starts_at.astimezone(LONDON).date() for slot in slots} == {world.away_day}

    # Helen is away that day: her visit goes to Priya at the same time.
    page.goto(f"/council/assessors/{world.helen}")
    check(page)
    page.get_by_role("link", name="Record an absence").click()
    check(page)
    page.get_by_role("button", name="Record absence and re-book visits").click()
    first_day = page.get_by_role("group", name="First day away").get_by_label("Day")
    _refused(page, ("Enter the first day away", "Enter the last day away"), first_day)
    _fill_date(page, "First day away", world.away_day)
    _fill_date(page, "Last day away", world.away_day)
    page.get_by_label("Reason (optional)").fill("Annual leave")
    page.get_by_role("button", name="Record absence and re-book visits").click()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("1 visits were in it")
    expect(banner).to_contain_text(f"re-booked for {world.away_day:%-d %B %Y}")
    expect(banner).to_contain_text(f"with {NEW_ASSESSOR}")
    check(page)
    live = _live_visit(live_server, world.away)
    assert live is not None
    assert live[1] is VisitStatus.BOOKED
    with live_server.app.app_context():
        moved = db.session.get(Visit, live[0])
        assert moved is not None
        assert moved.slot.assessor_id == priya.id
        assert moved.slot.starts_at == slots[0].starts_at


def _action(page: Page, referral_id: uuid.UUID, action: str, title: str) -> None:
    page.goto(f"/council/referrals/{referral_id}/{action}")
    expect(heading(page)).to_contain_text(title)
    check(page)


def _done(page: Page, title: str) -> None:
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"{title}: done for")
    check(page)


def _first_contact_and_resolve(page: Page, live_server: LiveServer, world: World) -> None:
    _action(page, world.contacted, "contact", "Record first contact")
    page.get_by_role("button", name="Record first contact").click()
    _refused(page, ("Select how you contacted the person",), page.get_by_label("Phone"))
    page.get_by_label("Phone").check()
    page.get_by_role("button", name="Record first contact").click()
    _done(page, "Record first contact")
    assert _status(live_server, world.contacted) is ReferralStatus.IN_CONTACT

    _action(page, world.contacted, "resolve", "Resolve at first contact")
    page.get_by_role("button", name="Resolve the referral").click()
    _refused(
        page,
        ("Select how the referral was resolved", "Enter what the person was given or told"),
        page.get_by_label("Advice and information"),
    )
    page.get_by_label("Equipment").check()
    page.get_by_label("What was the person given or told?").fill("A bath seat, delivered Monday")
    page.get_by_role("button", name="Resolve the referral").click()
    _done(page, "Resolve at first contact")
    assert _status(live_server, world.contacted) is ReferralStatus.RESOLVED


def _visit_needed_booked_moved_cancelled(
    page: Page, live_server: LiveServer, world: World, person_referral: uuid.UUID
) -> None:
    _action(page, world.light, "visit-needed", "An assessment visit is needed")
    note = page.get_by_label("Note for the assessor (optional)")
    note.fill("x" * (queue.NOTE_MAX + 1))
    page.get_by_role("button", name="An assessment visit is needed").click()
    _refused(page, ("2000 characters or fewer",), note)
    note.fill("Stairs are getting hard")
    page.get_by_role("button", name="An assessment visit is needed").click()
    _done(page, "An assessment visit is needed")
    assert _status(live_server, world.light) is ReferralStatus.AWAITING_VISIT

    # Booking a time.
    page.goto(f"/council/referrals/{world.light}/visit")
    check(page)
    page.get_by_role("button", name="Book this time").click()
    _refused(page, ("Choose a time",), page.get_by_role("radio").first)
    page.get_by_role("radio").first.check()
    page.get_by_role("button", name="Book this time").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Visit booked for")
    check(page)
    booked = _live_visit(live_server, world.light)
    assert booked is not None
    assert booked[1] is VisitStatus.BOOKED
    assert _status(live_server, world.light) is ReferralStatus.VISIT_BOOKED

    # Moving it.
    page.get_by_role("link", name="Move the visit").click()
    check(page)
    page.get_by_role("button", name="Move to this time").click()
    _refused(page, ("Choose a time",), page.get_by_role("radio").first)
    page.get_by_role("radio").first.check()
    page.get_by_role("button", name="Move to this time").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Visit moved to")
    check(page)
    moved = _live_visit(live_server, world.light)
    assert moved is not None
    assert moved[0] != booked[0]
    # The old time is offered to the person, the next waiting who fits.
    offer = _live_visit(live_server, person_referral)
    assert offer is not None
    assert offer[1] is VisitStatus.OFFERED
    with live_server.app.app_context():
        old, offered = db.session.get(Visit, booked[0]), db.session.get(Visit, offer[0])
        assert old is not None
        assert offered is not None
        assert old.status is VisitStatus.MOVED
        assert old.moved_to_id == moved[0]
        assert offered.slot_id == old.slot_id

    # Cancelling it: the person already has an offer, so the time is not offered to her.
    page.get_by_role("link", name="Cancel the visit").click()
    check(page)
    page.get_by_role("button", name="Cancel the visit").click()
    reason = page.get_by_label("Why is the visit cancelled?")
    _refused(page, ("Enter why the visit is cancelled",), reason)
    reason.fill("Mrs Marsh is in hospital this week")
    page.get_by_role("button", name="Cancel the visit").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Visit cancelled")
    check(page)
    assert _live_visit(live_server, world.light) is None
    assert _status(live_server, world.light) is ReferralStatus.AWAITING_VISIT
    assert _live_visit(live_server, person_referral) == offer
    with live_server.app.app_context():
        cancelled = db.session.get(Visit, moved[0])
        assert cancelled is not None
        assert cancelled.status is VisitStatus.CANCELLED
        assert cancelled.reason == "Mrs Marsh is in hospital this week"


def _assessed_and_closed(page: Page, live_server: LiveServer, world: World) -> None:
    _action(page, world.light, "assessed", "Record that the needs are assessed")
    note = page.get_by_label("What the assessment found (optional)")
    note.fill("y" * (queue.NOTE_MAX + 1))
    page.get_by_role("button", name="Record that the needs are assessed").click()
    _refused(page, ("2000 characters or fewer",), note)
    note.fill("Assessed by phone while she is in hospital")
    page.get_by_role("button", name="Record that the needs are assessed").click()
    _done(page, "Record that the needs are assessed")
    assert _status(live_server, world.light) is ReferralStatus.ASSESSED

    _action(page, world.light, "close", "Close the referral")
    page.get_by_role("button", name="Close the referral").click()
    first_reason = page.get_by_label("The person no longer wants help from the council")
    _refused(page, ("Select why the referral is being closed",), first_reason)
    page.get_by_label("The person has moved away from the county").check()
    page.get_by_role("button", name="Close the referral").click()
    _done(page, "Close the referral")
    assert _status(live_server, world.light) is ReferralStatus.CLOSED
