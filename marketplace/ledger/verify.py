"""Recompute every balance from the transfers and check the ledger's invariants.

What is checked, for `flask ledger verify` and the tests:
- every transfer moves a positive amount between two different accounts, so its debits equal
  its credits, and the totals over all accounts net to zero;
- a post or void names a pending transfer, between the same accounts, at most once; a post
  never moves more than was held, a void releases exactly what was held;
- a reversal undoes a posted movement exactly (same amount, accounts swapped), once, with a
  reason, and is never itself reversed;
- every stored balance equals the balance recomputed from the transfers;
- no guarded account's available balance (counting pending debits) is below zero.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import or_, select

from marketplace.ledger.models import Balance, LedgerAccount, Transfer, TransferKind
from marketplace.types import Session

_Totals = list[int]  # debits_pending, debits_posted, credits_pending, credits_posted


@dataclass(frozen=True)
class LedgerReport:
    """What verification found: the problems (empty when all is well) and what it counted."""

    problems: list[str]
    accounts: int
    transfers: int
    recomputed: dict[uuid.UUID, Balance]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Row:
    id: uuid.UUID
    kind: TransferKind
    debit: uuid.UUID
    credit: uuid.UUID
    amount: int
    pending_id: uuid.UUID | None
    reverses_id: uuid.UUID | None
    reason: str | None
    key: str


_COLUMNS = (
    Transfer.id,
    Transfer.kind,
    Transfer.debit_account_id,
    Transfer.credit_account_id,
    Transfer.amount_pence,
    Transfer.pending_id,
    Transfer.reverses_id,
    Transfer.reason,
    Transfer.idempotency_key,
)


def verify_ledger(session: Session, accounts: Collection[uuid.UUID] | None = None) -> LedgerReport:
    """Check the whole ledger; never changes anything. Reads every transfer once.

    Given `accounts`, check only those accounts and the transfers touching them (a test's
    own accounts after each step): each such transfer as above, and each account's stored
    balance against one recomputed from all its transfers, guarded ones not below zero. What
    needs every account (the totals netting to zero) is left to the whole check."""
    query = select(*_COLUMNS)
    if accounts is not None:
        query = query.where(
            or_(Transfer.debit_account_id.in_(accounts), Transfer.credit_account_id.in_(accounts))
        )
    rows = [
        _Row(r[0], TransferKind(r[1]), r[2], r[3], int(r[4]), r[5], r[6], r[7], r[8])
        for r in session.execute(query)
    ]
    by_id = {row.id: row for row in rows}
    problems: list[str] = []
    totals: dict[uuid.UUID, _Totals] = defaultdict(lambda: [0, 0, 0, 0])
    resolved: set[uuid.UUID] = set()
    reversed_: set[uuid.UUID] = set()

    for row in rows:
        if row.amount <= 0:
            problems.append(f"transfer {row.key}: amount {row.amount}p is not positive")
        if row.debit == row.credit:
            problems.append(f"transfer {row.key}: debits and credits the same account")
        debit, credit = totals[row.debit], totals[row.credit]
        if row.kind is TransferKind.POSTED:
            debit[1] += row.amount
            credit[3] += row.amount
        elif row.kind is TransferKind.PENDING:
            debit[0] += row.amount
            credit[2] += row.amount
        else:
            _resolve(row, by_id, totals, resolved, problems)
        if row.reverses_id is not None:
            _check_reversal(row, by_id, reversed_, problems)

    account_query = select(
        LedgerAccount.id,
        LedgerAccount.code,
        LedgerAccount.guarded,
        LedgerAccount.debits_pending,
        LedgerAccount.debits_posted,
        LedgerAccount.credits_pending,
        LedgerAccount.credits_posted,
    )
    if accounts is not None:
        # The transfers' other accounts too: only to find a missing one.
        account_query = account_query.where(LedgerAccount.id.in_(set(accounts) | set(totals)))
    found = session.execute(account_query).all()
    recomputed: dict[uuid.UUID, Balance] = {}
    net_posted = net_pending = 0
    for account_id, code, guarded, *stored_totals in found:
        if accounts is not None and account_id not in accounts:
            continue  # its other transfers were not read
        stored = Balance(*(int(value) for value in stored_totals))
        computed = Balance(*totals.get(account_id, [0, 0, 0, 0]))
        recomputed[account_id] = computed
        if stored != computed:
            problems.append(f"account {code}: stored {stored} but the transfers give {computed}")
        if guarded and min(stored.available, computed.available) < 0:
            problems.append(f"account {code}: guarded but {computed.available}p available")
        net_posted += stored.posted
        net_pending += stored.credits_pending - stored.debits_pending
    if accounts is None and (net_posted != 0 or net_pending != 0):
        problems.append(
            f"accounts do not net to zero: posted {net_posted}p, pending {net_pending}p"
        )
    unknown = set(totals) - {account[0] for account in found}
    problems.extend(f"transfers name a missing account {account_id}" for account_id in unknown)
    return LedgerReport(problems, len(recomputed), len(rows), recomputed)


def _resolve(
    row: _Row,
    by_id: dict[uuid.UUID, _Row],
    totals: dict[uuid.UUID, _Totals],
    resolved: set[uuid.UUID],
    problems: list[str],
) -> None:
    """Apply a post or void to the totals, checking it against the hold it resolves."""
    held = by_id.get(row.pending_id) if row.pending_id else None
    if held is None or held.kind is not TransferKind.PENDING:
        problems.append(f"transfer {row.key}: resolves something that is not a pending transfer")
        return
    if held.id in resolved:
        problems.append(f"transfer {held.key}: resolved more than once")
    resolved.add(held.id)
    if (row.debit, row.credit) != (held.debit, held.credit):
        problems.append(f"transfer {row.key}: accounts differ from the hold it resolves")
    debit, credit = totals[held.debit], totals[held.credit]
    debit[0] -= held.amount
    credit[2] -= held.amount
    if row.kind is TransferKind.POST:
        if row.amount > held.amount:
            problems.append(f"transfer {row.key}: posts {row.amount}p of a {held.amount}p hold")
        debit[1] += row.amount
        credit[3] += row.amount
    elif row.amount != held.amount:
        problems.append(f"transfer {row.key}: voids {row.amount}p of a {held.amount}p hold")


def _check_reversal(
    row: _Row, by_id: dict[uuid.UUID, _Row], reversed_: set[uuid.UUID], problems: list[str]
) -> None:
    original = by_id.get(row.reverses_id) if row.reverses_id else None
    if original is None or original.kind not in (TransferKind.POSTED, TransferKind.POST):
        problems.append(f"transfer {row.key}: reverses something that moved no money")
        return
    if original.reverses_id is not None:
        problems.append(f"transfer {row.key}: reverses a reversal")
    if original.id in reversed_:
        problems.append(f"transfer {original.key}: reversed more than once")
    reversed_.add(original.id)
    if (row.debit, row.credit, row.amount) != (original.credit, original.debit, original.amount):
        problems.append(f"transfer {row.key}: does not exactly undo {original.key}")
    if not (row.reason or "").strip():
        problems.append(f"transfer {row.key}: a reversal without a reason")
