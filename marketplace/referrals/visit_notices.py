"""Telling people about their visits (issue 20 item 5, VISITS): the person's accounts get a
notification (and its email), and the contact email given in the self-assessment gets the
same news with a link to the visit page, once. Officers are told when the system could not
re-book a visit.

Rules only: they flush, never commit; emails go after the commit (`mail.queue_email`).
"""

from __future__ import annotations

from marketplace.accounts.models import User
from marketplace.formatting import london_time
from marketplace.mail import queue_email, site_address
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import council_officers, notify, recipients_for_person
from marketplace.referrals.models import Referral, Visit, VisitKind
from marketplace.types import Session

WHAT_TO_EXPECT = (
    "The assessor will talk with you about what you can do, what you find hard and what "
    "matters to you. It usually takes about an hour. You can have a family member, friend or "
    "carer with you."
)


def visit_path(visit: Visit) -> str | None:
    """The person's page for an assessment visit (none for a review: the council arranges it)."""
    if visit.referral is None:
        return None
    return f"/self-assessment/{visit.referral.assessment_id}/visit"


def describe(visit: Visit) -> str:
    """'4 March 2026 at 2:00pm with Sam Assessor'."""
    return f"{london_time(visit.slot.starts_at)} with {visit.slot.assessor.user.full_name}"


def _accounts(session: Session, visit: Visit) -> list[User]:
    users: list[User] = []
    referral = visit.referral
    if referral is not None:
        if referral.assessment.user is not None:
            users.append(referral.assessment.user)
        if referral.person_id is not None:
            users += recipients_for_person(session, referral.person_id)
    elif visit.support_plan is not None:
        users += recipients_for_person(session, visit.support_plan.person_id)
    return users


def _contact_email(visit: Visit) -> str | None:
    if visit.referral is not None:
        contact = visit.referral.assessment.answers.get("contact") or {}
        return (contact.get("email") or "").strip() or None
    if visit.support_plan is not None:
        return visit.support_plan.person.email or None
    return None


def tell_person(
    session: Session, visit: Visit, kind: NotificationKind, title: str, body: str
) -> int:
    """Tell the person about `visit`: each of their accounts (notification and email) and the
    contact email they gave, unless it is one of those accounts'. Returns how many were told."""
    link = visit_path(visit)
    users = [user for user in _accounts(session, visit) if user.active]
    notify(session, users, kind, title=title, body=body, link=link)
    told = len({user.id for user in users})
    contact = _contact_email(visit)
    if contact and contact.lower() not in {user.email.lower() for user in users}:
        where = f"\n\nSee your visit, or move or cancel it: {site_address(link)}" if link else ""
        queue_email(contact, title, f"{title}.\n\n{body}{where}\n")
        told += 1
    return told


def tell_officers(session: Session, referral: Referral | None, title: str, body: str) -> None:
    """Tell the referral's officer (or every council officer when none is assigned)."""
    officers = (
        [referral.assigned_to]
        if referral is not None and referral.assigned_to is not None
        else council_officers(session)
    )
    link = f"/council/referrals/{referral.id}/visit" if referral is not None else None
    notify(session, officers, NotificationKind.VISIT_CANCELLED, title=title, body=body, link=link)


def booked(session: Session, visit: Visit) -> None:
    what = "assessment visit" if visit.kind is VisitKind.ASSESSMENT else "support plan review"
    tell_person(
        session,
        visit,
        NotificationKind.VISIT_BOOKED,
        f"Your {what} is booked",
        f"Your {what} is booked for {describe(visit)}. {WHAT_TO_EXPECT}",
    )


def moved(session: Session, old: Visit, new: Visit, why: str) -> None:
    tell_person(
        session,
        new,
        NotificationKind.VISIT_MOVED,
        "Your visit has moved",
        f"{why} Your visit on {describe(old)} is now on {describe(new)}.",
    )


def cancelled(session: Session, visit: Visit, why: str) -> None:
    tell_person(
        session,
        visit,
        NotificationKind.VISIT_CANCELLED,
        "Your visit is cancelled",
        f"Your visit on {describe(visit)} is cancelled. {why}",
    )


def offered(session: Session, visit: Visit) -> None:
    expires = london_time(visit.offer_expires_at) if visit.offer_expires_at else "soon"
    tell_person(
        session,
        visit,
        NotificationKind.VISIT_OFFERED,
        "An earlier assessment visit is free",
        f"A visit on {describe(visit)} is free. Accept it online by {expires} if you would "
        "like it; otherwise it will be offered to someone else.",
    )


def reminder(session: Session, visit: Visit) -> None:
    tell_person(
        session,
        visit,
        NotificationKind.VISIT_REMINDER,
        "Reminder: your visit is soon",
        f"Your visit is on {describe(visit)}. {WHAT_TO_EXPECT} If you cannot be in, move or "
        "cancel it online or call the council.",
    )
