"""Test data for the front door's parts (issue 20), made straight as rows so that each part's
tests stand without the others' rules: a complete set of answers, a resource allocation
version, an assessment in progress or sent (with its indication and its referral), an
assessor with diary slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marketplace.accounts.models import User
from marketplace.orders.checkout import new_reference
from marketplace.referrals.models import (
    AssessmentStatus,
    Assessor,
    DiarySlot,
    Indication,
    RasVersion,
    Referral,
    SelfAssessment,
)
from marketplace.referrals.queue import receive_referral
from marketplace.types import Session

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

# Every question answered, for someone who needs a good deal of help at home.
COMPLETE_ANSWERS: dict[str, Any] = {
    "who": "person",
    "full_name": "Alex Example",
    "postcode": "SG1 1AA",
    "contact": {"email": "alex@example.org", "phone": ""},
    "nutrition": "some",
    "hygiene": "lot",
    "toileting": "none",
    "clothing": "lot",
    "moving_home": "some",
    "home_safe": "some",
    "relationships": "some",
    "work_learning": "none",
    "community": "lot",
    "caring_child": "none",
    "carer_support": "some",
    "carer_coping": "struggling",
    "conditions": ["physical"],
    "in_your_words": "Help getting washed and dressed in the mornings, and getting out.",
    "urgency": "soon",
    "savings": "under_lower",
    "income": "200_400",
}


def answers(**changes: Any) -> dict[str, Any]:
    """COMPLETE_ANSWERS with `changes` applied (a value of None removes the key)."""
    result = dict(COMPLETE_ANSWERS)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def make_ras_version(
    session: Session, config: dict[str, Any] | None = None, *, number: int | None = None
) -> RasVersion:
    """A resource allocation version with `config` (the RAS part's default when None)."""
    if config is None:
        from marketplace.referrals import ras

        config = ras.default_config()
    if number is None:
        latest = session.query(RasVersion).order_by(RasVersion.number.desc()).first()
        number = (latest.number + 1) if latest else 1
    version = RasVersion(number=number, config=config, note="Made by a test")
    session.add(version)
    session.flush()
    return version


def make_assessment(
    session: Session,
    version: RasVersion,
    answers_given: dict[str, Any] | None = None,
    *,
    user: User | None = None,
    started_at: datetime = NOW,
    last_question: str | None = None,
) -> SelfAssessment:
    """A self-assessment in progress with these answers (none by default)."""
    assessment = SelfAssessment(
        reference=new_reference("SA"),
        ras_version=version,
        answers=dict(answers_given or {}),
        user_id=user.id if user else None,
        started_at=started_at,
        updated_at=started_at,
        last_question=last_question,
    )
    session.add(assessment)
    session.flush()
    return assessment


def make_referral(
    session: Session,
    version: RasVersion,
    answers_given: dict[str, Any] | None = None,
    *,
    user: User | None = None,
    sent_at: datetime = NOW,
    low_weekly_pence: int = 20_000,
    high_weekly_pence: int = 26_000,
    points: int = 20,
) -> Referral:
    """A sent self-assessment (complete answers by default) with an indication of the given
    range and its referral, received at `sent_at`."""
    assessment = make_assessment(
        session,
        version,
        answers_given if answers_given is not None else COMPLETE_ANSWERS,
        user=user,
        started_at=sent_at - timedelta(minutes=20),
    )
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.submitted_at = sent_at
    session.add(
        Indication(
            assessment=assessment,
            ras_version=version,
            points=points,
            low_weekly_pence=low_weekly_pence,
            high_weekly_pence=high_weekly_pence,
            band="Made by a test",
            made_at=sent_at,
        )
    )
    return receive_referral(session, assessment, now=sent_at)


def make_assessor(
    session: Session,
    user: User,
    *,
    skills: list[str] | None = None,
    districts: list[str] | None = None,
) -> Assessor:
    assessor = Assessor(user=user, skills=skills or [], districts=districts or [])
    session.add(assessor)
    session.flush()
    return assessor


def make_slots(
    session: Session,
    assessor: Assessor,
    first: datetime,
    *,
    count: int = 4,
    every: timedelta = timedelta(days=1),
    length: timedelta = timedelta(hours=1, minutes=30),
) -> list[DiarySlot]:
    """`count` slots of `length`, the first at `first`, one every `every`."""
    slots = [
        DiarySlot(
            assessor=assessor, starts_at=first + i * every, ends_at=first + i * every + length
        )
        for i in range(count)
    ]
    session.add_all(slots)
    session.flush()
    return slots
