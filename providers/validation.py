"""Field rules for what providers tell us, shared by the portal forms and the directory import.

Each check takes a value and returns a message for a person, or None when the value is fine.
The provider portal's forms (providers/portal/forms.py) call these by name: keep the names.
The limits are the database's column sizes (or, for descriptions, what a person will read), so
a value that passes here always fits.

Text is stored as the person typed it: markup such as `<script>` is not an error, it is text,
and the pages escape it when they show it. Control characters other than tab and line breaks
are refused, as they only ever come from a file that is not really text.
"""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from marketplace.formatting import pounds
from marketplace.money import MoneyError, pence_from_number, pence_from_text
from marketplace.postcodes import POSTCODE

# The CQC's ids: "1-" then 9 to 11 digits, for providers and locations alike.
_CQC_ID = re.compile(r"^1-[0-9]{9,11}$")
# Companies House: 8 characters, digits or a two-letter prefix (SC, NI, OC...) then 6 digits.
_COMPANY_NUMBER = re.compile(r"^([0-9]{8}|[A-Z]{2}[0-9]{6})$")
# Charity Commission for England and Wales: 6 or 7 digits, optionally "-N" for a linked one.
_CHARITY_NUMBER = re.compile(r"^[0-9]{6,7}(-[0-9]{1,2})?$")
_PHONE = re.compile(r"^\+?[0-9 ()-]+$")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Longest values, in characters: the column sizes, and what a person will read.
NAME_MAX = 200
DESCRIPTION_MAX = 3000
EMAIL_MAX = 254
PHONE_MAX = 30
URL_MAX = 300
ADDRESS_MAX = 300
TOWN_MAX = 100
POSTCODE_MAX = 10
SOURCE_ID_MAX = 100
SHORT_TEXT_MAX = 100  # one language, accessibility feature or condition

# £10,000 for one unit (a week of live-in care costs well under this): anything more is a slip.
MAX_PRICE_PENCE = 1_000_000
MINIMUM_ORDER_MAX = 1000
AGE_MAX = 120


def postcode_problem(value: str) -> str | None:
    """A full UK postcode, with or without its space, in any case."""
    if not POSTCODE.match(value.strip().upper()):
        return "Enter a real postcode, like SG1 2FQ"
    return None


def cqc_id_problem(value: str) -> str | None:
    """A CQC provider or location ID: "1-" then 9 to 11 digits."""
    if not _CQC_ID.match(value.strip()):
        return "Enter a CQC ID in the correct format, like 1-101634857"
    return None


def companies_house_number_problem(value: str) -> str | None:
    """A Companies House number: 8 digits, or two letters and 6 digits."""
    if not _COMPANY_NUMBER.match(value.strip().upper()):
        return "Enter a Companies House number in the correct format, like 01234567 or SC123456"
    return None


def charity_number_problem(value: str) -> str | None:
    """A Charity Commission number: 6 or 7 digits, with "-N" for a linked charity."""
    if not _CHARITY_NUMBER.match(value.strip()):
        return "Enter a charity number in the correct format, like 1012345"
    return None


def website_problem(value: str) -> str | None:
    """A web address people can follow: http or https, with a domain."""
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or "." not in parts.netloc or " " in value.strip():
        return "Enter a website address in the correct format, like https://www.example.org"
    return None


def email_problem(value: str) -> str | None:
    """An email address in the correct format (its domain is not looked up)."""
    try:
        validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        return "Enter an email address in the correct format, like name@example.com"
    return None


def phone_problem(value: str) -> str | None:
    """A UK or international phone number: digits, spaces, brackets, dashes, a leading +."""
    digits = sum(character.isdigit() for character in value)
    if not _PHONE.match(value.strip()) or not 10 <= digits <= 15:
        return "Enter a phone number, like 01632 960 001 or +44 1632 960 001"
    return None


def text_problem(label: str, value: str | None, max_length: int, *, required: bool) -> str | None:
    """A text field: present when `required`, at most `max_length` characters, really text."""
    text = (value or "").strip()
    if not text:
        return f"Enter the {label.lower()}" if required else None
    if len(text) > max_length:
        return f"{label} must be {max_length} characters or fewer (it has {len(text)})"
    if _CONTROL.search(text):
        return f"{label} contains control characters: it is not plain text"
    return None


def price_problem(pence: int, *, free: bool) -> str | None:
    """A price in pence: not negative, not absurd, zero exactly when the service is free."""
    if pence < 0:
        return "The price cannot be negative"
    if pence > MAX_PRICE_PENCE:
        return f"The price must be {pounds(MAX_PRICE_PENCE)} or less for one unit"
    if free and pence != 0:
        return "A free service has a price of £0"
    if not free and pence == 0:
        return "Enter a price more than £0, or say the service is free"
    return None


def pounds_problem(value: str | Decimal) -> str | None:
    """An amount of money in pounds, like 24.50: a number, at most two decimal places.

    Text is read by `marketplace.money`'s strict pattern; a Decimal (a JSON number) by its
    size before any arithmetic.
    """
    try:
        _pence(value)
    except MoneyError as error:
        shown = value if len(str(value)) <= 40 else f"{str(value)[:40]}…"
        return f"{error.message_for('The price')}, not {shown!r}"
    return None


def pence_from_pounds(value: str | Decimal) -> int:
    """Pounds (text like "£1,024.50" or a Decimal) as integer pence, never through a float.

    Raises ValueError with `pounds_problem`'s message when it is not an amount of money.
    """
    problem = pounds_problem(value)
    if problem:
        raise ValueError(problem)
    return _pence(value)


def _pence(value: str | Decimal) -> int:
    if isinstance(value, Decimal):
        return pence_from_number(value)
    return pence_from_text(value)


def minimum_order_problem(value: int) -> str | None:
    """How many units must be bought at once: 1 to 1000."""
    if not 1 <= value <= MINIMUM_ORDER_MAX:
        return f"The minimum order must be between 1 and {MINIMUM_ORDER_MAX}"
    return None


def age_problem(label: str, value: int) -> str | None:
    """An age in whole years, 0 to 120; `label` names the field in the message."""
    if not 0 <= value <= AGE_MAX:
        return f"{label} must be an age from 0 to {AGE_MAX}"
    return None


def age_range_problem(youngest: int | None, oldest: int | None) -> str | None:
    """The youngest age is not above the oldest (either may be missing)."""
    if youngest is not None and oldest is not None and oldest < youngest:
        return "The oldest age must be the same as or more than the youngest age"
    return None


def opening_time_problem(opens: str, closes: str) -> str | None:
    """Opening hours on one day: two 24-hour clock times, like 09:00, closing after opening."""
    for label, clock in (("Opens at", opens), ("Closes at", closes)):
        if not _CLOCK.match(clock):
            return f"{label} must be a time like 09:00, not {clock!r}"
    if closes <= opens:
        return "Closes at must be later than opens at"
    return None
