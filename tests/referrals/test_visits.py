"""Assessment visits (VISITS, issue 20 item 5): booking (by an officer and by the system), a
visit booked twice into one slot (two threads, two sessions: run on SQLite and PostgreSQL),
moving, cancelling (the slot offered to the next referral that fits), offers accepted,
declined and lapsed, outcomes, and reminders sent once even by two machines at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.referrals import visits
from marketplace.referrals.models import (
    DiarySlot,
    Referral,
    ReferralStatus,
    Urgency,
    Visit,
    VisitStatus,
)
from tests.ledger.threads import engine_options
from tests.referrals.factories import NOW, make_slots
from tests.referrals.visit_world import TOMORROW, World, events, mail_to, make_world
from tests.referrals.visit_world import waiting_referral as waiting


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


def _live(slot: DiarySlot) -> list[Visit]:
    return list(
        db.session.scalars(
            select(Visit).where(Visit.slot_id == slot.id, Visit.status.in_(("offered", "booked")))
        )
    )


# Booking -------------------------------------------------------------------------------------


def test_booking_books_the_referral_and_tells_the_person(app: Flask, world: World) -> None:
    slot = make_slots(db.session, world.anywhere, TOMORROW, count=1)[0]
    referral = waiting(world)
    visit = visits.book(db.session, referral, slot, by=world.officer, now=NOW)
    db.session.commit()
    assert (visit.status, visit.booked_by_id) == (VisitStatus.BOOKED, world.officer.id)
    assert referral.status is ReferralStatus.VISIT_BOOKED
    assert events(referral)[-1] == "visit_booked"
    assert mail_to(app, "alex@example.org") == ["Your assessment visit is booked"]


def test_a_referral_not_waiting_for_a_visit_or_a_slot_that_does_not_fit_is_refused(
    world: World,
) -> None:
    sam = make_slots(db.session, world.dementia, TOMORROW, count=1)[0]
    ash = make_slots(db.session, world.anywhere, TOMORROW, count=1)[0]
    needs_dementia = waiting(world, conditions=["dementia"])
    with pytest.raises(visits.VisitRefused, match="cannot assess"):
        visits.book(db.session, needs_dementia, ash, by=world.officer, now=NOW)
    elsewhere = waiting(world, postcode="AL10 9AB")
    with pytest.raises(visits.VisitRefused, match="cannot assess"):
        visits.book(db.session, elsewhere, sam, by=world.officer, now=NOW)
    with pytest.raises(visits.VisitRefused, match="passed"):
        visits.book(db.session, elsewhere, ash, by=world.officer, now=TOMORROW + timedelta(hours=1))
    elsewhere.status = ReferralStatus.RECEIVED
    with pytest.raises(visits.VisitChanged, match="waiting for one"):
        visits.book(db.session, elsewhere, ash, by=world.officer, now=NOW)
    visits.book(db.session, needs_dementia, sam, by=world.officer, now=NOW)
    later = make_slots(db.session, world.dementia, TOMORROW + timedelta(days=2), count=1)[0]
    needs_dementia.status = ReferralStatus.AWAITING_VISIT  # as if a stale page
    with pytest.raises(visits.VisitChanged, match="already booked"):
        visits.book(db.session, needs_dementia, later, by=world.officer, now=NOW)


def test_a_second_booking_into_one_slot_is_refused_with_slot_taken(world: World) -> None:
    slot = make_slots(db.session, world.anywhere, TOMORROW, count=1)[0]
    first, second = waiting(world), waiting(world, email="b@example.org")
    visits.book(db.session, first, slot, by=world.officer, now=NOW)
    with pytest.raises(visits.SlotTaken, match="just been booked"):
        visits.book(db.session, second, slot, by=world.officer, now=NOW)
    db.session.commit()
    assert second.status is ReferralStatus.AWAITING_VISIT
    assert [visit.referral_id for visit in _live(slot)] == [first.id]


def test_two_officers_booking_one_slot_at_once_book_it_once(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    with app.app_context():
        world = make_world()
        slot = make_slots(db.session, world.anywhere, TOMORROW, count=1)[0]
        referral_ids = [waiting(world, email=f"p{n}@example.org").id for n in range(2)]
        slot_id, officer_id = slot.id, world.officer.id
        db.session.commit()
    barrier = threading.Barrier(2)

    def book(number: int) -> str:
        with app.app_context():
            referral = db.session.get_one(Referral, referral_ids[number])
            slot = db.session.get_one(DiarySlot, slot_id)
            officer = db.session.get_one(User, officer_id)
            barrier.wait(timeout=30)
            try:
                visits.book(db.session, referral, slot, by=officer, now=NOW)
                db.session.commit()
            except visits.SlotTaken:
                db.session.rollback()
                return "taken"
            finally:
                db.session.remove()
            return "booked"

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sorted(pool.map(book, range(2))) == ["booked", "taken"]
    with app.app_context():
        live = db.session.scalars(select(Visit).where(Visit.slot_id == slot_id)).all()
        assert len(live) == 1
        statuses = {r.id: r.status for r in db.session.scalars(select(Referral)).all()}
        assert sorted(statuses.values()) == sorted(
            [ReferralStatus.VISIT_BOOKED, ReferralStatus.AWAITING_VISIT]
        )
        assert statuses[live[0].referral_id] is ReferralStatus.VISIT_BOOKED


def test_the_system_books_the_earliest_slot_that_fits(world: World) -> None:
    ash = make_slots(db.session, world.anywhere, TOMORROW, count=2)
    sam = make_slots(db.session, world.dementia, TOMORROW + timedelta(hours=3), count=2)
    needs_dementia = waiting(world, conditions=["dementia"])
    assert visits.book_automatically(db.session, needs_dementia, now=NOW).slot_id == sam[0].id
    plain = waiting(world)
    assert visits.book_automatically(db.session, plain, now=NOW).slot_id == ash[0].id
    nowhere = waiting(world, conditions=["dementia"], postcode="AL10 9AB")
    assert visits.book_automatically(db.session, nowhere, now=NOW) is None
    assert nowhere.status is ReferralStatus.AWAITING_VISIT


# Moving and cancelling -----------------------------------------------------------------------


def test_moving_makes_a_new_visit_and_offers_the_freed_slot(app: Flask, world: World) -> None:
    slots = make_slots(db.session, world.anywhere, TOMORROW, count=2)
    moving = waiting(world)
    next_in_line = waiting(world, email="next@example.org", sent_days_ago=1)
    visit = visits.book(db.session, moving, slots[0], by=world.officer, now=NOW)
    new = visits.move(db.session, visit, slots[1], by=None, ended_by="person", now=NOW)
    db.session.commit()
    assert (visit.status, visit.moved_to_id, new.status) == (
        VisitStatus.MOVED,
        new.id,
        VisitStatus.BOOKED,
    )
    assert moving.status is ReferralStatus.VISIT_BOOKED
    assert mail_to(app, "alex@example.org")[-1] == "Your visit has moved"
    (offer,) = _live(slots[0])
    assert (offer.referral_id, offer.status) == (next_in_line.id, VisitStatus.OFFERED)
    with pytest.raises(visits.VisitChanged, match="no longer booked"):
        visits.move(db.session, visit, slots[0], by=None, ended_by="person", now=NOW)


def test_cancelling_offers_the_slot_to_the_most_urgent_then_oldest_referral_that_fits(
    app: Flask, world: World
) -> None:
    slot = make_slots(db.session, world.anywhere, TOMORROW, count=1)[0]
    cancelling = waiting(world)
    waiting(world, email="old-routine@example.org", sent_days_ago=9, urgency="routine")
    urgent = waiting(world, email="urgent@example.org", sent_days_ago=1, urgency="urgent")
    waiting(
        world,
        email="dementia@example.org",
        sent_days_ago=20,
        urgency="leaving_hospital",
        conditions=["dementia"],
    )  # more urgent, but Ash cannot assess dementia
    visit = visits.book(db.session, cancelling, slot, by=world.officer, now=NOW)
    db.session.commit()

    with pytest.raises(visits.VisitRefused, match="Enter why"):
        visits.cancel(db.session, visit, by=None, ended_by="person", reason=" ", now=NOW)
    assert visit.status is VisitStatus.BOOKED

    offer = visits.cancel(
        db.session, visit, by=None, ended_by="person", reason="I am in hospital", now=NOW
    )
    db.session.commit()
    assert visit.status is VisitStatus.CANCELLED
    assert (visit.ended_by, visit.reason) == ("person", "I am in hospital")
    assert cancelling.status is ReferralStatus.AWAITING_VISIT
    assert events(cancelling)[-1] == "visit_cancelled"
    assert offer is not None
    assert (offer.referral_id, offer.status) == (urgent.id, VisitStatus.OFFERED)
    # Open for OFFER_HOURS, but never later than MIN_NOTICE before the visit (tomorrow 10:00).
    assert offer.offer_expires_at == slot.starts_at - visits.MIN_NOTICE
    assert urgent.urgency is Urgency.URGENT
    assert mail_to(app, "urgent@example.org") == ["An earlier assessment visit is free"]
    assert mail_to(app, "alex@example.org")[-1] == "Your visit is cancelled"


def test_an_offer_accepted_is_booked_and_one_lapsed_goes_to_the_next(
    app: Flask, world: World
) -> None:
    slot = make_slots(db.session, world.anywhere, TOMORROW + timedelta(days=2), count=1)[0]
    first, second = waiting(world, sent_days_ago=2), waiting(world, email="b@example.org")
    offer = visits.offer_slot(db.session, slot, now=NOW)
    assert offer is not None
    assert offer.referral_id == first.id
    assert visits.lapse_offers(db.session, now=NOW + timedelta(hours=1)) == 0
    assert visits.lapse_offers(db.session, now=NOW + timedelta(hours=25)) == 1
    db.session.commit()
    assert offer.status is VisitStatus.LAPSED
    with pytest.raises(visits.VisitChanged, match="no longer open"):
        visits.accept_offer(db.session, offer, by=None, now=NOW + timedelta(hours=25))
    (onward,) = _live(slot)
    assert onward.referral_id == second.id
    accepted = visits.accept_offer(db.session, onward, by=None, now=NOW + timedelta(hours=26))
    db.session.commit()
    assert accepted.status is VisitStatus.BOOKED
    assert second.status is ReferralStatus.VISIT_BOOKED
    assert first.status is ReferralStatus.AWAITING_VISIT
    assert mail_to(app, "b@example.org")[-1] == "Your assessment visit is booked"


def test_an_offer_declined_goes_to_the_next_and_never_back(world: World) -> None:
    slot = make_slots(db.session, world.anywhere, TOMORROW + timedelta(days=2), count=1)[0]
    first, second = waiting(world, sent_days_ago=2), waiting(world, email="b@example.org")
    offer = visits.offer_slot(db.session, slot, now=NOW)
    assert offer is not None
    onward = visits.decline_offer(db.session, offer, by=None, now=NOW)
    assert onward is not None
    assert onward.referral_id == second.id
    assert visits.decline_offer(db.session, onward, by=None, now=NOW) is None
    assert _live(slot) == []
    assert first.status is ReferralStatus.AWAITING_VISIT


# After the visit -----------------------------------------------------------------------------


def test_a_visit_done_assesses_the_referral_and_one_wasted_puts_it_back(world: World) -> None:
    slots = make_slots(db.session, world.anywhere, TOMORROW, count=2)
    done, wasted = waiting(world), waiting(world, email="b@example.org")
    first = visits.book(db.session, done, slots[0], by=world.officer, now=NOW)
    second = visits.book(db.session, wasted, slots[1], by=world.officer, now=NOW)
    with pytest.raises(visits.VisitRefused, match="not started"):
        visits.record_outcome(db.session, first, outcome="done", by=world.officer, now=NOW)
    after = TOMORROW + timedelta(days=2)
    visits.record_outcome(db.session, first, outcome="done", by=world.officer, now=after)
    visits.record_outcome(
        db.session, second, outcome="wasted", by=world.officer, note="No answer", now=after
    )
    db.session.commit()
    assert (first.status, done.status) == (VisitStatus.DONE, ReferralStatus.ASSESSED)
    assert (second.status, wasted.status) == (VisitStatus.WASTED, ReferralStatus.AWAITING_VISIT)
    assert events(wasted)[-1] == "visit_wasted"
    with pytest.raises(visits.VisitChanged):
        visits.record_outcome(db.session, first, outcome="wasted", by=world.officer, now=after)


# Reminders -----------------------------------------------------------------------------------


def test_reminders_go_once_for_visits_within_the_window(app: Flask, world: World) -> None:
    soon = make_slots(db.session, world.anywhere, NOW + timedelta(hours=30), count=1)[0]
    later = make_slots(db.session, world.anywhere, NOW + timedelta(days=5), count=1)[0]
    visits.book(db.session, waiting(world), soon, by=world.officer, now=NOW)
    visits.book(db.session, waiting(world, email="b@example.org"), later, by=world.officer, now=NOW)
    db.session.commit()
    assert visits.send_reminders(db.session, now=NOW) == 1
    db.session.commit()
    assert visits.send_reminders(db.session, now=NOW + timedelta(hours=1)) == 0
    db.session.commit()
    assert mail_to(app, "alex@example.org")[-1] == "Reminder: your visit is soon"
    assert "Reminder: your visit is soon" not in mail_to(app, "b@example.org")


def test_two_machines_sending_reminders_at_once_send_one_each_visit(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    with app.app_context():
        world = make_world()
        slots = make_slots(
            db.session, world.anywhere, NOW + timedelta(hours=3), count=3, every=timedelta(hours=2)
        )
        for number, slot in enumerate(slots):
            referral = waiting(world, email=f"p{number}@example.org")
            referral.assessment.user = world.officer  # an account, so a notification too
            visits.book(db.session, referral, slot, by=world.officer, now=NOW)
        db.session.commit()
    barrier = threading.Barrier(2)

    def remind(_number: int) -> int:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                sent = visits.send_reminders(db.session, now=NOW)
                db.session.commit()
                return sent
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sum(pool.map(remind, range(2))) == 3
    with app.app_context():
        reminders = db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == NotificationKind.VISIT_REMINDER)
        )
        assert reminders == 3
        assert all(v.reminded_at == NOW for v in db.session.scalars(select(Visit)))
