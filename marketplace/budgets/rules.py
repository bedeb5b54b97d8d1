"""The budgets' vocabulary and default rules, kept as data rather than scattered in code."""

from __future__ import annotations

import enum
from datetime import date, timedelta

from marketplace.budgets.models import StreamKind

# The largest budget the council's page and the integration API accept, both from here.
# £1,000,000 for one stream for a period: far above any care package, so more is a slip.
STREAM_MAX_PENCE = 100_000_000
# A budget's period is at most a year (a leap year's 366 days).
PERIOD_MAX = timedelta(days=366)


class TransferCode(enum.StrEnum):
    """What a ledger transfer is for, in the budgets' words (stored in `Transfer.code`)."""

    FUNDING = "funding"  # a funder puts money into its pot
    ALLOCATION = "allocation"  # pot (or the person) -> a stream's unreleased account
    RELEASE = "release"  # an instalment: unreleased -> available
    REVISION = "revision"  # a stream revised up or down, with a reason
    COMMITMENT = "commitment"  # held against a purchase; posted, it is spent
    RETURN = "return"  # unspent at period end, back to where it came from
    CARRY_FORWARD = "carry_forward"  # unspent at period end, into the next period's stream
    CARD_PAYMENT = "card_payment"  # Stripe clearing -> the own-funds stream, on Stripe's word
    CARD_REFUND = "card_refund"  # unspent card money, own-funds stream -> back to the card
    # ISF (issue 18): an Individual Service Fund's money: stream -> the fund's account when the
    # provider agrees, fund -> the provider as it records spending, fund -> the stream for what
    # is unspent (period end, provider suspended).
    ISF = "isf"
    ISF_SPEND = "isf_spend"
    ISF_RETURN = "isf_return"


# By default the person's assessed contribution is used first, then the NHS money (which its
# rules limit to health-related care), then the council's, and the person's top-up last.
DEFAULT_DRAW_ORDER: dict[StreamKind, int] = {
    StreamKind.CLIENT_CONTRIBUTION: 10,
    StreamKind.NHS: 20,
    StreamKind.COUNCIL: 30,
    StreamKind.OWN_FUNDS: 40,
}

# The care taxonomy's health-related codes (providers/data/taxonomy.json): what an NHS
# personal health budget pays for unless the council sets other codes on the stream.
HEALTH_CATEGORY_CODES: tuple[str, ...] = (
    "health-and-wellbeing",
    "exercise",
    "falls-prevention",
    "podiatry",
    "personal-care",
    "night-care",
    "live-in-care",
    "mobility-aids",
    "bathing-aids",
)

DEFAULT_ALLOWED_CATEGORY_CODES: dict[StreamKind, tuple[str, ...] | None] = {
    StreamKind.NHS: HEALTH_CATEGORY_CODES,
    StreamKind.COUNCIL: None,
    StreamKind.CLIENT_CONTRIBUTION: None,
    StreamKind.OWN_FUNDS: None,
}


# A self-funder's account (a budget of one own-funds stream, holding only what their card
# payments bring in) runs this long from their first purchase: long enough that nobody's care
# is cut off by its end, short enough that it is closed and its leftovers returned some day.
SELF_FUNDED_PERIOD = timedelta(days=5 * 365)


def financial_year_of(day: date) -> int:
    """The financial year (1 April to 31 March) a day falls in, named by its first year."""
    return day.year if day.month >= 4 else day.year - 1
