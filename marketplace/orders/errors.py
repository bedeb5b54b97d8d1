"""Refusals of the orders' rules, in the ledger's shape (a stable `code`, a `message` for
people, `details` for machines), so the pages and the API report them alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketplace.ledger.errors import InsufficientFunds, LedgerError

if TYPE_CHECKING:
    from marketplace.orders.models import BasketItem

__all__ = [
    "BasketRefused",
    "InsufficientFunds",
    "InvalidOrder",
    "InvalidTransition",
    "NotYours",
    "OrderError",
    "OutsideSupportPlan",
    "ServiceUnavailable",
]


class OrderError(LedgerError):
    code = "order_error"


class InvalidOrder(OrderError):
    """Bad input: `details["fields"]` says which field and what is wrong with it."""

    code = "validation_error"


class ServiceUnavailable(OrderError):
    """The service cannot be ordered now: unpublished, suspended, full or not taking budgets."""

    code = "service_unavailable"


class OutsideSupportPlan(OrderError):
    """The person's support plan does not cover the service and the council refuses such
    purchases."""

    code = "outside_support_plan"


class InvalidTransition(OrderError):
    """The order (or its delivery or invoice) is not in a state that allows this."""

    code = "invalid_transition"


class NotYours(OrderError):
    """The user may not do this to this order."""

    code = "forbidden"


class BasketRefused(OrderError):
    """Checkout placed nothing because some items cannot be bought as they are: `problems`
    names each such item and its own refusal, in basket order (the message is the first's,
    its code the first's too, so a single-item basket reads as that item's refusal)."""

    def __init__(self, problems: list[tuple[BasketItem, LedgerError]]) -> None:
        first = problems[0][1]
        super().__init__(
            first.message,
            items={
                str(item.id): {"code": why.code, "message": why.message} for item, why in problems
            },
        )
        self.code = first.code
        self.problems = problems
