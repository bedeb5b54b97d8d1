"""The council's diary pages (VISITS, issue 20): assessors listed and added, a diary with slots
added and an absence recorded (what was re-booked shown), booking a visit for a referral (a
chosen time, the earliest automatically, a time taken meanwhile), a visit moved, cancelled
and its outcome; only officers who manage diaries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.referrals import visits
from marketplace.referrals.models import (
    Assessor,
    AssessorAbsence,
    DiarySlot,
    ReferralStatus,
    Visit,
    VisitStatus,
)
from marketplace.types import utcnow
from tests.conftest import sign_in
from tests.referrals.factories import make_slots
from tests.referrals.visit_world import World, make_world
from tests.referrals.visit_world import waiting_referral as waiting


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


@pytest.fixture
def council(client: FlaskClient, world: World) -> FlaskClient:
    sign_in(client, world.officer)
    return client


def _soon(days: int = 2) -> object:
    moment = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=days)
    return moment.replace(hour=10)


def test_non_officers_are_refused_and_strangers_sent_to_sign_in(
    app: Flask, world: World, make_user: Callable[..., User]
) -> None:
    referral = waiting(world)
    stranger = app.test_client()
    assert stranger.get("/council/assessors").status_code == 302
    citizen = app.test_client()
    sign_in(citizen, make_user(Role.CITIZEN))
    for path in ("/council/assessors", f"/council/referrals/{referral.id}/visit"):
        assert citizen.get(path).status_code == 403
    assert citizen.post(f"/council/referrals/{referral.id}/visit", data={}).status_code == 403


def test_an_officer_adds_an_assessor_and_bad_districts_are_shown_as_errors(
    council: FlaskClient, make_user: Callable[..., User]
) -> None:
    kim = make_user(Role.COUNCIL_OFFICER)
    assert kim.full_name in council.get("/council/assessors/new").get_data(as_text=True)
    bad = council.post("/council/assessors/new", data={"user": str(kim.id), "districts": "SG1 1AA"})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "govuk-error-summary" in page
    assert "Enter postcode districts like SG1" in page
    assert db.session.query(Assessor).filter_by(user_id=kim.id).first() is None
    added = council.post(
        "/council/assessors/new",
        data={"user": str(kim.id), "skills": ["sensory"], "districts": "sg1, sg2"},
    )
    assert added.status_code == 302
    db.session.expire_all()
    made = db.session.query(Assessor).filter_by(user_id=kim.id).one()
    assert (made.skills, made.districts) == (["sensory"], ["SG1", "SG2"])
    assert kim.full_name in council.get("/council/assessors").get_data(as_text=True)


def test_slots_added_appear_in_the_diary_and_overlaps_are_refused(
    council: FlaskClient, world: World
) -> None:
    day = london_today() + timedelta(days=3)
    date_fields = {"day": [str(day.day), str(day.month), str(day.year)]}
    path = f"/council/assessors/{world.anywhere.id}/slots"
    added = council.post(path, data={**date_fields, "times": "9:30, 13:00", "minutes": "90"})
    assert added.status_code == 302
    diary_page = council.get(f"/council/assessors/{world.anywhere.id}").get_data(as_text=True)
    assert day.strftime("%A %-d %B %Y") in diary_page
    assert "9:30am to 11:00am" in diary_page
    clash = council.post(path, data={**date_fields, "times": "10:00", "minutes": "60"})
    assert clash.status_code == 400
    assert "overlap" in clash.get_data(as_text=True)


def test_booking_a_chosen_time_or_the_earliest_and_a_time_taken_meanwhile(
    council: FlaskClient, world: World
) -> None:
    slots = make_slots(db.session, world.anywhere, _soon(), count=2)
    first, second, third = (waiting(world, email=f"p{n}@example.org") for n in range(3))
    db.session.commit()
    page = council.get(f"/council/referrals/{first.id}/visit").get_data(as_text=True)
    assert "Ash Anywhere" in page
    booked = council.post(f"/council/referrals/{first.id}/visit", data={"slot": str(slots[1].id)})
    assert booked.status_code == 302
    db.session.expire_all()
    assert first.status is ReferralStatus.VISIT_BOOKED
    # The page for the second was drawn when slots[1] was free; it was taken meanwhile.
    taken = council.post(f"/council/referrals/{second.id}/visit", data={"slot": str(slots[1].id)})
    assert taken.status_code == 409
    assert "just been booked for someone else" in taken.get_data(as_text=True)
    automatic = council.post(
        f"/council/referrals/{third.id}/visit", data={"automatic": "Book the earliest"}
    )
    assert automatic.status_code == 302
    visit = visits.live_visit(db.session, third)
    assert visit is not None
    assert visit.slot_id == slots[0].id


def test_an_absence_rebooks_and_says_what_happened(council: FlaskClient, world: World) -> None:
    sam_slot = make_slots(db.session, world.dementia, _soon(), count=1)[0]
    make_slots(db.session, world.anywhere, _soon(), count=1)
    referral = waiting(world)
    visits.book(db.session, referral, sam_slot, by=world.officer, now=utcnow())
    db.session.commit()
    day = sam_slot.starts_at.date()
    fields = [str(day.day), str(day.month), str(day.year)]
    answer = council.post(
        f"/council/assessors/{world.dementia.id}/absence",
        data={"starts_on": fields, "ends_on": fields, "reason": "Off sick"},
        follow_redirects=True,
    )
    page = answer.get_data(as_text=True)
    assert "Absence recorded. 1 visits were in it" in page
    assert "re-booked for" in page
    assert "with Ash Anywhere" in page


def test_a_visit_is_moved_cancelled_and_its_outcome_recorded(
    council: FlaskClient, world: World
) -> None:
    slots = make_slots(db.session, world.anywhere, _soon(), count=2)
    referral = waiting(world)
    visit = visits.book(db.session, referral, slots[0], by=world.officer, now=utcnow())
    db.session.commit()
    assert "Move the visit" in council.get(f"/council/visits/{visit.id}").get_data(as_text=True)
    moved = council.post(f"/council/visits/{visit.id}/move", data={"slot": str(slots[1].id)})
    assert moved.status_code == 302
    db.session.expire_all()
    new = db.session.get(Visit, visit.moved_to_id)
    assert new is not None
    # A stale page: the old visit is moved, so moving it again is refused.
    stale = council.post(f"/council/visits/{visit.id}/move", data={"slot": str(slots[0].id)})
    assert stale.status_code == 409
    assert "no longer booked" in stale.get_data(as_text=True)
    empty = council.post(f"/council/visits/{new.id}/cancel", data={"reason": ""})
    assert empty.status_code == 400
    assert "Enter why the visit is cancelled" in empty.get_data(as_text=True)
    cancelled = council.post(f"/council/visits/{new.id}/cancel", data={"reason": "Went away"})
    assert cancelled.status_code == 302
    db.session.expire_all()
    assert new.status is VisitStatus.CANCELLED
    assert referral.status is ReferralStatus.AWAITING_VISIT
    early = council.post(f"/council/visits/{new.id}/outcome", data={"outcome": "done"})
    assert early.status_code == 400


def test_slots_or_an_absence_without_a_date_are_refused_with_a_message(
    council: FlaskClient, world: World
) -> None:
    empty_date = {"day": ["", "", ""], "starts_on": ["", "", ""], "ends_on": ["", "", ""]}
    slots = council.post(
        f"/council/assessors/{world.anywhere.id}/slots",
        data={"day": empty_date["day"], "times": "9:30", "minutes": "90"},
    )
    assert slots.status_code == 400
    assert "Enter the day" in slots.get_data(as_text=True)
    absence = council.post(
        f"/council/assessors/{world.anywhere.id}/absence",
        data={"starts_on": empty_date["starts_on"], "ends_on": empty_date["ends_on"]},
    )
    assert absence.status_code == 400
    page = absence.get_data(as_text=True)
    assert "Enter the first day away" in page
    assert "Enter the last day away" in page
    assert db.session.scalars(select(AssessorAbsence)).all() == []
    assert db.session.scalars(select(DiarySlot)).all() == []
