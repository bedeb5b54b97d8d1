"""An organisation's staff: owners invite colleagues by a single-use emailed link, and remove
them. Functions flush and never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.accounts.tokens import new_token, token_hash
from marketplace.extensions import db
from marketplace.mail import queue_email
from marketplace.types import utcnow
from providers import organisations
from providers.models import Organisation, StaffInvitation

INVITATION_LIFETIME = timedelta(days=7)


class StaffChangeRefused(ValueError):
    """The change would leave the organisation in a state the rules forbid."""


def invite(
    organisation: Organisation, email: str, *, by: User, link: Callable[[str], str]
) -> StaffInvitation:
    """Email `email` a link to join the organisation's staff, good once for 7 days.

    Raises StaffChangeRefused if the address already has an account.
    """
    email = accounts.normalise_email(email)
    if accounts.user_by_email(email) is not None:
        raise StaffChangeRefused(
            "That email address already has an account. Ask them to use another address"
        )
    token, hashed = new_token()
    now = utcnow()
    invitation = StaffInvitation(
        organisation=organisation,
        email=email,
        token_hash=hashed,
        invited_by_id=by.id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    queue_email(
        email,
        f"Join {organisation.name} on the care and support marketplace",
        f"{by.full_name} has invited you to {_work_of(organisation)}.\n\n"
        f"Open this link within 7 days to set up your account:\n\n{link(token)}\n\n"
        "The link works once. If you were not expecting this, you can ignore it.",
    )
    return invitation


def _work_of(organisation: Organisation) -> str:
    if organisation.is_brokerage:
        return (
            f"join {organisation.name} as a broker, helping people find and arrange care with "
            "their consent"
        )
    return f"help manage {organisation.name}'s listings and orders"


def invitation_for(token: str) -> StaffInvitation:
    """The open invitation this token belongs to. Raises InvalidLink otherwise."""
    invitation = db.session.scalar(
        select(StaffInvitation).where(StaffInvitation.token_hash == token_hash(token))
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        raise accounts.InvalidLink("This invitation has expired or has already been used")
    return invitation


def accept(token: str, *, full_name: str, password: str) -> User:
    """Make the invited person's staff account: a broker for a brokerage, provider staff
    otherwise. Someone joining an organisation with no active owner (the council's own
    brokerage, added by an officer) becomes its owner, so that someone can invite the rest.
    Raises InvalidLink or PasswordRejected."""
    invitation = invitation_for(token)
    if accounts.user_by_email(invitation.email) is not None:
        raise accounts.InvalidLink("An account already uses this email address")
    organisation = invitation.organisation
    first_owner = not any(member.is_organisation_owner for member in active_staff(organisation))
    user = accounts.create_user(
        email=invitation.email,
        full_name=full_name,
        password=password,
        role=organisations.staff_role(organisation),
        organisation_id=invitation.organisation_id,
    )
    user.is_organisation_owner = first_owner
    invitation.accepted_at = utcnow()
    db.session.flush()
    return user


def revoke(organisation: Organisation, invitation_id: uuid.UUID) -> None:
    """Cancel an open invitation of this organisation's (another's is never found)."""
    invitation = db.session.scalar(
        select(StaffInvitation).where(
            StaffInvitation.id == invitation_id,
            StaffInvitation.organisation_id == organisation.id,
            StaffInvitation.accepted_at.is_(None),
            StaffInvitation.revoked_at.is_(None),
        )
    )
    if invitation is None:
        raise LookupError("no such open invitation")
    invitation.revoked_at = utcnow()
    db.session.flush()


def open_invitations(organisation: Organisation) -> list[StaffInvitation]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(StaffInvitation)
            .where(
                StaffInvitation.organisation_id == organisation.id,
                StaffInvitation.accepted_at.is_(None),
                StaffInvitation.revoked_at.is_(None),
                StaffInvitation.expires_at > now,
            )
            .order_by(StaffInvitation.created_at)
        )
    )


def active_staff(organisation: Organisation) -> list[User]:
    return [user for user in organisation.staff if user.active]


def needs_first_broker(organisation: Organisation) -> bool:
    """True for a brokerage with no active owner (the council's own, added by an officer, or
    one whose brokers have all left): a council officer may then invite a broker, who becomes
    its owner on joining."""
    return organisation.is_brokerage and not any(
        member.is_organisation_owner for member in active_staff(organisation)
    )


def staff_member(organisation: Organisation, user_id: uuid.UUID) -> User | None:
    """A member of this organisation's staff (another organisation's is never found)."""
    return db.session.scalar(
        select(User).where(User.id == user_id, User.organisation_id == organisation.id)
    )


def remove(organisation: Organisation, member: User, *, by: User) -> None:
    """Close a colleague's account. Their past actions stay on record under their name.

    Raises StaffChangeRefused for removing yourself or the last active owner.
    """
    if member.id == by.id:
        raise StaffChangeRefused("You cannot remove yourself")
    if member.organisation_id != organisation.id:
        raise LookupError("not a member of this organisation")
    owners = [user for user in active_staff(organisation) if user.is_organisation_owner]
    if member.is_organisation_owner and len(owners) <= 1:
        raise StaffChangeRefused("An organisation must keep at least one owner")
    member.active = False
    db.session.flush()
