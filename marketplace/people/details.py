"""A person's details beyond their name: how to reach them, where they live, how to get in,
and what helps them communicate. The checks every way in shares (the person's page, the
council's, the API) and the record of changes. What the provider of an order may see of them
is `orders.delivery_details`.

Plain rules: no Flask request code; nothing here commits.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from marketplace.people.models import Person, PersonDetailsChange
from marketplace.postcodes import POSTCODE
from marketplace.types import Session

# The longest text each detail holds (the columns' lengths; the secrets' own limits, since
# their columns hold the longer ciphertext).
ADDRESS_LINE_MAX = 100
TOWN_MAX = 60
COUNTY_MAX = 60
PHONE_MAX = 30
COMMUNICATION_NEEDS_MAX = 500
KEY_SAFE_CODE_MAX = 20
ACCESS_NOTES_MAX = 1000
# Older than this is a typing slip (the oldest person ever recorded lived to 122).
OLDEST_AGE_YEARS = 120

# What a person's details are called on the page and in the record of changes.
FIELD_LABELS = {
    "full_name": "Name",
    "preferred_name": "Preferred name",
    "date_of_birth": "Date of birth",
    "address_line_1": "Address line 1",
    "address_line_2": "Address line 2",
    "town": "Town or city",
    "county": "County",
    "postcode": "Postcode",
    "phone": "Phone number",
    "email": "Email address",
    "preferred_contact": "Preferred contact",
    "communication_needs": "Communication needs",
    "key_safe_code": "Key safe code",
    "access_notes": "How to get in",
    "case_reference": "Council case reference",
}

_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()\-.]+$", re.ASCII)
PHONE_DIGITS_MIN = 7
PHONE_DIGITS_MAX = 15  # E.164's longest


def normalise_postcode(typed: str) -> str | None:
    """A UK postcode in capitals with one space before the last three characters ("sg1
    4qt" is "SG1 4QT"), or None if `typed` is not shaped like one."""
    squashed = re.sub(r"\s+", "", typed).upper()
    if not 5 <= len(squashed) <= 7:
        return None
    normalised = f"{squashed[:-3]} {squashed[-3:]}"
    return normalised if POSTCODE.match(normalised) else None


def normalise_phone(typed: str) -> str | None:
    """The number with its spaces tidied, or None unless it is digits (7 to 15 of them) with
    the spaces, brackets, dashes, dots and leading + people write them with. Loose on
    purpose: a landline, a mobile and a number abroad are all welcome."""
    tidy = " ".join(typed.split())
    if len(tidy) > PHONE_MAX or not _PHONE_CHARACTERS.match(tidy):
        return None
    digits = sum(character.isdigit() for character in tidy)
    return tidy if PHONE_DIGITS_MIN <= digits <= PHONE_DIGITS_MAX else None


def earliest_date_of_birth(today: date) -> date:
    """The earliest date of birth taken as real on `today`."""
    try:
        return today.replace(year=today.year - OLDEST_AGE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - OLDEST_AGE_YEARS, day=28)


def date_of_birth_problem(born: date, today: date) -> str | None:
    """Why `born` cannot be a living person's date of birth on `today`, or None if it can."""
    if born >= today:
        return "Date of birth must be in the past"
    earliest = earliest_date_of_birth(today)
    if born < earliest:
        return f"Date of birth must be the same as or after {earliest.strftime('%-d %B %Y')}"
    return None


def details_history(session: Session, person: Person) -> list[PersonDetailsChange]:
    """The changes to the person's details, newest first."""
    return list(
        session.scalars(
            select(PersonDetailsChange)
            .where(PersonDetailsChange.person_id == person.id)
            .order_by(PersonDetailsChange.changed_at.desc(), PersonDetailsChange.id)
        )
    )
