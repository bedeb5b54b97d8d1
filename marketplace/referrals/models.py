"""What the council's front door records (issue 20): self-assessments and the indication of
budget each produced under a versioned resource allocation system; the referral the council
works from; assessors, their diaries and absences; and the visits booked into them, for an
assessment or a support plan's review.

Nothing here is edited to rewrite history: a resource allocation system is changed by making
its next version, an indication is never recomputed in place, a visit that moves is a new
visit (the old one says where it went), and a referral's steps are its events.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.types import UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from marketplace.accounts.models import User
    from marketplace.budgets.models import PersonalBudget
    from marketplace.people.models import Person, SupportPlan


# The resource allocation system --------------------------------------------------------------


class RasVersion(Model):
    """One version of the council's resource allocation system: points per answer, the price
    of a point, bands, caps, the funding streams that usually apply and what counts towards
    the person's contribution (`config`, read and checked by `referrals.ras`). Never edited:
    a change is the next version, so any indication can be explained later by the version
    that produced it. The highest `number` is the one new self-assessments take."""

    __tablename__ = "ras_versions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Why this version was made, in the officer's words.
    note: Mapped[str] = mapped_column(Text, default="")
    # None for the version `flask seed-demo` or a command made.
    made_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    made_by: Mapped[User | None] = relationship()


# Self-assessment -----------------------------------------------------------------------------


class AssessmentStatus(enum.StrEnum):
    """Started and answered page by page, then sent. One never sent is "abandoned" in the
    figures once left untouched long enough (a figure's rule, not a state)."""

    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class CompletedBy(enum.StrEnum):
    """Who answered the questions: the person, or someone for them (recorded as such)."""

    PERSON = "person"
    FAMILY = "family"  # a family member, friend or unpaid carer
    BROKER = "broker"  # a support broker or the council's service finders
    PROFESSIONAL = "professional"  # a nurse, a GP, a hospital discharge team

    @property
    def label(self) -> str:
        return {
            "person": "The person themselves",
            "family": "A family member, friend or carer",
            "broker": "A support broker",
            "professional": "A health or care professional",
        }[self.value]


class SelfAssessment(Model):
    """A self-assessment: the answers so far (`answers`, keyed by question, read by
    `referrals.questions`), who is answering, and the resource allocation version it keeps
    from the moment it starts (a version made while it is open does not change it).

    `revision` counts saved changes: a page shows the revision it was drawn from and a save
    of an older one is refused (two people editing one assessment, or answers changed in
    another tab after "check your answers")."""

    __tablename__ = "self_assessments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[AssessmentStatus] = mapped_column(
        string_enum(AssessmentStatus, "assessment_status"), default=AssessmentStatus.IN_PROGRESS
    )
    ras_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ras_versions.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    completed_by: Mapped[CompletedBy | None] = mapped_column(
        string_enum(CompletedBy, "completed_by")
    )
    # Who answered for the person, as they gave it ("Sam Jones, daughter").
    completed_by_name: Mapped[str | None] = mapped_column(String(200))
    # The signed-in account answering, if any (the person's own, a family member's, a
    # broker's); an assessment may be answered with no account at all.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The person's record, once there is one (an officer made it from the referral, or the
    # signed-in person already had one).
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"), index=True)
    # The last question page shown, for "abandoned at which question".
    last_question: Mapped[str | None] = mapped_column(String(40))
    # When "check your answers" was last shown, and the revision it showed.
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_revision: Mapped[int | None] = mapped_column(Integer)
    # "Save and come back later": the link's token hash (the token is only in the link sent),
    # where it was sent and until when it works.
    resume_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    resume_email: Mapped[str | None] = mapped_column(String(254))
    resume_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ras_version: Mapped[RasVersion] = relationship()
    user: Mapped[User | None] = relationship()
    person: Mapped[Person | None] = relationship()
    indication: Mapped[Indication | None] = relationship(back_populates="assessment")
    referral: Mapped[Referral | None] = relationship(back_populates="assessment")


class Indication(Model):
    """The early indication of budget a sent self-assessment produced: a weekly range, from
    the version that produced it, with its workings (each answer's points, the band, any cap,
    the streams that usually apply, what counts towards the contribution). Never a decision,
    and never recomputed in place."""

    __tablename__ = "indications"
    __table_args__ = (
        CheckConstraint(
            "low_weekly_pence >= 0 AND high_weekly_pence >= low_weekly_pence",
            name="indication_range_in_order",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("self_assessments.id"), unique=True)
    ras_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ras_versions.id"))
    points: Mapped[int] = mapped_column(Integer)
    low_weekly_pence: Mapped[int] = mapped_column(BigInteger)
    high_weekly_pence: Mapped[int] = mapped_column(BigInteger)
    band: Mapped[str] = mapped_column(String(60))
    capped: Mapped[bool] = mapped_column(Boolean, default=False)
    workings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assessment: Mapped[SelfAssessment] = relationship(back_populates="indication")
    ras_version: Mapped[RasVersion] = relationship()


# Referrals -----------------------------------------------------------------------------------


class Urgency(enum.StrEnum):
    """How soon the council must act, most urgent first (`rank`)."""

    LEAVING_HOSPITAL = "leaving_hospital"  # leaving hospital within 24 hours
    URGENT = "urgent"  # at risk now: care has broken down, a carer cannot go on
    SOON = "soon"  # within the next few weeks
    ROUTINE = "routine"

    @property
    def rank(self) -> int:
        return list(Urgency).index(self)

    @property
    def label(self) -> str:
        return {
            "leaving_hospital": "Leaving hospital within 24 hours",
            "urgent": "Urgent",
            "soon": "Soon",
            "routine": "Routine",
        }[self.value]


class ReferralStatus(enum.StrEnum):
    """Where a referral is. Received → (first contact made) → resolved at first contact, or
    waiting for a visit → visit booked → assessed → a person's record (converted); or closed
    (withdrawn, not eligible, moved away)."""

    RECEIVED = "received"
    IN_CONTACT = "in_contact"
    RESOLVED = "resolved"  # at first contact: advice, equipment, a community service
    AWAITING_VISIT = "awaiting_visit"
    VISIT_BOOKED = "visit_booked"
    ASSESSED = "assessed"
    CONVERTED = "converted"  # a person's record, a draft plan and a budget were made
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "received": "Received",
            "in_contact": "The council is in touch",
            "resolved": "Resolved",
            "awaiting_visit": "Waiting for an assessment visit",
            "visit_booked": "Assessment visit booked",
            "assessed": "Assessed",
            "converted": "Support being arranged",
            "closed": "Closed",
        }[self.value]


class Referral(Model):
    """A sent self-assessment in the council's queue, ordered by urgency and age; visible to
    the person with its status. It keeps the answers (on its assessment) whatever comes of it."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_status_urgency_received", "status", "urgency_rank", "received_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("self_assessments.id"), unique=True)
    status: Mapped[ReferralStatus] = mapped_column(
        string_enum(ReferralStatus, "referral_status"), default=ReferralStatus.RECEIVED
    )
    urgency: Mapped[Urgency] = mapped_column(string_enum(Urgency, "urgency"))
    # Urgency's rank, stored so that the queue orders by it in SQL.
    urgency_rank: Mapped[int] = mapped_column(Integer)
    # The postcode district the person lives in ("SG1"), for matching assessors by area.
    district: Mapped[str | None] = mapped_column(String(8), index=True)
    # Skills an assessment needs (from the answers: "dementia", "sensory", "mental_health").
    needs_skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the council decided what the person gets (resolved, converted, or closed).
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Resolved at first contact: how ("advice", "equipment", "community_service"), and a note.
    resolution: Mapped[str | None] = mapped_column(String(40))
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    closed_reason: Mapped[str] = mapped_column(Text, default="")
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # What it became, once converted.
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"), index=True)
    support_plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("support_plans.id"))
    budget_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("personal_budgets.id"))
    # For someone leaving hospital: when they left, and when care first reached them
    # (the council's "care within 24 hours of leaving hospital" figure).
    left_hospital_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    care_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assessment: Mapped[SelfAssessment] = relationship(back_populates="referral")
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    person: Mapped[Person | None] = relationship()
    support_plan: Mapped[SupportPlan | None] = relationship()
    budget: Mapped[PersonalBudget | None] = relationship()
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.at", viewonly=True
    )


class ReferralEvent(Model):
    """One step in a referral's life, for its timeline: received, first contact, resolved,
    visit booked, moved, cancelled, converted... `shown_to_person` marks those the person
    reads on their status page (an officer's internal note is not)."""

    __tablename__ = "referral_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    shown_to_person: Mapped[bool] = mapped_column(Boolean, default=True)
    by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="events")
    by: Mapped[User | None] = relationship()


# Assessors, diaries and visits ---------------------------------------------------------------


class Assessor(Model):
    """A council officer who visits: what they can assess (`skills`) and where (`districts`,
    postcode districts; empty means anywhere)."""

    __tablename__ = "assessors"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), unique=True)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    districts: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class AssessorAbsence(Model):
    """Days an assessor cannot visit (off sick, leave): recording one re-books the visits in it."""

    __tablename__ = "assessor_absences"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="absence_ends_after_start"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    assessor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessors.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reason: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assessor: Mapped[Assessor] = relationship()


class DiarySlot(Model):
    """A time an assessor can visit. A slot holds at most one live visit (the database says
    so: `uq_visits_one_live_per_slot`)."""

    __tablename__ = "diary_slots"
    __table_args__ = (
        UniqueConstraint("assessor_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="slot_ends_after_start"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    assessor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessors.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assessor: Mapped[Assessor] = relationship()


class VisitKind(enum.StrEnum):
    ASSESSMENT = "assessment"  # for a referral
    REVIEW = "review"  # of a support plan


class VisitStatus(enum.StrEnum):
    """Offered (a freed slot offered to the next referral that fits, until accepted or it
    lapses) → booked → done or wasted (nobody in, turned away); or moved (a new visit replaces
    it) or cancelled. Offered and booked are "live": one live visit per slot."""

    OFFERED = "offered"
    BOOKED = "booked"
    DONE = "done"
    WASTED = "wasted"
    MOVED = "moved"
    CANCELLED = "cancelled"
    LAPSED = "lapsed"  # an offer not taken up in time


LIVE_VISIT_STATUSES = (VisitStatus.OFFERED, VisitStatus.BOOKED)


class Visit(Model):
    """An assessment visit (for a referral) or a review visit (for a support plan), in one
    diary slot. A move is a new visit: this one's status becomes "moved" and `moved_to_id`
    names the new one, so the figures count moves."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(
            "(referral_id IS NULL) <> (support_plan_id IS NULL)",
            name="visit_for_a_referral_or_a_plan",
        ),
        Index(
            "uq_visits_one_live_per_slot",
            "slot_id",
            unique=True,
            sqlite_where=text("status IN ('offered', 'booked')"),
            postgresql_where=text("status IN ('offered', 'booked')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("diary_slots.id"), index=True)
    kind: Mapped[VisitKind] = mapped_column(string_enum(VisitKind, "visit_kind"))
    status: Mapped[VisitStatus] = mapped_column(
        string_enum(VisitStatus, "visit_status"), default=VisitStatus.BOOKED
    )
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    support_plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("support_plans.id"), index=True
    )
    # Who booked it: an officer, the person (or someone for them) online, or None for the
    # system (by skill, area and availability).
    booked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moved_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visits.id"))
    # Who ended it early: "person", "council" or "system" (an absence), and why.
    ended_by: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A review visit done: the review date it served (the plan's date moves on to the next
    # review, and the figures count this one against the date it was due).
    review_due_on: Mapped[date | None]

    slot: Mapped[DiarySlot] = relationship()
    referral: Mapped[Referral | None] = relationship()
    support_plan: Mapped[SupportPlan | None] = relationship()
    booked_by: Mapped[User | None] = relationship(foreign_keys=[booked_by_id])
    moved_to: Mapped[Visit | None] = relationship(remote_side=[id])
