"""A provider's (or a brokerage's) registration, confirmed by email before anything is made.

Registering asks for the organisation's details and its owner's name, email address and
password. Nothing is made until the owner follows the link emailed to that address; then the
pending organisation and the owner's account are made together (`organisations.register`). If
the address already has an account, its owner is emailed instead and nothing is stored. The
page answers "Check your email" either way, after the same work (the password is hashed either
way), so registration never reveals who has an account, as sign-up does not. It is a
sign-up in all of this, and starts and finishes as one (`accounts.service.begin_sign_up`,
`follow_sign_up_link`): only what it keeps and what it makes are its own.
Rules only: they flush and never commit.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.emailed_links import EmailedLink
from marketplace.extensions import Model, db
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import council_officers, notify
from providers import organisations
from providers.models import OrganisationKind
from providers.organisations import OrganisationDetails

# The key the organisation's kind is kept under beside its details (a registration kept
# before brokerages existed has none: a provider).
_KIND = "kind"


class ProviderRegistration(EmailedLink, Model):
    """A registration waiting for its owner to follow the link we emailed."""

    __tablename__ = "provider_registrations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_email: Mapped[str] = mapped_column(String(254), index=True)
    owner_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    # The organisation's details as given (OrganisationDetails' fields).
    details: Mapped[dict[str, Any]] = mapped_column(JSON)

    email_column = "owner_email"


def request_registration(
    details: OrganisationDetails,
    *,
    owner_name: str,
    owner_email: str,
    owner_password: str,
    confirm_link: Callable[[str], str],
    sign_in_link: str,
    reset_link: str,
    kind: OrganisationKind = OrganisationKind.PROVIDER,
) -> None:
    """Email the owner a link that finishes the registration of an organisation of `kind` (a
    care provider or a brokerage); if the address already has an account, email its owner
    instead and store nothing. Raises PasswordRejected for a weak password, and ValueError for
    an unknown area."""
    begun = accounts.begin_sign_up(
        email=owner_email,
        full_name=owner_name,
        password=owner_password,
        other_words=[details.name],
        also_check=lambda: organisations.check_areas(details.area_codes),
        tried="register an organisation on the care and support marketplace with this email "
        "address. You already have an account.",
        sign_in_link=sign_in_link,
        reset_link=reset_link,
    )
    if begun is None:
        return
    db.session.add(
        ProviderRegistration(
            owner_email=begun.email,
            owner_name=begun.full_name,
            password_hash=begun.password_hash,
            details={**dataclasses.asdict(details), _KIND: kind.value},
            **begun.link_columns(),
        )
    )
    db.session.flush()
    accounts.send_sign_up_link(
        begun,
        finishing=f"registering {details.name.strip()}",
        confirm_link=confirm_link,
        not_you="register an organisation",
    )


def confirm_registration(token: str) -> User:
    """Make the pending organisation (a provider or a brokerage, as registered) and its owner's
    account (a broker for a brokerage) from an emailed link, and tell every council officer it
    waits for their decision; returns the owner. Raises InvalidLink if the link is unknown, used
    or expired, or its address has an account by now."""
    found = accounts.follow_sign_up_link(ProviderRegistration, token)
    details = dict(found.details)
    kind = OrganisationKind(details.pop(_KIND, OrganisationKind.PROVIDER.value))
    owner = organisations.register(
        OrganisationDetails(**details),
        owner_name=found.owner_name,
        owner_email=found.owner_email,
        owner_password_hash=found.password_hash,
        kind=kind,
    )
    # Told now, not when the form was sent: until the link is followed nothing exists to decide.
    what = "brokerage" if kind is OrganisationKind.BROKERAGE else "provider"
    notify(
        db.session,
        council_officers(db.session),
        NotificationKind.PROVIDER_REGISTERED,
        title=f"A new {what} has registered and is waiting for approval",
        link=f"/council/providers/{owner.organisation_id}",
    )
    return owner
