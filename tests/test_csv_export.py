"""The one CSV writer every council and provider export uses."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from marketplace.csv_export import csv_text, pence_cell, safe_cell


def test_money_is_pounds_with_two_decimals_never_a_float() -> None:
    assert [pence_cell(p) for p in (0, 5, 100, 123456, -1, -250)] == [
        "0.00", "0.05", "1.00", "1234.56", "-0.01", "-2.50",
    ]  # fmt: skip


def test_text_a_spreadsheet_would_run_is_made_plain() -> None:
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("@SUM") == "'@SUM"
    assert safe_cell("Bluebell") == "Bluebell"


def test_rows_read_back_as_written_with_london_times() -> None:
    text = csv_text(
        ("when", "day", "name", "count", "amount", "ok"),
        [(datetime(2026, 7, 1, 8, 30, tzinfo=UTC), date(2026, 7, 1), "-x", 3, "1.50", True)],
    )
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["when", "day", "name", "count", "amount", "ok"],
        ["2026-07-01 09:30:00", "2026-07-01", "'-x", "3", "1.50", "yes"],
    ]


def test_a_negative_amount_stays_a_number() -> None:
    # A refund or a released hold is a negative amount; "'-2.50" would be text to a finance
    # system or spreadsheet, and no formula is only digits.
    rows = list(csv.reader(io.StringIO(csv_text(("amount",), [(pence_cell(-250),), ("-1",)]))))
    assert rows[1:] == [["-2.50"], ["-1"]]
    assert safe_cell("-2.50+A1") == "'-2.50+A1"
