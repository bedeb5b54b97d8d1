"""The ledger's refusals, each with a stable code that the API returns as its `error`.

Every one is raised before anything is recorded (or after a savepoint has undone it), so the
caller's transaction is still usable and holds nothing of the refused operation.
"""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """A refusal: `code` is stable, `message` is for people, `details` for machines."""

    code = "ledger_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidTransfer(LedgerError):
    """The transfer asked for makes no sense (no money, one account, a wrong state)."""

    code = "validation_error"


class InsufficientFunds(LedgerError):
    """A guarded account (or a budget) cannot cover the amount, short by `shortfall_pence`."""

    code = "insufficient_funds"

    def __init__(self, message: str, *, shortfall_pence: int, **details: Any) -> None:
        super().__init__(message, shortfall_pence=shortfall_pence, **details)
        self.shortfall_pence = shortfall_pence


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before for a transfer with different details."""

    code = "conflict"


class AlreadyResolved(LedgerError):
    """The pending transfer was already posted or voided (or the transfer already reversed)."""

    code = "conflict"
