"""Stable UUIDs for the ORUK objects that are not rows of their own.

ORUK gives every object a UUID: a service's cost option, a schedule, a language, an address.
We store those as columns or JSON on the service, so their ids are derived (UUID version 5)
from the id of the row they belong to and what they are. The same data always gives the same
ids, so a consumer that syncs the feed sees a changed price, not a new cost option.

The care taxonomy's terms are identified the same way, from their codes, rather than by their
database ids: the feed's ids then survive a rebuilt database, and an export imported into an
empty database exports again to the same file.
"""

from __future__ import annotations

import uuid

# The one taxonomy the feed publishes: our care categories. Fixed for good: consumers key on it.
CARE_TAXONOMY_ID = uuid.UUID("6b002540-8a5b-47d3-bccb-7dcc6e7f927b")
CARE_TAXONOMY_NAME = "Care marketplace categories"
CARE_TAXONOMY_DESCRIPTION = (
    "The categories of care and support the marketplace lists services under: a top category "
    "(such as Help at home) and its kinds (such as Personal care)."
)


def term_id(code: str) -> uuid.UUID:
    """The public id of the care taxonomy term with this code."""
    return uuid.uuid5(CARE_TAXONOMY_ID, code)


def part_id(owner: uuid.UUID, kind: str, key: str = "") -> uuid.UUID:
    """The id of one part (`kind`, told apart by `key`) of the row whose id is `owner`."""
    return uuid.uuid5(owner, f"{kind}:{key}")


def parse_uuid(text: str) -> uuid.UUID | None:
    """`text` as a UUID in any of the usual spellings, or None if it is not one."""
    try:
        return uuid.UUID(text.strip())
    except (ValueError, AttributeError):
        return None
