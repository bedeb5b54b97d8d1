"""API tokens for machines (the council's case-management system): made by an admin, scoped
to one role, revocable, and kept only as a SHA-256 hash.

A token reads `mkt_` followed by 43 URL-safe characters (32 random bytes). The prefix makes a
leaked token easy to recognise in logs and by secret scanners; the hash is of the whole token.

A token may act for a named user account of its role (`user`): its requests are then made as
that user (an officer who places orders, a provider's staff member who records deliveries), so
whatever the user did is recorded as theirs, and deactivating the user stops the token at once.
A token without a user stands for its role alone and owns nothing.

Nobody may act as someone else without their say: a token that acts for a user and was made by
anyone else (an admin's page, the command line) waits until that user confirms it from their
own signed-in account page, and does nothing before. What the token then does is recorded as
the user's and as the token's (`OrderEvent.token`), and the token records who made it.
Rules only: they flush and never commit.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Uuid, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.accounts.principals import TokenPrincipal
from marketplace.accounts.roles import Role
from marketplace.extensions import Model
from marketplace.types import Session, UTCDateTime, string_enum, utcnow

PREFIX = "mkt_"
NAME_LENGTH = 100
# Recording every use would make every read a write; a minute is precise enough for an admin.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiToken(Model):
    """A named, role-scoped bearer token. Only its hash is stored; it is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    role: Mapped[Role] = mapped_column(string_enum(Role, "api_token_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The user account the token acts for (its requests are made as that user), or None for a
    # token that stands for its role alone.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    # When the user it acts for agreed to it (at once if they made it themselves); until then
    # a token that acts for a user does nothing.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def awaiting_confirmation(self) -> bool:
        """It acts for a user who has not yet confirmed it (and it is not revoked)."""
        return self.user_id is not None and self.confirmed_at is None and not self.revoked

    def __repr__(self) -> str:
        return f"<ApiToken {self.name} {self.role.value}>"


class TokenError(ValueError):
    """A token cannot be made or revoked as asked (a taken name, an unknown token)."""


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in place of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenUserError(TokenError):
    """The user a token would act for cannot hold it (deactivated, or of another role)."""


def create_token(
    session: Session,
    *,
    name: str,
    role: Role,
    created_by: User | None = None,
    user: User | None = None,
) -> tuple[ApiToken, str]:
    """A new token named `name` for `role`, acting for `user` if one is given; returns the row
    and the token itself, which is never stored and cannot be shown again. A token acting for
    a user that anyone but that user makes (`created_by`, None for the command line) awaits
    the user's confirmation (`confirm`) and does nothing until then. Raises TokenError if the
    name is empty, too long or already used, and TokenUserError if the user is deactivated or
    not of the token's role."""
    name = name.strip()
    if not name or len(name) > NAME_LENGTH:
        raise TokenError(f"A token's name must be 1 to {NAME_LENGTH} characters")
    if user is not None:
        if not user.is_active:
            raise TokenUserError(f"{user.email} is deactivated: a token cannot act for them")
        if user.role is not role:
            raise TokenUserError(
                f"{user.email} is a {user.role.label.lower()}, not a {role.label.lower()}: "
                "choose a user of the token's role"
            )
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise TokenError(f"There is already a token named {name!r}")
    token = PREFIX + secrets.token_urlsafe(32)
    made_by_its_user = user is not None and created_by is not None and created_by.id == user.id
    row = ApiToken(
        name=name,
        role=role,
        token_hash=hash_token(token),
        created_by=created_by,
        user=user,
        confirmed_at=utcnow() if made_by_its_user else None,
    )
    session.add(row)
    session.flush()
    return row, token


def users_for_tokens(session: Session, roles: tuple[Role, ...]) -> list[User]:
    """The active users of these roles, whom a token may act for: by role, then name."""
    found = session.scalars(
        select(User).where(User.active, User.role.in_(roles)).order_by(User.full_name, User.email)
    )
    return sorted(found, key=lambda user: roles.index(user.role))


def user_by_id(session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


def tokens(session: Session) -> list[ApiToken]:
    """Every token, live ones first, then the newest."""
    rows = session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc()))
    return sorted(rows, key=lambda row: row.revoked)


def token_by_id(session: Session, token_id: uuid.UUID) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def token_by_name(session: Session, name: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.name == name))


def acting_for(session: Session, user: User) -> list[ApiToken]:
    """The tokens that act, or wait to act, for `user`: those awaiting their confirmation
    first, then live ones, then revoked ones, newest first within each."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
    )
    return sorted(rows, key=lambda row: (not row.awaiting_confirmation, row.revoked))


def token_acting_for(session: Session, token_id: uuid.UUID, user: User) -> ApiToken | None:
    """The token `token_id` if it acts (or waits to act) for `user`; None for anyone else's."""
    found = session.get(ApiToken, token_id)
    return found if found is not None and found.user_id == user.id else None


def confirm(session: Session, token: ApiToken, *, by: User) -> None:
    """`by` agrees that `token` acts for them: it works from now on. Raises TokenUserError
    unless `by` is the user it acts for, is active, and the token awaits their confirmation
    (it is not revoked or already confirmed)."""
    if token.user_id != by.id or not by.is_active:
        raise TokenUserError("Only the user a token acts for may confirm it")
    if not token.awaiting_confirmation:
        raise TokenUserError(f"The token {token.name!r} is not waiting for your confirmation")
    token.confirmed_at = utcnow()
    session.flush()


def revoke(session: Session, token: ApiToken) -> bool:
    """Revoke the token from now on; False if it already was (nothing changes then)."""
    if token.revoked:
        return False
    token.revoked_at = utcnow()
    session.flush()
    return True


def principal_for(session: Session, token: str) -> TokenPrincipal | None:
    """Who holds this bearer token: None if it is unknown or revoked. Records when it was last
    used (to the minute). A token that acts for a user carries the user's id (see
    `acting_user`) and whether they have confirmed it."""
    if not token.startswith(PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        row.last_used_at = now
    return TokenPrincipal(
        token_id=row.id,
        name=row.name,
        role=row.role,
        user_id=row.user_id,
        confirmed=not row.awaiting_confirmation,
    )


def acting_user(session: Session, principal: TokenPrincipal) -> User | None:
    """The user a token acts for, as long as they may still use it: None if the token acts
    for no one, awaits its user's confirmation, or its user has been deactivated (or no longer
    has the token's role)."""
    if principal.user_id is None or not principal.confirmed:
        return None
    user = session.get(User, principal.user_id)
    if user is None or not user.is_active or user.role is not principal.role:
        return None
    return user
