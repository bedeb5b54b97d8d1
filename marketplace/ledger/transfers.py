"""Recording transfers: move money, hold it, post or void a hold, reverse a mistake.

Each function records at most one row and changes the stored balances of its two accounts in
the same database transaction, inside a savepoint, so that a refusal leaves nothing behind and
the caller's transaction goes on. None of them commits: the caller commits once.

The guard is one conditional UPDATE on the debit account (`... WHERE available >= :amount`)
whose row count says whether the money was there. PostgreSQL re-checks the condition on the
newest row after waiting for a concurrent writer's lock, so at READ COMMITTED two transfers
can never both spend the same pence; SQLite transactions here are begun IMMEDIATE, so its
writers run one at a time. A CHECK constraint would refuse a negative balance regardless.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from marketplace.ledger.accounts import balance
from marketplace.ledger.errors import (
    AlreadyResolved,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
)
from marketplace.ledger.models import BALANCE_COLUMNS, LedgerAccount, Transfer, TransferKind
from marketplace.ledger.transactions import begin_immediate, savepoint
from marketplace.types import Session, utcnow

# Ten million pounds: far above any one movement, far below what a BIGINT sum could overflow.
MAX_AMOUNT_PENCE = 1_000_000_000

_accounts = LedgerAccount.__table__
KEY_LENGTH = Transfer.__table__.c.idempotency_key.type.length
DESCRIPTION_LENGTH = Transfer.__table__.c.description.type.length
REASON_LENGTH = Transfer.__table__.c.reason.type.length
_INSERT = insert(Transfer.__table__)
_FIND = select(Transfer.id).where(Transfer.idempotency_key == bindparam("key"))

# An account, or just its id: callers that hold ids (a stream's account_id) need not load it.
AccountRef = LedgerAccount | uuid.UUID

# One statement for every change to an account's totals, built once. The guard is part of
# the WHERE clause, evaluated on the row as it is when the UPDATE runs (after waiting for any
# other writer of the row), so whether the money is there and taking it are one step.
_MOVE = (
    update(_accounts)
    .where(
        _accounts.c.id == bindparam("account_id"),
        or_(
            _accounts.c.guarded.is_(False),
            _accounts.c.credits_posted - _accounts.c.debits_posted - _accounts.c.debits_pending
            >= bindparam("guard_pence"),
        ),
    )
    .values(
        debits_pending=_accounts.c.debits_pending + bindparam("add_debits_pending"),
        debits_posted=_accounts.c.debits_posted + bindparam("add_debits_posted"),
        credits_pending=_accounts.c.credits_pending + bindparam("add_credits_pending"),
        credits_posted=_accounts.c.credits_posted + bindparam("add_credits_posted"),
    )
)


@dataclass(frozen=True)
class _Proposal:
    """The details that make two uses of one idempotency key the same transfer."""

    key: str
    kind: TransferKind
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount_pence: int
    code: str
    pending_id: uuid.UUID | None = None
    reverses_id: uuid.UUID | None = None

    def matches(self, transfer: Transfer) -> bool:
        return (
            transfer.kind is self.kind
            and transfer.debit_account_id == self.debit_account_id
            and transfer.credit_account_id == self.credit_account_id
            and transfer.amount_pence == self.amount_pence
            and transfer.code == self.code
            and transfer.pending_id == self.pending_id
            and transfer.reverses_id == self.reverses_id
        )


@dataclass(frozen=True)
class _Change:
    """What one transfer adds to one account's totals; `guard_pence` must be available
    (on a guarded account)."""

    account_id: uuid.UUID
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0
    guard_pence: int = 0


def transfer(
    session: Session,
    *,
    key: str,
    debit: AccountRef,
    credit: AccountRef,
    amount_pence: int,
    code: str,
    description: str = "",
    reference: str | None = None,
    reason: str | None = None,
    pending: bool = False,
) -> Transfer:
    """Move `amount_pence` from `debit` to `credit` now, or with `pending` hold it on `debit`.

    `description` is for statements, `reason` says why (a revision, a correction), and
    `reference` ties together the transfers of one action (the parts of a commitment).

    Returns the transfer; if `key` was used before with the same accounts, amount, code and
    kind, returns that first transfer and records nothing. Raises InvalidTransfer (amount not
    a positive whole number of pence, one account twice), InsufficientFunds (a guarded
    `debit` cannot cover it), IdempotencyConflict (`key` used for different details).
    """
    check_amount_pence(amount_pence)
    debit_id, credit_id = _id_of(debit), _id_of(credit)
    if debit_id == credit_id:
        raise InvalidTransfer("a transfer needs two different accounts")
    kind = TransferKind.PENDING if pending else TransferKind.POSTED
    proposal = _Proposal(key, kind, debit_id, credit_id, amount_pence, code)
    replayed = _replayed(session, proposal)
    if replayed is not None:
        return replayed
    if pending:
        changes = [
            _Change(debit_id, debits_pending=amount_pence, guard_pence=amount_pence),
            _Change(credit_id, credits_pending=amount_pence),
        ]
    else:
        changes = [
            _Change(debit_id, debits_posted=amount_pence, guard_pence=amount_pence),
            _Change(credit_id, credits_posted=amount_pence),
        ]
    return _record(
        session, proposal, changes, description=description, reference=reference, reason=reason
    )


@dataclass(frozen=True)
class Move:
    """One transfer of a batch for `transfer_all`: the arguments `transfer` takes."""

    key: str
    debit: AccountRef
    credit: AccountRef
    amount_pence: int
    code: str
    description: str = ""
    reference: str | None = None
    pending: bool = False


def transfer_all(session: Session, moves: list[Move]) -> list[Transfer]:
    """Record several transfers together, all or none, as `transfer` would one by one, in
    fewer statements: their keys looked up at once, each account's totals changed once (its
    guard checks the sum it gives), their rows inserted at once.

    Returns the transfers in the order of `moves`. A batch recorded before is replayed, and
    one whose keys were partly used before is done one transfer at a time, so replays and
    conflicts answer exactly as `transfer` does. Raises what `transfer` raises; on a refusal
    nothing of the batch is recorded.
    """
    proposals = [_proposal_of(move) for move in moves]
    if not moves:
        return []
    if len(moves) == 1:
        return [_one(session, moves[0])]
    if len({move.key for move in moves}) < len(moves):
        return _one_by_one(session, moves)
    begin_immediate(session)
    session.flush()
    if session.scalars(
        select(Transfer.id).where(Transfer.idempotency_key.in_([move.key for move in moves]))
    ).first():
        return _one_by_one(session, moves)
    changes = _summed_changes(proposals)
    rows = [
        _values(
            proposal,
            description=move.description,
            reference=move.reference,
            reason=None,
        )
        for proposal, move in zip(proposals, moves, strict=True)
    ]
    try:
        with savepoint(session):
            # One order for every transaction, so two of them never wait on each other's rows.
            for change in sorted(changes, key=lambda change: change.account_id):
                _apply(session, change)
            session.execute(_INSERT, rows)
    except IntegrityError:
        # Another transaction used one of the keys between our look and our insert; the
        # savepoint has undone our changes: do them one at a time, replaying what it did.
        return _one_by_one(session, moves)
    finally:
        _expire_balances(session, changes)
    recorded = []
    for values in rows:
        row = Transfer(**values)
        make_transient_to_detached(row)
        session.add(row)
        recorded.append(row)
    return recorded


def _proposal_of(move: Move) -> _Proposal:
    check_amount_pence(move.amount_pence)
    debit_id, credit_id = _id_of(move.debit), _id_of(move.credit)
    if debit_id == credit_id:
        raise InvalidTransfer("a transfer needs two different accounts")
    if not move.key or len(move.key) > KEY_LENGTH:
        raise InvalidTransfer(f"an idempotency key has 1 to {KEY_LENGTH} characters")
    kind = TransferKind.PENDING if move.pending else TransferKind.POSTED
    return _Proposal(move.key, kind, debit_id, credit_id, move.amount_pence, move.code)


def _summed_changes(proposals: list[_Proposal]) -> list[_Change]:
    """What the transfers add to each account's totals, one change an account; a debit's
    guard is the sum it gives."""
    totals: dict[uuid.UUID, dict[str, int]] = {}
    for proposal in proposals:
        side = "pending" if proposal.kind is TransferKind.PENDING else "posted"
        debit = totals.setdefault(proposal.debit_account_id, {})
        debit[f"debits_{side}"] = debit.get(f"debits_{side}", 0) + proposal.amount_pence
        debit["guard_pence"] = debit.get("guard_pence", 0) + proposal.amount_pence
        credit = totals.setdefault(proposal.credit_account_id, {})
        credit[f"credits_{side}"] = credit.get(f"credits_{side}", 0) + proposal.amount_pence
    return [_Change(account_id, **added) for account_id, added in totals.items()]


def _one_by_one(session: Session, moves: list[Move]) -> list[Transfer]:
    """The batch as separate transfers, all or none."""
    with savepoint(session):
        return [_one(session, move) for move in moves]


def _one(session: Session, move: Move) -> Transfer:
    return transfer(
        session,
        key=move.key,
        debit=move.debit,
        credit=move.credit,
        amount_pence=move.amount_pence,
        code=move.code,
        description=move.description,
        reference=move.reference,
        pending=move.pending,
    )


def post_pending(
    session: Session, pending: Transfer, *, key: str, amount_pence: int | None = None
) -> Transfer:
    """Post `amount_pence` (all of it if None) of a pending transfer; the rest is released.

    Returns the posting transfer (the first one if `key` was used before for the same).
    Raises InvalidTransfer (not a pending transfer, amount above what is held),
    AlreadyResolved (posted or voided before), IdempotencyConflict.
    """
    held = pending.amount_pence
    amount = held if amount_pence is None else amount_pence
    check_amount_pence(amount)
    if pending.kind is not TransferKind.PENDING:
        raise InvalidTransfer("only a pending transfer can be posted", transfer_id=str(pending.id))
    if amount > held:
        raise InvalidTransfer(
            f"cannot post {amount}p of a transfer that holds {held}p",
            held_pence=held,
            amount_pence=amount,
        )
    proposal = _Proposal(
        key,
        TransferKind.POST,
        pending.debit_account_id,
        pending.credit_account_id,
        amount,
        pending.code,
        pending_id=pending.id,
    )
    replayed = _replayed(session, proposal)
    if replayed is not None:
        return replayed
    _refuse_if_resolved(session, pending)
    # Posting never lowers what is available (held money becomes spent, the rest comes
    # back), so neither side needs the guard.
    changes = [
        _Change(pending.debit_account_id, debits_pending=-held, debits_posted=amount),
        _Change(pending.credit_account_id, credits_pending=-held, credits_posted=amount),
    ]
    return _record(session, proposal, changes, description=pending.description)


def void_pending(session: Session, pending: Transfer, *, key: str) -> Transfer:
    """Release all of a pending transfer's hold. Returns the voiding transfer.

    Raises InvalidTransfer (not a pending transfer), AlreadyResolved, IdempotencyConflict.
    """
    if pending.kind is not TransferKind.PENDING:
        raise InvalidTransfer("only a pending transfer can be voided", transfer_id=str(pending.id))
    held = pending.amount_pence
    proposal = _Proposal(
        key,
        TransferKind.VOID,
        pending.debit_account_id,
        pending.credit_account_id,
        held,
        pending.code,
        pending_id=pending.id,
    )
    replayed = _replayed(session, proposal)
    if replayed is not None:
        return replayed
    _refuse_if_resolved(session, pending)
    changes = [
        _Change(pending.debit_account_id, debits_pending=-held),
        _Change(pending.credit_account_id, credits_pending=-held),
    ]
    return _record(session, proposal, changes, description=pending.description)


def reverse(session: Session, original: Transfer, *, key: str, reason: str) -> Transfer:
    """Undo a posted movement by the same amount the other way, with a reason. Returns it.

    Only money that moved can be reversed (a posted transfer, or the posting of a hold), once,
    and never a reversal itself. Raises InvalidTransfer, AlreadyResolved (reversed before),
    InsufficientFunds (a guarded account the money went to has since spent it),
    IdempotencyConflict.
    """
    if not reason.strip():
        raise InvalidTransfer("a reversal needs a reason")
    if original.kind not in (TransferKind.POSTED, TransferKind.POST):
        raise InvalidTransfer(
            "only posted money can be reversed; void a pending transfer instead",
            transfer_id=str(original.id),
        )
    if original.reverses_id is not None:
        raise InvalidTransfer("a reversal cannot itself be reversed", transfer_id=str(original.id))
    amount = original.amount_pence
    proposal = _Proposal(
        key,
        TransferKind.POSTED,
        original.credit_account_id,
        original.debit_account_id,
        amount,
        original.code,
        reverses_id=original.id,
    )
    replayed = _replayed(session, proposal)
    if replayed is not None:
        return replayed
    if session.scalar(select(Transfer.id).where(Transfer.reverses_id == original.id)):
        raise AlreadyResolved("this transfer was already reversed", transfer_id=str(original.id))
    changes = [
        _Change(original.credit_account_id, debits_posted=amount, guard_pence=amount),
        _Change(original.debit_account_id, credits_posted=amount),
    ]
    description = f"Reversal: {original.description}"[:DESCRIPTION_LENGTH]
    return _record(session, proposal, changes, description=description, reason=reason)


def find_transfer(session: Session, key: str) -> Transfer | None:
    """The transfer recorded under `key`, if any."""
    # Looking up the id alone is much cheaper than loading a row that is nearly never there.
    found = session.scalar(_FIND, {"key": key})
    return None if found is None else session.get(Transfer, found)


def _id_of(account: AccountRef) -> uuid.UUID:
    return account if isinstance(account, uuid.UUID) else account.id


def check_amount_pence(amount_pence: object) -> None:
    """Raise InvalidTransfer unless `amount_pence` is a whole number of pence the ledger moves."""
    # bool is an int in Python; money never is.
    if type(amount_pence) is not int or not 0 < amount_pence <= MAX_AMOUNT_PENCE:
        raise InvalidTransfer(
            f"an amount must be a whole number of pence from 1 to {MAX_AMOUNT_PENCE}",
            amount_pence=repr(amount_pence),
        )


def _replayed(session: Session, proposal: _Proposal) -> Transfer | None:
    """The earlier transfer under the proposal's key, if it is the same; None if there is none."""
    if not proposal.key or len(proposal.key) > KEY_LENGTH:
        raise InvalidTransfer(f"an idempotency key has 1 to {KEY_LENGTH} characters")
    begin_immediate(session)
    session.flush()
    earlier = find_transfer(session, proposal.key)
    if earlier is None:
        return None
    if not proposal.matches(earlier):
        raise IdempotencyConflict(
            "this idempotency key was used for a different transfer",
            idempotency_key=proposal.key,
            transfer_id=str(earlier.id),
        )
    return earlier


def _refuse_if_resolved(session: Session, pending: Transfer) -> None:
    resolution = session.scalar(select(Transfer.kind).where(Transfer.pending_id == pending.id))
    if resolution is not None:
        raise AlreadyResolved(
            f"this pending transfer was already {'posted' if resolution == 'post' else 'voided'}",
            transfer_id=str(pending.id),
        )


def _record(
    session: Session,
    proposal: _Proposal,
    changes: list[_Change],
    *,
    description: str = "",
    reference: str | None = None,
    reason: str | None = None,
) -> Transfer:
    values = _values(proposal, description=description, reference=reference, reason=reason)
    try:
        with savepoint(session):
            # One order for every transaction, so two of them never wait on each other's rows.
            for change in sorted(changes, key=lambda change: change.account_id):
                _apply(session, change)
            # A plain INSERT: the unit of work would cost more than the rest of the transfer.
            session.execute(_INSERT, values)
    except IntegrityError as error:
        # Another transaction recorded the same key, or resolved the same pending transfer,
        # between our check and our insert; the savepoint has undone our balance changes.
        replayed = _replayed(session, proposal)
        if replayed is not None:
            return replayed
        if proposal.pending_id is not None or proposal.reverses_id is not None:
            raise AlreadyResolved("another transaction resolved this transfer first") from error
        raise
    finally:
        _expire_balances(session, changes)
    # Hand back the row as the ORM object it now is in the database, without reading it again.
    row = Transfer(**values)
    make_transient_to_detached(row)
    session.add(row)
    return row


def _values(
    proposal: _Proposal, *, description: str, reference: str | None, reason: str | None
) -> dict[str, object]:
    """The transfer's row, its description and reason checked for length."""
    if len(description) > DESCRIPTION_LENGTH or len(reason or "") > REASON_LENGTH:
        raise InvalidTransfer(
            f"a description has at most {DESCRIPTION_LENGTH} characters, "
            f"a reason at most {REASON_LENGTH}"
        )
    return {
        "id": uuid.uuid4(),
        "idempotency_key": proposal.key,
        "kind": proposal.kind,
        "debit_account_id": proposal.debit_account_id,
        "credit_account_id": proposal.credit_account_id,
        "amount_pence": proposal.amount_pence,
        "code": proposal.code,
        "description": description,
        "reference": reference,
        "reason": reason,
        "pending_id": proposal.pending_id,
        "reverses_id": proposal.reverses_id,
        "created_at": utcnow(),
    }


def _expire_balances(session: Session, changes: list[_Change]) -> None:
    """Accounts this session has loaded now hold stale totals: read them again when asked."""
    for change in changes:
        loaded = session.identity_map.get(identity_key(LedgerAccount, change.account_id))
        if loaded is not None:
            session.expire(loaded, list(BALANCE_COLUMNS))


def _apply(session: Session, change: _Change) -> None:
    """Add the change to the account's stored totals, or raise if the guard refuses it."""
    updated = session.execute(
        _MOVE,
        {
            "account_id": change.account_id,
            "guard_pence": change.guard_pence,
            "add_debits_pending": change.debits_pending,
            "add_debits_posted": change.debits_posted,
            "add_credits_pending": change.credits_pending,
            "add_credits_posted": change.credits_posted,
        },
    )
    if updated.rowcount == 1:
        return
    account = session.get(LedgerAccount, change.account_id)
    if account is None:
        raise InvalidTransfer("no such account", account_id=str(change.account_id))
    available_now = balance(session, change.account_id).available
    raise InsufficientFunds(
        f"{account.name} has {available_now}p available, {change.guard_pence}p needed",
        shortfall_pence=max(1, change.guard_pence - available_now),
        account_id=str(change.account_id),
        available_pence=available_now,
        requested_pence=change.guard_pence,
    )
