"""The self-assessment's rules (issue 20 item 1, JOURNEY): starting one, saving an answer (each
checked against `referrals.questions`), the questions still to ask, "check your answers",
sending it (the indication, the referral, the council told), and "save and come back later"
by an emailed link.

Two people may have one assessment open at once (a family member and a broker, or one person
in two tabs). Every change names the revision it was made from; the database takes only a
change from the current revision (`_claim`), so the second of two saves from one revision is
refused (`StaleAnswers`) and nothing the first saved is lost.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.formatting import london_time
from marketplace.mail import queue_email, site_address
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import council_officers, notify
from marketplace.orders.checkout import new_reference
from marketplace.referrals import questions as q
from marketplace.referrals import queue, ras
from marketplace.referrals.answer_checks import (
    EMAIL,
    EMAIL_FORMAT,
    AnswerRefused,
    clean_answer,
    problems,
)
from marketplace.referrals.models import (
    AssessmentStatus,
    CompletedBy,
    Referral,
    SelfAssessment,
)
from marketplace.types import Session

# `last_question` once every question asked is answered: the person reached "check your
# answers" (the figures' "abandoned at" names it so).
CHECK_ANSWERS = "check_answers"


class AssessmentRefused(Exception):
    """A change the rules refuse; `message` is for the person, `key` the question (if one)."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


class NoRasVersion(AssessmentRefused):
    """The council has not configured its resource allocation system yet."""


class StaleAnswers(AssessmentRefused):
    """The page was drawn from an older revision: someone changed an answer since."""


class AlreadySent(AssessmentRefused):
    """The assessment has been sent and can no longer be changed."""


class NotComplete(AssessmentRefused):
    """Some questions asked are not answered, or no longer valid: `problems`, {key: message}."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("Answer every question before you send it")
        self.problems = problems


class ResumeLinkRefused(AssessmentRefused):
    """A come-back-later link that does not work: `reason` is "unknown" (never sent, or
    replaced by a newer link), "expired" or "sent" (the assessment has been sent)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


# Starting ---------------------------------------------------------------------------------


def start(session: Session, *, by: User | None, now: datetime) -> SelfAssessment:
    """A new self-assessment in progress (flushed) under the council's current resource
    allocation version, which it keeps whatever version is made later; `by` is the signed-in
    account starting it, if any. Raises NoRasVersion before the council has configured one."""
    version = ras.current_version(session)
    if version is None:
        raise NoRasVersion(
            "The council has not set up its self-assessment yet, so it cannot be started."
        )
    assessment = SelfAssessment(
        reference=new_reference("SA"),
        ras_version=version,
        answers={},
        revision=0,
        user_id=by.id if by is not None else None,
        last_question=q.QUESTIONS[0].key,
        started_at=now,
        updated_at=now,
    )
    session.add(assessment)
    session.flush()
    return assessment


def in_progress_for(
    session: Session, *, held: list[Any], user: User | None
) -> SelfAssessment | None:
    """The newest assessment still in progress that this browser holds (`held`, ids) or the
    signed-in `user` started, or None: the start page offers to continue it."""
    conditions: list[ColumnElement[bool]] = [SelfAssessment.id.in_(held)] if held else []
    if user is not None and user.is_authenticated:
        conditions.append(SelfAssessment.user_id == user.id)
    if not conditions:
        return None
    return session.scalars(
        select(SelfAssessment)
        .where(SelfAssessment.status == AssessmentStatus.IN_PROGRESS, or_(*conditions))
        .order_by(SelfAssessment.updated_at.desc())
        .limit(1)
    ).first()


# Answers --------------------------------------------------------------------------------------


def questions_to_ask(assessment: SelfAssessment) -> list[q.Question]:
    """The questions asked (given the answers so far) and not yet answered, in order."""
    return [
        question
        for question in q.questions_asked(assessment.answers)
        if question.key not in assessment.answers
    ]


def save_answer(
    session: Session,
    assessment: SelfAssessment,
    key: str,
    value: Any,
    *,
    revision_seen: int,
    now: datetime,
    by: User | None = None,
) -> SelfAssessment:
    """Save one answer (checked by `clean_answer`) from the revision the page was drawn from,
    and move the revision on (flushed). Answers to questions no longer asked are dropped; who
    answers is recorded from "who" and "who_name"; `last_question` becomes the next question
    not answered (CHECK_ANSWERS when none is left). A signed-in `by` is recorded if no account
    was.

    Raises AnswerRefused (nothing changes), AlreadySent, StaleAnswers (someone saved since
    the page was drawn), or KeyError for a question that is not asked."""
    question = q.BY_KEY[key]
    _refuse_if_sent(assessment)
    if revision_seen != assessment.revision:
        raise _stale()
    if not q.asked(question, assessment.answers):
        raise KeyError(key)
    cleaned = clean_answer(question, value)
    _claim(session, assessment, revision_seen, now=now)
    answers = {**assessment.answers, key: cleaned}
    asked = {question.key for question in q.questions_asked(answers)}
    answers = {k: v for k, v in answers.items() if k in asked}
    assessment.answers = answers
    if key in ("who", "who_name"):
        _record_who(assessment, by)
    if by is not None and assessment.user_id is None:
        assessment.user_id = by.id
        _record_who(assessment, by)
    following = q.next_unanswered(answers)
    assessment.last_question = following.key if following else CHECK_ANSWERS
    session.flush()
    return assessment


def _record_who(assessment: SelfAssessment, by: User | None) -> None:
    who = assessment.answers.get("who")
    assessment.completed_by = CompletedBy(who) if who else None
    assessment.completed_by_name = (
        assessment.answers.get("who_name") if who and who != "person" else None
    )
    account = by if by is not None else assessment.user
    # A citizen answering for themselves who already has a person record: the assessment is
    # about that person (their account then sees it, and the referral knows them).
    if who == "person" and account is not None and account.role is Role.CITIZEN:
        assessment.person_id = account.person_id
    elif assessment.status is AssessmentStatus.IN_PROGRESS:
        assessment.person_id = None


def _claim(
    session: Session, assessment: SelfAssessment, revision_seen: int, *, now: datetime
) -> None:
    """Move the assessment from `revision_seen` to the next revision, in the database, or
    raise: the UPDATE's WHERE is the check, so of two saves from one revision only the first
    changes a row (PostgreSQL re-reads the row the second waited for; SQLite has one writer)."""
    _refuse_if_sent(assessment)
    if revision_seen != assessment.revision:
        raise _stale()
    session.flush()
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(SelfAssessment)
        .where(
            SelfAssessment.id == assessment.id,
            SelfAssessment.revision == revision_seen,
            SelfAssessment.status == AssessmentStatus.IN_PROGRESS,
        )
        .values(revision=revision_seen + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.expire(assessment)
        raise _stale()
    set_committed_value(assessment, "revision", revision_seen + 1)
    set_committed_value(assessment, "updated_at", now)


def _refuse_if_sent(assessment: SelfAssessment) -> None:
    if assessment.status is not AssessmentStatus.IN_PROGRESS:
        raise AlreadySent("This self-assessment has been sent. It can no longer be changed.")


def _stale() -> StaleAnswers:
    return StaleAnswers(
        "Someone else changed these answers since this page was shown. Check the answer "
        "now saved, then try again."
    )


def mark_checked(session: Session, assessment: SelfAssessment, *, now: datetime) -> None:
    """Record that "check your answers" was shown, and from which revision (flushed)."""
    assessment.checked_at = now
    assessment.checked_revision = assessment.revision
    session.flush()


# Sending --------------------------------------------------------------------------------------


def submit(
    session: Session, assessment: SelfAssessment, *, revision_seen: int, now: datetime
) -> Referral:
    """Send the assessment: every question asked answered and valid, from the revision the
    person checked. Then its indication (from its own resource allocation version), its
    referral in the council's queue (waiting for a visit at once when the answers show one is
    needed: `queue.triage`), and the council's officers told (referral_received).
    The assessment becomes SUBMITTED and can no longer be changed.

    Raises AlreadySent, StaleAnswers (an answer changed since the check page was drawn),
    or NotComplete (nothing changes)."""
    _refuse_if_sent(assessment)
    if revision_seen != assessment.revision:
        raise StaleAnswers(
            "Someone changed an answer since you checked them. Check the answers again, then send."
        )
    found = problems(assessment.answers)
    if found:
        raise NotComplete(problems=found)
    _claim(session, assessment, revision_seen, now=now)
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.submitted_at = now
    assessment.last_question = None
    session.flush()
    ras.make_indication(session, assessment)
    referral = queue.receive_referral(session, assessment, now=now)
    queue.triage(session, referral, now=now)
    notify(
        session,
        council_officers(session),
        NotificationKind.REFERRAL_RECEIVED,
        title=f"New referral {referral.reference}: {referral.urgency.label.lower()}",
        body="A self-assessment has been sent to the council.",
        link=f"/council/referrals/{referral.id}",
    )
    return referral


# Save and come back later ----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_resume_link(
    session: Session,
    assessment: SelfAssessment,
    *,
    email: str,
    now: datetime,
    link_path: Callable[[str], str],
) -> datetime:
    """Email `email` a link to carry on (`link_path(token)` is its path in the site), working
    for FRONT_DOOR_RESUME_DAYS days; a new link replaces the old. Only the token's sha256 is
    kept. Returns when the link stops working. Raises AlreadySent, or AnswerRefused
    (key "email") for an address that is not one."""
    _refuse_if_sent(assessment)
    email = email.strip()
    if not email or len(email) > 254 or not EMAIL.match(email):
        raise AnswerRefused(EMAIL_FORMAT, key="email")
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=int(current_app.config["FRONT_DOOR_RESUME_DAYS"]))
    assessment.resume_token_hash = _token_hash(token)
    assessment.resume_email = email
    assessment.resume_expires_at = expires_at
    session.flush()
    # No answers and no names in the email: the link is the only thing in it that matters.
    queue_email(
        email,
        "Your self-assessment: carry on where you left off",
        "You asked for a link to carry on with a self-assessment for care and support.\n\n"
        f"Carry on: {site_address(link_path(token))}\n\n"
        f"The link works until {london_time(expires_at)}. Anyone with the link can see and "
        "change the answers, so do not share it.\n\n"
        "If you did not ask for this, you can ignore this email.\n",
    )
    return expires_at


def follow_resume_link(session: Session, token: str, *, now: datetime) -> SelfAssessment:
    """The assessment a come-back-later link is for, if it is in progress and the link has
    not expired. Raises ResumeLinkRefused ("unknown", "expired" or "sent")."""
    assessment = session.scalars(
        select(SelfAssessment).where(SelfAssessment.resume_token_hash == _token_hash(token))
    ).first()
    if assessment is None:
        raise ResumeLinkRefused(
            "This link does not work. It may have been replaced by a newer link.",
            reason="unknown",
        )
    if assessment.status is not AssessmentStatus.IN_PROGRESS:
        raise ResumeLinkRefused("This self-assessment has already been sent.", reason="sent")
    expires_at = assessment.resume_expires_at
    if expires_at is None or expires_at <= now:
        raise ResumeLinkRefused("This link has expired.", reason="expired")
    return assessment
