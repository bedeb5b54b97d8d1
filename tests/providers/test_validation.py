"""The field rules the portal forms and the directory import share."""

from __future__ import annotations

from decimal import Decimal

import pytest

from providers import validation


@pytest.mark.parametrize("good", ["SG1 2FQ", "sg12fq", "EC1A 1BB", "W1A 0AX", "M1 1AE", "GIR 0AA"])
def test_real_postcodes_pass(good: str) -> None:
    assert validation.postcode_problem(good) is None


@pytest.mark.parametrize("bad", ["", "SG1", "12345", "SG1 2F", "QQ1 1AA", "SG1 2FQX", "SG1-2FQ"])
def test_malformed_postcodes_are_refused(bad: str) -> None:
    assert validation.postcode_problem(bad) == "Enter a real postcode, like SG1 2FQ"


@pytest.mark.parametrize("good", ["1-101634857", "1-1234567890", "1-12345678901"])
def test_cqc_ids_are_1_dash_and_9_to_11_digits(good: str) -> None:
    assert validation.cqc_id_problem(good) is None


@pytest.mark.parametrize(
    "bad", ["1-12345678", "1-123456789012", "2-123456789", "1123456789", "1-12345678a"]
)
def test_malformed_cqc_ids_are_refused(bad: str) -> None:
    assert validation.cqc_id_problem(bad) is not None


def test_text_must_be_present_short_enough_and_really_text() -> None:
    assert validation.text_problem("Name", "", 10, required=True) == "Enter the name"
    assert validation.text_problem("Name", "   ", 10, required=False) is None
    assert validation.text_problem("Name", "x" * 11, 10, required=True) == (
        "Name must be 10 characters or fewer (it has 11)"
    )
    assert "control characters" in (
        validation.text_problem("Name", "a\x00b", 10, required=True) or ""
    )
    assert validation.text_problem("Name", "line\nbreak\ttab", 20, required=True) is None


def test_markup_is_text_not_an_error() -> None:
    assert validation.text_problem("Name", "<script>alert(1)</script>", 100, required=True) is None


@pytest.mark.parametrize(
    ("pence", "free", "problem"),
    [
        (2650, False, None),
        (0, True, None),
        (-1, False, "The price cannot be negative"),
        (1_000_001, False, "The price must be £10,000 or less for one unit"),
        (500, True, "A free service has a price of £0"),
        (0, False, "Enter a price more than £0, or say the service is free"),
    ],
)
def test_prices(pence: int, free: bool, problem: str | None) -> None:
    assert validation.price_problem(pence, free=free) == problem


@pytest.mark.parametrize(
    ("text", "pence"),
    [("24.50", 2450), ("£1,024.5", 102450), ("0", 0), ("7", 700), (Decimal("0.01"), 1)],
)
def test_pounds_become_pence_without_floats(text: str | Decimal, pence: int) -> None:
    assert validation.pounds_problem(text) is None
    assert validation.pence_from_pounds(text) == pence


@pytest.mark.parametrize("bad", ["abc", "1.234", "NaN", "Infinity", ""])
def test_what_is_not_money_is_refused(bad: str) -> None:
    assert validation.pounds_problem(bad) is not None
    with pytest.raises(ValueError, match="price"):
        validation.pence_from_pounds(bad)


def test_contact_details() -> None:
    assert validation.email_problem("care@example.org") is None
    assert validation.email_problem("care@") is not None
    assert validation.phone_problem("01632 960 001") is None
    assert validation.phone_problem("+44 (0)1632 960001") is None
    assert validation.phone_problem("call us") is not None
    assert validation.phone_problem("123") is not None
    assert validation.website_problem("https://example.org/care") is None
    assert validation.website_problem("javascript:alert(1)") is not None
    assert validation.website_problem("example.org") is not None


def test_orders_ages_and_opening_times() -> None:
    assert validation.minimum_order_problem(1) is None
    assert validation.minimum_order_problem(0) is not None
    assert (
        validation.age_problem("Youngest age", 121) == "Youngest age must be an age from 0 to 120"
    )
    assert validation.age_range_problem(65, 18) is not None
    assert validation.age_range_problem(18, None) is None
    assert validation.opening_time_problem("09:00", "17:30") is None
    assert (
        validation.opening_time_problem("17:00", "09:00") == "Closes at must be later than opens at"
    )
    assert validation.opening_time_problem("9am", "17:00") is not None
