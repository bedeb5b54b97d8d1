"""The phrases the feed writes where ORUK has only free text, and how to read them back.

ORUK has no fields for a listing's capacity, its CQC registration or what its price is per; we
put them in `alert`, `accreditations` and the cost option's `amount_description` and `option`,
in fixed words, so that an export imports back to the same listing. Text written by anyone else
is not guessed at: the readers return None for it.
"""

from __future__ import annotations

import re
from datetime import date

from providers.models import CapacityStatus, CqcRating, PriceUnit

UNIT_DESCRIPTIONS = {unit: "free" if unit is PriceUnit.FREE else unit.label for unit in PriceUnit}
_ALERTS = {
    CapacityStatus.FULL: "Full: not taking new clients",
    CapacityStatus.WAITING_LIST: "Waiting list for new clients",
    CapacityStatus.ACCEPTING: "Taking new clients",
}
_START = "; earliest start "
_CQC = re.compile(r"^CQC registered(?: \(location (?P<id>1-\d{9,11})\))?(?:, rated (?P<r>.+))?$")
_MINIMUM = re.compile(r"Minimum order:\s*(\d+)", re.IGNORECASE)


def capacity_alert(status: CapacityStatus, earliest_start: date | None) -> str | None:
    """What `alert` says about capacity; nothing when taking clients with no start date."""
    if status is CapacityStatus.ACCEPTING and earliest_start is None:
        return None
    start = f"{_START}{earliest_start.isoformat()}" if earliest_start else ""
    return _ALERTS[status] + start


def read_capacity_alert(text: str) -> tuple[CapacityStatus, date | None] | None:
    """The capacity an `alert` we wrote describes, or None for any other text."""
    words, _, start = text.partition(_START)
    status = next((s for s, phrase in _ALERTS.items() if phrase == words.strip()), None)
    if status is None:
        return None
    try:
        return status, date.fromisoformat(start.strip()) if start else None
    except ValueError:
        return None


def accreditation_text(location_id: str | None, rating: CqcRating | None) -> str | None:
    """`accreditations` for a CQC-registered listing, or None when it is not regulated."""
    if not location_id and rating is None:
        return None
    text = "CQC registered"
    if location_id:
        text += f" (location {location_id})"
    if rating is not None:
        text += f", rated {rating.label}"
    return text


def read_accreditation(text: str) -> tuple[str | None, CqcRating | None] | None:
    """The CQC location id and rating an `accreditations` we wrote names, or None."""
    found = _CQC.match(text.strip())
    if found is None:
        return None
    by_label = {rating.label.lower(): rating for rating in CqcRating}
    rating = by_label.get((found["r"] or "").lower())
    if found["r"] and rating is None:
        return None
    return found["id"], rating


def read_minimum_order(option: str) -> int | None:
    """The minimum order a cost option's `option` text states, if it states one."""
    found = _MINIMUM.search(option)
    return int(found[1]) if found else None


def minimum_order_option(minimum_order: int) -> str | None:
    """A cost option's `option` text for a minimum order above one."""
    return f"Minimum order: {minimum_order}" if minimum_order > 1 else None
