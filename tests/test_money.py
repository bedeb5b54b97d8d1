"""Money read from people and clients (marketplace/money.py): strict, bounded, and the
inverse of how the service writes amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.formatting import pounds
from marketplace.money import (
    LARGEST_PENCE,
    MoneyError,
    pence_from_number,
    pence_from_text,
)


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("24.50", 2450),
        ("24.5", 2450),
        ("£1,200", 120000),
        ("£ 7", 700),
        (" 1,024.05 ", 102405),
        ("0", 0),
        ("0.01", 1),
        ("1000000", 100000000),
        ("£12,345,678.90", 1234567890),
    ],
)
def test_amounts_people_type(text: str, pence: int) -> None:
    assert pence_from_text(text) == pence


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # Exponents reached Decimal arithmetic: 1e999990 cost 40 s of CPU, 1e999999999
        # raised decimal.Overflow (a 500), and 1e3 was taken as £1,000.
        ("1e3", "not_money"),
        ("1e999990", "not_money"),
        ("1e999999999", "not_money"),
        ("1E+2", "not_money"),
        ("NaN", "not_money"),
        ("Infinity", "not_money"),
        ("", "not_money"),
        ("twelve", "not_money"),
        (".50", "not_money"),
        ("1,2", "not_money"),
        ("12,00", "not_money"),
        ("1 000", "not_money"),
        ("٣", "not_money"),  # an Arabic-Indic digit: Decimal and int accept it
        ("0x10", "not_money"),
        ("1_000", "not_money"),
        ("12.345", "too_precise"),
        ("-5", "negative"),
        ("-£5.00", "negative"),
        ("9" * 40, "too_large"),
        ("£1,000,000,000,000", "too_large"),
    ],
)
def test_what_is_not_money(text: str, problem: str) -> None:
    with pytest.raises(MoneyError) as refused:
        pence_from_text(text)
    assert refused.value.problem == problem


def test_the_field_limit_and_its_message() -> None:
    assert pence_from_text("10,000", max_pence=1_000_000) == 1_000_000
    with pytest.raises(MoneyError) as refused:
        pence_from_text("10,000.01", max_pence=1_000_000)
    assert refused.value.message_for("Price") == "Price must be £10,000 or less"


def test_messages_name_the_field() -> None:
    messages = {}
    for text in ("abc", "1.234", "-1", "9" * 50):
        try:
            pence_from_text(text, max_pence=500)
        except MoneyError as error:
            messages[text] = error.message_for("Weekly amount")
    assert messages == {
        "abc": "Weekly amount must be an amount in pounds, like 24.50",
        "1.234": "Weekly amount must be in pounds and pence, like 24.50",
        "-1": "Weekly amount cannot be negative",
        "9" * 50: "Weekly amount must be £5 or less",
    }


@pytest.mark.parametrize(
    ("amount", "pence"),
    [
        (Decimal("24.5"), 2450),
        (Decimal("24.500"), 2450),
        (Decimal("0"), 0),
        (Decimal("-0"), 0),
        (Decimal("0E+999999"), 0),
        (Decimal("1E+2"), 10000),
        (7, 700),
    ],
)
def test_json_numbers(amount: int | Decimal, pence: int) -> None:
    assert pence_from_number(amount) == pence


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        (Decimal("1e999990"), "too_large"),
        (Decimal("1e999999999"), "too_large"),
        (Decimal("-1e999999999"), "negative"),
        (Decimal("1e-999999999"), "too_precise"),
        (Decimal("24.501"), "too_precise"),
        (Decimal("NaN"), "not_money"),
        (Decimal("Infinity"), "not_money"),
        (10**4000, "too_large"),
        (-1, "negative"),
        (True, "not_money"),
        (24.5, "not_money"),
    ],
)
def test_json_numbers_that_are_not_money(amount: object, problem: str) -> None:
    with pytest.raises(MoneyError) as refused:
        pence_from_number(amount)  # type: ignore[arg-type]
    assert refused.value.problem == problem


@given(st.integers(min_value=0, max_value=LARGEST_PENCE))
def test_what_the_service_writes_reads_back_the_same(pence: int) -> None:
    assert pence_from_text(pounds(pence)) == pence
    assert pence_from_text(pounds(pence, plain=True)) == pence
    assert pence_from_number(Decimal(pounds(pence, plain=True))) == pence


@given(st.integers(min_value=0, max_value=LARGEST_PENCE), st.integers(min_value=0))
def test_the_limit_is_exact(pence: int, limit: int) -> None:
    if pence > limit:
        with pytest.raises(MoneyError, match="too_large"):
            pence_from_text(pounds(pence, plain=True), max_pence=limit)
    else:
        assert pence_from_text(pounds(pence, plain=True), max_pence=limit) == pence


# Text made of the characters money and its near misses are written with, at any length.
money_like = st.text(alphabet="0123456789.,£ -+eE_xX٣\x00\ud800", max_size=200)
long_runs = st.builds(
    lambda head, digits, tail: head + "9" * digits + tail,
    st.sampled_from(["", "£", "1e", "0.", "-", "1,"]),
    st.integers(min_value=0, max_value=200_000),
    st.sampled_from(["", "e999999999", ".5", ".123", ",000"]),
)


@given(st.one_of(money_like, long_runs, st.text()))
def test_any_text_is_money_or_a_money_error(text: str) -> None:
    # Hypothesis's deadline also fails any example slow enough to be a stall.
    try:
        pence = pence_from_text(text)
    except MoneyError:
        return
    assert 0 <= pence <= LARGEST_PENCE
    assert pence_from_text(pounds(pence, plain=True)) == pence


@given(
    st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True),
        st.builds(
            Decimal,
            st.builds(
                "{}e{}".format,
                st.integers(-(10**6), 10**6),
                st.integers(-999_999_999, 999_999_999),
            ),
        ),
        st.integers(min_value=-(10**50), max_value=10**50),
    )
)
def test_any_number_is_money_or_a_money_error(amount: int | Decimal) -> None:
    try:
        pence = pence_from_number(amount)
    except MoneyError:
        return
    assert 0 <= pence <= LARGEST_PENCE
