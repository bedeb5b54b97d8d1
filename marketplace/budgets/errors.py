"""Refusals of the budgets' rules. They share the ledger's shape (stable `code`, `message`,
`details`), so the API turns either into the same JSON error."""

from __future__ import annotations

from marketplace.ledger.errors import InsufficientFunds, LedgerError

__all__ = ["BudgetClosed", "BudgetError", "CloseRefused", "InsufficientFunds"]


class BudgetError(LedgerError):
    """The request breaks a rule of budgets (a bad period, a missing pot, a revision too low)."""

    code = "validation_error"


class BudgetClosed(LedgerError):
    """The budget's period is closed: nothing more can be committed, released or revised."""

    code = "conflict"


class CloseRefused(LedgerError):
    """The period cannot be closed as asked, or not as the preview said; nothing was done."""

    code = "conflict"
