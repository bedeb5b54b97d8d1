"""Exports to the council's finance system (issue 19; the layout is docs/finance-export.md).

Each export covers the ledger rows recorded after the previous export's `until` up to its own
`until`, so the exports follow one another with no gap and no overlap: running it twice
exports nothing new the second time, and all the exports together add up to the ledger. An
export keeps the file it produced (its text and sha256): a download later is the same file.

`until` is a minute before the export is made (`SETTLE`): a ledger row is stamped when its
transaction writes it, which may commit a moment later; a row stamped inside the last minute
could still be uncommitted, invisible to the export, and then fall behind the next export's
`since`. Waiting a minute leaves every transaction that long to commit.

Two exports at once queue on one lock (SQLite: the database's write lock; PostgreSQL: a
transaction-level advisory lock): the second reads the first's `until` once the first has
committed, so their ranges cannot overlap.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.csv_export import csv_text, pence_cell
from marketplace.finance.export_lines import ExportLine, LineType, export_lines
from marketplace.finance.models import FinanceExport
from marketplace.ledger.transactions import dialect_name
from marketplace.types import Session, utcnow

LAYOUT = "finance-lines/1"
SETTLE = timedelta(minutes=1)
HEADER = (
    "export_ref",
    "line_type",
    "week_start",
    "person_ref",
    "person_id",
    "order_ref",
    "service",
    "provider_id",
    "provider",
    "source",
    "funder",
    "pot_line",
    "cost_centre",
    "amount",
    "documents",
    "transfer_ids",
)
# Any fixed number of our own: the key of PostgreSQL's advisory lock that exports queue on.
_LOCK_KEY = 190_005


@dataclass(frozen=True)
class Summary:
    """How many lines of each type, and their totals in pence (signed)."""

    since: datetime | None
    until: datetime
    counts: dict[LineType, int]
    totals: dict[LineType, int]

    @property
    def line_count(self) -> int:
        return sum(self.counts.values())


def summarise(lines: Sequence[ExportLine], since: datetime | None, until: datetime) -> Summary:
    counts = dict.fromkeys(LineType, 0)
    totals = dict.fromkeys(LineType, 0)
    for line in lines:
        counts[line.line_type] += 1
        totals[line.line_type] += line.amount_pence
    return Summary(since, until, counts, totals)


def latest_export(session: Session) -> FinanceExport | None:
    """The export with the latest `until`: the next one starts there."""
    return session.scalars(
        select(FinanceExport).order_by(FinanceExport.until.desc()).limit(1)
    ).first()


def next_range(
    session: Session, *, now: datetime | None = None, settle: timedelta = SETTLE
) -> tuple[datetime | None, datetime]:
    """(since, until) of the export that would be made now: from the latest export's `until`
    (None: the start of the ledger) to `settle` before `now`, never before `since`."""
    previous = latest_export(session)
    since = previous.until if previous is not None else None
    until = (now or utcnow()) - settle
    if since is not None and until < since:
        until = since
    return since, until


def preview(
    session: Session, *, now: datetime | None = None, settle: timedelta = SETTLE
) -> Summary:
    """What an export made now would hold, without making it (nothing is written)."""
    since, until = next_range(session, now=now, settle=settle)
    return summarise(export_lines(session, since, until), since, until)


def csv_of(reference: str, lines: Sequence[ExportLine]) -> str:
    """The file: the header, then a row each line (docs/finance-export.md)."""
    return csv_text(
        HEADER,
        (
            (
                reference,
                line.line_type.value,
                line.week_start,
                line.person_ref,
                str(line.person_id or ""),
                line.order_ref,
                line.service,
                str(line.provider_id or ""),
                line.provider,
                line.payer.source,
                line.payer.funder,
                line.payer.pot_line,
                line.payer.cost_centre,
                pence_cell(line.amount_pence),
                ";".join(sorted(line.documents)),
                ";".join(sorted(str(i) for i in line.transfer_ids)),
            )
            for line in lines
        ),
    )


class RangeMoved(Exception):
    """The range previewed is no longer the next one (another export was made since)."""


def make_export(
    session: Session,
    *,
    by: User | None,
    now: datetime | None = None,
    settle: timedelta = SETTLE,
    previewed: tuple[datetime | None, datetime] | None = None,
) -> FinanceExport:
    """Record the next export: the lines since the latest export's `until` up to `settle`
    before `now` (or exactly the `previewed` (since, until), so the file holds what the
    officer saw), its file and the file's sha256; `by` None: the schedule made it. Waits for
    an export being made at the same moment to commit first (then starts where it ended).
    An export with no new lines is still recorded (a header only): the finance system sees
    the run happened. Flushes.

    Raises RangeMoved when `previewed` no longer starts where the latest export ends, or ends
    later than `settle` before `now`."""
    _lock_exports(session)
    since, until = next_range(session, now=now, settle=settle)
    if previewed is not None:
        if (
            previewed[0] != since
            or previewed[1] > until
            or (since is not None and previewed[1] < since)
        ):
            raise RangeMoved("another export was made since this preview")
        until = previewed[1]
    lines = export_lines(session, since, until)
    number = (session.scalar(select(func.count()).select_from(FinanceExport)) or 0) + 1
    reference = f"FX-{number:05d}"
    content = csv_of(reference, lines)
    export = FinanceExport(
        reference=reference,
        layout=LAYOUT,
        since=since,
        until=until,
        row_count=len(lines),
        content=content,
        sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
        made_by_id=by.id if by is not None else None,
        made_at=now or utcnow(),
    )
    session.add(export)
    session.flush()
    return export


def exports_page(session: Session, *, page: int, per_page: int) -> tuple[list[FinanceExport], int]:
    """One page of the exports, newest first, with who made each, and how many there are."""
    total = session.scalar(select(func.count()).select_from(FinanceExport)) or 0
    rows = session.scalars(
        select(FinanceExport)
        .options(selectinload(FinanceExport.made_by))
        .order_by(FinanceExport.until.desc(), FinanceExport.made_at.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total


def find_export(session: Session, reference: str) -> FinanceExport | None:
    """The export with this reference, if there is one."""
    return session.scalars(
        select(FinanceExport).where(FinanceExport.reference == reference)
    ).first()


def summary_of_export(export: FinanceExport) -> Summary:
    """An export's line counts and totals, read back from its own file."""
    counts = dict.fromkeys(LineType, 0)
    totals = dict.fromkeys(LineType, 0)
    for row in read_rows(export.content):
        kind = LineType(row["line_type"])
        counts[kind] += 1
        totals[kind] += pounds_to_pence(row["amount"])
    return Summary(export.since, export.until, counts, totals)


def read_rows(content: str) -> list[dict[str, str]]:
    """An export file's rows as dicts by the header's column names."""
    return list(csv.DictReader(io.StringIO(content)))


def pounds_to_pence(amount: str) -> int:
    """ "-12.34" -> -1234: the layout's amount back to pence, without floats."""
    sign = -1 if amount.startswith("-") else 1
    whole, _, part = amount.lstrip("-").partition(".")
    return sign * (int(whole) * 100 + int((part + "00")[:2]))


def _lock_exports(session: Session) -> None:
    ledger.begin_immediate(session)
    if dialect_name(session) == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
