"""Account rules: sign-up, sign-in, password change and reset.

Plain functions that flush and never commit; the request or CLI command commits. Messages never
reveal whether an email address has an account.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select, update

from marketplace.accounts import sessions
from marketplace.accounts.models import (
    EmailedLink,
    PasswordResetToken,
    SignUpRequest,
    User,
    new_login_id,
)
from marketplace.accounts.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from marketplace.accounts.roles import Role
from marketplace.accounts.tokens import new_token, token_hash
from marketplace.extensions import db
from marketplace.mail import queue_email
from marketplace.people.models import Person
from marketplace.types import utcnow

SIGN_UP_LINK_LIFETIME = timedelta(hours=24)

Waiting = TypeVar("Waiting", bound=EmailedLink)


class PasswordRejected(ValueError):
    """The password breaks a rule; the message says which, for the person choosing it."""


class InvalidLink(ValueError):
    """An emailed link that is unknown, used, expired or for another account."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _check_password(password: str, *personal_words: str) -> None:
    problem = password_problem(password, [w for w in personal_words if w])
    if problem:
        raise PasswordRejected(problem)


def create_user(
    *,
    email: str,
    full_name: str,
    password: str,
    role: Role,
    organisation_id: uuid.UUID | None = None,
    person: Person | None = None,
) -> User:
    """Make an account directly (CLI, demo data, council and provider invitations).

    Raises PasswordRejected for a weak password and ValueError if the email is taken.
    """
    email = normalise_email(email)
    _check_password(password, email, full_name)
    if user_by_email(email) is not None:
        raise ValueError(f"an account already uses {email}")
    if (role in (Role.PROVIDER_STAFF, Role.BROKER)) != (organisation_id is not None):
        raise ValueError("provider staff and brokers, and only they, belong to an organisation")
    if role is Role.CITIZEN and person is None:
        person = Person(full_name=full_name.strip(), email=email)
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        role=role,
        organisation_id=organisation_id,
        person=person,
    )
    db.session.add(user)
    db.session.flush()
    return user


def tell_existing_account(email: str, tried: str, *, sign_in_link: str, reset_link: str) -> None:
    """Email the owner of an address that someone tried to sign up (or register) again: the
    page answers the same either way, so only the owner learns the address has an account.
    `tried` finishes "Someone tried to ..."."""
    queue_email(
        email,
        "You already have an account",
        f"Someone tried to {tried}\n\n"
        f"Sign in: {sign_in_link}\n"
        f"Forgotten your password? Reset it: {reset_link}\n\n"
        "If this was not you, you do not need to do anything.",
    )


@dataclass(frozen=True)
class SignUpBegun:
    """A sign-up whose details passed their checks, to be kept until its emailed link is
    followed: the address (normalised), the name (trimmed), the password's hash, and the link's
    token, of which only the hash is kept (`link_columns`)."""

    email: str
    full_name: str
    password_hash: str
    token: str
    token_hash: str
    created_at: datetime
    expires_at: datetime

    def link_columns(self) -> dict[str, Any]:
        """The `EmailedLink` columns of the row that keeps this sign-up."""
        return {
            "token_hash": self.token_hash,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


def begin_sign_up(
    *,
    email: str,
    full_name: str,
    password: str,
    tried: str,
    sign_in_link: str,
    reset_link: str,
    other_words: Iterable[str] = (),
    also_check: Callable[[], None] | None = None,
) -> SignUpBegun | None:
    """Check a sign-up (a citizen's, or a provider's registration) and make its link; or, if
    the address already has an account, email its owner (they `tried` to...) and return None.

    The person signing up sees the same answer either way, after the same work (the password is
    hashed either way). Raises PasswordRejected (the password may not contain the address, the
    name or `other_words`), or whatever `also_check` raises (run after the password's check).
    """
    email = normalise_email(email)
    full_name = full_name.strip()
    _check_password(password, email, full_name, *other_words)
    if also_check is not None:
        also_check()
    # Hashed before the address is looked up, and whichever way it goes: the hash is nearly
    # all of the time a sign-up takes, so an existing address answered without it was fast
    # enough to tell who has an account.
    password_hash = hash_password(password)
    if user_by_email(email) is not None:
        tell_existing_account(email, tried, sign_in_link=sign_in_link, reset_link=reset_link)
        return None
    token, hashed = new_token()
    now = utcnow()
    return SignUpBegun(
        email=email,
        full_name=full_name,
        password_hash=password_hash,
        token=token,
        token_hash=hashed,
        created_at=now,
        expires_at=now + SIGN_UP_LINK_LIFETIME,
    )


def send_sign_up_link(
    begun: SignUpBegun, *, finishing: str, confirm_link: Callable[[str], str], not_you: str
) -> None:
    """Email the link that finishes a sign-up (`To finish {finishing}, open this link...`)."""
    queue_email(
        begun.email,
        "Confirm your email address",
        f"To finish {finishing}, open this link within 24 hours:\n\n"
        f"{confirm_link(begun.token)}\n\n"
        f"If you did not {not_you}, you do not need to do anything.",
    )


def follow_sign_up_link(kind: type[Waiting], token: str) -> Waiting:
    """The waiting sign-up of this kind that an emailed link names, marked used.

    Raises InvalidLink if the link is unknown, used, expired, or its address was taken since.
    """
    now = utcnow()
    found = db.session.scalar(select(kind).where(kind.token_hash == token_hash(token)))
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise InvalidLink("This link has expired or has already been used")
    found.used_at = now
    if user_by_email(found.email_address()) is not None:
        raise InvalidLink("An account already uses this email address: sign in instead")
    return found


def request_sign_up(
    *,
    email: str,
    full_name: str,
    password: str,
    confirm_link: Callable[[str], str],
    sign_in_link: str,
    reset_link: str,
) -> None:
    """Email a link that finishes a citizen's sign-up.

    If the address already has an account, its owner is emailed instead and nothing is made
    (see `begin_sign_up`). Raises PasswordRejected.
    """
    begun = begin_sign_up(
        email=email,
        full_name=full_name,
        password=password,
        tried="create an account on the care and support marketplace with this email address. "
        "You already have one.",
        sign_in_link=sign_in_link,
        reset_link=reset_link,
    )
    if begun is None:
        return
    db.session.add(
        SignUpRequest(
            email=begun.email,
            full_name=begun.full_name,
            password_hash=begun.password_hash,
            **begun.link_columns(),
        )
    )
    db.session.flush()
    send_sign_up_link(
        begun,
        finishing="creating your account",
        confirm_link=confirm_link,
        not_you="ask for an account",
    )


def confirm_sign_up(token: str) -> User:
    """Make the citizen's account and their person record from an emailed link.

    Raises InvalidLink if the link is unknown, used, expired, or its address was taken since.
    """
    sign_up = follow_sign_up_link(SignUpRequest, token)
    person = Person(full_name=sign_up.full_name, email=sign_up.email)
    user = User(
        email=sign_up.email,
        full_name=sign_up.full_name,
        password_hash=sign_up.password_hash,
        role=Role.CITIZEN,
        person=person,
    )
    db.session.add_all([person, user])
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (whichever part was wrong)."""
    user = user_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_signed_in_at = utcnow()
    return user


def _set_password(user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    # Every signed-in session of the account ends, here and on any other computer: its
    # records are closed, and the login_id every cookie carries no longer matches.
    user.login_id = new_login_id()
    sessions.end_sessions_of(user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change a signed-in user's password; every session of theirs is ended (the caller
    signs the current browser in again).

    Raises PasswordRejected if the current password is wrong or the new one breaks a rule.
    """
    if not verify_password(user.password_hash, current_password):
        raise PasswordRejected("Your current password is not correct")
    _check_password(new_password, user.email, user.full_name)
    _set_password(user, new_password)
    queue_email(
        user.email,
        "Your password has been changed",
        "The password for your care and support marketplace account was changed.\n\n"
        "If you did not change it, reset your password now and contact the council.",
    )


def request_password_reset(
    email: str, *, lifetime: timedelta, reset_link: Callable[[uuid.UUID, str], str]
) -> None:
    """Email a single-use reset link if an active account has this address; else do nothing."""
    user = user_by_email(email)
    if user is None or not user.active:
        return
    token, hashed = new_token()
    now = utcnow()
    db.session.add(
        PasswordResetToken(user=user, token_hash=hashed, created_at=now, expires_at=now + lifetime)
    )
    db.session.flush()
    minutes = int(lifetime.total_seconds() // 60)
    queue_email(
        user.email,
        "Reset your password",
        f"Open this link within {minutes} minutes to choose a new password:\n\n"
        f"{reset_link(user.id, token)}\n\n"
        "The link works once. If you did not ask to reset your password, ignore this email: "
        "your password has not changed.",
    )


def user_for_reset(user_id: uuid.UUID, token: str) -> User:
    """The user a reset link is good for. Raises InvalidLink if it is not good for them now."""
    reset = db.session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token))
    )
    if (
        reset is None
        or reset.user_id != user_id
        or reset.used_at is not None
        or reset.expires_at <= utcnow()
        or not reset.user.active
    ):
        raise InvalidLink("This link has expired or has already been used")
    return reset.user


def reset_password(user_id: uuid.UUID, token: str, new_password: str) -> User:
    """Set a new password from a reset link; every reset link of the user is then spent.

    Raises InvalidLink for a bad link and PasswordRejected for a weak password.
    """
    user = user_for_reset(user_id, token)
    _check_password(new_password, user.email, user.full_name)
    _set_password(user, new_password)
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return user
