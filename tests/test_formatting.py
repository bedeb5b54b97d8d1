"""Money in pounds and pence from integer pence; times in London from UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.formatting import london_time, pounds, wait_in_words


@pytest.mark.parametrize(
    ("pence", "shown"),
    [
        (0, "£0"),
        (5, "£0.05"),
        (1250, "£12.50"),
        (1200, "£12"),
        (123456789, "£1,234,567.89"),
        (-450, "-£4.50"),
    ],
)
def test_pounds(pence: int, shown: str) -> None:
    assert pounds(pence) == shown


@pytest.mark.parametrize(
    ("pence", "figure"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (-5, "-0.05"),
        (1200, "12.00"),
        (123450, "1234.50"),
        (123456789, "1234567.89"),
        (-100, "-1.00"),
    ],
)
def test_the_plain_figure_for_spreadsheets_boxes_and_json(pence: int, figure: str) -> None:
    # One formatter: the statement's CSV, a pounds box being edited and the feed's exact
    # Decimal amounts all take this shape.
    assert pounds(pence, plain=True) == figure
    assert Decimal(pounds(pence, plain=True)) == Decimal(pence).scaleb(-2)


@pytest.mark.parametrize("plain", [False, True])
def test_pounds_refuses_floats(plain: bool) -> None:
    with pytest.raises(TypeError):
        pounds(12.5, plain=plain)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pounds(True, plain=plain)


def test_there_is_one_money_formatter() -> None:
    # The shapes above are the only ones: the copies that lived beside the statement's CSV,
    # the pounds box and the feed are gone.
    from marketplace import money
    from marketplace.budgets import statement
    from providers.openreferral import oruk

    assert not hasattr(money, "text_from_pence")
    assert not hasattr(statement, "pounds_text")
    assert oruk.pounds is pounds


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_pounds_round_trips_to_the_same_pence(pence: int) -> None:
    shown = pounds(pence).replace("£", "").replace(",", "")
    whole, _, part = shown.partition(".")
    sign = -1 if whole.startswith("-") else 1
    assert sign * (abs(int(whole)) * 100 + int(part or 0)) == pence


def test_london_time_follows_summer_time() -> None:
    assert london_time(datetime(2026, 1, 15, 14, 5, tzinfo=UTC)) == "15 January 2026 at 2:05pm"
    assert london_time(datetime(2026, 7, 15, 14, 5, tzinfo=UTC)) == "15 July 2026 at 3:05pm"
    assert london_time(datetime(2026, 7, 15, 23, 30, tzinfo=UTC), with_time=False) == "16 July 2026"


def test_london_time_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        london_time(datetime(2026, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (1, "1 minute"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (1200, "20 minutes"),
        (3600, "1 hour"),
        (5400, "1 hour 30 minutes"),
        (7200, "2 hours"),
        (86400, "24 hours"),
    ],
)
def test_a_wait_in_words_rounds_up_to_the_minute(seconds: int, shown: str) -> None:
    assert wait_in_words(seconds) == shown
