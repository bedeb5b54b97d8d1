"""Who may use a self-assessment from this browser (issue 20).

A self-assessment may be answered with no account, so the browser that started it (or
followed its "come back later" link) holds it in its session; a signed-in account holds those
it started or that are about the person the account belongs to (`can(user,
"answer_self_assessment", assessment)`). Officers read any through the council's pages, never
these. Anyone else is told the page is not found, so an assessment's id or reference proves
nothing.
"""

from __future__ import annotations

import uuid

from flask import abort, session
from flask_login import current_user

from marketplace.accounts.policy import can
from marketplace.extensions import db
from marketplace.referrals.models import SelfAssessment

SESSION_KEY = "front_door_assessments"
# A browser holds at most this many (the newest): a shared computer's session stays small.
HELD_AT_MOST = 5


def remember(assessment: SelfAssessment) -> None:
    """Let this browser use `assessment` (it started it, or followed its link)."""
    held = [held_id for held_id in session.get(SESSION_KEY, []) if held_id != str(assessment.id)]
    session[SESSION_KEY] = ([*held, str(assessment.id)])[-HELD_AT_MOST:]


def forget(assessment: SelfAssessment) -> None:
    held = session.get(SESSION_KEY, [])
    session[SESSION_KEY] = [held_id for held_id in held if held_id != str(assessment.id)]


def held_ids() -> list[uuid.UUID]:
    """The assessments this browser holds, newest last."""
    return [uuid.UUID(held_id) for held_id in session.get(SESSION_KEY, [])]


def may_use(assessment: SelfAssessment) -> bool:
    if str(assessment.id) in session.get(SESSION_KEY, []):
        return True
    return bool(
        current_user.is_authenticated and can(current_user, "answer_self_assessment", assessment)
    )


def assessment_or_404(assessment_id: uuid.UUID) -> SelfAssessment:
    """The assessment, if this browser or account may use it; otherwise 404 (never 403: the
    id is not confirmed to exist)."""
    assessment = db.session.get(SelfAssessment, assessment_id)
    if assessment is None or not may_use(assessment):
        abort(404)
    return assessment
