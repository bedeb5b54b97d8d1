"""Creating and changing a person's record: what the council's case-management system sends
through the API. Rules only: they flush and never commit.

The council's case reference is unique when set; the database says so too, so two requests
at once cannot give two people the same reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.people.models import Person

# The fields of a person the API may set, and the longest text each holds.
TEXT_LENGTHS = {
    "full_name": 200,
    "preferred_name": 100,
    "postcode": 10,
    "email": 254,
    "phone": 30,
    "case_reference": 50,
}
FIELDS = (*TEXT_LENGTHS, "date_of_birth")


class PersonConflict(Exception):
    """Another person already has this case reference."""

    code = "conflict"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


def person_by_case_reference(session: Session, reference: str) -> Person | None:
    """The person with this case reference, if there is one."""
    return session.scalar(select(Person).where(Person.case_reference == reference))


def create_person(session: Session, *, full_name: str, **fields: str | date | None) -> Person:
    """A new person with these fields (names in FIELDS). Raises PersonConflict if the case
    reference is already someone's."""
    person = Person(full_name=full_name)
    return _save(session, person, fields)


def update_person(session: Session, person: Person, changes: Mapping[str, Any]) -> Person:
    """Change these fields of the person (None clears an optional one). Raises PersonConflict
    if the new case reference is already someone else's."""
    return _save(session, person, changes)


def _save(session: Session, person: Person, fields: Mapping[str, Any]) -> Person:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not fields of a person: {sorted(unknown)}")
    reference = fields.get("case_reference")
    if reference is not None:
        holder = person_by_case_reference(session, reference)
        if holder is not None and holder is not person:
            raise _taken(reference)
    try:
        with ledger.savepoint(session):
            for name, value in fields.items():
                setattr(person, name, value)
            session.add(person)
            session.flush()
    except IntegrityError as error:  # taken at the same moment by another request
        raise _taken(reference) from error
    return person


def _taken(reference: str | None) -> PersonConflict:
    return PersonConflict(
        f"Another person already has the case reference {reference!r}",
        field="case_reference",
    )
