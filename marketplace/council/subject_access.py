"""A subject access export: everything the service holds about a person, as data (issue 17).

Plain rules (no Flask): the council's pages turn it into CSV and JSON. What is "everything" is
read from the schema, not listed by hand, so a table added later is exported without anyone
remembering to: the person's own row, then every row of every table that points at a row
already found (by a foreign key to its id), a few levels deep: their details changes,
consents, clients and notes, plans and their items, budgets with their streams and
instalments, orders with their events, deliveries and cycles, card payments, shortlists,
questions, notifications of their account, and the audit log's entries. The ledger's transfers
on their budget's accounts (their statements) are found from those accounts.

Left out: rows about someone else (naming another person), reached from this person's
account because they acted for that person (an attorney's consent and what they did under
it: the other person's own export holds them); and what would let someone into the person's
home or account, which no export should carry (a key safe code and access notes are said to
be held, not given; password hashes, login ids and link token hashes are not personal data
about them but keys).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, or_, select

from marketplace.extensions import db
from marketplace.people.models import Person
from marketplace.types import Session

# Keys, not data about the person.
SECRET_COLUMNS = frozenset({"password_hash", "login_id", "token_hash"})
# Held, but never written into a file that may be emailed or printed.
MASKED_COLUMNS = frozenset({"key_safe_code", "access_notes"})
MASKED = "Held: not exported (it lets someone into the home; give it to the person in person)"
# How far from the person's row the export follows foreign keys.
DEPTH = 4
LEDGER_ACCOUNTS = "ledger_accounts"
LEDGER_TRANSFERS = "ledger_transfers"
# Where the walk keeps the ledger accounts the rows it found name.
NAMED_ACCOUNTS = "ledger_accounts named"

Row = dict[str, Any]


def subject_access(session: Session, person: Person) -> dict[str, list[Row]]:
    """Every row held about `person`, by table name (the person's own row under "people"),
    each row as a dict of plain JSON values (text, numbers, booleans, lists, None)."""
    tables = {table.name: table for table in db.metadata.sorted_tables}
    found: dict[str, dict[Any, Row]] = {"people": {}}
    for row in _rows(session, tables["people"], [tables["people"].c.id == person.id]):
        found["people"][row["id"]] = row
    about = str(person.id)
    frontier = {"people": {person.id}}
    for _ in range(DEPTH):
        reached: dict[str, set[Any]] = {}
        for table in tables.values():
            for key in table.foreign_keys:
                parent = key.column.table.name
                if key.column.name != "id" or not frontier.get(parent):
                    continue
                rows = _rows(session, table, [key.parent.in_(frontier[parent])])
                _keep(found, reached, table, _not_about_others(rows, about))
        # The ledger's transfers on the accounts the person's rows name (their statements).
        accounts = reached.pop(NAMED_ACCOUNTS, set())
        if accounts and LEDGER_TRANSFERS in tables:
            transfers = tables[LEDGER_TRANSFERS]
            rows = _rows(
                session,
                transfers,
                [
                    or_(
                        transfers.c.debit_account_id.in_(accounts),
                        transfers.c.credit_account_id.in_(accounts),
                    )
                ],
            )
            _keep(found, reached, transfers, _not_about_others(rows, about))
        frontier = reached
        if not frontier:
            break
    return {name: list(rows.values()) for name, rows in found.items() if rows}


def _not_about_others(rows: Iterable[Row], about: str) -> list[Row]:
    """The rows that are not about someone else: a row naming another person (`person_id`) is
    theirs, though the walk reached it from this person's (the consent a mother granted her
    daughter's account, the orders and record-log entries the daughter made for her under it),
    so it is left out of this person's export, and the walk goes no further from it."""
    return [row for row in rows if row.get("person_id") in (None, about)]


def _keep(
    found: dict[str, dict[Any, Row]],
    reached: dict[str, set[Any]],
    table: Table,
    rows: Iterable[Row],
) -> None:
    kept = found.setdefault(table.name, {})
    for row in rows:
        identity = row.get("id", tuple(sorted(row.items())))
        if identity in kept:
            continue
        kept[identity] = row
        if "id" in row:
            reached.setdefault(table.name, set()).add(_key(row["id"]))
        for key in table.foreign_keys:
            if key.column.table.name == LEDGER_ACCOUNTS and row.get(key.parent.name):
                reached.setdefault(NAMED_ACCOUNTS, set()).add(_key(row[key.parent.name]))


def _key(value: Any) -> Any:
    """An id as the database compares it (a UUID back from its text)."""
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return value
    return value


def _rows(session: Session, table: Table, where: list[Any]) -> list[Row]:
    columns = [column for column in table.columns if column.name not in SECRET_COLUMNS]
    result = session.execute(select(*columns).where(*where)).mappings()
    return [
        {
            name: (MASKED if value is not None else None)
            if name in MASKED_COLUMNS
            else plain(value)
            for name, value in row.items()
        }
        for row in result
    ]


def plain(value: Any) -> Any:
    """A value as JSON has it: ids and decimals as text, times in ISO 8601 (UTC), enums as
    their values."""
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [plain(each) for each in value]
    if isinstance(value, dict):
        return {str(key): plain(each) for key, each in value.items()}
    return value


def as_lines(held: dict[str, list[Row]]) -> list[tuple[str, int, str, str]]:
    """The export as CSV lines, one per value: (what, row number from 1, field, value)."""
    lines: list[tuple[str, int, str, str]] = []
    for name, rows in held.items():
        for number, row in enumerate(rows, start=1):
            for field, value in row.items():
                text = "" if value is None else value if isinstance(value, str) else str(value)
                lines.append((name, number, field, text))
    return lines
