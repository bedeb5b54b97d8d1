"""API tokens for machines (the council's case-management system): made by an admin, scoped
to one role, revocable, and kept only as a SHA-256 hash.

A token reads `mkt_` followed by 43 URL-safe characters (32 random bytes). The prefix makes a
leaked token easy to recognise in logs and by secret scanners; the hash is of the whole token.
Rules only: they flush and never commit.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Uuid, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.accounts.principals import TokenPrincipal
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.types import UTCDateTime, string_enum, utcnow

PREFIX = "mkt_"
NAME_LENGTH = 100
# Recording every use would make every read a write; a minute is precise enough for an admin.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiToken(db.Model):
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

    created_by: Mapped[User | None] = relationship()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def __repr__(self) -> str:
        return f"<ApiToken {self.name} {self.role.value}>"


class TokenError(ValueError):
    """A token cannot be made or revoked as asked (a taken name, an unknown token)."""


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in place of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, *, name: str, role: Role, created_by: User | None = None
) -> tuple[ApiToken, str]:
    """A new token named `name` for `role`; returns the row and the token itself, which is
    never stored and cannot be shown again. Raises TokenError if the name is empty, too long
    or already used."""
    name = name.strip()
    if not name or len(name) > NAME_LENGTH:
        raise TokenError(f"A token's name must be 1 to {NAME_LENGTH} characters")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise TokenError(f"There is already a token named {name!r}")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, role=role, token_hash=hash_token(token), created_by=created_by)
    session.add(row)
    session.flush()
    return row, token


def tokens(session: Session) -> list[ApiToken]:
    """Every token, live ones first, then the newest."""
    rows = session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc()))
    return sorted(rows, key=lambda row: row.revoked)


def token_by_id(session: Session, token_id: uuid.UUID) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def token_by_name(session: Session, name: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.name == name))


def revoke(session: Session, token: ApiToken) -> bool:
    """Revoke the token from now on; False if it already was (nothing changes then)."""
    if token.revoked:
        return False
    token.revoked_at = utcnow()
    session.flush()
    return True


def principal_for(session: Session, token: str) -> TokenPrincipal | None:
    """Who holds this bearer token: None if it is unknown or revoked. Records when it was last
    used (to the minute)."""
    if not token.startswith(PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        row.last_used_at = now
    return TokenPrincipal(token_id=row.id, name=row.name, role=row.role)
