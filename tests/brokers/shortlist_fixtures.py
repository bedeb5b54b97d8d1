"""What the shortlist tests share: a client (a citizen with a person), a broker, a consent
from the client to the broker's brokerage, an attorney, and published services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people.models import Authority, Consent, ConsentScope, Person
from marketplace.types import utcnow
from providers.models import Organisation, Service

ALL_SCOPES = [scope.value for scope in ConsentScope]


def give_consent(
    person: Person,
    *,
    broker: User | None = None,
    grantee: User | None = None,
    scopes: list[str] | None = None,
    authority: Authority = Authority.PERSON,
) -> Consent:
    """A live consent (started an hour ago, ending in a year) from `person` to the broker's
    brokerage or to `grantee`'s account, committed."""
    now = utcnow()
    consent = Consent(
        person_id=person.id,
        brokerage_id=broker.organisation_id if broker else None,
        grantee_user_id=grantee.id if grantee else None,
        scopes=ALL_SCOPES if scopes is None else scopes,
        authority=authority,
        given_by_name=person.full_name,
        document_reference=None if authority is Authority.PERSON else "LPA-123",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=365),
    )
    db.session.add(consent)
    db.session.commit()
    db.session.expire(person, ["consents"])
    return consent


def services(
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    count: int = 3,
) -> list[Service]:
    organisation = make_organisation("Chiltern Home Care")
    return [make_listing(organisation, name=f"Home care visits {n}") for n in range(count)]


def broker_of(make_user: Callable[..., User]) -> User:
    return make_user(Role.BROKER)
