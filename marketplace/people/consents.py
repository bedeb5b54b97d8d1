"""Consents: a person's recorded permission for a brokerage (any of its brokers) or a family
member's account to act for them (issue 17).

Giving one checks what makes a consent meaningful and safe (what it covers, when it ends, the
document behind a legal authority, an approved brokerage, no second consent to the same grantee
at the same time) and tells the grantee and the person. Revoking is at once and idempotent: the
policy reads consents afresh on every request (`accounts.policy.live_consent`), so the grantee
loses access on their next one. Who may give or revoke is the policy's (`manage_consents`), asked
by the edge. Functions flush and never commit.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, false, func, select, update
from sqlalchemy.orm import selectinload

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.formatting import LONDON, london_time
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import notify
from marketplace.people.models import Authority, Consent, ConsentScope, Person
from marketplace.types import Session, utcnow
from providers.models import Organisation, OrganisationKind, OrganisationStatus

# A consent is asked for again at least this often: people's circumstances change.
LONGEST_YEARS = 3
# Consents ending within this are flagged to their holders and reminded about.
EXPIRING_WITHIN = timedelta(days=14)
DOCUMENT_REFERENCE_MAX_LENGTH = 100
GIVEN_BY_NAME_MAX_LENGTH = 200

# Where each reader's notification points (paths inside the site; rules make no URLs).
PERSON_CONSENTS_PATH = "/my/consents"
BROKER_WORKSPACE_PATH = "/broker/"
BROKER_CLIENT_PATH = "/broker/clients/{person_id}"
ACTING_FROM_PATH = "/my/"


class ConsentState(enum.StrEnum):
    """Where a consent stands at a moment, for saying so on a page."""

    LIVE = "live"
    NOT_STARTED = "not_started"
    ENDED = "ended"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {
            "live": "In use",
            "not_started": "Not started yet",
            "ended": "Ended",
            "withdrawn": "Withdrawn",
        }[self.value]

    @property
    def tag_class(self) -> str:
        return {
            "live": "govuk-tag--green",
            "not_started": "govuk-tag--blue",
            "ended": "govuk-tag--grey",
            "withdrawn": "govuk-tag--red",
        }[self.value]

    @property
    def may_withdraw(self) -> bool:
        return self in (ConsentState.LIVE, ConsentState.NOT_STARTED)


def state_of(consent: Consent, at: datetime | None = None) -> ConsentState:
    at = at or utcnow()
    if consent.revoked_at is not None:
        return ConsentState.WITHDRAWN
    if consent.ends_at <= at:
        return ConsentState.ENDED
    if consent.starts_at > at:
        return ConsentState.NOT_STARTED
    return ConsentState.LIVE


class ConsentRefused(Exception):
    """The consent asked for breaks a rule. `problems` maps each field at fault (the names of
    `give`'s parameters: scopes, starts_at, ends_at, document_reference, given_by_name,
    brokerage, grantee) to what to say about it; `details["fields"]` is the same, for
    `marketplace.forms.show_refusal` and the API's errors."""

    code = "validation_error"

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        self.message = next(iter(self.problems.values()))
        self.details = {"fields": self.problems}
        super().__init__(self.message)


def last_day_allowed(at: datetime) -> date:
    """The last day (in London) a consent given at `at` may cover: the same date
    `LONGEST_YEARS` later (28 February for a 29 February)."""
    today = at.astimezone(LONDON).date()
    try:
        return today.replace(year=today.year + LONGEST_YEARS)
    except ValueError:
        return today.replace(year=today.year + LONGEST_YEARS, day=28)


def end_of_day(day: date) -> datetime:
    """The moment a consent covering `day` (in London) to its end ends: midnight as the next
    day begins, in UTC. The calendar's last day (31 December 9999, which anyone may type) has
    no next day: its end is the latest moment there is, which `give` refuses as too far ahead
    like any other end more than three years away (it was an OverflowError: a 500)."""
    if day == date.max:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=LONDON).astimezone(UTC)


def start_of_day(day: date) -> datetime:
    """Midnight as `day` begins in London, in UTC: when a consent from `day` starts."""
    return datetime.combine(day, time(), tzinfo=LONDON).astimezone(UTC)


def latest_end(at: datetime) -> datetime:
    """The latest a consent given at `at` may end: the end of `last_day_allowed`."""
    return end_of_day(last_day_allowed(at))


def give(
    session: Session,
    *,
    person: Person,
    scopes: Collection[ConsentScope | str],
    authority: Authority,
    given_by_name: str,
    starts_at: datetime,
    ends_at: datetime,
    recorded_by: User | None,
    brokerage: Organisation | None = None,
    grantee: User | None = None,
    document_reference: str | None = None,
    at: datetime | None = None,
) -> Consent:
    """Record the person's consent for `brokerage` (any of its brokers) or `grantee` (one
    account: a family member's) to act for them in `scopes`, from `starts_at` until `ends_at`,
    given by `given_by_name` on `authority`, and tell the grantee and the person (whoever of
    them did not record it). Raises `ConsentRefused` naming every field at fault: no scope (or
    an unknown one), no name, an end not after the start or already past or more than three
    years from `at` (now), a legal authority without its document's reference, a grantee that
    is not an approved brokerage or an active citizen's account other than the person's own,
    or a grantee who already holds a consent of the person's for part of the same time."""
    at = at or utcnow()
    if (brokerage is None) == (grantee is None):
        raise ValueError("a consent is for a brokerage or for one account, not both or neither")
    wanted = _scopes(scopes)
    given_by_name = (given_by_name or "").strip()
    document_reference = (document_reference or "").strip() or None
    problems = {
        **({"scopes": "Choose what the consent lets them do"} if wanted is None else {}),
        **_words_problems(authority, given_by_name, document_reference),
        **_dates_problems(starts_at, ends_at, at),
        **_grantee_problems(person, brokerage, grantee),
    }
    if wanted is not None and recorded_by is not None and "scopes" not in problems:
        problems.update(_delegation_problems(recorded_by, person, wanted, at))
    if not problems:
        # Hold the person while checking for an overlapping consent, so two consents given at
        # once to the same grantee cannot both be recorded: SQLite's write lock taken before
        # the read; PostgreSQL's row lock on the person, the second giver waiting for the first.
        ledger.begin_immediate(session)
        session.execute(select(Person.id).where(Person.id == person.id).with_for_update())
        clash = _overlapping(session, person, brokerage, grantee, starts_at, ends_at)
        if clash is not None:
            field = "brokerage" if brokerage is not None else "grantee"
            problems[field] = (
                f"{clash.grantee_name} already has consent from "
                f"{london_time(clash.starts_at, with_time=False)} to "
                f"{london_time(last_day(clash), with_time=False)}: withdraw that consent "
                "first to give a different one"
            )
    if problems:
        raise ConsentRefused(problems)

    assert wanted is not None
    consent = Consent(
        person_id=person.id,
        brokerage_id=brokerage.id if brokerage is not None else None,
        grantee_user_id=grantee.id if grantee is not None else None,
        scopes=wanted,
        authority=authority,
        given_by_name=given_by_name,
        document_reference=document_reference,
        recorded_by_id=recorded_by.id if recorded_by is not None else None,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=at,
    )
    session.add(consent)
    session.flush()
    session.refresh(consent)
    # The person's list of consents is read by the policy: let it see this one at once.
    session.expire(person, ["consents"])
    _tell_given(session, consent, person, recorded_by)
    return consent


def revoke(session: Session, consent: Consent, *, by: User, at: datetime | None = None) -> bool:
    """Withdraw `consent` at once, recording `by` (their name too, kept if the account goes),
    and tell its grantee and the person (whoever of them did not withdraw it). Idempotent:
    True if this call withdrew it, False if it was already withdrawn or had already ended.
    Two withdrawals at the same time record one (the first to write)."""
    at = at or utcnow()
    if consent.revoked_at is not None or consent.ends_at <= at:
        return False
    withdrawn = session.execute(
        update(Consent)
        .where(Consent.id == consent.id, Consent.revoked_at.is_(None))
        .values(revoked_at=at, revoked_by_id=by.id, revoked_by_name=by.full_name)
        .execution_options(synchronize_session=False)
    )
    session.refresh(consent)
    session.expire(consent.person, ["consents"])
    if withdrawn.rowcount != 1:  # type: ignore[attr-defined]
        return False
    _tell_revoked(session, consent, by)
    return True


def consents_of(session: Session, person: Person) -> list[Consent]:
    """Every consent of the person's, live or not, newest first, with their grantees and who
    recorded and withdrew them loaded."""
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.person_id == person.id)
            .options(
                selectinload(Consent.brokerage),
                selectinload(Consent.grantee_user),
                selectinload(Consent.recorded_by),
            )
            .order_by(Consent.created_at.desc(), Consent.starts_at.desc())
        )
    )


def consent_of(session: Session, person: Person, consent_id: uuid.UUID) -> Consent | None:
    """The person's consent of this id, or None (another person's consent is never found)."""
    return session.scalar(
        select(Consent).where(Consent.id == consent_id, Consent.person_id == person.id)
    )


def held_by(session: Session, user: User, at: datetime | None = None) -> list[Consent]:
    """The live consents `user` holds at `at` (now): for a broker, those given to their
    brokerage; for anyone else, those granted to their own account. With their people loaded,
    ordered by the person's name, then by when they end."""
    at = at or utcnow()
    return list(
        session.scalars(
            _held(user)
            .where(Consent.starts_at <= at, Consent.ends_at > at)
            .join(Person, Person.id == Consent.person_id)
            .options(selectinload(Consent.person), selectinload(Consent.brokerage))
            .order_by(Person.full_name, Consent.ends_at)
        )
    )


def expiring(
    session: Session, user: User, at: datetime | None = None, within: timedelta = EXPIRING_WITHIN
) -> list[Consent]:
    """The live consents `user` holds (as `held_by`) that end within `within` of `at`, the
    soonest first."""
    at = at or utcnow()
    return sorted(
        (c for c in held_by(session, user, at) if c.ends_at <= at + within),
        key=lambda c: c.ends_at,
    )


def remind_expiring(
    session: Session, at: datetime | None = None, within: timedelta = EXPIRING_WITHIN
) -> int:
    """Tell the holders and the person of every live consent ending within `within` of `at`
    (now) that it ends soon, once per consent (its `expiry_reminded_at`); how many consents were
    reminded about. A consent given for less than `within` is reminded about at once: it is
    still news to the person that it ends. Run daily (`flask people remind-consents`)."""
    at = at or utcnow()
    due = list(
        session.scalars(
            select(Consent)
            .where(
                Consent.revoked_at.is_(None),
                Consent.expiry_reminded_at.is_(None),
                Consent.starts_at <= at,
                Consent.ends_at > at,
                Consent.ends_at <= at + within,
            )
            .options(selectinload(Consent.person), selectinload(Consent.brokerage))
            .order_by(Consent.ends_at)
            .with_for_update(skip_locked=True, of=Consent)
        )
    )
    for consent in due:
        consent.expiry_reminded_at = at
        _tell_expiring(session, consent)
    session.flush()
    return len(due)


def last_day(consent: Consent) -> datetime:
    """The last moment a consent covers (its end is the first moment it no longer does): for
    saying "until 3 March 2027" of a consent ending at midnight as 4 March begins."""
    return consent.ends_at - timedelta(microseconds=1)


def approved_brokerages(session: Session) -> list[Organisation]:
    """The brokerages a person may give consent to (approved by the council), by name."""
    return list(
        session.scalars(
            select(Organisation)
            .where(
                Organisation.kind == OrganisationKind.BROKERAGE,
                Organisation.status == OrganisationStatus.APPROVED,
            )
            .order_by(Organisation.name)
        )
    )


def approved_brokerage(session: Session, brokerage_id: uuid.UUID) -> Organisation | None:
    """The approved brokerage of this id, or None (a provider, or one not approved)."""
    organisation = session.get(Organisation, brokerage_id)
    if organisation is None or organisation not in approved_brokerages(session):
        return None
    return organisation


def citizen_account(session: Session, email: str) -> User | None:
    """The active citizen's account with this email address (any case), or None."""
    return session.scalar(
        select(User).where(
            func.lower(User.email) == email.strip().lower(),
            User.role == Role.CITIZEN,
            User.active.is_(True),
        )
    )


@dataclass(frozen=True)
class Giver:
    """Who gives a consent online and on what authority: the person themselves, or their
    attorney or deputy (whose own consent names the authority and its document), and which
    scopes they may pass on (an attorney: no more than their own consent covers)."""

    authority: Authority
    name: str
    document_reference: str | None
    may_give: tuple[ConsentScope, ...]


def giver(user: User, person: Person, at: datetime | None = None) -> Giver | None:
    """How `user` gives consent for `person` online: as the person (their own account), as
    their attorney or deputy (a live legal consent granted to the user's account), or None."""
    at = at or utcnow()
    if user.role is Role.CITIZEN and user.person_id == person.id:
        return Giver(Authority.PERSON, person.full_name, None, tuple(ConsentScope))
    legal = [
        consent
        for consent in person.consents
        if consent.is_live(at) and consent.grantee_user_id == user.id and consent.authority.is_legal
    ]
    if not legal:
        return None
    held = {scope for consent in legal for scope in consent.scopes}
    first = legal[0]
    return Giver(
        first.authority,
        user.full_name,
        first.document_reference,
        tuple(scope for scope in ConsentScope if scope.value in held),
    )


def grantee_users(session: Session, consent: Consent) -> list[User]:
    """Whoever holds the consent: the brokers of its brokerage, or its one account."""
    if consent.brokerage_id is not None:
        return list(
            session.scalars(
                select(User)
                .where(User.organisation_id == consent.brokerage_id, User.role == Role.BROKER)
                .order_by(User.full_name)
            )
        )
    grantee = session.get(User, consent.grantee_user_id)
    return [grantee] if grantee is not None else []


def _words_problems(
    authority: Authority, given_by_name: str, document_reference: str | None
) -> dict[str, str]:
    problems = {}
    if not given_by_name:
        problems["given_by_name"] = "Enter the name of the person who gave consent"
    elif len(given_by_name) > GIVEN_BY_NAME_MAX_LENGTH:
        problems["given_by_name"] = (
            f"The name must be {GIVEN_BY_NAME_MAX_LENGTH} characters or fewer"
        )
    if authority.is_legal and document_reference is None:
        problems["document_reference"] = (
            "Enter the reference of the lasting power of attorney or the court order"
        )
    elif document_reference and len(document_reference) > DOCUMENT_REFERENCE_MAX_LENGTH:
        problems["document_reference"] = (
            f"The reference must be {DOCUMENT_REFERENCE_MAX_LENGTH} characters or fewer"
        )
    return problems


def _dates_problems(starts_at: datetime, ends_at: datetime, at: datetime) -> dict[str, str]:
    if ends_at <= at:
        return {"ends_at": "The end date must be in the future"}
    if ends_at <= starts_at:
        return {"ends_at": "The end date must be after the start date"}
    if ends_at > latest_end(at):
        last = london_time(latest_end(at) - timedelta(microseconds=1), with_time=False)
        return {
            "ends_at": f"Consent can last at most {LONGEST_YEARS} years: choose an end date "
            f"no later than {last}"
        }
    return {}


def _grantee_problems(
    person: Person, brokerage: Organisation | None, grantee: User | None
) -> dict[str, str]:
    if brokerage is not None and not (
        brokerage.kind is OrganisationKind.BROKERAGE
        and brokerage.status is OrganisationStatus.APPROVED
    ):
        return {"brokerage": "Choose a brokerage approved by the council"}
    if grantee is not None and (grantee.role is not Role.CITIZEN or not grantee.active):
        return {"grantee": "Consent can only be granted to a family member's own account"}
    if grantee is not None and grantee.person_id == person.id:
        return {"grantee": "A person cannot give consent to their own account"}
    return {}


def _delegation_problems(
    recorded_by: User, person: Person, wanted: list[str], at: datetime
) -> dict[str, str]:
    """An attorney or deputy giving consent online passes on no more than their own consent
    covers."""
    as_giver = giver(recorded_by, person, at)
    if as_giver is None or not as_giver.authority.is_legal:
        return {}
    beyond = [scope for scope in wanted if ConsentScope(scope) not in as_giver.may_give]
    if not beyond:
        return {}
    allowed = ", ".join(scope.label.lower() for scope in as_giver.may_give)
    return {"scopes": f"You can only pass on what your own authority covers: {allowed}"}


def _scopes(scopes: Collection[ConsentScope | str]) -> list[str] | None:
    """The scopes as ConsentScope values in the enum's order, or None if there are none or
    any is unknown."""
    try:
        chosen = {ConsentScope(str(scope)) for scope in scopes}
    except ValueError:
        return None
    return [scope.value for scope in ConsentScope if scope in chosen] or None


def _held(user: User) -> Select[Consent]:
    query = select(Consent).where(Consent.revoked_at.is_(None))
    if user.role is Role.BROKER and user.organisation_id is not None:
        query = query.where(Consent.brokerage_id == user.organisation_id)
        # A brokerage the council has suspended holds no consent (`Consent.held_by`).
        organisation = user.organisation
        approved = organisation is not None and organisation.status is OrganisationStatus.APPROVED
        return query if approved else query.where(false())
    return query.where(Consent.grantee_user_id == user.id)


def _overlapping(
    session: Session,
    person: Person,
    brokerage: Organisation | None,
    grantee: User | None,
    starts_at: datetime,
    ends_at: datetime,
) -> Consent | None:
    grantee_is: ColumnElement[bool] = (
        Consent.brokerage_id == brokerage.id
        if brokerage is not None
        else Consent.grantee_user_id == (grantee.id if grantee is not None else None)
    )
    return session.scalar(
        select(Consent)
        .where(
            Consent.person_id == person.id,
            grantee_is,
            Consent.revoked_at.is_(None),
            Consent.starts_at < ends_at,
            Consent.ends_at > starts_at,
        )
        .order_by(Consent.starts_at)
        .limit(1)
    )


def _person_users(person: Person) -> list[User]:
    return [person.user] if person.user is not None else []


def _except(users: Iterable[User], someone: User | None) -> list[User]:
    return [user for user in users if someone is None or user.id != someone.id]


def _tell_given(session: Session, consent: Consent, person: Person, by: User | None) -> None:
    scopes = ", ".join(ConsentScope(scope).label.lower() for scope in consent.scopes)
    until = london_time(last_day(consent), with_time=False)
    holders = grantee_users(session, consent)
    # Emails carry the title: no names of the person cared for in it.
    notify(
        session,
        _except(holders, by),
        NotificationKind.CONSENT_GIVEN,
        title="You have been given consent to act for someone",
        body=f"{person.full_name} gave consent until {until} to: {scopes}.",
        link=_holders_link(consent),
    )
    notify(
        session,
        _except(_person_users(person), by),
        NotificationKind.CONSENT_GIVEN,
        title=f"Consent recorded for {consent.grantee_name} to act for you",
        body=f"{consent.given_by_name} gave consent until {until} to: {scopes}. "
        "You can see or withdraw it from your consents page.",
        link=PERSON_CONSENTS_PATH,
    )


def _tell_revoked(session: Session, consent: Consent, by: User) -> None:
    person = consent.person
    holders = grantee_users(session, consent)
    notify(
        session,
        _except(holders, by),
        NotificationKind.CONSENT_REVOKED,
        title="Consent to act for someone has been withdrawn",
        body=f"{by.full_name} withdrew the consent to act for {person.full_name}. "
        "You can no longer act for them.",
        link=BROKER_WORKSPACE_PATH if consent.brokerage_id is not None else ACTING_FROM_PATH,
    )
    notify(
        session,
        _except(_person_users(person), by),
        NotificationKind.CONSENT_REVOKED,
        title=f"Consent for {consent.grantee_name} to act for you has been withdrawn",
        body=f"{by.full_name} withdrew it. {consent.grantee_name} can no longer act for you.",
        link=PERSON_CONSENTS_PATH,
    )


def _holders_link(consent: Consent) -> str:
    """Where a holder of a live consent goes about it: a broker to the client's page, a family
    member to their home, where they choose whom to act for."""
    if consent.brokerage_id is not None:
        return BROKER_CLIENT_PATH.format(person_id=consent.person_id)
    return ACTING_FROM_PATH


def _tell_expiring(session: Session, consent: Consent) -> None:
    person = consent.person
    until = london_time(last_day(consent), with_time=False)
    notify(
        session,
        grantee_users(session, consent),
        NotificationKind.CONSENT_EXPIRING,
        title="Consent to act for someone ends soon",
        body=f"The consent to act for {person.full_name} ends at the end of {until}. "
        "Ask them (or their attorney) to give consent again if they want you to carry on.",
        link=_holders_link(consent),
    )
    notify(
        session,
        _person_users(person),
        NotificationKind.CONSENT_EXPIRING,
        title=f"Your consent for {consent.grantee_name} to act for you ends soon",
        body=f"It ends at the end of {until}. If you want them to carry on, withdraw it and "
        "give a new consent with a later end date from your consents page.",
        link=PERSON_CONSENTS_PATH,
    )
