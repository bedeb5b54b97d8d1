"""What a basket costs: each item's weekly cost (where its schedule makes one knowable) and
total, the basket's, and how the budget's forecast would change if it were all bought.

Nothing here is a rule of its own: the items are priced by `checkout.quote_basket` (each
after the items before it, as checkout places them), and the forecast is the orders' one
forecasting rule (`forecast.what_if_all_ordered`), so the basket, the order form and the
budget page after checkout agree. Records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from marketplace.budgets.forecast import WhatIf
from marketplace.ledger import LedgerError
from marketplace.orders import checkout
from marketplace.orders.forecast import care_of_quote, weekly_care_of, what_if_all_ordered
from marketplace.orders.models import BasketItem
from marketplace.orders.schedule import Schedule, schedule_of
from marketplace.people.models import Person
from marketplace.people.plans import DEFAULT_OUT_OF_PLAN_RULE, OutOfPlanRule
from marketplace.types import Session


@dataclass(frozen=True)
class ItemCost:
    """One basket item: its schedule, what a week of it costs (None for a one-off: a week of
    it means nothing) and what it costs in all, at today's price."""

    item: BasketItem
    schedule: Schedule
    weekly_pence: int | None
    total_pence: int
    refusal: LedgerError | None  # why checkout would not buy it as it is


@dataclass(frozen=True)
class BasketCosts:
    items: list[ItemCost]
    # If every item can be bought: the budget before and after checking them all out.
    what_if: WhatIf | None

    @property
    def weekly_pence(self) -> int:
        """What the items that recur cost together in a week."""
        return sum(each.weekly_pence or 0 for each in self.items)

    @property
    def has_weekly(self) -> bool:
        return any(each.weekly_pence is not None for each in self.items)

    @property
    def total_pence(self) -> int:
        return sum(each.total_pence for each in self.items)


def basket_costs(
    session: Session,
    person: Person,
    items: Sequence[BasketItem],
    *,
    today: date,
    plan_rule: OutOfPlanRule | str = DEFAULT_OUT_OF_PLAN_RULE,
    card: checkout.CardTerms | None = None,
    cycles_ahead: int = 1,
) -> BasketCosts:
    """The basket's costs, and its forecast if checkout would buy every item as it is (None
    when one would be refused: checkout then places nothing, and for a self-funder, whose
    account holds only what their cards pay in). `plan_rule` is the council's
    OUT_OF_PLAN_PURCHASES, as checkout takes it; `card` how the person may pay by card."""
    lines = checkout.quote_basket(
        session,
        person,
        items,
        today=today,
        plan_rule=plan_rule,
        card=card,
        cycles_ahead=cycles_ahead,
    )
    costs = []
    for line in lines:
        schedule = schedule_of(line.item)
        price = line.item.service.price_pence
        care = weekly_care_of(schedule, price)
        costs.append(
            ItemCost(
                item=line.item,
                schedule=schedule,
                weekly_pence=care.weekly_pence if care is not None else None,
                # PACKAGES: an ongoing package costs, now, what its first cycles hold.
                total_pence=(
                    (line.quote.total_pence if line.quote is not None else 0)
                    if schedule.open_ended
                    else schedule.total_units * price
                ),
                refusal=line.refusal,
            )
        )
    quotes = [line.quote for line in lines if line.quote is not None]
    what_if = None
    if quotes and len(quotes) == len(lines) and not (card is not None and card.self_funded):
        what_if = what_if_all_ordered(
            session,
            quotes[0].budget,
            orders=[
                # PERIODS: a package adds its later cycles, as the budget page counts them.
                (quoted.total_pence, care_of_quote(quoted))
                for quoted in quotes
            ],
            today=today,
        )
    return BasketCosts(costs, what_if)
