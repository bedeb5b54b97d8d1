"""What the acting-for tests share: a client with a budget, brokers of two brokerages, a
family member, consents in every state, and clients that start and stop acting."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people.models import Authority, Consent, ConsentScope, Person
from marketplace.types import utcnow
from tests.citizens.helpers import budget_of

ALL_SCOPES = [scope.value for scope in ConsentScope]
CLIENT_NAME = "Dorothy Pearce"


def consent(
    person: Person,
    *,
    broker: User | None = None,
    grantee: User | None = None,
    scopes: Iterable[str] = ALL_SCOPES,
    authority: Authority = Authority.PERSON,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    revoked: bool = False,
) -> Consent:
    """A consent from `person` to the broker's brokerage or to `grantee`'s account, live
    (started an hour ago, ending in a year) unless told otherwise; committed."""
    now = utcnow()
    given = Consent(
        person_id=person.id,
        brokerage_id=broker.organisation_id if broker else None,
        grantee_user_id=grantee.id if grantee else None,
        scopes=list(scopes),
        authority=authority,
        given_by_name=person.full_name,
        document_reference=None if authority is Authority.PERSON else "LPA 7000-1234-5678",
        starts_at=starts_at or now - timedelta(hours=1),
        ends_at=ends_at or now + timedelta(days=365),
    )
    if revoked:
        revoke(given, by_name=person.full_name)
    db.session.add(given)
    db.session.commit()
    db.session.expire(person, ["consents"])
    return given


def revoke(given: Consent, *, by_name: str) -> None:
    """Withdraw `given` now, as the consents' rules do (not committed)."""
    given.revoked_at = utcnow()
    given.revoked_by_name = by_name


@dataclass
class People:
    """A client with a budget, a broker of the brokerage they consent to, a broker of another
    brokerage, and a family member (a citizen) with an account of their own."""

    client: User
    broker: User
    other_broker: User
    family: User

    @property
    def person(self) -> Person:
        person = self.client.person
        assert person is not None
        return person


def make_people(make_user: Callable[..., User]) -> People:
    client = make_user(Role.CITIZEN)
    assert client.person is not None
    client.person.full_name = CLIENT_NAME
    family = make_user(Role.CITIZEN)
    family.full_name = "Karen Pearce"
    db.session.commit()
    budget_of(client.person)
    return People(
        client=client,
        broker=make_user(Role.BROKER),
        other_broker=make_user(Role.BROKER),
        family=family,
    )


def start_acting(client: FlaskClient, person: Person) -> str:
    """Start acting for `person`; the page it lands on."""
    response = client.post(f"/acting-for/{person.id}")
    assert response.status_code == 302, response.status_code
    location: str = response.location
    return location


def stop_acting(client: FlaskClient) -> str:
    """Stop acting; where the user was sent."""
    response = client.post("/acting-for/stop")
    assert response.status_code == 302
    return response.location
