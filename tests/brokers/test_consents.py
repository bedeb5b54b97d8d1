"""Consents' rules (marketplace/people/consents.py): giving one (and every refusal, each
naming its field), revoking it at once and only once, and finding what a user holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from marketplace.accounts.models import User
from marketplace.accounts.policy import can, is_attorney, live_consent
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.people import consents
from marketplace.people.consents import ConsentRefused
from marketplace.people.models import Authority, Consent, ConsentScope, Person
from marketplace.types import utcnow
from providers.models import Organisation, OrganisationKind, OrganisationStatus

MakeUser = Callable[..., User]
EVERY = list(ConsentScope)


@pytest.fixture
def person(make_user: MakeUser) -> Person:
    """A citizen's own person (their account is `person.user`)."""
    return make_user(Role.CITIZEN).person


@pytest.fixture
def broker(make_user: MakeUser) -> User:
    return make_user(Role.BROKER)


@pytest.fixture
def brokerage(broker: User) -> Organisation:
    return db.session.get(Organisation, broker.organisation_id)


@pytest.fixture
def officer(make_user: MakeUser) -> User:
    return make_user(Role.COUNCIL_OFFICER)


def _give(person: Person, *, by: User | None = None, **overrides: object) -> Consent:
    now = utcnow()
    arguments: dict[str, object] = {
        "person": person,
        "scopes": [ConsentScope.SEE, ConsentScope.ORDER],
        "authority": Authority.PERSON,
        "given_by_name": person.full_name,
        "starts_at": now - timedelta(minutes=1),
        "ends_at": now + timedelta(days=90),
        "recorded_by": by if by is not None else person.user,
    }
    arguments.update(overrides)
    return consents.give(db.session, **arguments)  # type: ignore[arg-type]


def _inbox(user: User, kind: NotificationKind) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
        )
    )


def test_the_person_gives_consent_to_a_brokerage_and_its_brokers_may_act(
    person: Person, broker: User, brokerage: Organisation, make_user: MakeUser
) -> None:
    colleague = make_user(Role.BROKER, organisation=brokerage)
    consent = _give(person, brokerage=brokerage)
    db.session.commit()

    assert consent.scopes == ["see", "order"]
    assert consent.recorded_by_id == person.user.id
    assert live_consent(broker, person, "order") == consent
    assert live_consent(colleague, person, "see") == consent
    assert live_consent(broker, person, "pay") is None
    assert can(broker, "view_person", person)
    assert not can(broker, "manage_consents", person)
    # Both brokers are told; the person, who gave it online, is not told what they just did.
    assert len(_inbox(broker, NotificationKind.CONSENT_GIVEN)) == 1
    assert len(_inbox(colleague, NotificationKind.CONSENT_GIVEN)) == 1
    assert _inbox(person.user, NotificationKind.CONSENT_GIVEN) == []


def test_a_consent_recorded_by_a_broker_is_told_to_the_person(
    person: Person, broker: User, brokerage: Organisation
) -> None:
    _give(person, brokerage=brokerage, by=broker)

    told = _inbox(person.user, NotificationKind.CONSENT_GIVEN)
    assert [n.link for n in told] == ["/my/consents"]
    assert brokerage.name in told[0].title
    # The email carries the title only: never the name of the person cared for.
    assert person.full_name not in told[0].title
    assert _inbox(broker, NotificationKind.CONSENT_GIVEN) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["see", "fly"]}, "scopes"),
        ({"given_by_name": "   "}, "given_by_name"),
        (
            {"starts_at": utcnow() + timedelta(days=10), "ends_at": utcnow() + timedelta(days=5)},
            "ends_at",
        ),  # before the start
        (
            {"starts_at": utcnow() - timedelta(days=30), "ends_at": utcnow() - timedelta(days=1)},
            "ends_at",
        ),  # over already
        ({"ends_at": utcnow() + timedelta(days=3 * 366 + 1)}, "ends_at"),
        ({"authority": Authority.LPA_HEALTH_WELFARE}, "document_reference"),
        ({"authority": Authority.DEPUTY, "document_reference": "  "}, "document_reference"),
    ],
)
def test_a_consent_that_breaks_a_rule_is_refused_naming_the_field(
    person: Person, brokerage: Organisation, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(ConsentRefused) as refused:
        _give(person, brokerage=brokerage, **overrides)

    assert list(refused.value.problems) == [field]
    assert refused.value.details == {"fields": refused.value.problems}
    assert db.session.scalars(select(Consent)).all() == []


def test_every_problem_is_named_at_once(person: Person, brokerage: Organisation) -> None:
    with pytest.raises(ConsentRefused) as refused:
        _give(
            person,
            brokerage=brokerage,
            scopes=[],
            authority=Authority.LPA_PROPERTY_FINANCE,
            ends_at=utcnow() - timedelta(days=1),
        )
    assert set(refused.value.problems) == {"scopes", "document_reference", "ends_at"}


def test_three_years_is_the_longest_a_consent_lasts(
    person: Person, brokerage: Organisation
) -> None:
    at = datetime.fromisoformat("2026-12-04T10:00:00+00:00")
    longest = consents.latest_end(at)
    # Through 4 December 2029 (a day chosen on a form), to midnight as the 5th begins.
    assert longest == datetime.fromisoformat("2029-12-05T00:00:00+00:00")
    leap = datetime.fromisoformat("2028-02-29T10:00:00+00:00")
    assert consents.last_day_allowed(leap).isoformat() == "2031-02-28"

    consent = _give(person, brokerage=brokerage, starts_at=at, ends_at=longest, at=at)
    assert consent.ends_at == longest
    consents.revoke(db.session, consent, by=person.user, at=at)
    with pytest.raises(ConsentRefused) as refused:
        _give(
            person, brokerage=brokerage, starts_at=at, ends_at=longest + timedelta(seconds=1), at=at
        )
    assert "4 December 2029" in refused.value.problems["ends_at"]


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (OrganisationKind.PROVIDER, OrganisationStatus.APPROVED),
        (OrganisationKind.BROKERAGE, OrganisationStatus.PENDING),
        (OrganisationKind.BROKERAGE, OrganisationStatus.SUSPENDED),
    ],
)
def test_consent_goes_only_to_an_approved_brokerage(
    person: Person,
    make_organisation: Callable[..., Organisation],
    kind: OrganisationKind,
    status: OrganisationStatus,
) -> None:
    organisation = make_organisation("Not a brokerage to trust", status)
    organisation.kind = kind

    with pytest.raises(ConsentRefused) as refused:
        _give(person, brokerage=organisation)
    assert list(refused.value.problems) == ["brokerage"]


def test_a_grant_to_an_account_goes_to_another_citizen_only(
    person: Person, broker: User, make_user: MakeUser
) -> None:
    with pytest.raises(ConsentRefused) as own:
        _give(person, grantee=person.user)
    assert "own account" in own.value.problems["grantee"]
    with pytest.raises(ConsentRefused) as to_a_broker:
        _give(person, grantee=broker)
    assert list(to_a_broker.value.problems) == ["grantee"]
    with pytest.raises(ValueError, match="brokerage or for one account"):
        _give(person)  # neither a brokerage nor an account


def test_a_second_consent_to_the_same_grantee_for_the_same_time_is_refused(
    person: Person, brokerage: Organisation
) -> None:
    first = _give(person, brokerage=brokerage)
    with pytest.raises(ConsentRefused) as refused:
        _give(person, brokerage=brokerage, starts_at=utcnow() + timedelta(days=30))
    assert "withdraw that consent first" in refused.value.problems["brokerage"]

    # Once withdrawn (or for a time after it ends), a new one may be given.
    consents.revoke(db.session, first, by=person.user)
    again = _give(person, brokerage=brokerage, scopes=EVERY)
    assert again.scopes == [s.value for s in ConsentScope]


def test_a_family_member_with_a_power_of_attorney_is_an_attorney(
    person: Person, officer: User, make_user: MakeUser
) -> None:
    daughter = make_user(Role.CITIZEN)
    lpa = _give(
        person,
        grantee=daughter,
        by=officer,
        authority=Authority.LPA_PROPERTY_FINANCE,
        given_by_name=daughter.full_name,
        document_reference=" 7000-4821-6690 ",
        scopes=EVERY,
    )
    db.session.commit()

    assert lpa.document_reference == "7000-4821-6690"
    assert is_attorney(daughter, person)
    assert can(daughter, "manage_consents", person)
    assert can(daughter, "act_for", person)
    assert [c.id for c in consents.held_by(db.session, daughter)] == [lpa.id]
    # Both are told: the daughter goes to where she acts from; the person to their consents.
    assert [n.link for n in _inbox(daughter, NotificationKind.CONSENT_GIVEN)] == ["/my/"]
    assert len(_inbox(person.user, NotificationKind.CONSENT_GIVEN)) == 1


def test_an_attorney_revokes_a_consent_the_person_gave(
    app: Flask,
    person: Person,
    broker: User,
    brokerage: Organisation,
    officer: User,
    make_user: MakeUser,
) -> None:
    daughter = make_user(Role.CITIZEN)
    _give(
        person,
        grantee=daughter,
        by=officer,
        authority=Authority.DEPUTY,
        given_by_name=daughter.full_name,
        document_reference="COP 1234567",
        scopes=EVERY,
    )
    to_brokerage = _give(person, brokerage=brokerage)
    db.session.commit()
    assert can(daughter, "manage_consents", person)

    assert consents.revoke(db.session, to_brokerage, by=daughter) is True
    db.session.commit()

    assert to_brokerage.revoked_by_id == daughter.id
    assert to_brokerage.revoked_by_name == daughter.full_name
    # In a fresh session (the broker's next request), the consent is gone.
    with OrmSession(db.engine) as fresh:
        again = fresh.get(Person, person.id)
        broker_again = fresh.get(User, broker.id)
        assert again is not None
        assert broker_again is not None
        assert live_consent(broker_again, again) is None
        assert not can(broker_again, "view_person", again)
    # The brokers and the person are told; the daughter, who withdrew it, is not.
    told = _inbox(broker, NotificationKind.CONSENT_REVOKED)
    assert [n.link for n in told] == ["/broker/"]
    assert person.full_name not in told[0].title
    assert len(_inbox(person.user, NotificationKind.CONSENT_REVOKED)) == 1
    assert _inbox(daughter, NotificationKind.CONSENT_REVOKED) == []


def test_revoking_is_idempotent_and_told_once(
    person: Person, broker: User, brokerage: Organisation
) -> None:
    consent = _give(person, brokerage=brokerage)
    assert consents.revoke(db.session, consent, by=person.user) is True
    first = consent.revoked_at
    assert consents.revoke(db.session, consent, by=person.user) is False
    db.session.commit()

    assert consent.revoked_at == first
    assert live_consent(broker, person) is None
    assert len(_inbox(broker, NotificationKind.CONSENT_REVOKED)) == 1


def test_a_consent_not_yet_begun_can_be_withdrawn_and_an_ended_one_is_left(
    person: Person, brokerage: Organisation
) -> None:
    future = _give(person, brokerage=brokerage, starts_at=utcnow() + timedelta(days=10))
    assert consents.revoke(db.session, future, by=person.user) is True

    ended = _give(person, brokerage=brokerage, starts_at=utcnow() - timedelta(days=50))
    later = ended.ends_at + timedelta(days=1)
    assert consents.revoke(db.session, ended, by=person.user, at=later) is False
    assert ended.revoked_at is None


def test_a_revocation_the_session_has_not_seen_is_not_written_twice(
    person: Person, broker: User, brokerage: Organisation
) -> None:
    """Two withdrawals at once: the second's session still holds the consent as live, but its
    write finds it withdrawn and records nothing (and tells no one again)."""
    consent = _give(person, brokerage=brokerage)
    db.session.commit()
    with OrmSession(db.engine) as other:
        theirs = other.get(Consent, consent.id)
        by = other.get(User, person.user.id)
        assert theirs is not None
        assert by is not None
        assert theirs.revoked_at is None
        assert consents.revoke(db.session, consent, by=person.user) is True
        db.session.commit()
        assert consents.revoke(other, theirs, by=by) is False
        other.commit()
    assert len(_inbox(broker, NotificationKind.CONSENT_REVOKED)) == 1


def test_held_by_and_expiring(
    broker: User, brokerage: Organisation, make_user: MakeUser, make_organisation: Callable
) -> None:
    now = utcnow()
    ann = make_user(Role.CITIZEN).person
    ann.full_name = "Ann Abbott"
    bob = make_user(Role.CITIZEN).person
    bob.full_name = "Bob Brown"
    cat = make_user(Role.CITIZEN).person
    dan = make_user(Role.CITIZEN).person
    eve = make_user(Role.CITIZEN).person
    other = make_organisation("Another Brokerage")
    other.kind = OrganisationKind.BROKERAGE

    soon = _give(bob, brokerage=brokerage, ends_at=now + timedelta(days=13))
    later = _give(ann, brokerage=brokerage, ends_at=now + timedelta(days=200))
    _give(cat, brokerage=brokerage, starts_at=now + timedelta(days=1))  # not begun
    withdrawn = _give(dan, brokerage=brokerage)
    consents.revoke(db.session, withdrawn, by=dan.user)
    _give(eve, brokerage=other)  # another brokerage's

    assert [c.id for c in consents.held_by(db.session, broker, now)] == [later.id, soon.id]
    assert [c.person.full_name for c in consents.held_by(db.session, broker, now)] == [
        "Ann Abbott",
        "Bob Brown",
    ]
    assert [c.id for c in consents.expiring(db.session, broker, now)] == [soon.id]
    assert consents.expiring(db.session, broker, now, within=timedelta(days=1)) == []
    # Time passes: Bob's has ended, Cat's has begun.
    assert {
        c.person_id for c in consents.held_by(db.session, broker, now + timedelta(days=20))
    } == {
        ann.id,
        cat.id,
    }


def test_consents_of_lists_every_consent_newest_first(
    person: Person, brokerage: Organisation, make_user: MakeUser, officer: User
) -> None:
    first = _give(person, brokerage=brokerage, at=utcnow() - timedelta(days=2))
    consents.revoke(db.session, first, by=person.user)
    daughter = make_user(Role.CITIZEN)
    second = _give(
        person,
        grantee=daughter,
        by=officer,
        authority=Authority.LPA_HEALTH_WELFARE,
        given_by_name=daughter.full_name,
        document_reference="LPA-1",
    )
    someone_else = make_user(Role.CITIZEN).person
    _give(someone_else, brokerage=brokerage)

    assert [c.id for c in consents.consents_of(db.session, person)] == [second.id, first.id]
    assert consents.consent_of(db.session, person, second.id) == second
    assert consents.consent_of(db.session, someone_else, second.id) is None


def test_holders_and_the_person_are_reminded_once_that_a_consent_ends_soon(
    app: Flask, broker: User, brokerage: Organisation, make_user: MakeUser
) -> None:
    now = utcnow()
    soon, later, begun_later, withdrawn = (make_user(Role.CITIZEN).person for _ in range(4))
    ending = _give(soon, brokerage=brokerage, ends_at=now + timedelta(days=13))
    _give(later, brokerage=brokerage, ends_at=now + timedelta(days=15))
    _give(begun_later, brokerage=brokerage, starts_at=now + timedelta(days=1))
    gone = _give(withdrawn, brokerage=brokerage, ends_at=now + timedelta(days=3))
    consents.revoke(db.session, gone, by=withdrawn.user)
    db.session.commit()

    assert consents.remind_expiring(db.session, now) == 1
    db.session.commit()

    assert ending.expiry_reminded_at == now
    told = _inbox(broker, NotificationKind.CONSENT_EXPIRING)
    assert [n.link for n in told] == [f"/broker/clients/{soon.id}"]
    assert soon.full_name not in told[0].title
    assert soon.full_name in told[0].body
    assert [n.link for n in _inbox(soon.user, NotificationKind.CONSENT_EXPIRING)] == [
        "/my/consents"
    ]
    # Once only: the next day's run finds it reminded about; two days on, the next one is due.
    assert consents.remind_expiring(db.session, now + timedelta(days=1)) == 1  # `later` now
    assert consents.remind_expiring(db.session, now + timedelta(days=1)) == 0
    assert len(_inbox(broker, NotificationKind.CONSENT_EXPIRING)) == 2


def test_the_daily_command_reminds_and_says_how_many(
    app: Flask, person: Person, brokerage: Organisation
) -> None:
    _give(person, brokerage=brokerage, ends_at=utcnow() + timedelta(days=2))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["people", "remind-consents"])

    assert result.exit_code == 0, result.output
    assert "1 consents ending within 14 days reminded about" in result.output
    again = app.test_cli_runner().invoke(args=["people", "remind-consents"])
    assert "0 consents" in again.output
