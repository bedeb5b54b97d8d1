"""Creating and changing a person's record: what the council's case-management system sends
through the API, and what the person (or an officer for them) changes on their details page.
Rules only: they flush and never commit.

The council's case reference is unique when set; the database says so too, so two requests
at once cannot give two people the same reference. Every change to an existing person is
recorded (who, when, which fields: never the values).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.principals import acting_token_id
from marketplace.people import details
from marketplace.people.models import Person, PersonDetailsChange
from marketplace.types import Session

# The fields of a person that may be set, and the longest text each holds.
TEXT_LENGTHS = {
    "full_name": 200,
    "preferred_name": 100,
    "postcode": 10,
    "email": 254,
    "phone": details.PHONE_MAX,
    "case_reference": 50,
    "address_line_1": details.ADDRESS_LINE_MAX,
    "address_line_2": details.ADDRESS_LINE_MAX,
    "town": details.TOWN_MAX,
    "county": details.COUNTY_MAX,
    "communication_needs": details.COMMUNICATION_NEEDS_MAX,
    "key_safe_code": details.KEY_SAFE_CODE_MAX,
    "access_notes": details.ACCESS_NOTES_MAX,
}
FIELDS = (*TEXT_LENGTHS, "date_of_birth", "preferred_contact")


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


def update_person(
    session: Session, person: Person, changes: Mapping[str, Any], *, by: User | None = None
) -> list[str]:
    """Change these fields of the person (None clears an optional one) and record which
    changed, by whom (and through which API token); the names of the fields that changed,
    in FIELDS order (none changed: nothing recorded). Raises PersonConflict if the new case
    reference is already someone else's."""
    changed = [
        name for name in FIELDS if name in changes and getattr(person, name) != changes[name]
    ]
    _save(session, person, changes)
    if changed:
        session.add(
            PersonDetailsChange(
                person_id=person.id,
                changed_by_id=by.id if by is not None else None,
                token_id=acting_token_id(session),
                fields=changed,
            )
        )
        session.flush()
    return changed


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


def reencrypt_how_to_get_in(session: Session) -> int:
    """Write every person's key safe code and access notes again, so they are encrypted with
    the first of the configured keys (after a new key is put first); how many people had any.
    The values do not change, so nothing goes on the record of changes."""
    people = session.scalars(
        select(Person).where(
            or_(Person.key_safe_code.is_not(None), Person.access_notes.is_not(None))
        )
    ).all()
    for person in people:
        flag_modified(person, "key_safe_code")
        flag_modified(person, "access_notes")
    session.flush()
    return len(people)
