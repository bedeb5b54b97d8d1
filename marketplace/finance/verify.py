"""Payment runs against the ledger, for `flask ledger verify` (issue 19, PAYRUNS).

- every remittance line's transfer is a posted payment of the line's amount from its
  provider's payee account to its paid-out account; a line of a cancelled run is reversed
  by the transfer it names, a line of a run not cancelled is not reversed;
- every transfer into or out of a paid-out account is a line's payment or its reversal, so
  every pound paid out matches a remittance line, and each paid-out account holds exactly
  its provider's lines in runs not cancelled;
- each remittance's total is its lines', each run's its remittances';
- a share of an invoice (one payer's) is paid by at most one run not cancelled, and never
  for more than the ledger says the payer paid the provider for it;
- no provider's payee account is below zero (paid out more than it received).
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from marketplace.finance.models import PaymentRun, PaymentRunStatus, Remittance, RemittanceLine
from marketplace.finance.payment_runs import PAYMENT_CODE, due_shares
from marketplace.formatting import pounds
from marketplace.ledger import LedgerAccount, Transfer, TransferKind
from marketplace.orders.models import Invoice, Order
from marketplace.types import Session


def check_payment_runs(session: Session) -> tuple[list[str], int]:
    """Problems found (empty when all is well), and how many payment runs were checked."""
    runs = session.scalars(
        select(PaymentRun).options(
            selectinload(PaymentRun.remittances).selectinload(Remittance.lines)
        )
    ).all()
    accounts = {
        account.code: account
        for account in session.scalars(
            select(LedgerAccount).where(
                or_(
                    LedgerAccount.code.like("paid:organisation:%"),
                    LedgerAccount.code.like("payee:organisation:%"),
                )
            )
        )
    }
    paid_ids = {a.id for code, a in accounts.items() if code.startswith("paid:")}
    touching = {
        t.id: t
        for t in session.scalars(
            select(Transfer).where(
                or_(
                    Transfer.debit_account_id.in_(paid_ids),
                    Transfer.credit_account_id.in_(paid_ids),
                )
            )
        )
    }
    reversed_ids = {t.reverses_id for t in touching.values() if t.reverses_id is not None}
    problems: list[str] = []
    named: set[uuid.UUID] = set()
    live: dict[tuple[uuid.UUID, str], list[RemittanceLine]] = defaultdict(list)
    paid_out: dict[uuid.UUID, int] = defaultdict(int)
    for run in runs:
        if run.total_pence != sum(r.total_pence for r in run.remittances):
            problems.append(f"payment run {run.reference}: its total is not its remittances'")
        cancelled = run.status is PaymentRunStatus.CANCELLED
        for remittance in run.remittances:
            where = f"remittance {remittance.reference}"
            if remittance.total_pence != sum(line.amount_pence for line in remittance.lines):
                problems.append(f"{where}: its total is not its lines'")
            payee = accounts.get(f"payee:organisation:{remittance.organisation_id}")
            paid = accounts.get(f"paid:organisation:{remittance.organisation_id}")
            for line in remittance.lines:
                named.add(line.transfer_id)
                problems += _line_problems(
                    where, line, touching, payee, paid, cancelled, reversed_ids
                )
                if line.reversal_transfer_id is not None:
                    named.add(line.reversal_transfer_id)
                if not cancelled:
                    live[(line.invoice_id, line.payer_code)].append(line)
                    paid_out[remittance.organisation_id] += line.amount_pence
    for transfer in touching.values():
        if transfer.id not in named:
            problems.append(
                f"transfer {transfer.idempotency_key}: {pounds(transfer.amount_pence)} moved on "
                "a paid-out account for no remittance line"
            )
    problems += _account_problems(accounts, paid_out)
    problems += _share_problems(session, live)
    return problems, len(runs)


def _account_problems(
    accounts: dict[str, LedgerAccount], paid_out: dict[uuid.UUID, int]
) -> list[str]:
    """Each paid-out account holds its provider's live lines; no payee account below zero."""
    problems = []
    for code, account in accounts.items():
        organisation_id = uuid.UUID(code.rsplit(":", 1)[1])
        posted = account.credits_posted - account.debits_posted
        if code.startswith("paid:") and posted != paid_out.get(organisation_id, 0):
            problems.append(
                f"{account.name}: {pounds(posted)} paid out, but its remittance lines come to "
                f"{pounds(paid_out.get(organisation_id, 0))}"
            )
        if code.startswith("payee:") and posted < 0:
            problems.append(f"{account.name}: paid out {pounds(-posted)} more than it received")
    return problems


def _line_problems(
    where: str,
    line: RemittanceLine,
    transfers: dict[uuid.UUID, Transfer],
    payee: LedgerAccount | None,
    paid: LedgerAccount | None,
    cancelled: bool,
    reversed_ids: set[uuid.UUID],
) -> list[str]:
    made = transfers.get(line.transfer_id)
    if (
        made is None
        or payee is None
        or paid is None
        or made.kind is not TransferKind.POSTED
        or made.code != PAYMENT_CODE
        or made.amount_pence != line.amount_pence
        or made.debit_account_id != payee.id
        or made.credit_account_id != paid.id
        or made.reverses_id is not None
    ):
        return [
            f"{where} line {line.position}: its transfer is not a payment of "
            f"{pounds(line.amount_pence)} from the provider's payee account to its paid-out account"
        ]
    reversal = transfers.get(line.reversal_transfer_id) if line.reversal_transfer_id else None
    if cancelled and (reversal is None or reversal.reverses_id != made.id):
        return [f"{where} line {line.position}: its run was cancelled but it is not reversed"]
    if not cancelled and (reversal is not None or made.id in reversed_ids):
        return [f"{where} line {line.position}: reversed, but its run was not cancelled"]
    return []


def _share_problems(
    session: Session, live: dict[tuple[uuid.UUID, str], list[RemittanceLine]]
) -> list[str]:
    """Each share paid once, and for no more than the payer paid the provider for it."""
    problems = []
    invoices = (
        session.scalars(
            select(Invoice)
            .where(Invoice.id.in_({invoice_id for invoice_id, _ in live}))
            .options(
                selectinload(Invoice.cycle), selectinload(Invoice.order).selectinload(Order.person)
            )
        ).all()
        if live
        else []
    )
    by_id = {invoice.id: invoice for invoice in invoices}
    earned = {
        (due.invoice.id, due.payer_code): due.amount_pence
        for due in due_shares(session, invoices, {})
    }
    for (invoice_id, payer_code), lines in sorted(live.items(), key=lambda kv: str(kv[0])):
        invoice = by_id.get(invoice_id)
        label = f"invoice {invoice.reference if invoice else invoice_id} ({payer_code})"
        if len(lines) > 1:
            problems.append(f"{label}: paid {len(lines)} times")
        paid = sum(line.amount_pence for line in lines)
        if paid > earned.get((invoice_id, payer_code), 0):
            problems.append(
                f"{label}: {pounds(paid)} paid out, more than the "
                f"{pounds(earned.get((invoice_id, payer_code), 0))} settled from that payer"
            )
    return problems
