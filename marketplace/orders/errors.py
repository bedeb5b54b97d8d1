"""Refusals of the orders' rules, in the ledger's shape (a stable `code`, a `message` for
people, `details` for machines), so the pages and the API report them alike."""

from __future__ import annotations

from marketplace.ledger.errors import InsufficientFunds, LedgerError

__all__ = [
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
