"""The double-entry ledger: accounts with guarded balances and append-only transfers.

Plain Python on SQLAlchemy: no Flask here (an import-linter contract keeps it so). Every
function takes the `Session` to work in, flushes and never commits. Read docs/ledger.md.
"""

from marketplace.ledger.accounts import balance, balances, open_account
from marketplace.ledger.errors import (
    AlreadyResolved,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
    LedgerError,
)
from marketplace.ledger.models import (
    Balance,
    LedgerAccount,
    Transfer,
    TransferKind,
    TransferState,
)
from marketplace.ledger.transactions import begin_immediate, lock_accounts, savepoint
from marketplace.ledger.transfers import (
    MAX_AMOUNT_PENCE,
    Move,
    check_amount_pence,
    find_transfer,
    post_pending,
    reverse,
    transfer,
    transfer_all,
    void_pending,
)
from marketplace.ledger.verify import LedgerReport, verify_ledger

__all__ = [
    "MAX_AMOUNT_PENCE",
    "AlreadyResolved",
    "Balance",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InvalidTransfer",
    "LedgerAccount",
    "LedgerError",
    "LedgerReport",
    "Move",
    "Transfer",
    "TransferKind",
    "TransferState",
    "balance",
    "balances",
    "begin_immediate",
    "check_amount_pence",
    "find_transfer",
    "lock_accounts",
    "open_account",
    "post_pending",
    "reverse",
    "savepoint",
    "transfer",
    "transfer_all",
    "verify_ledger",
    "void_pending",
]
