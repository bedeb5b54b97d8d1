"""UK postcodes: the one pattern every form, import and API parameter checks against."""

from __future__ import annotations

import re

# A full UK postcode, in capitals, with or without its space: BS 7666's shapes (which letters
# may stand where), plus GIR 0AA. Callers upper-case and tidy what was typed first.
POSTCODE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|"
    r"[A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)
# A postcode's first half, its district ("SG1", "EC1A"), as the gazetteer and searches use it.
OUTWARD_CODE = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")


def district_of(postcode: str) -> str | None:
    """A postcode's district, its first half ("SG1 1AA" → "SG1"), or None for text that is not
    a full postcode."""
    tidy = postcode.upper().replace(" ", "")
    if not POSTCODE.match(tidy):
        return None
    return tidy[:-3]
