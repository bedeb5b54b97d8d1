"""The `flask seed-demo` step for market insight (issue 19, item 6): what people searched the
demo county's directory for over the last few weeks and could not find, so the council's
"Searches that found nothing" report has something true to say on a fresh demo.

The searches are search log entries as the search page writes them (words, filters, places
named, results, how many could start now), marked `source="demo"`, at whole minutes from 2 to
80 days before `today`: the care people ask for that the demo's providers do not offer (a
Welsh-speaking carer, podiatry at home, transport to dialysis), in places where there is none,
and care that exists but was full when they looked (live-in care, overnight respite), with a
few that found something, as most searches do. Idempotent: a county that already has demo
searches is left as it is. Adds rows only: nothing the county already has changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.formatting import LONDON
from providers.search_log import SearchLogEntry

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

DEMO_SOURCE = "demo"


@dataclass(frozen=True)
class DemoSearch:
    """One search: its words, filters and places as logged, what it found, and when."""

    words: str
    days_ago: int
    results: int = 0
    available: int = 0
    filters: dict[str, Any] = field(default_factory=dict)
    places: tuple[str, ...] = ()
    at: time = time(10, 15)


# Searches that found nothing, nothing available, and a few that found what they wanted.
SEARCHES: tuple[DemoSearch, ...] = (
    DemoSearch("welsh speaking carer", 3, places=("dacorum",)),
    DemoSearch("welsh speaking carer", 17, at=time(19, 40), places=("hemel-hempstead",)),
    DemoSearch("podiatry home visit", 5, filters={"categories": ["podiatry"]}, places=("royston",)),
    DemoSearch("podiatry home visit", 26, filters={"categories": ["podiatry"]}),
    DemoSearch("transport to dialysis", 8, filters={"categories": ["transport"]}),
    DemoSearch("transport to dialysis", 40, at=time(8, 5), places=("watford-town",)),
    DemoSearch("dementia cafe", 11, filters={"localities": ["buntingford"]}),
    DemoSearch(
        "lgbt befriending", 14, filters={"categories": ["social-activities-and-befriending"]}
    ),
    DemoSearch("hoarding support", 21, at=time(14, 30)),
    DemoSearch("night sitter", 2, filters={"categories": ["night-care"]}, places=("broxbourne",)),
    DemoSearch("night sitter", 33, filters={"categories": ["night-care"]}),
    DemoSearch("", 6, filters={"categories": ["frozen-meals"], "localities": ["tring"]}),
    # Found services, but none of them could take someone new.
    DemoSearch("live in care", 4, results=3, places=("hertsmere",)),
    DemoSearch("live in care", 19, results=2, at=time(16, 0)),
    DemoSearch("overnight respite", 9, results=1, filters={"categories": ["overnight-breaks"]}),
    # Found what they wanted.
    DemoSearch("home care", 1, results=12, available=9, places=("stevenage",)),
    DemoSearch("day centre", 7, results=4, available=3, filters={"categories": ["day-centres"]}),
    DemoSearch("stairlift", 12, results=2, available=2),
    DemoSearch("lunch club", 45, results=3, available=1, places=("hitchin",)),
    DemoSearch("personal assistant", 80, results=5, available=2),
)


def seed_insight(today: date | None = None) -> SeedReport:
    """The demo searches, dated back from `today` (London; the real today by default).
    Flushes, never commits."""
    from marketplace.demo.seed import SeedReport, Tally

    tally = Tally("demo searches")
    existing = db.session.scalar(
        select(func.count()).select_from(SearchLogEntry).where(SearchLogEntry.source == DEMO_SOURCE)
    )
    if existing:
        tally.existing = existing
        return SeedReport(tallies=[tally])
    today = today or datetime.now(LONDON).date()
    for search in SEARCHES:
        entry = SearchLogEntry(
            searched_at=datetime.combine(
                today - timedelta(days=search.days_ago), search.at, tzinfo=LONDON
            ),
            source=DEMO_SOURCE,
            words=search.words,
            filters=search.filters,
            places=list(search.places),
            results=search.results,
            available=search.available,
        )
        db.session.add(entry)
        tally.created.append(entry)
    db.session.flush()
    return SeedReport(tallies=[tally])
