"""The `flask seed-demo` step for the council's resource allocation system (issue 20, RAS): a
configured system with two versions, so the demo shows versioning.

- Version 1: `ras.default_config()` (£10 a point), made 90 days ago.
- Version 2: the same with £11 a point, made 7 days ago ("prices rise"): new self-assessments
  take it; any started under version 1 keep version 1.

Made by the rules (`ras.new_version`, which checks each configuration). Idempotent: a version
already numbered 1 or 2 is left as it is and counted as existing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from marketplace.referrals import ras
from marketplace.types import Session, utcnow

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

VERSION_2_PRICE_PENCE = 1_100
VERSION_1_NOTE = "The council's first resource allocation system for the front door"
VERSION_2_NOTE = "The price per point rises from £10 to £11 a week, with care providers' fees"


def seed_ras(session: Session, now: datetime | None = None) -> SeedReport:
    """Versions 1 and 2 (see the module's docstring), whichever are missing, dated back from
    `now` (UTC; the real time by default). Flushes, never commits. Raises ras.BadConfig only
    if the default configuration stopped passing its own checks."""
    from marketplace.demo.seed import SeedReport, Tally

    versions = Tally("resource allocation versions")
    now = now or utcnow()
    first = ras.version_by_number(session, 1)
    if first is None:
        first = ras.new_version(
            session,
            ras.default_config(),
            by=None,
            note=VERSION_1_NOTE,
            now=now - timedelta(days=90),
            based_on=0,
        )
        versions.created.append(first)
    else:
        versions.existing += 1
    if ras.version_by_number(session, 2) is None:
        dearer = dict(first.config) | {"price_per_point_pence": VERSION_2_PRICE_PENCE}
        versions.created.append(
            ras.new_version(
                session,
                dearer,
                by=None,
                note=VERSION_2_NOTE,
                now=now - timedelta(days=7),
                based_on=1,
            )
        )
    else:
        versions.existing += 1
    return SeedReport(tallies=[versions])
