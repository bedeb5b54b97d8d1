"""The ledger's two tables: accounts with stored balances, and append-only transfers.

Every movement of money is one `Transfer` row from a debit account to a credit account. Rows
are never updated or deleted: a pending transfer is resolved by a second row (a post or a
void) that points at it, and a mistake by a reversing row. The database enforces what it can:
positive amounts, one resolution per pending transfer (a unique column), one reversal per
transfer, and no guarded account below zero (a CHECK constraint).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.types import UTCDateTime, utcnow

BALANCE_COLUMNS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


class TransferKind(enum.StrEnum):
    """What a transfer row does. Only `pending` rows can be resolved, once, by `post` or `void`."""

    POSTED = "posted"  # moves money at once (a reversal is one of these)
    PENDING = "pending"  # holds money on the debit account without moving it
    POST = "post"  # moves some or all of a held amount; the rest is released
    VOID = "void"  # releases all of a held amount


class TransferState(enum.StrEnum):
    """Where a pending transfer stands; posted and voided are final."""

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


@dataclass(frozen=True)
class Balance:
    """An account's four running totals, in pence, and what follows from them."""

    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int

    @property
    def posted(self) -> int:
        """Money on the account: credits less debits, posted only."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """Money free to spend: posted money less what pending debits hold."""
        return self.credits_posted - self.debits_posted - self.debits_pending


class LedgerAccount(Model):
    """An account with its balances stored, so the guard is one conditional UPDATE.

    A guarded account (a funder's pot, a funding stream) may never have its available balance
    (posted credits less posted and pending debits) below zero. Unguarded accounts stand for
    the world outside (a funder's own money, a provider being paid) and may go negative.
    """

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(
            "NOT guarded OR debits_posted + debits_pending <= credits_posted",
            name="guarded_not_negative",
        ),
        CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 "
            "AND credits_pending >= 0 AND credits_posted >= 0",
            name="totals_not_negative",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # A stable name the owner chooses ("pot:<id>", "stream:<id>:available"), so an account
    # can be found again, and opened twice without making two.
    code: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    guarded: Mapped[bool]
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<LedgerAccount {self.code}>"


def _kind_enum() -> Enum:
    return Enum(
        TransferKind,
        native_enum=False,
        length=10,
        create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
        name="transfer_kind",
    )


class Transfer(Model):
    """One movement of a positive number of pence from `debit_account` to `credit_account`."""

    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        CheckConstraint(
            "(kind IN ('post', 'void')) = (pending_id IS NOT NULL)",
            name="resolutions_name_their_pending",
        ),
        CheckConstraint(
            "reverses_id IS NULL OR (kind = 'posted' AND reason IS NOT NULL)",
            name="reversals_are_posted_with_a_reason",
        ),
        Index("ix_ledger_transfers_debit_account_id_created_at", "debit_account_id", "created_at"),
        Index(
            "ix_ledger_transfers_credit_account_id_created_at", "credit_account_id", "created_at"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[TransferKind] = mapped_column(_kind_enum())
    debit_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    credit_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    # The owner's word for what the movement is for ("allocation", "commitment", ...); the
    # ledger stores it and never reads it.
    code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(300), default="")
    reason: Mapped[str | None] = mapped_column(String(500))
    # Ties together the transfers of one action of the owner (the parts of a commitment).
    reference: Mapped[str | None] = mapped_column(String(200), index=True)
    # Unique: a pending transfer is resolved at most once, even by two racing transactions.
    pending_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_transfers.id"), unique=True
    )
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_transfers.id"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    debit_account: Mapped[LedgerAccount] = relationship(foreign_keys=[debit_account_id])
    credit_account: Mapped[LedgerAccount] = relationship(foreign_keys=[credit_account_id])
    pending: Mapped[Transfer | None] = relationship(foreign_keys=[pending_id], remote_side=[id])
    resolution: Mapped[Transfer | None] = relationship(
        foreign_keys=[pending_id], uselist=False, viewonly=True
    )
    reverses: Mapped[Transfer | None] = relationship(foreign_keys=[reverses_id], remote_side=[id])

    @property
    def state(self) -> TransferState:
        """Posted for rows that moved money; for a pending row, how it was resolved if it was."""
        if self.kind is TransferKind.VOID:
            return TransferState.VOIDED
        if self.kind is not TransferKind.PENDING:
            return TransferState.POSTED
        if self.resolution is None:
            return TransferState.PENDING
        if self.resolution.kind is TransferKind.POST:
            return TransferState.POSTED
        return TransferState.VOIDED

    def __repr__(self) -> str:
        return f"<Transfer {self.kind} {self.amount_pence}p {self.idempotency_key}>"
