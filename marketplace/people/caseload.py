"""A brokerage's caseload (issue 17): the people it works with, where each stands, and the notes
its brokers write about them.

Being on a caseload gives no access by itself: what a broker may see of a client, and do for
them, is decided by a live consent (the policy, `accounts.policy`). So the caseload shows a
client's figures only where the brokerage's live consent covers them: the money and the open
orders under "see", a shortlist waiting for the client under "shortlist", unanswered questions
under "message". A client whose consent has ended or been withdrawn stays on the list (their
broker needs to know to ask again) with their name and the consent's state, and nothing else.

The money position comes from the budgets and orders layers, which sit above people: the
caller passes `position_of` (`marketplace.orders.positions.money_position`), so this module
never reads them itself.

Functions flush and never commit.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.mail import queue_email
from marketplace.people import consents, questions, shortlists
from marketplace.people.models import (
    Authority,
    Client,
    ClientNote,
    Consent,
    ConsentScope,
    Person,
)
from marketplace.types import Session, utcnow
from providers.models import Organisation

# A consent ending within this is flagged on the caseload (the same span CONSENTS reminds at).
EXPIRING_WITHIN = consents.EXPIRING_WITHIN
NOTE_MAX_LENGTH = 5000


class CaseloadRefused(Exception):
    """A caseload change breaks a rule. `problems` maps each field at fault to what to say
    about it (`details["fields"]` the same, for `marketplace.forms.show_refusal`)."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        self.message = next(iter(self.problems.values()))
        self.details = {"fields": self.problems}
        super().__init__(self.message)


class ConsentState(enum.StrEnum):
    """Where the brokerage's consent for a client stands, as the caseload shows it."""

    LIVE = "live"
    EXPIRING = "expiring"  # live, ending within EXPIRING_WITHIN
    NOT_STARTED = "not_started"
    ENDED = "ended"
    WITHDRAWN = "withdrawn"
    NONE = "none"

    @property
    def label(self) -> str:
        return {
            "live": "Consent given",
            "expiring": "Consent ending soon",
            "not_started": "Consent not started yet",
            "ended": "Consent ended",
            "withdrawn": "Consent withdrawn",
            "none": "No consent recorded",
        }[self.value]

    @property
    def tag_class(self) -> str:
        return {
            "live": "govuk-tag--green",
            "expiring": "govuk-tag--orange",
            "not_started": "govuk-tag--blue",
            "ended": "govuk-tag--grey",
            "withdrawn": "govuk-tag--red",
            "none": "govuk-tag--grey",
        }[self.value]

    @property
    def is_live(self) -> bool:
        return self in (ConsentState.LIVE, ConsentState.EXPIRING)


@dataclass(frozen=True)
class MoneyPosition:
    """A client's money at a glance: what is available to spend now from their current
    budget (`own_funds` when it holds only their own money: a self-funder's balance), and how
    many of their orders are open. `has_budget` False: no budget or account yet."""

    has_budget: bool
    own_funds: bool
    available_pence: int
    open_orders: int


PositionOf = Callable[[Person], MoneyPosition]


@dataclass(frozen=True)
class CaseloadEntry:
    """One client as the caseload shows them. A figure is None when the brokerage's consent
    does not cover it."""

    person: Person
    client: Client | None
    consent: Consent | None  # the consent the state describes (see `_consent_in_view`)
    state: ConsentState
    position: MoneyPosition | None
    shortlist_awaiting: bool | None
    unanswered_questions: int | None

    @property
    def can_act(self) -> bool:
        return self.state.is_live


def clients_of(
    session: Session,
    brokerage_id: uuid.UUID,
    *,
    at: datetime | None = None,
    position_of: PositionOf | None = None,
) -> list[CaseloadEntry]:
    """The brokerage's caseload, by name: every open client entry, and anyone who has given the
    brokerage a consent that is live or still to start (a person who consented online is a
    client without being added). Each with the state of the brokerage's consent and the
    figures that consent covers (`position_of` gives the money; without it, none is shown)."""
    at = at or utcnow()
    entries = {
        client.person_id: client
        for client in session.scalars(
            select(Client)
            .where(Client.brokerage_id == brokerage_id, Client.closed_at.is_(None))
            .options(selectinload(Client.person))
        )
    }
    consented = session.scalars(
        select(Consent.person_id).where(
            Consent.brokerage_id == brokerage_id,
            Consent.revoked_at.is_(None),
            Consent.ends_at > at,
        )
    ).all()
    people: dict[uuid.UUID, Person] = {pid: c.person for pid, c in entries.items()}
    missing = set(consented) - set(people)
    if missing:
        for person in session.scalars(select(Person).where(Person.id.in_(missing))):
            people[person.id] = person
    if not people:
        return []
    by_person: dict[uuid.UUID, list[Consent]] = {pid: [] for pid in people}
    for consent in session.scalars(
        select(Consent).where(
            Consent.brokerage_id == brokerage_id, Consent.person_id.in_(list(people))
        )
    ):
        by_person[consent.person_id].append(consent)
    result = [
        _entry(session, person, entries.get(pid), by_person[pid], at, position_of)
        for pid, person in people.items()
    ]
    return sorted(result, key=lambda e: (e.person.full_name.lower(), e.person.id))


def client_entry(
    session: Session,
    brokerage_id: uuid.UUID,
    person: Person,
    *,
    at: datetime | None = None,
    position_of: PositionOf | None = None,
) -> CaseloadEntry:
    """One person as the brokerage's caseload shows them (on their client page)."""
    at = at or utcnow()
    client = session.scalar(
        select(Client).where(Client.brokerage_id == brokerage_id, Client.person_id == person.id)
    )
    held = list(
        session.scalars(
            select(Consent).where(
                Consent.brokerage_id == brokerage_id, Consent.person_id == person.id
            )
        )
    )
    return _entry(session, person, client, held, at, position_of)


def _consent_in_view(held: list[Consent], at: datetime) -> tuple[Consent | None, ConsentState]:
    """The consent the caseload describes: a live one (the longest-lasting), else the next to
    start, else the most recent that ended or was withdrawn."""
    live = [c for c in held if c.is_live(at)]
    if live:
        consent = max(live, key=lambda c: c.ends_at)
        expiring = consent.ends_at <= at + EXPIRING_WITHIN
        return consent, ConsentState.EXPIRING if expiring else ConsentState.LIVE
    upcoming = [c for c in held if c.revoked_at is None and c.starts_at > at]
    if upcoming:
        return min(upcoming, key=lambda c: c.starts_at), ConsentState.NOT_STARTED
    if not held:
        return None, ConsentState.NONE
    latest = max(held, key=lambda c: (c.revoked_at or c.ends_at, c.created_at))
    return latest, (ConsentState.WITHDRAWN if latest.revoked_at else ConsentState.ENDED)


def _entry(
    session: Session,
    person: Person,
    client: Client | None,
    held: list[Consent],
    at: datetime,
    position_of: PositionOf | None,
) -> CaseloadEntry:
    consent, state = _consent_in_view(held, at)
    live = consent if state.is_live else None

    def covered(scope: ConsentScope) -> bool:
        return live is not None and live.covers(scope)

    return CaseloadEntry(
        person=person,
        client=client,
        consent=consent,
        state=state,
        position=position_of(person) if position_of and covered(ConsentScope.SEE) else None,
        shortlist_awaiting=(
            _shortlist_awaiting(session, person) if covered(ConsentScope.SHORTLIST) else None
        ),
        unanswered_questions=(
            _unanswered_questions(session, person) if covered(ConsentScope.MESSAGE) else None
        ),
    )


def _shortlist_awaiting(session: Session, person: Person) -> bool:
    return shortlists.awaiting_approval(session, person) is not None


def _unanswered_questions(session: Session, person: Person) -> int:
    return len(questions.unanswered_for(session, person))


def _check_broker_of(by: User, brokerage: Organisation) -> None:
    if by.role is not Role.BROKER or by.organisation_id != brokerage.id:
        raise PermissionError("only the brokerage's own brokers keep its caseload")


def add_client(
    session: Session,
    *,
    brokerage: Organisation,
    by: User,
    full_name: str,
    date_of_birth: date | None,
    postcode: str | None,
    email: str | None,
    scopes: list[str],
    authority: Authority,
    given_by_name: str,
    starts_at: datetime,
    ends_at: datetime,
    document_reference: str | None = None,
) -> Client:
    """A new person record on the brokerage's caseload, with the consent they (or their
    attorney or deputy) gave on paper recorded at once by `by`, one of its brokers.

    Raises CaseloadRefused (no name) or `consents.ConsentRefused` (the consent breaks one of
    its rules); the caller re-shows the form and the request rolls back, so nothing is kept.
    """
    _check_broker_of(by, brokerage)
    full_name = " ".join(full_name.split())
    if not full_name:
        raise CaseloadRefused({"full_name": "Enter the client's full name"})
    person = Person(
        full_name=full_name,
        date_of_birth=date_of_birth,
        postcode=(" ".join(postcode.upper().split()) or None) if postcode else None,
        email=email.strip().lower() if email and email.strip() else None,
    )
    session.add(person)
    session.flush()
    consents.give(
        session,
        person=person,
        scopes=scopes,
        authority=authority,
        given_by_name=given_by_name,
        starts_at=starts_at,
        ends_at=ends_at,
        recorded_by=by,
        brokerage=brokerage,
        document_reference=document_reference,
    )
    client = Client(brokerage_id=brokerage.id, person_id=person.id, added_by_id=by.id)
    session.add(client)
    session.flush()
    return client


def keep_on_caseload(
    session: Session, *, brokerage_id: uuid.UUID, person: Person, by: User
) -> Client:
    """The person's open entry on the brokerage's caseload, made if they have none (a person
    who consented online becomes a client the first time a broker works on their record)."""
    client = session.scalar(
        select(Client).where(Client.brokerage_id == brokerage_id, Client.person_id == person.id)
    )
    if client is None:
        client = Client(brokerage_id=brokerage_id, person_id=person.id, added_by_id=by.id)
        session.add(client)
        session.flush()
    elif client.closed_at is not None:
        client.closed_at = None
    return client


def record_made_by(session: Session, brokerage_id: uuid.UUID, person: Person) -> bool:
    """Whether the brokerage made the person's record (`add_client`): it is not the council's
    (no case reference), and the first consent ever recorded for the person was given to the
    brokerage and recorded by one of its brokers.

    Only then may the brokerage invite someone to claim the record: an invitation makes an
    account that sees everything about the person, so a brokerage must not be able to send one
    for a record that holds more than it put there (a council's person with a budget)."""
    if person.case_reference is not None:
        return False
    first = session.scalar(
        select(Consent)
        .where(Consent.person_id == person.id)
        .order_by(Consent.created_at, Consent.id)
        .limit(1)
    )
    if first is None or first.brokerage_id != brokerage_id or first.recorded_by_id is None:
        return False
    recorder = session.get(User, first.recorded_by_id)
    return (
        recorder is not None
        and recorder.role is Role.BROKER
        and recorder.organisation_id == brokerage_id
    )


def ask_for_consent(*, brokerage: Organisation, by: User, email: str, consent_link: str) -> None:
    """Email `email` a request from the brokerage to give it consent online, with the link to
    the page that gives it (`/my/consents/new?brokerage=<id>`, made by the caller).

    The same email goes whether or not the address has an account (it says how to make one),
    and nothing here looks the address up: the broker cannot learn who has an account."""
    _check_broker_of(by, brokerage)
    queue_email(
        email.strip(),
        f"{brokerage.name} asks for your consent to help you",
        f"{by.full_name} of {brokerage.name} has asked you to let them help you find and "
        "arrange care and support on the care and support marketplace.\n\n"
        "If you want them to, open this link, sign in (or create an account with this email "
        "address first) and choose what they may do for you:\n\n"
        f"{consent_link}\n\n"
        "You can withdraw your consent at any time from your account.\n\n"
        "If you do not know them, or do not want their help, you do not need to do anything.",
    )


def write_note(session: Session, *, person: Person, by: User, text: str) -> ClientNote:
    """Keep a note `by` (a broker) writes about a client, for their brokerage. Notes are never
    changed, and the client (and their attorney) can read every one.

    Raises CaseloadRefused for an empty or over-long note. Whether `by` may write it is the
    policy's (`write_client_note`), asked by the caller."""
    if by.role is not Role.BROKER or by.organisation_id is None:
        raise PermissionError("only brokers write client notes")
    text = text.strip()
    if not text:
        raise CaseloadRefused({"text": "Enter the note"})
    if len(text) > NOTE_MAX_LENGTH:
        raise CaseloadRefused({"text": f"The note must be {NOTE_MAX_LENGTH} characters or fewer"})
    note = ClientNote(
        person_id=person.id, brokerage_id=by.organisation_id, written_by_id=by.id, text=text
    )
    session.add(note)
    session.flush()
    return note


def notes_of(
    session: Session, person: Person, *, brokerage_id: uuid.UUID | None = None
) -> list[ClientNote]:
    """Notes about the person, newest first: every brokerage's (for the person, their attorney
    or an officer), or one brokerage's own (for its brokers)."""
    query = (
        select(ClientNote)
        .where(ClientNote.person_id == person.id)
        .options(selectinload(ClientNote.written_by), selectinload(ClientNote.brokerage))
        .order_by(ClientNote.written_at.desc(), ClientNote.id)
    )
    if brokerage_id is not None:
        query = query.where(ClientNote.brokerage_id == brokerage_id)
    return list(session.scalars(query))
