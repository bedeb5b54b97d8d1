"""How money and time are shown to people: pounds and pence, the time in London, and how long
to wait."""

from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def london_today() -> date:
    """Today in London: instalments, periods and forecasts go by the council's calendar."""
    return datetime.now(LONDON).date()


def pounds(pence: int, *, plain: bool = False) -> str:
    """Integer pence as pounds: the one way money becomes text.

    For people: £1,234.50 from 123450; whole pounds drop the pence (£12), as GOV.UK style
    asks. `plain`: the bare figure with two places ("1234.50", "-0.05", no £ and no commas)
    that a spreadsheet cell, a pounds box being edited and an exact `Decimal` for JSON take;
    `money.pence_from_text` reads it back as the same pence. Whole-number arithmetic on the
    pence, never a float (a float is refused)."""
    if not isinstance(pence, int) or isinstance(pence, bool):
        raise TypeError("money is an int of pence")
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    if plain:
        return f"{sign}{whole}.{part:02d}"
    return f"{sign}£{whole:,}" if part == 0 else f"{sign}£{whole:,}.{part:02d}"


def london_time(moment: datetime | None, with_time: bool = True) -> str:
    """'4 March 2026 at 2:05pm' in Europe/London, from an aware datetime."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times are stored in UTC and must be aware")
    local = moment.astimezone(LONDON)
    day = f"{local.day} {local:%B %Y}"
    if not with_time:
        return day
    hour = local.hour % 12 or 12
    return f"{day} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def wait_in_words(seconds: float) -> str:
    """'20 minutes', '1 hour', '1 hour 30 minutes': a wait rounded up to the whole minute, so
    whoever waits that long is never too early."""
    minutes = max(1, math.ceil(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)
