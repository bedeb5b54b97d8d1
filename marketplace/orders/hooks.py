"""What the layers above the orders do when an order gives money back.

The order rules cannot know about card payments (they sit below them), yet card money an
order will not spend is owed back to the card in the same transaction as its release. So an
order step that releases held money (declined, refused, cancelled in whole or in part,
expired, or a cycle settled for less than it held) calls `money_released`, and the layer
above registers what it does then (`marketplace/payments_setup.py` registers the refunds).
"""

from __future__ import annotations

from collections.abc import Callable

from marketplace.orders.models import Order
from marketplace.types import Session

# (session, order, why): why is "declined", "refused", "cancelled", "expired" or "settled".
MoneyReleased = Callable[[Session, Order, str], object]

_money_released: list[MoneyReleased] = []


def on_money_released(hook: MoneyReleased) -> None:
    """Call `hook` after each release of an order's money (once, however often registered)."""
    if hook not in _money_released:
        _money_released.append(hook)


def money_released(session: Session, order: Order, *, why: str) -> None:
    """Some of the order's held money was released (flushed): tell whoever registered. The
    caller holds the order's lock; the hooks flush and never commit."""
    for hook in _money_released:
        hook(session, order, why)
