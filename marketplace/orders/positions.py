"""A client's money at a glance for their broker's caseload (issue 17): what is available to
spend now from their current budget, or a self-funder's own-funds balance, and how many of
their orders are open.

Read the way the person's own home page reads it (`orders.overview.home_summary`: the same
budget, the same ledger figures), so the broker and the client never see different figures.
It reads budgets and orders, so it sits in orders; `people.caseload` takes it as `position_of`.
"""

from __future__ import annotations

from datetime import date

from marketplace.budgets.own_funds import is_self_funded
from marketplace.orders.overview import home_summary
from marketplace.people.caseload import MoneyPosition
from marketplace.people.models import Person
from marketplace.types import Session


def money_position(session: Session, person: Person, *, today: date) -> MoneyPosition:
    """The person's current budget's available money (a self-funder's account: their own
    funds) and their open orders' count."""
    summary = home_summary(session, person, today)
    open_orders = len(summary.orders_in_progress)
    if summary.budget is None or summary.figures is None:
        return MoneyPosition(
            has_budget=False, own_funds=False, available_pence=0, open_orders=open_orders
        )
    return MoneyPosition(
        has_budget=True,
        own_funds=is_self_funded(summary.budget),
        available_pence=summary.figures.available_pence,
        open_orders=open_orders,
    )
