"""The person's visit page (VISITS, issue 20): the visit in London time with who is coming and
what to expect; choosing a time while waiting; accepting an offered time; moving and
cancelling with confirmation and an error summary; a page left open (the visit changed, or the
time went meanwhile) told in words; another browser gets 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.extensions import db
from marketplace.front_door.access import SESSION_KEY
from marketplace.referrals import visits
from marketplace.referrals.models import Referral, ReferralStatus, Visit, VisitStatus
from marketplace.types import utcnow
from tests.referrals.factories import make_slots
from tests.referrals.visit_world import World, make_world
from tests.referrals.visit_world import waiting_referral as waiting


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


def _holding(client: FlaskClient, referral: Referral) -> FlaskClient:
    with client.session_transaction() as browser:
        browser[SESSION_KEY] = [str(referral.assessment_id)]
    return client


def _soon(days: int = 2) -> object:
    return utcnow().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=days)


def _path(referral: Referral, action: str = "") -> str:
    return f"/self-assessment/{referral.assessment_id}/visit{action}"


def test_another_browser_is_told_the_page_is_not_found(app: Flask, world: World) -> None:
    referral = waiting(world)
    stranger = app.test_client()
    assert stranger.get(_path(referral)).status_code == 404
    assert stranger.post(_path(referral, "/book"), data={}).status_code == 404
    assert stranger.get(_path(referral, "/cancel")).status_code == 404


def test_the_person_books_a_time_then_moves_it(client: FlaskClient, world: World) -> None:
    slots = make_slots(db.session, world.anywhere, _soon(), count=2)
    referral = waiting(world)
    browser = _holding(client, referral)
    page = browser.get(_path(referral)).get_data(as_text=True)
    assert "Choose a time" in page
    assert "with Ash Anywhere" in page
    missing = browser.post(_path(referral, "/book"), data={"seen": "none"})
    assert missing.status_code == 400
    assert "govuk-error-summary" in missing.get_data(as_text=True)
    assert "Choose a time for the visit" in missing.get_data(as_text=True)
    booked = browser.post(_path(referral, "/book"), data={"slot": str(slots[0].id), "seen": "none"})
    assert booked.status_code == 302
    page = browser.get(_path(referral)).get_data(as_text=True)
    assert "Your visit is booked for" in page
    assert "Ash Anywhere, an assessor from the council" in page
    assert "What to expect" in page
    db.session.expire_all()
    visit = visits.live_visit(db.session, referral)
    assert visit is not None
    assert referral.status is ReferralStatus.VISIT_BOOKED
    move_page = browser.get(_path(referral, "/move")).get_data(as_text=True)
    assert str(slots[1].id) in move_page
    assert str(slots[0].id) not in move_page
    moved = browser.post(
        _path(referral, "/move"), data={"slot": str(slots[1].id), "seen": str(visit.id)}
    )
    assert moved.status_code == 302
    db.session.expire_all()
    assert visit.status is VisitStatus.MOVED
    new = db.session.get(Visit, visit.moved_to_id)
    assert new is not None
    assert new.slot_id == slots[1].id
    assert "Your visit is now on" in browser.get(_path(referral)).get_data(as_text=True)


def test_a_page_left_open_is_told_the_time_went_or_the_visit_changed(
    client: FlaskClient, world: World
) -> None:
    slots = make_slots(db.session, world.anywhere, _soon(), count=3)
    referral, other = waiting(world), waiting(world, email="other@example.org")
    visits.book(db.session, other, slots[0], by=None, now=utcnow())
    db.session.commit()
    browser = _holding(client, referral)
    gone = browser.post(_path(referral, "/book"), data={"slot": str(slots[0].id), "seen": "none"})
    assert gone.status_code == 409
    assert "just been booked for someone else" in gone.get_data(as_text=True)
    visit = visits.book(db.session, referral, slots[1], by=None, now=utcnow())
    db.session.commit()
    # A move page drawn before the council moved the visit.
    visits.move(db.session, visit, slots[2], by=world.officer, ended_by="council", now=utcnow())
    db.session.commit()
    stale = browser.post(
        _path(referral, "/move"), data={"slot": str(slots[1].id), "seen": str(visit.id)}
    )
    assert stale.status_code == 409
    assert "Your visit has changed since this page was opened" in stale.get_data(as_text=True)


def test_the_person_cancels_with_a_reason_and_the_next_is_offered_and_accepts(
    app: Flask, client: FlaskClient, world: World
) -> None:
    slot = make_slots(db.session, world.anywhere, _soon(), count=1)[0]
    cancelling, next_one = waiting(world), waiting(world, email="next@example.org")
    visit = visits.book(db.session, cancelling, slot, by=None, now=utcnow())
    db.session.commit()
    browser = _holding(client, cancelling)
    assert "Why do you want to cancel" in browser.get(_path(cancelling, "/cancel")).get_data(
        as_text=True
    )
    empty = browser.post(_path(cancelling, "/cancel"), data={"reason": "", "seen": str(visit.id)})
    assert empty.status_code == 400
    assert "Enter why you want to cancel the visit" in empty.get_data(as_text=True)
    done = browser.post(
        _path(cancelling, "/cancel"), data={"reason": "I am away", "seen": str(visit.id)}
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert visit.status is VisitStatus.CANCELLED
    offer = visits.live_visit(db.session, next_one)
    assert offer is not None
    assert offer.status is VisitStatus.OFFERED

    other_browser = _holding(app.test_client(), next_one)
    page = other_browser.get(_path(next_one)).get_data(as_text=True)
    assert "A visit has become free sooner" in page
    assert "Answer by" in page
    accepted = other_browser.post(
        _path(next_one, "/offer"), data={"seen": str(offer.id), "accept": "Accept this time"}
    )
    assert accepted.status_code == 302
    db.session.expire_all()
    assert offer.status is VisitStatus.BOOKED
    assert next_one.status is ReferralStatus.VISIT_BOOKED
