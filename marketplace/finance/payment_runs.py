"""Paying providers (issue 19, PAYRUNS): a payment run pays each provider what settled
invoices owe it, from every payer of each invoice, once.

Where the money is: settling an invoice posts its cycle's commitment parts into the provider's
payee account (`payee:organisation:<id>`), each part from the account that held it: a funding
stream of the person's budget (a funder's pot through the council or NHS stream, the person's
contribution or own money, card money paid into the own-funds stream), or a funder's
reablement pot. A run reads those postings (less any reversal of them), so every remittance
line is a share the ledger already says the provider earned, split by payer.

What a run records: one `Remittance` per provider, one `RemittanceLine` per invoice per payer,
and for each line a POSTED ledger transfer out of the payee account into the provider's
paid-out account (`paid:organisation:<id>`, unguarded: money gone to the provider's bank),
under the key `payment:<invoice id>:<payer code>:<n>`, n counting earlier cancelled payments
of the same share. Runs are made one at a time (a write lock on SQLite, an advisory lock on
PostgreSQL), each re-reads what is due under the lock and pays only the preview confirmed
(its sha256, stored on the run and unique): a second run at once finds the first's lines and
refuses; the same confirmation sent twice finds the run it made. Cancelling a run whose file
was not sent reverses each line's transfer with the reason; the lines stay, marked with their
reversal, and the invoices are payable again (the next payment of each share has the next n).

Rules only: no Flask. Every function takes the session, flushes and never commits.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, exists, func, select, text
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.budgets.funders import payee_account
from marketplace.budgets.models import FunderPot, FundingStream, PersonalBudget, StreamKind
from marketplace.finance.cost_centres import cost_centre
from marketplace.finance.models import PaymentRun, PaymentRunStatus, Remittance, RemittanceLine
from marketplace.ledger import LedgerAccount, Transfer, TransferKind
from marketplace.ledger.transactions import dialect_name
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import notify, recipients_for_organisation
from marketplace.orders.models import Invoice, InvoiceStatus, Order
from marketplace.types import Session, utcnow
from providers.models import Organisation

# What a payment's ledger transfer is for (Transfer.code).
PAYMENT_CODE = "provider_payment"
RUN_PREFIX = "PR"
# The advisory lock every run, cancellation and sending takes on PostgreSQL (the export's is
# 190_005): one at a time, so two runs never pay the same share.
_LOCK_KEY = 190_006
# Payer codes' words for money that is not a funder's.
CARD = "card"
OWN = "own"
REABLEMENT = "reablement"
POT = "pot"
CARD_NAME = "Card payment"
OWN_NAME = "Person's own money"
# The portal page a provider's notification links to.
REMITTANCE_LINK = "/provider/remittances/{reference}"


class PaymentRunError(Exception):
    """A refusal of a payment-run step, said for the officer."""


class NothingToPay(PaymentRunError):
    """No settled invoice waits to be paid."""


class PreviewChanged(PaymentRunError):
    """What is due is no longer what was previewed: `preview` is what is due now."""

    def __init__(self, preview: RunPreview) -> None:
        super().__init__(
            "What is due to providers has changed since the preview (another run was made or "
            "cancelled, or more invoices were settled): check the new preview and confirm again"
        )
        self.preview = preview


class AlreadyMade(PaymentRunError):
    """This preview was confirmed before: `run` is the run it made."""

    def __init__(self, run: PaymentRun) -> None:
        super().__init__(f"This payment run was already made: {run.reference}")
        self.run = run


class NotCancellable(PaymentRunError):
    """The run was cancelled already, or its file was sent."""


class NotSendable(PaymentRunError):
    """The run was cancelled, or its file was marked sent already."""


@dataclass(frozen=True)
class Due:
    """One invoice's share from one payer, not yet paid: what a remittance line will say."""

    invoice: Invoice
    payer_code: str
    funder_name: str
    cost_centre: str
    amount_pence: int
    # How many earlier payments of this share were cancelled: the ledger key's last part.
    generation: int = 0

    @property
    def key(self) -> str:
        return f"payment:{self.invoice.id}:{self.payer_code}:{self.generation}"

    @property
    def order(self) -> Order:
        return self.invoice.order

    @property
    def period_start(self) -> date:
        return self.invoice.cycle.starts_on

    @property
    def period_end(self) -> date:
        return self.invoice.cycle.ends_on


@dataclass
class ProviderDue:
    """What one provider is owed: its shares, in invoice then payer order."""

    organisation: Organisation
    dues: list[Due] = field(default_factory=list)

    @property
    def total_pence(self) -> int:
        return sum(due.amount_pence for due in self.dues)

    @property
    def invoice_count(self) -> int:
        return len({due.invoice.id for due in self.dues})


@dataclass(frozen=True)
class RunPreview:
    """What a run made now would pay: per provider, by name; `fingerprint` binds a
    confirmation to exactly this."""

    settled_until: datetime
    providers: list[ProviderDue]
    fingerprint: str

    @property
    def total_pence(self) -> int:
        return sum(provider.total_pence for provider in self.providers)

    @property
    def line_count(self) -> int:
        return sum(len(provider.dues) for provider in self.providers)

    @property
    def invoice_count(self) -> int:
        return sum(provider.invoice_count for provider in self.providers)


@dataclass(frozen=True)
class _Payer:
    code: str
    funder_name: str
    cost_centre: str


# -- what is due -------------------------------------------------------------------------------


def preview_run(
    session: Session, *, settled_until: datetime, cost_centres: Mapping[str, str] | None = None
) -> RunPreview:
    """Every share of every invoice settled by `settled_until` that no run has paid (or only
    a cancelled one), per provider. `cost_centres` is the council's fallback per funder kind
    ("council", "nhs") and for "reablement", "own" and "card" money, used where neither the
    funder's pot line nor the funder names one. Records nothing."""
    invoices = _unpaid_invoices(session, settled_until)
    dues = due_shares(session, invoices, cost_centres or {})
    earlier = _earlier_payments(session, [due.invoice.id for due in dues])
    providers: dict[uuid.UUID, ProviderDue] = {}
    for due in dues:
        generation = earlier.get((due.invoice.id, due.payer_code), 0)
        if generation:
            due = Due(
                due.invoice,
                due.payer_code,
                due.funder_name,
                due.cost_centre,
                due.amount_pence,
                generation,
            )
        organisation = due.order.organisation
        providers.setdefault(organisation.id, ProviderDue(organisation)).dues.append(due)
    ordered = sorted(
        providers.values(), key=lambda p: (p.organisation.name, str(p.organisation.id))
    )
    return RunPreview(settled_until, ordered, _fingerprint(settled_until, ordered))


def _fingerprint(settled_until: datetime, providers: Sequence[ProviderDue]) -> str:
    digest = hashlib.sha256(settled_until.isoformat().encode())
    for provider in providers:
        for due in provider.dues:
            digest.update(
                f"|{provider.organisation.id}:{due.key}:{due.amount_pence}:{due.cost_centre}".encode()
            )
    return digest.hexdigest()


def _live_line_of(invoice_id: InstrumentedAttribute[uuid.UUID]) -> ColumnElement[bool]:
    """Whether a run not cancelled has a line for the invoice."""
    return exists(
        select(RemittanceLine.id)
        .join(Remittance, RemittanceLine.remittance_id == Remittance.id)
        .join(PaymentRun, Remittance.run_id == PaymentRun.id)
        .where(
            RemittanceLine.invoice_id == invoice_id,
            PaymentRun.status != PaymentRunStatus.CANCELLED,
        )
    )


def _unpaid_invoices(session: Session, settled_until: datetime) -> list[Invoice]:
    """Settled invoices for some money, settled by `settled_until`, that no live run paid.
    (A run pays every share of an invoice at once, so an invoice is paid or it is not.)"""
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.status == InvoiceStatus.SETTLED,
                Invoice.settled_at <= settled_until,
                Invoice.amount_pence > 0,
                ~_live_line_of(Invoice.id),
            )
            .order_by(Invoice.settled_at, Invoice.reference)
            .options(
                selectinload(Invoice.cycle),
                selectinload(Invoice.order).selectinload(Order.organisation),
                selectinload(Invoice.order).selectinload(Order.person),
            )
        )
    )


def _earlier_payments(
    session: Session, invoice_ids: Iterable[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], int]:
    """How many lines (all of cancelled runs, for an unpaid invoice) each share has had."""
    ids = sorted(set(invoice_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(RemittanceLine.invoice_id, RemittanceLine.payer_code, func.count())
        .where(RemittanceLine.invoice_id.in_(ids))
        .group_by(RemittanceLine.invoice_id, RemittanceLine.payer_code)
    )
    return {(invoice_id, code): int(count) for invoice_id, code, count in rows}


def due_shares(
    session: Session, invoices: Sequence[Invoice], cost_centres: Mapping[str, str]
) -> list[Due]:
    """Each invoice's shares by payer, from the ledger: its cycle's commitment parts as
    posted into the provider's payee account at settlement, less any reversal of a posting.
    In the invoices' order, then by payer code. Reads a fixed number of statements."""
    by_key = {invoice.cycle.commitment_key: invoice for invoice in invoices}
    if not by_key:
        return []
    parts = session.execute(
        select(
            Transfer.id, Transfer.reference, Transfer.debit_account_id, Transfer.idempotency_key
        ).where(Transfer.kind == TransferKind.PENDING, Transfer.reference.in_(list(by_key)))
    ).all()
    # A part's reference is its cycle's commitment key (the query asked for those only).
    part_of = {row[0]: (row[1] or "", row[2], row[3]) for row in parts}
    posts = (
        session.execute(
            select(Transfer.id, Transfer.pending_id, Transfer.amount_pence).where(
                Transfer.kind == TransferKind.POST, Transfer.pending_id.in_(list(part_of))
            )
        ).all()
        if part_of
        else []
    )
    undone: dict[uuid.UUID, int] = defaultdict(int)
    if posts:
        for reverses_id, amount in session.execute(
            select(Transfer.reverses_id, Transfer.amount_pence).where(
                Transfer.reverses_id.in_([post[0] for post in posts])
            )
        ):
            if reverses_id is not None:
                undone[reverses_id] += int(amount)
    payers = _payers(session, {row[2] for row in parts}, cost_centres)
    shares: dict[tuple[uuid.UUID, _Payer], int] = defaultdict(int)
    for post_id, pending_id, amount in posts:
        if pending_id is None:
            continue  # a post always names its part (a database check)
        reference, debit_account_id, key = part_of[pending_id]
        invoice = by_key[reference]
        payer = payers.get(debit_account_id)
        if payer is None:
            continue  # not a payer we know: ledger verify names such a part
        if payer.code.startswith(f"{OWN}:") and key.endswith(f":{CARD}"):
            payer = _Payer(CARD, CARD_NAME, cost_centres.get(CARD, ""))
        shares[(invoice.id, payer)] += int(amount) - undone.get(post_id, 0)
    order_of = {invoice.id: index for index, invoice in enumerate(invoices)}
    invoice_of = {invoice.id: invoice for invoice in invoices}
    return [
        Due(invoice_of[invoice_id], payer.code, payer.funder_name, payer.cost_centre, pence)
        for (invoice_id, payer), pence in sorted(
            shares.items(), key=lambda item: (order_of[item[0][0]], item[0][1].code)
        )
        if pence > 0
    ]


def _payers(
    session: Session, account_ids: set[uuid.UUID], cost_centres: Mapping[str, str]
) -> dict[uuid.UUID, _Payer]:
    """Whose money each held-on account is: a budget's funding stream or a reablement pot."""
    if not account_ids:
        return {}
    payers: dict[uuid.UUID, _Payer] = {}
    streams = session.execute(
        select(FundingStream, PersonalBudget.person_id)
        .join(PersonalBudget, FundingStream.budget_id == PersonalBudget.id)
        .where(FundingStream.account_id.in_(account_ids))
        .options(
            selectinload(FundingStream.pot).selectinload(FunderPot.funder),
            selectinload(FundingStream.pot_line),
        )
    ).all()
    for stream, person_id in streams:
        if stream.kind in (StreamKind.COUNCIL, StreamKind.NHS) and stream.pot is not None:
            funder, line = stream.pot.funder, stream.pot_line
            code = f"{POT}:{stream.pot.id}" + (f":{line.id}" if line is not None else "")
            centre = cost_centre(funder, line) or cost_centres.get(funder.kind.value, "")
            payers[stream.account_id] = _Payer(code, funder.name, centre)
        else:
            payers[stream.account_id] = _Payer(
                f"{OWN}:{person_id}", OWN_NAME, cost_centres.get(OWN, "")
            )
    for pot in session.scalars(
        select(FunderPot)
        .where(FunderPot.account_id.in_(account_ids))
        .options(selectinload(FunderPot.funder))
    ):
        centre = (
            cost_centre(pot.funder)
            or cost_centres.get(REABLEMENT, "")
            or cost_centres.get(pot.funder.kind.value, "")
        )
        payers[pot.account_id] = _Payer(f"{REABLEMENT}:{pot.id}", pot.funder.name, centre)
    return payers


# -- making, cancelling and sending a run -------------------------------------------------------


def paid_account(session: Session, organisation: Organisation) -> LedgerAccount:
    """The provider's paid-out account: what payment runs sent to its bank (unguarded; it
    is credited by each payment and debited by a cancelled run's reversal)."""
    return ledger.open_account(
        session,
        code=f"paid:organisation:{organisation.id}",
        name=f"Paid to {organisation.name}"[:200],
        guarded=False,
    )


def _payee(session: Session, organisation: Organisation) -> LedgerAccount:
    return payee_account(session, code=f"organisation:{organisation.id}", name=organisation.name)


def _lock(session: Session) -> None:
    """One run step at a time: SQLite's write lock, PostgreSQL's advisory lock (held to the
    end of the transaction)."""
    ledger.begin_immediate(session)
    if dialect_name(session) == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def make_run(
    session: Session,
    *,
    settled_until: datetime,
    fingerprint: str,
    by: User,
    cost_centres: Mapping[str, str] | None = None,
) -> PaymentRun:
    """Pay exactly what the preview with this `fingerprint` showed: a remittance per provider,
    a line per invoice per payer, each line's transfer out of the provider's payee account.
    Waits for any other run step to finish first, then reads what is due again.

    Raises AlreadyMade (this preview was confirmed before), PreviewChanged (what is due now
    differs: the new preview is on it), NothingToPay. Nothing is recorded then. Flushes."""
    _lock(session)
    made = session.scalar(select(PaymentRun).where(PaymentRun.preview_sha256 == fingerprint))
    if made is not None:
        raise AlreadyMade(made)
    preview = preview_run(session, settled_until=settled_until, cost_centres=cost_centres)
    if preview.fingerprint != fingerprint:
        raise PreviewChanged(preview)
    if not preview.providers:
        raise NothingToPay("No settled invoice is waiting to be paid")
    keys = [due.key for provider in preview.providers for due in provider.dues]
    if session.scalar(select(Transfer.id).where(Transfer.idempotency_key.in_(keys)).limit(1)):
        # Only a broken history can get here (the lock orders every run): never pay twice.
        raise PreviewChanged(preview)
    run = PaymentRun(
        reference=_next_reference(session),
        settled_until=settled_until,
        total_pence=preview.total_pence,
        made_by_id=by.id,
        made_at=utcnow(),
        preview_sha256=fingerprint,
    )
    session.add(run)
    planned: list[tuple[Remittance, Due]] = []
    moves: list[ledger.Move] = []
    for number, provider in enumerate(preview.providers, start=1):
        organisation = provider.organisation
        remittance = Remittance(
            run=run,
            organisation_id=organisation.id,
            reference=f"{run.reference}-{number:03d}",
            total_pence=provider.total_pence,
        )
        session.add(remittance)
        payee, paid = _payee(session, organisation), paid_account(session, organisation)
        for due in provider.dues:
            planned.append((remittance, due))
            moves.append(
                ledger.Move(
                    key=due.key,
                    debit=payee.id,
                    credit=paid.id,
                    amount_pence=due.amount_pence,
                    code=PAYMENT_CODE,
                    description=(
                        f"Payment run {run.reference}: invoice {due.invoice.reference} "
                        f"({due.funder_name})"
                    )[:300],
                    reference=remittance.reference,
                )
            )
    transfers = ledger.transfer_all(session, moves)
    positions: dict[str, int] = defaultdict(int)
    for (remittance, due), transfer in zip(planned, transfers, strict=True):
        positions[remittance.reference] += 1
        session.add(
            RemittanceLine(
                remittance=remittance,
                position=positions[remittance.reference],
                invoice_id=due.invoice.id,
                payer_code=due.payer_code,
                funder_name=due.funder_name[:200],
                cost_centre=due.cost_centre[:40],
                amount_pence=due.amount_pence,
                period_start=due.period_start,
                period_end=due.period_end,
                transfer_id=transfer.id,
            )
        )
    session.flush()
    return run


def _next_reference(session: Session) -> str:
    """PR-00001, PR-00002...: in the order runs were made (the lock makes them one by one)."""
    count = session.scalar(select(func.count()).select_from(PaymentRun)) or 0
    return f"{RUN_PREFIX}-{count + 1:05d}"


def cancel_run(session: Session, run: PaymentRun, *, by: User, reason: str) -> PaymentRun:
    """Undo a run whose payment file has not been sent: reverse each line's transfer with the
    reason, keep the lines (each names its reversal), and mark the run cancelled, so its
    invoices are paid by the next run. Raises NotCancellable, PaymentRunError (no reason).
    Flushes."""
    reason = reason.strip()
    if not reason:
        raise PaymentRunError("Enter why the run is cancelled")
    _lock(session)
    session.refresh(run)
    if run.status is PaymentRunStatus.CANCELLED:
        raise NotCancellable(f"Payment run {run.reference} was already cancelled")
    if run.sent_at is not None:
        raise NotCancellable(
            f"Payment run {run.reference}'s file was sent to the bank: it can no longer be "
            "cancelled"
        )
    lines = session.scalars(
        select(RemittanceLine)
        .join(Remittance)
        .where(Remittance.run_id == run.id)
        .order_by(Remittance.reference, RemittanceLine.position)
    ).all()
    originals = {
        t.id: t
        for t in session.scalars(
            select(Transfer).where(Transfer.id.in_([line.transfer_id for line in lines]))
        )
    }
    why = f"Payment run {run.reference} cancelled: {reason}"[:500]
    for line in lines:
        reversal = ledger.reverse(
            session, originals[line.transfer_id], key=f"payment-cancel:{line.id}", reason=why
        )
        line.reversal_transfer_id = reversal.id
    run.status = PaymentRunStatus.CANCELLED
    run.cancelled_by_id = by.id
    run.cancelled_at = utcnow()
    run.cancel_reason = reason
    session.flush()
    return run


def mark_sent(session: Session, run: PaymentRun, *, by: User) -> PaymentRun:
    """Record that the run's payment file went to the bank: it can no longer be cancelled,
    and each provider's staff are told their remittance advice is ready (no amount in the
    message: the portal page shows it). Raises NotSendable. Flushes."""
    _lock(session)
    session.refresh(run)
    if run.status is PaymentRunStatus.CANCELLED:
        raise NotSendable(f"Payment run {run.reference} was cancelled: there is nothing to send")
    if run.sent_at is not None:
        raise NotSendable(f"Payment run {run.reference}'s file was already marked as sent")
    run.sent_at = utcnow()
    run.sent_by_id = by.id
    for remittance in run.remittances:
        notify(
            session,
            recipients_for_organisation(session, remittance.organisation_id),
            NotificationKind.REMITTANCE_ISSUED,
            title=f"Remittance advice {remittance.reference} issued",
            body="A payment for your settled invoices is on its way to your bank.",
            link=REMITTANCE_LINK.format(reference=remittance.reference),
        )
    session.flush()
    return run


# -- reading runs ---------------------------------------------------------------------------------


def runs_page(session: Session, *, page: int, per_page: int) -> tuple[list[PaymentRun], int]:
    """Runs newest first, one page, and how many runs there are."""
    total = session.scalar(select(func.count()).select_from(PaymentRun)) or 0
    rows = session.scalars(
        select(PaymentRun)
        .order_by(PaymentRun.made_at.desc(), PaymentRun.reference.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(selectinload(PaymentRun.made_by))
    ).all()
    return list(rows), total


def run_by_reference(session: Session, reference: str) -> PaymentRun | None:
    """The run with its remittances, their providers and lines (with invoices and orders)."""
    return session.scalar(
        select(PaymentRun)
        .where(PaymentRun.reference == reference)
        .options(
            selectinload(PaymentRun.made_by),
            selectinload(PaymentRun.cancelled_by),
            selectinload(PaymentRun.sent_by),
            selectinload(PaymentRun.remittances).options(
                selectinload(Remittance.organisation),
                selectinload(Remittance.lines)
                .selectinload(RemittanceLine.invoice)
                .options(
                    selectinload(Invoice.order).selectinload(Order.person),
                    selectinload(Invoice.cycle),
                ),
            ),
        )
    )


def _sent_remittances_of(organisation_id: uuid.UUID) -> Select[Remittance]:
    return (
        select(Remittance)
        .join(PaymentRun)
        .where(
            Remittance.organisation_id == organisation_id,
            PaymentRun.sent_at.is_not(None),
            PaymentRun.status == PaymentRunStatus.MADE,
        )
    )


def remittances_of_organisation(
    session: Session, organisation_id: uuid.UUID, *, page: int, per_page: int
) -> tuple[list[Remittance], int]:
    """The provider's remittances whose runs' files were sent, newest first, one page, and
    how many there are."""
    query = _sent_remittances_of(organisation_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(PaymentRun.sent_at.desc(), Remittance.reference.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(selectinload(Remittance.run))
    ).all()
    return list(rows), total


def remittance_for_organisation(
    session: Session, organisation_id: uuid.UUID, reference: str
) -> Remittance | None:
    """The provider's own sent remittance with this reference (None for another provider's,
    or one whose run was not sent or was cancelled), with its lines, invoices and orders."""
    return session.scalar(
        _sent_remittances_of(organisation_id)
        .where(Remittance.reference == reference)
        .options(
            selectinload(Remittance.run),
            selectinload(Remittance.organisation),
            selectinload(Remittance.lines)
            .selectinload(RemittanceLine.invoice)
            .options(
                selectinload(Invoice.order).selectinload(Order.person),
                selectinload(Invoice.cycle),
            ),
        )
    )
