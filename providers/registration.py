"""A provider's registration, confirmed by email before anything is made.

Registering asks for the organisation's details and its owner's name, email address and
password. Nothing is made until the owner follows the link emailed to that address; then the
pending organisation and the owner's account are made together (`organisations.register`). If
the address already has an account, its owner is emailed instead and nothing is stored. The
page answers "Check your email" either way, after the same work (the password is hashed either
way), so registration never reveals who has an account, as sign-up does not.
Rules only: they flush and never commit.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, Uuid, select
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.accounts.passwords import hash_password, password_problem
from marketplace.accounts.tokens import new_token, token_hash
from marketplace.extensions import Model, db
from marketplace.mail import queue_email
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import council_officers, notify
from marketplace.types import UTCDateTime, utcnow
from providers import organisations
from providers.organisations import OrganisationDetails

LINK_LIFETIME = timedelta(hours=24)


class ProviderRegistration(Model):
    """A registration waiting for its owner to follow the link we emailed."""

    __tablename__ = "provider_registrations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_email: Mapped[str] = mapped_column(String(254), index=True)
    owner_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    # The organisation's details as given (OrganisationDetails' fields).
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def request_registration(
    details: OrganisationDetails,
    *,
    owner_name: str,
    owner_email: str,
    owner_password: str,
    confirm_link: Callable[[str], str],
    sign_in_link: str,
    reset_link: str,
) -> None:
    """Email the owner a link that finishes the registration; if the address already has an
    account, email its owner instead and store nothing. Raises PasswordRejected for a weak
    password, and ValueError for an unknown area."""
    email = accounts.normalise_email(owner_email)
    owner_name = owner_name.strip()
    problem = password_problem(owner_password, [email, owner_name, details.name])
    if problem:
        raise accounts.PasswordRejected(problem)
    organisations.check_areas(details.area_codes)
    # Hashed whichever way it goes, so both answers take the same time.
    password_hash = hash_password(owner_password)
    if accounts.user_by_email(email) is not None:
        accounts.tell_existing_account(
            email,
            "register an organisation on the care and support marketplace with this email "
            "address. You already have an account.",
            sign_in_link=sign_in_link,
            reset_link=reset_link,
        )
        return
    token, hashed = new_token()
    now = utcnow()
    db.session.add(
        ProviderRegistration(
            owner_email=email,
            owner_name=owner_name,
            password_hash=password_hash,
            details=dataclasses.asdict(details),
            token_hash=hashed,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    db.session.flush()
    queue_email(
        email,
        "Confirm your email address",
        f"To finish registering {details.name.strip()}, open this link within 24 hours:\n\n"
        f"{confirm_link(token)}\n\n"
        "If you did not register an organisation, you do not need to do anything.",
    )


def confirm_registration(token: str) -> User:
    """Make the pending organisation and its owner's account from an emailed link, and tell
    every council officer it waits for their decision; returns the owner. Raises InvalidLink if
    the link is unknown, used or expired, or its address has an account by now."""
    now = utcnow()
    found = db.session.scalar(
        select(ProviderRegistration).where(ProviderRegistration.token_hash == token_hash(token))
    )
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise accounts.InvalidLink("This link has expired or has already been used")
    found.used_at = now
    if accounts.user_by_email(found.owner_email) is not None:
        raise accounts.InvalidLink("An account already uses this email address: sign in instead")
    owner = organisations.register(
        OrganisationDetails(**found.details),
        owner_name=found.owner_name,
        owner_email=found.owner_email,
        owner_password_hash=found.password_hash,
    )
    # Told now, not when the form was sent: until the link is followed nothing exists to decide.
    notify(
        db.session,
        council_officers(db.session),
        NotificationKind.PROVIDER_REGISTERED,
        title="A new provider has registered and is waiting for approval",
        link=f"/council/providers/{owner.organisation_id}",
    )
    return owner
