"""Assessors' diaries (VISITS, issue 20 item 5): assessors' skills and districts, a day's slots
in London time, which free slots fit a referral, and an assessor off sick with visits booked
(each re-booked with another assessor at the same time, else at the next fitting time, else
back to waiting with the officer told)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.referrals import diary, visits
from marketplace.referrals.models import AssessorAbsence, DiarySlot, ReferralStatus, VisitStatus
from tests.referrals.factories import NOW, make_slots
from tests.referrals.visit_world import TOMORROW, World, events, mail_to, make_world, officer
from tests.referrals.visit_world import waiting_referral as waiting

TODAY = NOW.date()


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


# Assessors -----------------------------------------------------------------------------------


def test_an_officer_becomes_an_assessor_with_tidied_districts(world: World) -> None:
    kim = officer("kim@example.org", "Kim New")
    made = diary.add_assessor(
        db.session,
        kim,
        skills=["sensory", "dementia"],
        districts=diary.parse_districts("sg1, al10"),
    )
    assert (made.skills, made.districts) == (["dementia", "sensory"], ["AL10", "SG1"])
    diary.edit_assessor(db.session, made, skills=[], districts=[], active=False)
    assert (made.skills, made.districts, made.active) == ([], [], False)


@pytest.mark.parametrize(
    ("skills", "districts", "field"),
    [(["juggling"], [], "skills"), ([], ["SG1 1AA"], "districts"), ([], ["12"], "districts")],
)
def test_an_assessor_with_an_unknown_skill_or_a_bad_district_is_refused(
    world: World, skills: list[str], districts: list[str], field: str
) -> None:
    kim = officer("kim@example.org", "Kim New")
    with pytest.raises(diary.DiaryRefused) as refused:
        diary.add_assessor(db.session, kim, skills=skills, districts=districts)
    assert field in refused.value.fields


def test_only_a_council_officer_may_be_an_assessor_and_only_once(
    world: World, make_user: object
) -> None:
    citizen = make_user(Role.CITIZEN)  # type: ignore[operator]
    with pytest.raises(diary.DiaryRefused, match="Only a council officer"):
        diary.add_assessor(db.session, citizen, skills=[], districts=[])
    with pytest.raises(diary.DiaryRefused, match="already an assessor"):
        diary.add_assessor(db.session, world.anywhere.user, skills=[], districts=[])


def test_fits_needs_every_skill_and_the_district_or_anywhere(world: World) -> None:
    assert diary.fits(world.dementia, ["dementia"], "SG1")
    assert not diary.fits(world.dementia, ["dementia"], "SG2")
    assert not diary.fits(world.dementia, ["dementia", "sensory"], "SG1")
    assert diary.fits(world.anywhere, [], "AL10")
    assert diary.fits(world.anywhere, [], None)
    assert not diary.fits(world.anywhere, ["dementia"], "SG1")


# Slots ---------------------------------------------------------------------------------------


def test_a_days_slots_are_at_london_times_and_adding_them_twice_adds_nothing(
    world: World,
) -> None:
    summer = date(2027, 7, 5)
    starts = diary.parse_times("9:30, 11:00")
    made = diary.add_day_slots(
        db.session, world.anywhere, summer, starts, minutes=60, today=date(2027, 7, 1)
    )
    # British Summer Time: 9:30 in London is 8:30 UTC.
    assert [slot.starts_at for slot in made] == [
        datetime(2027, 7, 5, 8, 30, tzinfo=UTC),
        datetime(2027, 7, 5, 10, 0, tzinfo=UTC),
    ]
    again = diary.add_day_slots(
        db.session, world.anywhere, summer, starts, minutes=60, today=date(2027, 7, 1)
    )
    assert again == []
    assert db.session.scalar(select(DiarySlot.id).where(DiarySlot.ends_at == made[0].ends_at))


def test_slots_that_overlap_a_past_day_or_bad_times_are_refused(world: World) -> None:
    day = TODAY + timedelta(days=3)
    diary.add_day_slots(db.session, world.anywhere, day, [time(10)], minutes=90, today=TODAY)
    with pytest.raises(diary.DiaryRefused) as overlapping:
        diary.add_day_slots(db.session, world.anywhere, day, [time(11)], minutes=60, today=TODAY)
    assert "times" in overlapping.value.fields
    with pytest.raises(diary.DiaryRefused) as past:
        diary.add_day_slots(
            db.session,
            world.anywhere,
            TODAY - timedelta(days=1),
            [time(9)],
            minutes=60,
            today=TODAY,
        )
    assert "day" in past.value.fields
    with pytest.raises(diary.DiaryRefused) as typed:
        diary.parse_times("9:30, noon")
    assert typed.value.fields == {"times": "Enter start times like 9:30 or 14:00, not noon"}


def test_free_slots_fit_the_skills_and_district_and_skip_absences_and_booked_ones(
    world: World,
) -> None:
    sam = make_slots(db.session, world.dementia, TOMORROW, count=3)
    ash = make_slots(db.session, world.anywhere, TOMORROW + timedelta(hours=2), count=2)
    db.session.commit()

    def free(skills: list[str], district: str | None) -> list[DiarySlot]:
        return diary.free_slots(db.session, needs_skills=skills, district=district, after=NOW)

    assert free(["dementia"], "SG1") == sam
    assert free(["dementia"], "SG2") == []
    assert free([], "SG2") == ash
    assert free([], "SG1") == [sam[0], ash[0], sam[1], ash[1], sam[2]]

    diary.add_absence(
        db.session,
        world.dementia,
        starts_on=(TOMORROW + timedelta(days=1)).date(),
        ends_on=(TOMORROW + timedelta(days=1)).date(),
        reason="Training",
        by=world.officer,
        now=NOW,
    )
    booked = waiting(world)
    visits.book(db.session, booked, sam[0], by=world.officer, now=NOW)
    assert free(["dementia"], "SG1") == [sam[2]]


# Absence -------------------------------------------------------------------------------------


def test_an_assessor_off_sick_has_each_visit_rebooked_moved_or_handed_back(
    app: Flask, world: World
) -> None:
    sam = make_slots(db.session, world.dementia, TOMORROW, count=3)
    ash_same_time = make_slots(db.session, world.anywhere, TOMORROW, count=1)[0]
    ash_later = make_slots(db.session, world.anywhere, TOMORROW + timedelta(days=4), count=1)[0]
    db.session.commit()
    same_time = waiting(world, email="first@example.org")
    only_sam = waiting(world, email="second@example.org", conditions=["dementia"])
    later = waiting(world, email="third@example.org")
    first = visits.book(db.session, same_time, sam[0], by=world.officer, now=NOW)
    second = visits.book(db.session, only_sam, sam[1], by=world.officer, now=NOW)
    third = visits.book(db.session, later, sam[2], by=world.officer, now=NOW)
    db.session.commit()

    absence, outcomes = diary.record_absence(
        db.session,
        world.dementia,
        starts_on=TOMORROW.date(),
        ends_on=(TOMORROW + timedelta(days=2)).date(),
        reason="Off sick",
        by=world.officer,
        now=NOW,
    )
    db.session.commit()

    assert db.session.get(AssessorAbsence, absence.id) is not None
    by_old = {old.id: new for old, new in outcomes}
    # The same time with another assessor who fits.
    assert by_old[first.id] is not None
    assert by_old[first.id].slot_id == ash_same_time.id
    assert first.status is VisitStatus.MOVED
    assert first.moved_to_id == by_old[first.id].id
    # Nobody else has the dementia skill: back to waiting, the officer told.
    assert by_old[second.id] is None
    assert second.status is VisitStatus.CANCELLED
    assert second.ended_by == "system"
    assert only_sam.status is ReferralStatus.AWAITING_VISIT
    assert events(only_sam)[-1] == "visit_cancelled"
    told = db.session.scalars(
        select(Notification).where(
            Notification.user_id == world.officer.id,
            Notification.kind == NotificationKind.VISIT_CANCELLED,
        )
    ).all()
    assert [n.title for n in told] == ["A visit could not be re-booked"]
    # The next free time that fits (the same time with Ash was taken by the first).
    assert by_old[third.id] is not None
    assert by_old[third.id].slot_id == ash_later.id
    assert later.status is ReferralStatus.VISIT_BOOKED
    assert mail_to(app, "third@example.org")[-1] == "Your visit has moved"
    assert mail_to(app, "second@example.org")[-1] == "Your visit is cancelled"
    # No freed slot of the absent assessor is offered to anyone.
    assert diary.live_visits_in(db.session, world.dementia, TOMORROW.date(), TOMORROW.date()) == []


def test_an_absence_ending_before_it_starts_is_refused_and_nothing_changes(world: World) -> None:
    with pytest.raises(diary.DiaryRefused) as refused:
        diary.record_absence(
            db.session,
            world.dementia,
            starts_on=TODAY + timedelta(days=2),
            ends_on=TODAY,
            reason="",
            by=world.officer,
            now=NOW,
        )
    assert "ends_on" in refused.value.fields
    assert db.session.scalars(select(AssessorAbsence)).all() == []


def test_the_diary_shows_each_days_slots_with_their_visits_and_absences(world: World) -> None:
    slots = make_slots(db.session, world.anywhere, TOMORROW, count=2)
    visit = visits.book(db.session, waiting(world), slots[0], by=world.officer, now=NOW)
    diary.add_absence(
        db.session,
        world.anywhere,
        starts_on=TODAY + timedelta(days=5),
        ends_on=TODAY + timedelta(days=5),
        reason="Leave",
        by=None,
        now=NOW,
    )
    days = diary.diary(db.session, world.anywhere, first_day=TODAY, days=28)
    assert [(d.day, [(s.id, v.id if v else None) for s, v in d.slots], d.absent) for d in days] == [
        (TODAY + timedelta(days=1), [(slots[0].id, visit.id)], False),
        (TODAY + timedelta(days=2), [(slots[1].id, None)], False),
        (TODAY + timedelta(days=5), [], True),
    ]
