"""The referral queue (issue 20 item 4): a sent self-assessment becomes a referral, ordered by
urgency and age; an officer makes first contact, resolves it there and then (advice,
equipment, a community service), sends it for an assessment visit, closes it, or turns it into
a person's record, a draft support plan and a budget (`referrals.conversion`), keeping the
answers.

Every step goes through `ALLOWED_MOVES` (a step from any other status is refused), takes the
referral's write lock first (two officers acting on one referral at once: the second waits,
reads the first's step, and is refused in words), writes a ReferralEvent, records an officer's
decision in the work queues' log (queue "referrals") and tells the person: in their inbox when
an account is theirs, and by email at the contact address their answers give. Rules only:
they flush, never commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from marketplace.accounts.models import User
from marketplace.console.queue_log import record_decision
from marketplace.console.queues import lock_for_decision
from marketplace.mail import queue_email
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import notify, recipients_for_person
from marketplace.orders.checkout import new_reference
from marketplace.postcodes import district_of
from marketplace.referrals import questions
from marketplace.referrals.models import (
    Referral,
    ReferralEvent,
    ReferralStatus,
    SelfAssessment,
    Urgency,
)
from marketplace.referrals.referral_lists import live_visit
from marketplace.types import Session

QUEUE = "referrals"  # the work queue's name, for record_decision

# Conditions that need an assessor with that skill (Assessor.skills holds the same words).
SKILL_FOR_CONDITION = {
    "dementia": "dementia",
    "sensory": "sensory",
    "mental_health": "mental_health",
    "learning_disability": "learning_disability",
}

S = ReferralStatus
# Where a referral may go from each status; nothing else is allowed. A referral resolved,
# converted or closed is decided: it goes nowhere. A visit is booked (and cancelled back to
# awaiting) by the VISITS part through `move`.
ALLOWED_MOVES: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    S.RECEIVED: frozenset({S.IN_CONTACT, S.RESOLVED, S.AWAITING_VISIT, S.CONVERTED, S.CLOSED}),
    S.IN_CONTACT: frozenset({S.RESOLVED, S.AWAITING_VISIT, S.ASSESSED, S.CONVERTED, S.CLOSED}),
    S.AWAITING_VISIT: frozenset({S.VISIT_BOOKED, S.ASSESSED, S.CLOSED}),
    # Closing with a visit booked would leave the assessor's slot taken: cancel the visit
    # first (VISITS), which frees the slot for the next referral.
    S.VISIT_BOOKED: frozenset({S.AWAITING_VISIT, S.ASSESSED}),
    S.ASSESSED: frozenset({S.AWAITING_VISIT, S.CONVERTED, S.CLOSED}),
    S.RESOLVED: frozenset(),
    S.CONVERTED: frozenset(),
    S.CLOSED: frozenset(),
}
DECIDED = frozenset({S.RESOLVED, S.CONVERTED, S.CLOSED})

CONTACT_WAYS = {"phone": "by phone", "visit": "in person", "email": "by email"}
RESOLUTIONS = {
    "advice": "Advice and information",
    "equipment": "Equipment",
    "community_service": "A community service",
}
CLOSE_REASONS = {
    "withdrawn": "The person no longer wants help from the council",
    "not_eligible": "The person's needs do not meet the eligibility criteria",
    "moved_away": "The person has moved away from the county",
    "duplicate": "Another referral for the same person is being dealt with",
    "died": "The person has died",
}
NOTE_MAX = 2000


class ReferralError(ValueError):
    """A step refused: `message` says why, in words for the officer; `field` names the form
    field it is about, if any."""

    code = "validation_error"

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class ReferralMoveRefused(ReferralError):
    """The referral is not in a status the step may start from (another officer has just
    moved it, or the step makes no sense from there)."""

    code = "conflict"


# Receiving ------------------------------------------------------------------------------------


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
            note="Sent by the person themselves"
            if not questions.for_someone_else(answers)
            else f"Sent for the person by {answers.get('who_name') or 'someone else'}",
            at=now,
        )
    )
    session.flush()
    return referral


def triage(session: Session, referral: Referral, *, now: datetime) -> bool:
    """The council's triage as a referral arrives: when its answers alone show an assessor
    must visit (`visit_needed_from_answers`), it waits for a visit from the moment it is
    sent, so the person may choose a time at once; any other referral waits for an officer's
    first contact, which may resolve it there and then. Returns whether it now awaits a
    visit. Flushes."""
    if referral.status is not S.RECEIVED or not visit_needed_from_answers(
        referral.assessment.answers
    ):
        return False
    move(
        session,
        referral,
        S.AWAITING_VISIT,
        by=None,
        kind="visit_needed",
        note="From the answers, an assessor will visit to talk through the person's needs: "
        "a time can be chosen now, or the council will offer one",
        now=now,
    )
    return True


# Needs a first contact cannot meet: help every time, or not possible at all, with any of the
# eligibility outcomes; a carer who cannot carry on; or help needed now.
_VISIT_LEVELS = frozenset({"lot", "unable"})
_VISIT_URGENCY = frozenset({Urgency.LEAVING_HOSPITAL.value, Urgency.URGENT.value})


def visit_needed_from_answers(answers: dict[str, Any]) -> bool:
    """Whether the answers alone show an assessor must visit (docs/front-door.md)."""
    return (
        any(answers.get(key) in _VISIT_LEVELS for key in questions.OUTCOME_KEYS)
        or answers.get("carer_coping") == "no"
        or answers.get("urgency") in _VISIT_URGENCY
    )


# Moving -------------------------------------------------------------------------------------


def may_move(referral: Referral, to: ReferralStatus) -> bool:
    """Whether the table allows `referral` to go to `to` from where it is now."""
    return to in ALLOWED_MOVES[referral.status]


def move(
    session: Session,
    referral: Referral,
    to: ReferralStatus,
    *,
    by: User | None,
    kind: str,
    note: str,
    now: datetime,
    shown_to_person: bool = True,
    only_from: frozenset[ReferralStatus] | None = None,
) -> ReferralEvent:
    """Move the referral to `to` and write its event (flushed). The caller holds the
    referral's lock (`lock`). Raises ReferralMoveRefused if the table does not allow it, or
    the step allows fewer starting points (`only_from`) and this is not one."""
    if not may_move(referral, to) or (only_from is not None and referral.status not in only_from):
        raise ReferralMoveRefused(
            f"Referral {referral.reference} is {referral.status.label.lower()}: it cannot "
            f"now be {to.label.lower()}",
            status=referral.status.value,
        )
    referral.status = to
    referral.updated_at = now
    event = ReferralEvent(
        referral_id=referral.id,
        kind=kind,
        note=note,
        shown_to_person=shown_to_person,
        by_id=by.id if by is not None else None,
        at=now,
    )
    session.add(event)
    session.flush()
    return event


def lock(session: Session, referral: Referral) -> None:
    """Take the referral's write lock and read it again: a second officer acting on it at
    the same moment waits here, then reads the first's step."""
    lock_for_decision(session, referral)


def tell_person(session: Session, referral: Referral, *, title: str, body: str) -> str:
    """Tell the person of a step: a notification (referral_updated) to the account that sent
    it and the account of the person's record, and an email to the contact address in the
    answers unless one of those accounts already has it. Returns who was told, in words."""
    assessment = referral.assessment
    users: dict[uuid.UUID, User] = {}
    if assessment.user is not None:
        users[assessment.user.id] = assessment.user
    person_id = assessment.person_id or referral.person_id
    if person_id is not None:
        users.update({user.id: user for user in recipients_for_person(session, person_id)})
    told = []
    if users:
        notify(
            session,
            users.values(),
            NotificationKind.REFERRAL_UPDATED,
            title=title,
            body=body,
            link=f"/self-assessment/{assessment.id}/status",
        )
        told.append("their account")
    email = contact_email(assessment)
    if email and email.lower() not in {user.email.lower() for user in users.values()}:
        queue_email(
            email,
            f"Your referral {referral.reference}: {title}",
            f"{body}\n\nYour reference is {referral.reference}. If you have any questions, "
            "contact the council's adult social care team and give this reference.",
        )
        told.append(email)
    return " and ".join(told) or "no one: no account or email address"


def contact_email(assessment: SelfAssessment) -> str | None:
    """The email address the answers give for contact, if any."""
    contact = assessment.answers.get("contact") or {}
    email = str(contact.get("email") or "").strip()
    return email or None


def _note(note: str, *, required: str | None = None) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ReferralError(required, field="note")
    if len(note) > NOTE_MAX:
        raise ReferralError(f"The note must be {NOTE_MAX} characters or fewer", field="note")
    return note


def decide(
    session: Session,
    referral: Referral,
    *,
    by: User | None,
    decision: str,
    reason: str,
    told: str,
    now: datetime,
) -> None:
    """Record an officer's decision in the work queues' log (nothing when the system took
    the step, such as a visit done with no officer named)."""
    if by is None:
        return
    record_decision(
        session,
        queue=QUEUE,
        subject_id=referral.id,
        subject_label=f"{referral.reference}: {referral.assessment.answers.get('full_name', '')}",
        decision=decision,
        reason=reason,
        waiting_since=referral.received_at,
        decided_by_id=by.id,
        told=told,
        at=now,
    )


# The steps ----------------------------------------------------------------------------------


_WAITING_FOR_A_VISIT = frozenset({S.AWAITING_VISIT, S.VISIT_BOOKED})


def may_record_contact(referral: Referral) -> bool:
    """Whether an officer may record first contact now: a referral just received, or one
    triage sent straight to a visit that nobody has spoken to yet."""
    return referral.status is S.RECEIVED or (
        referral.status in _WAITING_FOR_A_VISIT and referral.first_contact_at is None
    )


def record_first_contact(
    session: Session, referral: Referral, *, by: User, how: str, note: str, now: datetime
) -> Referral:
    """The council has spoken to the person (`how`: phone, visit or email): the referral is
    in contact (or, waiting for a visit already, keeps waiting with the contact recorded).
    Raises ReferralError (an unknown way, a note too long) or ReferralMoveRefused (contact is
    already recorded, or it is decided)."""
    if how not in CONTACT_WAYS:
        raise ReferralError("Choose how you contacted the person", field="how")
    note = _note(note)
    lock(session, referral)
    said = f"The council spoke to the person {CONTACT_WAYS[how]}" + (f": {note}" if note else "")
    if referral.status in _WAITING_FOR_A_VISIT:
        # Triage sent it straight to a visit: the first call is still recorded (the days to
        # first contact count it), and the referral keeps waiting for its visit.
        if not may_record_contact(referral):
            raise ReferralMoveRefused(
                f"First contact with referral {referral.reference} is already recorded",
                status=referral.status.value,
            )
        session.add(
            ReferralEvent(
                referral_id=referral.id, kind="first_contact", note=said, by_id=by.id, at=now
            )
        )
    else:
        move(session, referral, S.IN_CONTACT, by=by, kind="first_contact", note=said, now=now)
    referral.first_contact_at = referral.first_contact_at or now
    referral.assigned_to_id = referral.assigned_to_id or by.id
    tell_person(
        session,
        referral,
        title="The council has been in touch about your referral",
        body=f"An officer has been in touch {CONTACT_WAYS[how]} about your referral "
        f"{referral.reference}. They will tell you what happens next.",
    )
    session.flush()
    return referral


def resolve_at_first_contact(
    session: Session, referral: Referral, *, by: User, how: str, note: str, now: datetime
) -> Referral:
    """Resolve the referral at first contact (`how`: advice, equipment or community_service),
    with a note of what was given: it is decided now. Raises ReferralError (an unknown way,
    no note) or ReferralMoveRefused (it has been assessed, sent for a visit or decided)."""
    if how not in RESOLUTIONS:
        raise ReferralError("Choose how the referral was resolved", field="how")
    note = _note(note, required="Say what the person was given or told")
    lock(session, referral)
    move(
        session,
        referral,
        S.RESOLVED,
        by=by,
        kind="resolved",
        note=f"{RESOLUTIONS[how]}: {note}",
        now=now,
    )
    referral.resolution = how
    referral.resolution_note = note
    referral.decided_at = now
    referral.first_contact_at = referral.first_contact_at or now
    told = tell_person(
        session,
        referral,
        title="Your referral has been resolved",
        body=f"Your referral {referral.reference} has been resolved: "
        f"{RESOLUTIONS[how].lower()}.\n\n{note}",
    )
    decide(session, referral, by=by, decision="resolved", reason=note, told=told, now=now)
    return referral


def needs_visit(
    session: Session, referral: Referral, *, by: User, note: str, now: datetime
) -> Referral:
    """An assessor needs to visit: the referral waits for a visit to be booked. Raises
    ReferralError (a note too long) or ReferralMoveRefused."""
    note = _note(note)
    lock(session, referral)
    move(
        session,
        referral,
        S.AWAITING_VISIT,
        by=by,
        kind="visit_needed",
        # A visit booked goes back to waiting only when it is cancelled (VISITS).
        only_from=frozenset({S.RECEIVED, S.IN_CONTACT, S.ASSESSED}),
        note="An assessor will visit to talk through the person's needs"
        + (f": {note}" if note else ""),
        now=now,
    )
    told = tell_person(
        session,
        referral,
        title="An assessor will visit you",
        body=f"The council needs to visit to talk about your referral {referral.reference}. "
        "We will offer you a time, which you can accept, move or cancel.",
    )
    decide(session, referral, by=by, decision="visit_needed", reason=note, told=told, now=now)
    return referral


def close(
    session: Session, referral: Referral, *, by: User, reason: str, note: str, now: datetime
) -> Referral:
    """Close the referral (`reason`: one of CLOSE_REASONS) with a note: it is decided. Raises
    ReferralError (an unknown reason) or ReferralMoveRefused (decided, or a visit is booked:
    cancel it first)."""
    if reason not in CLOSE_REASONS:
        raise ReferralError("Choose why the referral is being closed", field="reason")
    note = _note(note)
    lock(session, referral)
    words = CLOSE_REASONS[reason] + (f". {note}" if note else "")
    move(session, referral, S.CLOSED, by=by, kind="closed", note=words, now=now)
    referral.closed_reason = words
    referral.decided_at = now
    told = tell_person(
        session,
        referral,
        title="Your referral has been closed",
        body=f"Your referral {referral.reference} has been closed. {words}.\n\nIf your "
        "situation changes, you can fill in a new self-assessment at any time.",
    )
    decide(session, referral, by=by, decision="closed", reason=words, told=told, now=now)
    return referral


def mark_assessed(
    session: Session, referral: Referral, *, by: User | None, note: str, now: datetime
) -> Referral:
    """The person's needs have been assessed (an assessment visit done, or an officer's
    assessment): the referral waits for the council to decide. `by` is None when the
    system takes the step. Raises ReferralError (a note too long; a visit still offered or
    booked, whose outcome is recorded instead, which assesses it) or ReferralMoveRefused."""
    note = _note(note)
    lock(session, referral)
    if live_visit(session, referral) is not None:
        raise ReferralError(
            "An assessment visit is offered or booked: record what happened at the visit, "
            "or cancel it, first"
        )
    move(
        session,
        referral,
        S.ASSESSED,
        by=by,
        kind="assessed",
        note="The person's needs have been assessed" + (f": {note}" if note else ""),
        now=now,
    )
    told = tell_person(
        session,
        referral,
        title="Your needs have been assessed",
        body=f"Your needs have been assessed for your referral {referral.reference}. The "
        "council will now decide with you what support you will have.",
    )
    decide(session, referral, by=by, decision="assessed", reason=note, told=told, now=now)
    return referral
