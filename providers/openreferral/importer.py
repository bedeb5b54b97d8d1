"""`flask directory import`: bring organisations, services and venues in from a file.

The file is ORUK 3.0 JSON (see `oruk_records`) or our CSV template (see `csv_records`); a file
that is neither, or is not text at all, raises ImportFileError before anything changes. Each
record is then checked, and applied inside its own savepoint, so a record is imported whole or
not at all and a bad record never stops the good ones. Records are matched on the file's ids
(`source_id`, or our own id when the file came from our export), so importing a file twice
changes nothing the second time. The care taxonomy and the gazetteer are brought in first,
from the reference data, so an empty database can take an import.

Like every rules function this flushes and never commits: the command commits once at the end.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from marketplace.extensions import db
from providers.openreferral import csv_records, oruk_records
from providers.openreferral.import_apply import Lookups, Rejected, apply_record
from providers.openreferral.records import ServiceRecord, problems

Action = Literal["created", "updated", "unchanged", "rejected"]
FORMATS = ("json", "csv")
# A directory file of a whole county is a few megabytes; far more is not one of ours.
MAX_FILE_BYTES = 50 * 1024 * 1024
# PostgreSQL plans queries from statistics that autovacuum refreshes about a minute after a
# table grows by a tenth. After an import that size the feed's and lists' queries ran in that
# minute on a plan made for the old, small tables (a feed page at 10,000 listings: 274 ms
# instead of 35), so a large import refreshes them itself once committed.
ANALYZE_AFTER_RECORDS = 1000
DIRECTORY_TABLES = (
    "organisations",
    "services",
    "locations",
    "service_at_locations",
    "service_taxonomy_terms",
    "service_localities",
    "search_outbox",
)


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (not text, not JSON, wrong columns...)."""


@dataclass(frozen=True)
class Parsed:
    """One record of the file: read into `record`, or not, with the `problems` that stopped it."""

    number: int
    label: str
    record: ServiceRecord | None
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """What importing one record did, and why (or what it noticed)."""

    number: int
    label: str
    action: Action
    messages: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """Every record's outcome, in file order."""

    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, action: Action) -> int:
        """How many records had this outcome."""
        return sum(1 for outcome in self.outcomes if outcome.action == action)

    @property
    def rejected(self) -> int:
        """How many records were rejected."""
        return self.count("rejected")

    def summary(self) -> str:
        """One line of counts."""
        counts = ", ".join(
            f"{self.count(action)} {action}"
            for action in ("created", "updated", "unchanged", "rejected")
        )
        return f"{len(self.outcomes)} records: {counts}."

    def lines(self) -> list[str]:
        """The report to print: a line per record, its messages indented below it."""
        lines = []
        for outcome in self.outcomes:
            lines.append(f"{outcome.number:>5}  {outcome.action:<9}  {outcome.label}")
            lines += [f"{'':>18}{message}" for message in outcome.messages]
        return [*lines, "", self.summary()]


def read_file(path: Path, file_format: str | None = None) -> list[Parsed]:
    """The records in the file at `path`, in order, each read or with why it cannot be.

    `file_format` is json or csv; by default the file's extension decides. Raises
    ImportFileError if the file is not what it claims to be, before anything is changed.
    """
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFileError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB")
    content = path.read_bytes()
    if not content.strip():
        raise ImportFileError(f"{path.name} is empty")
    if b"\x00" in content:
        raise ImportFileError(f"{path.name} is not a text file: it looks like binary data")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"{path.name} is not UTF-8 text (byte {error.start} cannot be read): "
            "save it as UTF-8, for instance as 'CSV UTF-8' from a spreadsheet"
        ) from None
    chosen = file_format or path.suffix.lower().lstrip(".")
    if chosen == "json":
        return _read_json(text, path.name)
    if chosen == "csv":
        return _read_csv(text, path.name)
    raise ImportFileError(f"Say whether {path.name} is json or csv (with --format)")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _read_json(text: str, name: str) -> list[Parsed]:
    try:
        document = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as error:
        where = f" (line {error.lineno}, column {error.colno})" if hasattr(error, "lineno") else ""
        raise ImportFileError(f"{name} is not valid JSON{where}: {error}") from None
    try:
        services = oruk_records.services_in(document)
    except oruk_records.NotOrukServices as error:
        raise ImportFileError(f"{name}: {error}") from None
    parsed = []
    for number, service in enumerate(services, start=1):
        label = _json_label(service)
        try:
            parsed.append(Parsed(number, label, oruk_records.read_service(service)))
        except oruk_records.RecordUnreadable as error:
            parsed.append(Parsed(number, label, None, error.problems))
    return parsed


def _json_label(service: object) -> str:
    if not isinstance(service, dict):
        return "(not a service object)"
    organisation = service.get("organization")
    owner = organisation.get("name") if isinstance(organisation, dict) else None
    return f"{service.get('name') or '(no name)'} ({owner or 'no organisation'})"


def _read_csv(text: str, name: str) -> list[Parsed]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in reader.fieldnames or []]
        problem = csv_records.header_problem(header)
        if problem:
            raise ImportFileError(f"{name}: {problem}")
        reader.fieldnames = header
        rows = list(reader)
    except csv.Error as error:
        raise ImportFileError(f"{name} is not a CSV file we can read: {error}") from None
    parsed = []
    for number, row in enumerate(rows, start=1):
        label = f"row {number + 1}: {row.get('service_name') or '(no name)'} " + (
            f"({row.get('organisation_name') or 'no organisation'})"
        )
        if None in row:
            parsed.append(Parsed(number, label, None, ["The row has more cells than the header"]))
            continue
        try:
            parsed.append(Parsed(number, label, csv_records.read_row(row)))
        except csv_records.RowUnreadable as error:
            parsed.append(Parsed(number, label, None, error.problems))
    return parsed


def refresh_statistics(report: ImportReport) -> bool:
    """After a committed import of at least ANALYZE_AFTER_RECORDS changed records, have
    PostgreSQL read the directory's tables afresh (ANALYZE). Whether it did."""
    changed = report.count("created") + report.count("updated")
    if changed < ANALYZE_AFTER_RECORDS or db.session.get_bind().dialect.name != "postgresql":
        return False
    db.session.execute(text(f"ANALYZE {', '.join(DIRECTORY_TABLES)}"))
    db.session.commit()
    return True


def import_records(parsed: Iterable[Parsed], *, approve: bool, source: str) -> ImportReport:
    """Apply each record in its own savepoint and report what happened to it.

    A record that breaks a rule, names an unknown category or area, or is refused by the
    database is rejected and changes nothing; the others are created or updated. New
    organisations are approved only when `approve` is given and the record's service is
    active; otherwise they wait for the council as pending. `source` names the file in the
    organisations' status history.
    """
    lookups = Lookups.load()
    _begin_before_savepoints()
    report = ImportReport()
    seen: dict[str, int] = {}
    for item in parsed:
        report.outcomes.append(_import_one(item, lookups, seen, approve=approve, source=source))
    return report


def _begin_before_savepoints() -> None:
    """Make sure the transaction has really begun before the first savepoint.

    Python's sqlite3 driver sends BEGIN only before its first write, so a SAVEPOINT issued
    first would open the transaction itself and its RELEASE would commit it: a dry run, or
    a failure later in the file, could then not roll the earlier records back. PostgreSQL
    (and a driver set to begin explicitly) needs nothing.
    """
    connection = db.session.connection()
    driver = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and not getattr(driver, "in_transaction", True):
        connection.exec_driver_sql("BEGIN")


def _import_one(
    item: Parsed, lookups: Lookups, seen: dict[str, int], *, approve: bool, source: str
) -> Outcome:
    if item.record is None:
        return Outcome(item.number, item.label, "rejected", item.problems)
    record = item.record
    found = problems(record)
    if record.source_id in seen:
        found.append(f"The file has this service twice: record {seen[record.source_id]} too")
    seen.setdefault(record.source_id, item.number)
    if found:
        return Outcome(item.number, record.label, "rejected", found)
    try:
        with db.session.begin_nested():
            action, messages = apply_record(record, lookups, approve=approve, source=source)
    except Rejected as error:
        return Outcome(item.number, record.label, "rejected", error.problems)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        return Outcome(
            item.number, record.label, "rejected", [f"The database refused it: {reason}"]
        )
    return Outcome(item.number, record.label, action, [*record.notes, *messages])
