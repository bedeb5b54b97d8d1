"""Account rules: sign-up, sign-in, password change and reset.

Plain functions that flush and never commit; the request or CLI command commits. Messages never
reveal whether an email address has an account.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from marketplace.accounts import sessions
from marketplace.accounts.models import PasswordResetToken, SignUpRequest, User, new_login_id
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
    if (role is Role.PROVIDER_STAFF) != (organisation_id is not None):
        raise ValueError("provider staff, and only provider staff, belong to an organisation")
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

    If the address already has an account, its owner is emailed instead and nothing is made:
    the person signing up sees the same answer either way, after the same work (the password
    is hashed either way). Raises PasswordRejected.
    """
    email = normalise_email(email)
    full_name = full_name.strip()
    _check_password(password, email, full_name)
    # Hashed before the address is looked up, and whichever way it goes: the hash is nearly
    # all of the time a sign-up takes, so an existing address answered without it was fast
    # enough to tell who has an account.
    password_hash = hash_password(password)
    if user_by_email(email) is not None:
        tell_existing_account(
            email,
            "create an account on the care and support marketplace with this email address. "
            "You already have one.",
            sign_in_link=sign_in_link,
            reset_link=reset_link,
        )
        return
    token, hashed = new_token()
    now = utcnow()
    db.session.add(
        SignUpRequest(
            email=email,
            full_name=full_name,
            password_hash=password_hash,
            token_hash=hashed,
            created_at=now,
            expires_at=now + SIGN_UP_LINK_LIFETIME,
        )
    )
    db.session.flush()
    queue_email(
        email,
        "Confirm your email address",
        f"To finish creating your account, open this link within 24 hours:\n\n"
        f"{confirm_link(token)}\n\n"
        "If you did not ask for an account, you do not need to do anything.",
    )


def confirm_sign_up(token: str) -> User:
    """Make the citizen's account and their person record from an emailed link.

    Raises InvalidLink if the link is unknown, used, expired, or its address was taken since.
    """
    now = utcnow()
    sign_up = db.session.scalar(
        select(SignUpRequest).where(SignUpRequest.token_hash == token_hash(token))
    )
    if sign_up is None or sign_up.used_at is not None or sign_up.expires_at <= now:
        raise InvalidLink("This link has expired or has already been used")
    sign_up.used_at = now
    if user_by_email(sign_up.email) is not None:
        raise InvalidLink("An account already uses this email address: sign in instead")
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
