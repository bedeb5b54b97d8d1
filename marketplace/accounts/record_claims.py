"""Claiming a record (issue 17): a person a broker (or the council) holds a record for, with no
account of their own, is emailed an invitation; following it and choosing a password makes a
citizen account linked to that record, so they see their own care, consents and notes.

It is a sign-up like any other (`accounts.service`): the link is an `EmailedLink` (a
`RecordClaim`) found and spent by `follow_sign_up_link`, and the password is checked, hashed
and the address tested by `begin_sign_up`, which emails the owner of an address that already
has an account instead. The inviter is told the same whichever way it goes, so an invitation
never reveals who has an account.

Outside the layers, like `accounts.service` (it makes a citizen's account for a person record).
Functions flush and never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from marketplace.accounts import service
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.accounts.tokens import new_token, token_hash
from marketplace.extensions import db
from marketplace.mail import queue_email
from marketplace.people.models import Person, RecordClaim
from marketplace.types import utcnow

# Longer than a sign-up's day: the invitation may reach someone who reads their email weekly,
# or whose family helps them open it.
CLAIM_LINK_LIFETIME = timedelta(days=7)


class ClaimRefused(ValueError):
    """The invitation cannot be sent: the message says why, for the inviter."""


def invite_to_claim(
    *,
    person: Person,
    email: str,
    by: User,
    claim_link: Callable[[str], str],
    sign_in_link: str,
    reset_link: str,
) -> RecordClaim | None:
    """Email `email` an invitation to claim the person's record (None and an email to the
    owner instead when the address already has an account: the inviter is told the same).

    Raises ClaimRefused if the record already belongs to an account."""
    if person.user is not None:
        raise ClaimRefused(f"{person.full_name} already has an account")
    email = service.normalise_email(email)
    if service.user_by_email(email) is not None:
        # The address is whatever the broker typed: it may be a stranger's, who must not
        # learn whose record it is (or that they have one), so the person is not named.
        service.tell_existing_account(
            email,
            "invite you to claim a record on the care and support marketplace, but this "
            "email address already has an account.\n\n"
            "If the record is yours, tell the person who invited you to use another address, "
            "or give them your consent from your account instead.",
            sign_in_link=sign_in_link,
            reset_link=reset_link,
        )
        return None
    token, hashed = new_token()
    now = utcnow()
    claim = RecordClaim(
        person_id=person.id,
        email=email,
        invited_by_id=by.id,
        token_hash=hashed,
        created_at=now,
        expires_at=now + CLAIM_LINK_LIFETIME,
    )
    db.session.add(claim)
    db.session.flush()
    queue_email(
        email,
        "Your record on the care and support marketplace",
        f"{by.full_name} has made a record for you on the care and support marketplace, to "
        "help you arrange your care.\n\n"
        "To see it yourself (your care, your consents and what is written about you), "
        f"open this link within {CLAIM_LINK_LIFETIME.days} days and choose a password:\n\n"
        f"{claim_link(token)}\n\n"
        "If you were not expecting this, you do not need to do anything.",
    )
    return claim


def claim_waiting(token: str) -> RecordClaim | None:
    """The unused, unexpired invitation an emailed link names (not spent: a GET only looks)."""
    found = db.session.scalar(
        select(RecordClaim).where(RecordClaim.token_hash == token_hash(token))
    )
    if found is None or found.used_at is not None or found.expires_at <= utcnow():
        return None
    return found


def claim_record(token: str, *, password: str, sign_in_link: str, reset_link: str) -> User:
    """Make the citizen account the invitation is for, linked to its person, and spend it.

    Raises InvalidLink (unknown, used or expired link; the address or the record taken since)
    or PasswordRejected (the request then rolls back, so the link is not spent)."""
    claim = service.follow_sign_up_link(RecordClaim, token)
    person = db.session.get(Person, claim.person_id)
    if person is None or person.user is not None:
        raise service.InvalidLink("This record already belongs to an account: sign in instead")
    begun = service.begin_sign_up(
        email=claim.email,
        full_name=person.full_name,
        password=password,
        tried="claim a record on the care and support marketplace with this email address. "
        "You already have an account.",
        sign_in_link=sign_in_link,
        reset_link=reset_link,
    )
    if begun is None:  # the address was taken between the two checks
        raise service.InvalidLink("An account already uses this email address: sign in instead")
    user = User(
        email=begun.email,
        full_name=begun.full_name,
        password_hash=begun.password_hash,
        role=Role.CITIZEN,
        person=person,
    )
    if person.email is None:
        person.email = begun.email
    db.session.add(user)
    db.session.flush()
    return user
