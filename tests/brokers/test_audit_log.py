"""The audit log's rules: entries are recorded, found, and never changed or removed (the ORM
refuses, and the database's triggers refuse even hand-written SQL, on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.people import audit
from marketplace.people.audit import AuditAction, AuditEntry, AuditEntryIsFinal, AuditSearch
from marketplace.people.models import Person
from marketplace.types import utcnow


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.COUNCIL_OFFICER)


@pytest.fixture
def entry(session: Session, officer: User, person: Person) -> AuditEntry:
    made = audit.record(
        session,
        actor_id=officer.id,
        person_id=person.id,
        action="viewed",
        what="Margaret Okafor",
        ip="192.0.2.1",
        path="/council/people/x",
        status_code=200,
    )
    session.commit()
    return made


def test_an_entry_is_recorded_with_who_for_whom_what_when_and_where(
    session: Session, entry: AuditEntry, officer: User, person: Person
) -> None:
    found, total = audit.entries_of(session, person)

    assert total == 1
    assert found == [entry]
    assert (entry.actor, entry.person, entry.action) == (officer, person, AuditAction.VIEWED)
    assert (entry.what, entry.ip) == ("Margaret Okafor", "192.0.2.1")
    assert utcnow() - entry.at < timedelta(minutes=1)


def test_text_too_long_for_its_column_is_cut_not_refused(
    session: Session, officer: User, person: Person
) -> None:
    made = audit.record(
        session, actor_id=officer.id, person_id=person.id, action="changed", what="w" * 1000
    )
    session.commit()

    assert len(made.what) == audit.WHAT_LENGTH
    assert made.what.endswith("…")


def test_the_orm_refuses_to_change_an_entry(session: Session, entry: AuditEntry) -> None:
    entry.what = "Something else"

    with pytest.raises(AuditEntryIsFinal):
        session.flush()
    session.rollback()


def test_the_orm_refuses_to_remove_an_entry(session: Session, entry: AuditEntry) -> None:
    session.delete(entry)

    with pytest.raises(AuditEntryIsFinal):
        session.flush()
    session.rollback()


@pytest.mark.parametrize(
    "statement",
    [update(AuditEntry).values(what="Something else"), delete(AuditEntry)],
    ids=["update", "delete"],
)
def test_the_orm_refuses_bulk_statements_on_entries(
    session: Session, entry: AuditEntry, statement: object
) -> None:
    with pytest.raises(AuditEntryIsFinal):
        session.execute(statement)  # type: ignore[call-overload]
    session.rollback()


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_entries SET what = 'Something else'", "DELETE FROM audit_entries"],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_remove_an_entry(
    session: Session, entry: AuditEntry, sql: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(sql))
    session.rollback()

    assert session.scalar(text("SELECT what FROM audit_entries")) == "Margaret Okafor"


def test_officers_search_by_person_actor_and_date(
    session: Session, make_user: Callable[..., User], officer: User, person: Person
) -> None:
    other = Person(full_name="Samuel Adeyemi", email="sam@example.org")
    broker = make_user(Role.BROKER)
    session.add(other)
    session.flush()
    for actor, whom in ((officer, person), (broker, other), (officer, other)):
        audit.record(session, actor_id=actor.id, person_id=whom.id, action="viewed", what="p")
    session.commit()

    def found(**wanted: object) -> int:
        return audit.search(session, AuditSearch(**wanted))[1]  # type: ignore[arg-type]

    assert found() == 3
    assert found(person="okafor") == 1
    assert found(person="SAM@EXAMPLE") == 2
    assert found(actor=broker.email) == 1
    assert found(person="adeyemi", actor=officer.email) == 1
    assert found(person="%") == 0  # a wildcard is a character, not a pattern
    assert found(since=utcnow() + timedelta(minutes=1)) == 0
    assert found(before=utcnow() + timedelta(minutes=1)) == 3


def test_entries_are_paged_newest_first(session: Session, officer: User, person: Person) -> None:
    for number in range(5):
        audit.record(
            session, actor_id=officer.id, person_id=person.id, action="viewed", what=f"{number}"
        )
    session.commit()

    first, total = audit.entries_of(session, person, page=1, per_page=2)
    last, _ = audit.entries_of(session, person, page=3, per_page=2)

    assert total == 5
    assert len(first) == 2
    assert len(last) == 1
    assert first[0].at >= first[1].at >= last[0].at
