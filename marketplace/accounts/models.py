"""User accounts (logins) and the single-use tokens that reset their passwords."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.roles import Role
from marketplace.emailed_links import EmailedLink
from marketplace.extensions import Model
from marketplace.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from marketplace.people.models import Person
    from providers.models import Organisation


def new_login_id() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, Model):
    """A login. Not a person who receives care: that is `Person`, linked for citizens."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role IN ('provider_staff', 'broker')) = (organisation_id IS NOT NULL)",
            name="staff_and_brokers_have_organisation",
        ),
        CheckConstraint(
            "person_id IS NULL OR role = 'citizen'", name="only_citizens_link_a_person"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            native_enum=False,
            length=20,
            create_constraint=True,
            values_callable=lambda roles: [r.value for r in roles],
            name="role",
        )
    )
    # Flask-Login keeps this, not the primary key, in the session cookie: changing it on a
    # password change or reset signs every other session out.
    login_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_login_id)
    active: Mapped[bool] = mapped_column(default=True)
    # The provider staff's organisation, or the broker's brokerage.
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    # Owners of a provider organisation (or a brokerage) invite and remove its staff.
    is_organisation_owner: Mapped[bool] = mapped_column(default=False)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship(back_populates="staff")
    person: Mapped[Person | None] = relationship(back_populates="user")

    def get_id(self) -> str:
        return self.login_id

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def acting_for(self) -> Person | None:
        """The person this user acts for in this request (a broker's client, or the person a
        family member holds a power of attorney for): set by the request's acting-for loader
        (marketplace/pages/on_behalf.py) once a live consent is found; never stored. The
        loaded user lives only as long as the request's database session."""
        person: Person | None = self.__dict__.get("_acting_for")
        return person

    def act_for(self, person: Person | None) -> None:
        self.__dict__["_acting_for"] = person

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


class PasswordResetToken(Model):
    """A reset link's secret, kept only as a hash, good once and until it expires."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class SignUpRequest(EmailedLink, Model):
    """A sign-up waiting for its owner to follow the link we emailed.

    The account is made only when the link is followed, so an address can never be claimed by
    someone who cannot read its mail, and the sign-up page never reveals who has an account.
    """

    __tablename__ = "sign_up_requests"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))

    email_column = "email"


class SignInSession(Model):
    """One signed-in browser. Its session cookie carries a secret; this record, kept under the
    secret's SHA-256 hash, is what makes the cookie worth anything.

    Signing out ends the record, so a copy of the cookie taken before then opens nothing. A
    record also stops working after a time without use and a time after sign-in
    (`marketplace.accounts.sessions`).
    """

    __tablename__ = "sign_in_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the person signs out or changes their password, or the record expires.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
