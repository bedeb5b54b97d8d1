"""Field rules for what providers tell us, shared by the portal forms and the directory import.

Each check takes a value and returns a message for a person, or None when the value is fine.
The provider portal's forms (providers/forms.py) call these by name: keep the names.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# A full UK postcode, with or without its space (BS 7666 shapes, plus GIR 0AA).
_POSTCODE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|"
    r"[A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)
# The CQC's ids: "1-" then 9 to 11 digits, for providers and locations alike.
_CQC_ID = re.compile(r"^1-[0-9]{9,11}$")
# Companies House: 8 characters, digits or a two-letter prefix (SC, NI, OC...) then 6 digits.
_COMPANY_NUMBER = re.compile(r"^([0-9]{8}|[A-Z]{2}[0-9]{6})$")
# Charity Commission for England and Wales: 6 or 7 digits, optionally "-N" for a linked one.
_CHARITY_NUMBER = re.compile(r"^[0-9]{6,7}(-[0-9]{1,2})?$")


def postcode_problem(value: str) -> str | None:
    if not _POSTCODE.match(value.strip().upper()):
        return "Enter a real postcode, like SG1 2FQ"
    return None


def cqc_id_problem(value: str) -> str | None:
    if not _CQC_ID.match(value.strip()):
        return "Enter a CQC ID in the correct format, like 1-101634857"
    return None


def companies_house_number_problem(value: str) -> str | None:
    if not _COMPANY_NUMBER.match(value.strip().upper()):
        return "Enter a Companies House number in the correct format, like 01234567 or SC123456"
    return None


def charity_number_problem(value: str) -> str | None:
    if not _CHARITY_NUMBER.match(value.strip()):
        return "Enter a charity number in the correct format, like 1012345"
    return None


def website_problem(value: str) -> str | None:
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or "." not in parts.netloc:
        return "Enter a website address in the correct format, like https://www.example.org"
    return None
