"""The referral queue (issue 20 item 4): a sent self-assessment becomes a referral, ordered
by urgency and age. REFERRALS part fills in the rest (first contact, resolving, converting)."""

from __future__ import annotations

from datetime import datetime

from marketplace.orders.checkout import new_reference
from marketplace.postcodes import district_of
from marketplace.referrals import questions
from marketplace.referrals.models import (
    Referral,
    ReferralEvent,
    SelfAssessment,
    Urgency,
)
from marketplace.types import Session

# Conditions that need an assessor with that skill (Assessor.skills holds the same words).
SKILL_FOR_CONDITION = {
    "dementia": "dementia",
    "sensory": "sensory",
    "mental_health": "mental_health",
    "learning_disability": "learning_disability",
}


def receive_referral(session: Session, assessment: SelfAssessment, *, now: datetime) -> Referral:
    """The referral for a self-assessment being sent (flushed), with its "received" event:
    its urgency, the person's postcode district and the skills an assessment needs, all read
    from the answers."""
    answers = assessment.answers
    urgency = Urgency(answers.get("urgency", Urgency.ROUTINE.value))
    conditions = answers.get("conditions") or []
    referral = Referral(
        reference=new_reference("REF"),
        assessment=assessment,
        urgency=urgency,
        urgency_rank=urgency.rank,
        district=district_of(answers["postcode"]) if answers.get("postcode") else None,
        needs_skills=sorted(
            {SKILL_FOR_CONDITION[c] for c in conditions if c in SKILL_FOR_CONDITION}
        ),
        received_at=now,
        updated_at=now,
    )
    session.add(referral)
    session.add(
        ReferralEvent(
            referral=referral,
            kind="received",
            note=f"Sent by {questions.BY_KEY['who'].options[0][1].lower()}"
            if not questions.for_someone_else(answers)
            else f"Sent for the person by {answers.get('who_name') or 'someone else'}",
            at=now,
        )
    )
    session.flush()
    return referral
