"""Assessors' diaries (issue 20 item 5, VISITS): who can visit, what they can assess and where,
the times they can visit, the days they cannot, and which free times fit a referral.

A slot fits a referral when its assessor has every skill the referral needs, covers the
referral's postcode district (or covers anywhere), is not absent that day, and the slot holds
no live visit (offered or booked). Recording an absence re-books the visits in it
(`visits.rebook_for_absence`).

Rules only: they take a session, flush, and never commit.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Exists, and_, exists, select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.formatting import LONDON
from marketplace.postcodes import OUTWARD_CODE
from marketplace.referrals.models import (
    LIVE_VISIT_STATUSES,
    Assessor,
    AssessorAbsence,
    DiarySlot,
    Visit,
)
from marketplace.referrals.queue import SKILL_FOR_CONDITION
from marketplace.types import Session

# The skills an assessor may have: the ones a referral can need.
SKILLS: tuple[tuple[str, str], ...] = (
    ("dementia", "Dementia or memory problems"),
    ("sensory", "Sight or hearing loss"),
    ("mental_health", "Mental health"),
    ("learning_disability", "Learning disability or autism"),
)
SKILL_LABELS = dict(SKILLS)
assert set(SKILL_LABELS) == set(SKILL_FOR_CONDITION.values()), "every needed skill is offered"
SLOT_MINUTES_CHOICES = (30, 45, 60, 90, 120)
REASON_MAX_LENGTH = 200
# A day's slots are added a year ahead at most: further than that nobody plans a visit.
DIARY_HORIZON_DAYS = 366
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", re.ASCII)


class DiaryRefused(ValueError):
    """A diary change the rules refuse; `fields` names the form fields at fault."""

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


# Assessors ------------------------------------------------------------------------------------


def _checked(skills: Iterable[str], districts: Iterable[str]) -> tuple[list[str], list[str]]:
    problems: dict[str, str] = {}
    chosen = sorted(set(skills))
    if any(skill not in SKILL_LABELS for skill in chosen):
        problems["skills"] = "Select skills from the list"
    tidy = sorted({d.strip().upper() for d in districts if d.strip()})
    wrong = [d for d in tidy if not OUTWARD_CODE.fullmatch(d)]
    if wrong:
        problems["districts"] = (
            f"Enter postcode districts like SG1 or AL10, not {', '.join(wrong[:3])}"
        )
    if problems:
        raise DiaryRefused("There is a problem with the assessor", fields=problems)
    return chosen, tidy


def parse_districts(text: str) -> list[str]:
    """Districts typed as a list ("SG1, SG2 AL10"), split on commas and spaces."""
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


def add_assessor(
    session: Session, user: User, *, skills: Iterable[str], districts: Iterable[str]
) -> Assessor:
    """Make `user` (a council officer) an assessor with these skills and postcode districts
    (none: anywhere). Raises DiaryRefused for someone not a council officer, one already an
    assessor, an unknown skill or a district that is not one."""
    chosen, tidy = _checked(skills, districts)
    if user.role is not Role.COUNCIL_OFFICER:
        raise DiaryRefused(
            "Only a council officer can be an assessor", fields={"user": "Select a council officer"}
        )
    if session.scalar(select(Assessor.id).where(Assessor.user_id == user.id)) is not None:
        raise DiaryRefused(
            f"{user.full_name} is already an assessor",
            fields={"user": f"{user.full_name} is already an assessor"},
        )
    assessor = Assessor(user=user, skills=chosen, districts=tidy)
    session.add(assessor)
    session.flush()
    return assessor


def edit_assessor(
    session: Session,
    assessor: Assessor,
    *,
    skills: Iterable[str],
    districts: Iterable[str],
    active: bool = True,
) -> Assessor:
    """Change what an assessor can assess, where, and whether they visit at all. Visits already
    booked stay booked (an officer moves them if they no longer fit). Raises DiaryRefused."""
    assessor.skills, assessor.districts = _checked(skills, districts)
    assessor.active = active
    session.flush()
    return assessor


def assessors(session: Session) -> list[Assessor]:
    """Every assessor, active first, by name."""
    return list(
        session.scalars(
            select(Assessor)
            .join(User, User.id == Assessor.user_id)
            .order_by(Assessor.active.desc(), User.full_name)
        )
    )


def officers_not_assessors(session: Session) -> list[User]:
    """Council officers who could be made assessors, by name."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.role == Role.COUNCIL_OFFICER,
                User.active.is_(True),
                ~exists().where(Assessor.user_id == User.id),
            )
            .order_by(User.full_name)
        )
    )


def fits(assessor: Assessor, needs_skills: Sequence[str], district: str | None) -> bool:
    """Whether `assessor` can assess someone needing these skills in this district."""
    return (
        assessor.active
        and set(needs_skills) <= set(assessor.skills or [])
        and (not assessor.districts or (district is not None and district in assessor.districts))
    )


# Slots ---------------------------------------------------------------------------------------


def parse_times(text: str) -> list[time]:
    """Start times typed as "9:30, 11:00 14:00" (24-hour clock). Raises DiaryRefused for any
    that is not a time."""
    found: list[time] = []
    for part in re.split(r"[\s,;]+", (text or "").strip()):
        if not part:
            continue
        matched = _TIME.fullmatch(part.replace(".", ":"))
        if not matched:
            raise DiaryRefused(
                "Enter start times like 9:30 or 14:00",
                fields={"times": f"Enter start times like 9:30 or 14:00, not {part[:10]}"},
            )
        found.append(time(int(matched.group(1)), int(matched.group(2))))
    return sorted(set(found))


def london_moment(day: date, at: time) -> datetime:
    """The UTC moment of a London wall-clock time on `day` (British Summer Time included)."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def add_day_slots(
    session: Session,
    assessor: Assessor,
    day: date,
    starts: Sequence[time],
    *,
    minutes: int,
    today: date,
) -> list[DiarySlot]:
    """Add slots of `minutes` on `day` at these London times; times already in the diary are
    left as they are (adding a day twice adds nothing twice). Returns the new slots. Raises
    DiaryRefused for a day in the past or more than a year ahead, no times, a length not
    offered, or slots that would overlap each other or one already there."""
    problems: dict[str, str] = {}
    if not today <= day <= today + timedelta(days=DIARY_HORIZON_DAYS):
        problems["day"] = "The day must be today or within the next year"
    if not starts:
        problems["times"] = "Enter at least one start time"
    if minutes not in SLOT_MINUTES_CHOICES:
        problems["minutes"] = "Select how long each visit is"
    if problems:
        raise DiaryRefused("There is a problem with the slots", fields=problems)
    length = timedelta(minutes=minutes)
    wanted = [(london_moment(day, at), london_moment(day, at) + length) for at in starts]
    existing = list(
        session.scalars(
            select(DiarySlot).where(
                DiarySlot.assessor_id == assessor.id,
                DiarySlot.starts_at < wanted[-1][1],
                DiarySlot.ends_at > wanted[0][0],
            )
        )
    )
    taken = {slot.starts_at for slot in existing}
    new = [(start, end) for start, end in wanted if start not in taken]
    spans = sorted([(s.starts_at, s.ends_at) for s in existing] + new)
    if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)):
        raise DiaryRefused(
            "Slots cannot overlap",
            fields={"times": "These times overlap each other or a slot already in the diary"},
        )
    slots = [DiarySlot(assessor=assessor, starts_at=start, ends_at=end) for start, end in new]
    session.add_all(slots)
    session.flush()
    return slots


def _live_visit_in(slot_id_column: Any) -> Exists:
    return exists().where(Visit.slot_id == slot_id_column, Visit.status.in_(LIVE_VISIT_STATUSES))


def absent_on(
    session: Session, assessor_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[date, date]]]:
    """Each assessor's absences, as (first day, last day) pairs."""
    ids = list(set(assessor_ids))
    found: dict[uuid.UUID, list[tuple[date, date]]] = {}
    if not ids:
        return found
    for absence in session.scalars(
        select(AssessorAbsence).where(AssessorAbsence.assessor_id.in_(ids))
    ):
        found.setdefault(absence.assessor_id, []).append((absence.starts_on, absence.ends_on))
    return found


def _is_absent(absences: list[tuple[date, date]], slot: DiarySlot) -> bool:
    day = slot.starts_at.astimezone(LONDON).date()
    return any(first <= day <= last for first, last in absences)


def free_slots(
    session: Session,
    *,
    needs_skills: Sequence[str],
    district: str | None,
    after: datetime,
    until: datetime | None = None,
    starts_at: datetime | None = None,
    limit: int | None = None,
) -> list[DiarySlot]:
    """Free slots that fit (skills, district, not absent, no live visit), starting after
    `after` (and before `until`, or exactly at `starts_at`), earliest first, at most `limit`."""
    conditions = [
        DiarySlot.starts_at > after,
        Assessor.active.is_(True),
        ~_live_visit_in(DiarySlot.id),
    ]
    if until is not None:
        conditions.append(DiarySlot.starts_at < until)
    if starts_at is not None:
        conditions.append(DiarySlot.starts_at == starts_at)
    candidates = list(
        session.scalars(
            select(DiarySlot)
            .join(Assessor, Assessor.id == DiarySlot.assessor_id)
            .where(and_(*conditions))
            .order_by(DiarySlot.starts_at, DiarySlot.id)
        )
    )
    absences = absent_on(session, (slot.assessor_id for slot in candidates))
    chosen = [
        slot
        for slot in candidates
        if fits(slot.assessor, needs_skills, district)
        and not _is_absent(absences.get(slot.assessor_id, []), slot)
    ]
    return chosen[:limit] if limit is not None else chosen


def slot_is_free(session: Session, slot: DiarySlot) -> bool:
    """No live visit holds `slot` (read now; the unique index decides when booking)."""
    return not session.scalar(
        select(exists().where(Visit.slot_id == slot.id, Visit.status.in_(LIVE_VISIT_STATUSES)))
    )


def assessor_absent(session: Session, slot: DiarySlot) -> bool:
    return _is_absent(absent_on(session, [slot.assessor_id]).get(slot.assessor_id, []), slot)


@dataclass
class DiaryDay:
    day: date
    slots: list[tuple[DiarySlot, Visit | None]] = field(default_factory=list)
    absent: bool = False


def diary(
    session: Session, assessor: Assessor, *, first_day: date, days: int = 28
) -> list[DiaryDay]:
    """An assessor's diary from `first_day` for `days` days: each day with slots (or an
    absence), each slot with its live visit if any."""
    start = london_moment(first_day, time(0))
    end = london_moment(first_day + timedelta(days=days), time(0))
    slots = list(
        session.scalars(
            select(DiarySlot)
            .where(
                DiarySlot.assessor_id == assessor.id,
                DiarySlot.starts_at >= start,
                DiarySlot.starts_at < end,
            )
            .order_by(DiarySlot.starts_at)
        )
    )
    live = {
        visit.slot_id: visit
        for visit in session.scalars(
            select(Visit).where(
                Visit.slot_id.in_([slot.id for slot in slots]),
                Visit.status.in_(LIVE_VISIT_STATUSES),
            )
        )
    }
    absences = absent_on(session, [assessor.id]).get(assessor.id, [])
    by_day: dict[date, DiaryDay] = {}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        by_day[day] = DiaryDay(day, absent=any(a <= day <= b for a, b in absences))
    for slot in slots:
        by_day[slot.starts_at.astimezone(LONDON).date()].slots.append((slot, live.get(slot.id)))
    return [entry for entry in by_day.values() if entry.slots or entry.absent]


# Absences ------------------------------------------------------------------------------------


def add_absence(
    session: Session,
    assessor: Assessor,
    *,
    starts_on: date,
    ends_on: date,
    reason: str,
    by: User | None,
    now: datetime,
) -> AssessorAbsence:
    """The absence row alone (flushed), checked: the last day not before the first, a reason
    not too long. Raises DiaryRefused. `visits.record_absence` re-books what is in it."""
    reason = (reason or "").strip()
    problems: dict[str, str] = {}
    if ends_on < starts_on:
        problems["ends_on"] = "The last day must be the same as or after the first day"
    if len(reason) > REASON_MAX_LENGTH:
        problems["reason"] = f"Reason must be {REASON_MAX_LENGTH} characters or fewer"
    if problems:
        raise DiaryRefused("There is a problem with the absence", fields=problems)
    absence = AssessorAbsence(
        assessor=assessor,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        recorded_by_id=by.id if by else None,
        recorded_at=now,
    )
    session.add(absence)
    session.flush()
    return absence


def live_visits_in(
    session: Session, assessor: Assessor, starts_on: date, ends_on: date
) -> list[Visit]:
    """The assessor's live visits on these days, earliest first."""
    return list(
        session.scalars(
            select(Visit)
            .join(DiarySlot, DiarySlot.id == Visit.slot_id)
            .where(
                DiarySlot.assessor_id == assessor.id,
                DiarySlot.starts_at >= london_moment(starts_on, time(0)),
                DiarySlot.starts_at < london_moment(ends_on + timedelta(days=1), time(0)),
                Visit.status.in_(LIVE_VISIT_STATUSES),
            )
            .order_by(DiarySlot.starts_at)
        )
    )


def record_absence(
    session: Session,
    assessor: Assessor,
    *,
    starts_on: date,
    ends_on: date,
    reason: str,
    by: User | None,
    now: datetime,
) -> tuple[AssessorAbsence, list[tuple[Visit, Visit | None]]]:
    """Record that `assessor` cannot visit from `starts_on` to `ends_on` (London days) and
    re-book each live visit in it (`visits.rebook_for_absence`: another assessor at the same
    time, else the next fitting free time, else back to waiting with the officer told).
    Returns the absence and (old visit, new visit or None) for each. Raises DiaryRefused."""
    # Imported here: visits reads the diary, and the diary re-books through visits.
    from marketplace.referrals import visits

    absence = add_absence(
        session, assessor, starts_on=starts_on, ends_on=ends_on, reason=reason, by=by, now=now
    )
    return absence, visits.rebook_for_absence(session, absence, now=now)
