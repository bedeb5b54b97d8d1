"""The demo county's brokers, families and consents (issue 17).

Herts Independent Brokerage (seeded with the providers, its broker Sam Whitfield with the
users) gets a caseload whose consents are in every state a broker meets: live with every
scope, live without card payments (given by a Court of Protection deputy), expired, withdrawn,
and not yet started. Dorothy Pearce's daughter Karen holds a lasting power of attorney for her,
recorded by the council. Rajesh Mehta, the demo self-funder, is on no caseload: trying the
product, he gives the brokerage his consent himself.

Idempotent like every step: clients are found by name on the brokerage's caseload, consents by
their person, grantee and document or giver, and only what is missing is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.people.models import (
    Authority,
    Client,
    ClientNote,
    Consent,
    ConsentScope,
    Person,
)
from providers.models import Organisation, OrganisationKind, OrganisationStatus

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport, Tally

BROKERAGE = "Herts Independent Brokerage"
BROKER_EMAIL = "broker@demo.example.org"
OFFICER_EMAIL = "council@demo.example.org"
DOROTHY_EMAIL = "citizen@demo.example.org"
KAREN_EMAIL = "family@demo.example.org"
# The council's own service finders: a brokerage too, approved from the start.
COUNCIL_BROKERAGE = "Hertfordshire County Council Service Finders"

EVERY_SCOPE = tuple(scope.value for scope in ConsentScope)


@dataclass(frozen=True)
class DemoClient:
    """A person with no account on the brokerage's caseload, and their consent's state."""

    full_name: str
    date_of_birth: date
    postcode: str
    # Days from today (London) the consent starts and ends; negative is in the past.
    starts_in: int
    ends_in: int
    scopes: tuple[str, ...] = EVERY_SCOPE
    authority: Authority = Authority.PERSON
    given_by_name: str | None = None  # None: the person gave it themselves
    document_reference: str | None = None
    withdrawn_days_ago: int | None = None
    note: str | None = None


CLIENTS = (
    DemoClient(
        "Margaret Okafor",
        date(1938, 5, 9),
        "SG1 2AB",
        starts_in=-40,
        ends_in=325,
        note="Margaret would like help at home three mornings a week, and a lunch club "
        "near Stevenage old town. Her neighbour drives her to church on Sundays.",
    ),
    DemoClient(
        "Patricia Doyle",
        date(1944, 1, 30),
        "AL1 3JE",
        starts_in=-10,
        ends_in=355,
        scopes=("see", "shortlist", "order"),
        authority=Authority.DEPUTY,
        given_by_name="Michael Doyle",
        document_reference="COP-13579246",
    ),
    DemoClient("Dennis Hale", date(1941, 8, 14), "WD17 1HP", starts_in=-366, ends_in=-1),
    DemoClient(
        "Irene Walsh",
        date(1950, 11, 3),
        "HP1 1BB",
        starts_in=-60,
        ends_in=300,
        withdrawn_days_ago=5,
    ),
    DemoClient("George Lin", date(1946, 2, 22), "SG5 1AA", starts_in=7, ends_in=372),
)


def seed_brokers(today: date | None = None) -> SeedReport:
    """The council's brokerage, the demo brokerage's clients and their consents, and Karen's
    lasting power of attorney for her mother. Raises SeedOrderError if the providers or the
    users are not seeded."""
    # Imported here: seed.py lists this step in its STEPS, so it imports this module.
    from marketplace.demo.seed import SeedOrderError, SeedReport, Tally

    today = today or datetime.now(LONDON).date()
    brokerage = db.session.scalar(select(Organisation).where(Organisation.name == BROKERAGE))
    broker, officer = accounts.user_by_email(BROKER_EMAIL), accounts.user_by_email(OFFICER_EMAIL)
    dorothy, karen = accounts.user_by_email(DOROTHY_EMAIL), accounts.user_by_email(KAREN_EMAIL)
    if brokerage is None:
        raise SeedOrderError(f"{BROKERAGE!r} is missing: seed providers first")
    if broker is None or officer is None or karen is None or dorothy is None:
        raise SeedOrderError("the demo broker, officer, Dorothy and Karen: seed users first")
    if dorothy.person is None:
        raise SeedOrderError(f"{DOROTHY_EMAIL} has no person record: seed users first")

    brokerages, clients, consents, notes = (
        Tally("brokerages"),
        Tally("clients"),
        Tally("consents"),
        Tally("client notes"),
    )
    _council_brokerage(brokerages)
    for demo in CLIENTS:
        person = _client(brokerage, broker, demo, clients)
        _client_consent(person, brokerage, broker, demo, today, consents)
        _client_note(person, brokerage, broker, demo, notes)
    _lasting_power_of_attorney(dorothy.person, karen, officer, today, consents)
    db.session.flush()
    return SeedReport([brokerages, clients, consents, notes])


def _council_brokerage(tally: Tally) -> None:
    if db.session.scalar(select(Organisation).where(Organisation.name == COUNCIL_BROKERAGE)):
        tally.existing += 1
        return
    team = Organisation(
        name=COUNCIL_BROKERAGE,
        kind=OrganisationKind.BROKERAGE,
        status=OrganisationStatus.APPROVED,
        description="The council's own brokers, who help people who have just left hospital, "
        "or who have no one else to help, find and arrange care.",
        email="servicefinders@hertfordshire.example.org",
    )
    db.session.add(team)
    tally.created.append(team)


def _client_consent(
    person: Person,
    brokerage: Organisation,
    broker: User,
    demo: DemoClient,
    today: date,
    tally: Tally,
) -> None:
    if _has_consent(person, brokerage=brokerage):
        tally.existing += 1
        return
    starts = _london_midnight(today + timedelta(days=demo.starts_in))
    consent = Consent(
        person_id=person.id,
        brokerage_id=brokerage.id,
        scopes=list(demo.scopes),
        authority=demo.authority,
        given_by_name=demo.given_by_name or demo.full_name,
        document_reference=demo.document_reference,
        recorded_by_id=broker.id,
        starts_at=starts,
        ends_at=_london_midnight(today + timedelta(days=demo.ends_in)),
        created_at=min(starts, _london_midnight(today)),
    )
    if demo.withdrawn_days_ago is not None:
        consent.revoked_at = _london_midnight(today - timedelta(demo.withdrawn_days_ago))
        consent.revoked_by_name = demo.given_by_name or demo.full_name
    db.session.add(consent)
    tally.created.append(consent)


def _client_note(
    person: Person, brokerage: Organisation, broker: User, demo: DemoClient, tally: Tally
) -> None:
    if not demo.note:
        return
    if _has_note(person, brokerage):
        tally.existing += 1
        return
    note = ClientNote(
        person_id=person.id, brokerage_id=brokerage.id, written_by_id=broker.id, text=demo.note
    )
    db.session.add(note)
    tally.created.append(note)


def _lasting_power_of_attorney(
    dorothy: Person, karen: User, officer: User, today: date, tally: Tally
) -> None:
    """Karen's lasting power of attorney for her mother, recorded by the council."""
    if _has_consent(dorothy, grantee=karen):
        tally.existing += 1
        return
    lpa = Consent(
        person_id=dorothy.id,
        grantee_user_id=karen.id,
        scopes=list(EVERY_SCOPE),
        authority=Authority.LPA_PROPERTY_FINANCE,
        given_by_name=karen.full_name,
        document_reference="7000-4821-6690",
        recorded_by_id=officer.id,
        starts_at=_london_midnight(today - timedelta(days=90)),
        ends_at=_london_midnight(today + timedelta(days=3 * 365 - 91)),
    )
    db.session.add(lpa)
    tally.created.append(lpa)


def _client(brokerage: Organisation, broker: User, demo: DemoClient, tally: Tally) -> Person:
    person = db.session.scalar(
        select(Person)
        .join(Client, Client.person_id == Person.id)
        .where(Client.brokerage_id == brokerage.id, Person.full_name == demo.full_name)
    )
    if person is not None:
        tally.existing += 1
        return person
    person = Person(
        full_name=demo.full_name, date_of_birth=demo.date_of_birth, postcode=demo.postcode
    )
    db.session.add(person)
    db.session.flush()
    db.session.add(Client(brokerage_id=brokerage.id, person_id=person.id, added_by_id=broker.id))
    tally.created.append(person)
    return person


def _has_consent(
    person: Person, *, brokerage: Organisation | None = None, grantee: User | None = None
) -> bool:
    query = select(Consent.id).where(Consent.person_id == person.id)
    if brokerage is not None:
        query = query.where(Consent.brokerage_id == brokerage.id)
    if grantee is not None:
        query = query.where(Consent.grantee_user_id == grantee.id)
    return db.session.scalar(query.limit(1)) is not None


def _has_note(person: Person, brokerage: Organisation) -> bool:
    query = select(ClientNote.id).where(
        ClientNote.person_id == person.id, ClientNote.brokerage_id == brokerage.id
    )
    return db.session.scalar(query.limit(1)) is not None


def _london_midnight(day: date) -> datetime:
    """The start of `day` in London, as an aware datetime (stored in UTC)."""
    return datetime.combine(day, time(0), tzinfo=LONDON)
