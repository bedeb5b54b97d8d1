"""Telling people what concerns them: a row in each one's inbox and an email.

Emails say what happened and where to look, and nothing more: no names of the person cared
for, no amounts, no health details. The page behind the link checks who is asking.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update

from marketplace.accounts.models import User
from marketplace.links import notification_link
from marketplace.mail import queue_email, site_address
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.types import Session, utcnow


def notify(
    session: Session,
    users: Iterable[User],
    kind: NotificationKind,
    *,
    title: str,
    body: str = "",
    link: str | None = None,
    order_id: uuid.UUID | None = None,
    email: bool = True,
) -> list[Notification]:
    """Put a notification in each active user's inbox and email them (after commit). It links
    to `link` (a path inside the site), or, for one about an order (`order_id`), to each
    reader's own page for that order, made at the edge (`links.notification_link`)."""
    notifications = []
    seen: set[uuid.UUID] = set()
    for user in users:
        if not user.active or user.id in seen:
            continue
        seen.add(user.id)
        notification = Notification(
            user_id=user.id, kind=kind, title=title, body=body, link=link, order_id=order_id
        )
        session.add(notification)
        notifications.append(notification)
        if email:
            queue_email(
                user.email, title, _email_body(title, notification_link(notification, user.role))
            )
    session.flush()
    return notifications


def _email_body(title: str, link: str | None) -> str:
    # The mail's edge makes the address: the one the user came by, or SITE_URL in a job.
    where = site_address(link) or "the marketplace"
    return (
        f"{title}.\n\n"
        f"Sign in to see the details: {where}\n\n"
        "You are getting this email because you use the care services marketplace.\n"
    )


def inbox(session: Session, user: User, *, limit: int = 50) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_all_read(session: Session, user: User, now: datetime | None = None) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
    )
    return result.rowcount or 0


def recipients_for_person(session: Session, person_id: uuid.UUID) -> list[User]:
    """Who hears about a person's orders: their own login, if they have one."""
    return list(session.scalars(select(User).where(User.person_id == person_id)))


def recipients_for_organisation(session: Session, organisation_id: uuid.UUID) -> list[User]:
    return list(session.scalars(select(User).where(User.organisation_id == organisation_id)))


def council_officers(session: Session) -> list[User]:
    from marketplace.accounts.roles import Role

    return list(session.scalars(select(User).where(User.role == Role.COUNCIL_OFFICER)))
