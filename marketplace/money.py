"""Amounts of money that people type and clients send, read as integer pence.

Every place money arrives from outside (the forms' pounds boxes, the directory import's CSV
cells and JSON numbers) reads it here. Text is matched against a strict pattern before any
arithmetic: `Decimal("1e999990") * 100` and `int()` of it cost about 40 seconds of CPU holding
the GIL, and `1e999999999` overflows Decimal's context, so nothing that is not plainly
pounds and pence ever reaches Decimal or int. A number already parsed (JSON's) is measured by
its exponent, which costs nothing, before it is scaled.

Accepted text: an optional £ (and spaces after it), whole pounds as digits (commas only as
thousands separators, "1,200"), then optionally a point and one or two digits of pence.
"24.50", "£1,200", "7", "£ 0.5" are money; "1e3", ".50", "1.234", "-5", "1,2" are not.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from marketplace.formatting import pounds

# Whole pounds have at most this many digits wherever money is read: far above any real
# amount (£999,999,999,999), and small enough that int arithmetic on it is instant.
MAX_POUND_DIGITS = 12
LARGEST_PENCE = 10 ** (MAX_POUND_DIGITS + 2) - 1
# Longest text worth matching: "£ 999,999,999,999.99" with room for spaces after the £.
MAX_TEXT_LENGTH = 32

_AMOUNT = re.compile(
    r"£ *(?P<pounds>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<pence>[0-9]{1,2}))?"
    r"|(?P<bare>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<bare_pence>[0-9]{1,2}))?",
    re.ASCII,
)
# Shapes that are nearly money, so the message can say what to change.
_TOO_PRECISE = re.compile(r"£? *[0-9,]+\.[0-9]{3,}", re.ASCII)
_NEGATIVE = re.compile(r"-£? *[0-9,]+(?:\.[0-9]*)?", re.ASCII)
_DIGITS_ONLY = re.compile(r"£? *[0-9,]+(?:\.[0-9]*)?", re.ASCII)

Problem = Literal["not_money", "too_precise", "negative", "too_large"]


class MoneyError(ValueError):
    """What is wrong with an amount; `message_for(label)` says it to a person."""

    def __init__(self, problem: Problem, max_pence: int | None = None) -> None:
        super().__init__(problem)
        self.problem: Problem = problem
        self.max_pence = max_pence

    def message_for(self, label: str) -> str:
        """A sentence naming the field by `label` ("Price in pounds", "The price")."""
        if self.problem == "too_precise":
            return f"{label} must be in pounds and pence, like 24.50"
        if self.problem == "negative":
            return f"{label} cannot be negative"
        if self.problem == "too_large":
            if self.max_pence is None:
                return f"{label} is too large an amount"
            return f"{label} must be {pounds(self.max_pence)} or less"
        return f"{label} must be an amount in pounds, like 24.50"


def pence_from_text(text: str, *, max_pence: int | None = None) -> int:
    """The amount `text` names, in pence ("£1,024.50" -> 102450), from 0 to `max_pence`.

    Surrounding white space is ignored. Raises MoneyError (a ValueError), and nothing else,
    for any other text; the time taken is bounded whatever the length of `text`.
    """
    if not isinstance(text, str):
        raise MoneyError("not_money")
    limit = LARGEST_PENCE if max_pence is None else min(max_pence, LARGEST_PENCE)
    candidate = text.strip()
    if len(candidate) > MAX_TEXT_LENGTH:
        looks_like_digits = _DIGITS_ONLY.fullmatch(candidate) is not None
        raise MoneyError("too_large" if looks_like_digits else "not_money", max_pence)
    found = _AMOUNT.fullmatch(candidate)
    if found is None:
        if _TOO_PRECISE.fullmatch(candidate):
            raise MoneyError("too_precise")
        if _NEGATIVE.fullmatch(candidate):
            raise MoneyError("negative")
        raise MoneyError("not_money")
    whole = (found["pounds"] or found["bare"]).replace(",", "")
    if len(whole.lstrip("0")) > MAX_POUND_DIGITS:
        raise MoneyError("too_large", max_pence)
    part = found["pence"] or found["bare_pence"] or ""
    pence = int(whole) * 100 + int(part.ljust(2, "0"))
    if pence > limit:
        raise MoneyError("too_large", max_pence)
    return pence


def pence_from_number(amount: int | Decimal, *, max_pence: int | None = None) -> int:
    """A number of pounds already parsed (JSON's int or Decimal) in pence, 0 to `max_pence`.

    At most two decimal places (24.5 and 24.500 are 2450 pence). Raises MoneyError, and
    nothing else, for anything else, without arithmetic on a huge exponent.
    """
    limit = LARGEST_PENCE if max_pence is None else min(max_pence, LARGEST_PENCE)
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
        raise MoneyError("not_money")
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise MoneyError("not_money")
        # adjusted() is the power of ten of the first digit: it costs nothing to read, and
        # caps every sum below at a few digits.
        if amount and amount.adjusted() >= MAX_POUND_DIGITS:
            raise MoneyError("negative" if amount < 0 else "too_large", max_pence)
        if amount and amount.adjusted() < -2:
            raise MoneyError("too_precise")
        _, digits, exponent = amount.as_tuple()
        if isinstance(exponent, int) and exponent < -2 and any(digits[exponent + 2 :]):
            raise MoneyError("too_precise")
        scaled = amount.scaleb(2)
        pence = int(scaled.to_integral_value())
    else:
        if abs(amount) >= 10**MAX_POUND_DIGITS:
            raise MoneyError("negative" if amount < 0 else "too_large", max_pence)
        pence = amount * 100
    if pence < 0:
        raise MoneyError("negative")
    if pence > limit:
        raise MoneyError("too_large", max_pence)
    return pence
