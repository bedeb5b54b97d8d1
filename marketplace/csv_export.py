"""CSV files the council and providers download: one way to write them (issue 19's every
table exports to CSV). Rules-side: text in, text out, no Flask; `marketplace.pages.downloads`
sends the text as a file.

Money goes out in pounds with two decimals and no symbol (what a spreadsheet and a finance
system read as a number); dates as YYYY-MM-DD; text that a spreadsheet would run as a formula
is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from marketplace.formatting import LONDON

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A negative amount ("-12.34") starts with "-" but is only a number: it stays one.
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def safe_cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (a name or reason typed by someone could
    start with "="). A plain number, negative or not, is left as it is."""
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    return "'" + text if text[:1] in FORMULA_STARTS else text


def pence_cell(pence: int) -> str:
    """Pence as pounds with two decimals, "-12.34" for a negative amount (never a float)."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}{whole}.{part:02d}"


def cell(value: object) -> str:
    """One value as its CSV text: dates ISO, times in London, numbers as they are, text safe.
    Money must be passed through `pence_cell` first (an int here is a count, not money)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return safe_cell(str(value))


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A header row then a row each, CRLF line ends (RFC 4180), every cell through `cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()
