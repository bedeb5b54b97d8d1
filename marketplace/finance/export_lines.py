"""The lines of a finance-system export, read from the ledger (issue 19; docs/finance-export.md).

Three kinds of line, each from ledger rows recorded in a range of time:
- commitment: money held for an order's cycle (+), and each hold's end (-): released, spent
  (its actual follows) or voided to be held again (a re-worked cycle's new hold is a new +);
  so the commitment lines ever exported add up to what is held now.
- actual: the spent part of a hold, posted when the cycle's invoice is settled (+), less any
  reversal (-); they add up to what has been spent.
- payment: a remittance line of a payment run (+), less any reversal of it (-).
Each movement is spread over the weeks (Monday to Sunday) of the service period it pays for,
by days, and the movements are summed per line type, week, person, order and payer.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, aliased, selectinload

from marketplace.budgets.models import Funder, FunderPot, FunderPotLine, FundingStream
from marketplace.budgets.rules import TransferCode
from marketplace.finance.cost_centres import cost_centre
from marketplace.finance.models import RemittanceLine
from marketplace.formatting import LONDON
from marketplace.ledger import Transfer, TransferKind
from marketplace.orders.models import Invoice, Order, OrderCycle
from marketplace.types import Session


class LineType(enum.StrEnum):
    """What a line says about the money: held, spent or paid out."""

    COMMITMENT = "commitment"
    ACTUAL = "actual"
    PAYMENT = "payment"


LINE_TYPE_ORDER = {kind: rank for rank, kind in enumerate(LineType)}


@dataclass(frozen=True, order=True)
class Payer:
    """Whose money: `source` (council, nhs, client_contribution, own_funds, reablement; for
    payments also own and card), the funder's name ("" for the person's own money), the pot
    line's name and the cost centre."""

    source: str
    funder: str = ""
    pot_line: str = ""
    cost_centre: str = ""


@dataclass
class ExportLine:
    """One line of the file: a line type, week, person, order and payer, with its amount and
    the ledger transfers (and invoices or remittances) behind it."""

    line_type: LineType
    week_start: date
    person_ref: str
    person_id: uuid.UUID | None
    order_ref: str
    service: str
    provider_id: uuid.UUID | None
    provider: str
    payer: Payer
    amount_pence: int = 0
    transfer_ids: set[uuid.UUID] = field(default_factory=set)
    documents: set[str] = field(default_factory=set)

    @property
    def sort_key(self) -> tuple[object, ...]:
        return (
            self.week_start,
            self.order_ref,
            str(self.person_id or ""),
            LINE_TYPE_ORDER[self.line_type],
            self.payer,
        )


@dataclass(frozen=True)
class _Movement:
    """One ledger row's signed effect on one line type, before it is spread over weeks."""

    line_type: LineType
    amount_pence: int
    transfer_id: uuid.UUID
    starts_on: date
    ends_on: date
    payer: Payer
    order: Order | None
    document: str = ""


def week_start(day: date) -> date:
    """The Monday of the week (Monday to Sunday) that `day` falls in."""
    return day - timedelta(days=day.weekday())


def split_by_week(amount_pence: int, starts_on: date, ends_on: date) -> list[tuple[date, int]]:
    """`amount_pence` spread over the weeks from `starts_on` to `ends_on` (both included) by
    the days of the period in each week, as (Monday, pence) in date order. The parts add up to
    the amount exactly: each week gets its whole pence, and the pence left over go one each
    to the weeks with the largest remainders (the earlier on a tie). A negative amount is
    split as its positive and negated, so a release undoes its hold week by week."""
    if ends_on < starts_on:
        ends_on = starts_on
    sign = -1 if amount_pence < 0 else 1
    amount = abs(amount_pence)
    days = (ends_on - starts_on).days + 1
    weeks: list[tuple[date, int]] = []
    day = starts_on
    while day <= ends_on:
        monday = week_start(day)
        last = min(ends_on, monday + timedelta(days=6))
        weeks.append((monday, (last - day).days + 1))
        day = last + timedelta(days=1)
    shares = [amount * in_week // days for _, in_week in weeks]
    left = amount - sum(shares)
    by_remainder = sorted(range(len(weeks)), key=lambda i: (-(amount * weeks[i][1] % days), i))
    for index in by_remainder[:left]:
        shares[index] += 1
    return [(monday, sign * share) for (monday, _), share in zip(weeks, shares, strict=True)]


def export_lines(session: Session, since: datetime | None, until: datetime) -> list[ExportLine]:
    """The lines for the ledger rows recorded after `since` (None: from the start) up to and
    including `until`, in file order: week, order, person, line type, payer."""
    movements = _commitment_movements(session, since, until) + _payment_movements(
        session, since, until
    )
    lines: dict[tuple[object, ...], ExportLine] = {}
    for movement in movements:
        order = movement.order
        person = order.person if order is not None else None
        for monday, pence in split_by_week(
            movement.amount_pence, movement.starts_on, movement.ends_on
        ):
            key = (movement.line_type, monday, order.id if order else None, movement.payer)
            line = lines.get(key)
            if line is None:
                line = lines[key] = ExportLine(
                    line_type=movement.line_type,
                    week_start=monday,
                    person_ref=(person.case_reference or "") if person else "",
                    person_id=person.id if person else None,
                    order_ref=order.reference if order else "",
                    service=order.service_name if order else "",
                    provider_id=order.organisation_id if order else None,
                    provider=order.organisation.name if order else "",
                    payer=movement.payer,
                )
            line.amount_pence += pence
            line.transfer_ids.add(movement.transfer_id)
            if movement.document:
                line.documents.add(movement.document)
    return sorted(lines.values(), key=lambda line: line.sort_key)


def _in_range(
    column: InstrumentedAttribute[datetime], since: datetime | None, until: datetime
) -> ColumnElement[bool]:
    if since is None:
        return column <= until
    return (column > since) & (column <= until)


def _commitment_movements(
    session: Session, since: datetime | None, until: datetime
) -> list[_Movement]:
    """Holds, their ends and their spending, and reversals of spending, in the range."""
    held = aliased(Transfer)
    holds = session.scalars(
        select(Transfer).where(
            Transfer.kind == TransferKind.PENDING,
            Transfer.code == TransferCode.COMMITMENT,
            _in_range(Transfer.created_at, since, until),
        )
    ).all()
    ends = session.execute(
        select(Transfer, held)
        .join(held, Transfer.pending_id == held.id)
        .where(
            Transfer.kind.in_([TransferKind.POST, TransferKind.VOID]),
            held.code == TransferCode.COMMITMENT,
            _in_range(Transfer.created_at, since, until),
        )
    ).all()
    spent = aliased(Transfer)
    reversals = session.execute(
        select(Transfer, spent, held)
        .join(spent, Transfer.reverses_id == spent.id)
        .join(held, spent.pending_id == held.id)
        .where(
            spent.kind == TransferKind.POST,
            held.code == TransferCode.COMMITMENT,
            _in_range(Transfer.created_at, since, until),
        )
    ).all()
    all_holds = list(holds) + [h for _, h in ends] + [h for _, _, h in reversals]
    where = _Whereabouts.of(session, all_holds)
    movements = [
        where.movement(LineType.COMMITMENT, hold, hold.amount_pence, hold.id) for hold in holds
    ]
    for end, hold in ends:
        movements.append(where.movement(LineType.COMMITMENT, hold, -hold.amount_pence, end.id))
        if end.kind is TransferKind.POST:
            movements.append(where.movement(LineType.ACTUAL, hold, end.amount_pence, end.id))
    for reversal, _, hold in reversals:
        movements.append(where.movement(LineType.ACTUAL, hold, -reversal.amount_pence, reversal.id))
    return movements


@dataclass
class _Whereabouts:
    """What a hold is for and whose money it is: its cycle (by the hold's reference, the
    cycle's commitment key), order, invoice, and the stream or pot it was held on."""

    cycles: dict[str, OrderCycle]
    invoices: dict[uuid.UUID, str]
    payers: dict[uuid.UUID, Payer]

    @classmethod
    def of(cls, session: Session, holds: Sequence[Transfer]) -> _Whereabouts:
        keys = {hold.reference for hold in holds if hold.reference}
        accounts = {hold.debit_account_id for hold in holds}
        cycles: dict[str, OrderCycle] = {}
        invoices: dict[uuid.UUID, str] = {}
        if keys:
            for cycle in session.scalars(
                select(OrderCycle)
                .where(OrderCycle.commitment_key.in_(keys))
                .options(
                    selectinload(OrderCycle.order).selectinload(Order.person),
                    selectinload(OrderCycle.order).selectinload(Order.organisation),
                )
            ):
                cycles[cycle.commitment_key] = cycle
        if cycles:
            rows = session.execute(
                select(Invoice.cycle_id, Invoice.reference).where(
                    Invoice.cycle_id.in_([cycle.id for cycle in cycles.values()])
                )
            )
            invoices = {cycle_id: reference for cycle_id, reference in rows}
        return cls(cycles, invoices, _payers_of_accounts(session, accounts))

    def movement(
        self, line_type: LineType, hold: Transfer, amount_pence: int, transfer_id: uuid.UUID
    ) -> _Movement:
        cycle = self.cycles.get(hold.reference or "")
        if cycle is None:  # not a cycle's hold: the day it was made stands for its period
            day = hold.created_at.astimezone(LONDON).date()
            starts_on, ends_on, order, document = day, day, None, ""
        else:
            starts_on, ends_on, order = cycle.starts_on, cycle.ends_on, cycle.order
            document = self.invoices.get(cycle.id, "") if line_type is LineType.ACTUAL else ""
        payer = self.payers.get(hold.debit_account_id, Payer(source="unknown"))
        return _Movement(
            line_type, amount_pence, transfer_id, starts_on, ends_on, payer, order, document
        )


def _payers_of_accounts(
    session: Session, account_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Payer]:
    """Whose money each held-on account is: a funding stream's available account, or a
    funder's pot (a reablement cycle is held straight on the pot)."""
    ids = set(account_ids)
    if not ids:
        return {}
    payers: dict[uuid.UUID, Payer] = {}
    streams = session.scalars(
        select(FundingStream)
        .where(FundingStream.account_id.in_(ids))
        .options(
            selectinload(FundingStream.pot).selectinload(FunderPot.funder),
            selectinload(FundingStream.pot_line),
        )
    )
    for stream in streams:
        funder = stream.pot.funder if stream.pot is not None else None
        line = stream.pot_line
        payers[stream.account_id] = Payer(
            source=stream.kind.value,
            funder=funder.name if funder else "",
            pot_line=line.name if line else "",
            cost_centre=cost_centre(funder, line),
        )
    pots = session.scalars(
        select(FunderPot)
        .where(FunderPot.account_id.in_(ids))
        .options(selectinload(FunderPot.funder))
    )
    for pot in pots:
        payers[pot.account_id] = Payer(
            source=pot.purpose.value, funder=pot.funder.name, cost_centre=cost_centre(pot.funder)
        )
    return payers


def _payment_movements(
    session: Session, since: datetime | None, until: datetime
) -> list[_Movement]:
    """Remittance lines whose ledger transfer was recorded in the range (+), and reversals of
    remittance lines' transfers recorded in it (-)."""
    paid = aliased(Transfer)
    made = session.execute(
        select(RemittanceLine, Transfer.id, Transfer.amount_pence)
        .join(Transfer, RemittanceLine.transfer_id == Transfer.id)
        .where(_in_range(Transfer.created_at, since, until))
        .options(selectinload(RemittanceLine.remittance))
    ).all()
    undone = session.execute(
        select(RemittanceLine, Transfer.id, Transfer.amount_pence)
        .join(paid, RemittanceLine.transfer_id == paid.id)
        .join(Transfer, Transfer.reverses_id == paid.id)
        .where(_in_range(Transfer.created_at, since, until))
        .options(selectinload(RemittanceLine.remittance))
    ).all()
    lines = [line for line, _, _ in made] + [line for line, _, _ in undone]
    invoices = _invoices_with_orders(session, {line.invoice_id for line in lines})
    pots = _pot_sources(session, lines)
    movements = []
    for sign, rows in ((1, made), (-1, undone)):
        for line, transfer_id, amount in rows:
            invoice = invoices[line.invoice_id]
            movements.append(
                _Movement(
                    LineType.PAYMENT,
                    sign * amount,
                    transfer_id,
                    line.period_start,
                    line.period_end,
                    _payment_payer(line, pots),
                    invoice.order,
                    line.remittance.reference,
                )
            )
    return movements


def _invoices_with_orders(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, Invoice]:
    if not ids:
        return {}
    return {
        invoice.id: invoice
        for invoice in session.scalars(
            select(Invoice)
            .where(Invoice.id.in_(ids))
            .options(
                selectinload(Invoice.order).selectinload(Order.person),
                selectinload(Invoice.order).selectinload(Order.organisation),
            )
        )
    }


def _pot_sources(session: Session, lines: Sequence[RemittanceLine]) -> dict[str, tuple[str, str]]:
    """For each payer code "pot:<pot id>" or "pot:<pot id>:<line id>" (a pot line's money, as
    payment runs name it): the funder's kind (council, nhs) and the line's name ("" for none)."""
    pots: dict[str, uuid.UUID] = {}
    pot_lines: dict[str, uuid.UUID] = {}
    for line in lines:
        parts = line.payer_code.split(":")
        if parts[0] != "pot" or len(parts) not in (2, 3):
            continue
        try:
            pots[line.payer_code] = uuid.UUID(parts[1])
            if len(parts) == 3:
                pot_lines[line.payer_code] = uuid.UUID(parts[2])
        except ValueError:
            continue
    if not pots:
        return {}
    kinds = {
        pot_id: kind
        for pot_id, kind in session.execute(
            select(FunderPot.id, Funder.kind).join(Funder).where(FunderPot.id.in_(pots.values()))
        )
    }
    names: dict[uuid.UUID, str] = {}
    if pot_lines:
        names = {
            line_id: name
            for line_id, name in session.execute(
                select(FunderPotLine.id, FunderPotLine.name).where(
                    FunderPotLine.id.in_(pot_lines.values())
                )
            )
        }
    sources = {}
    for code, pot_id in pots.items():
        if pot_id in kinds:
            line_id = pot_lines.get(code)
            sources[code] = (kinds[pot_id].value, names.get(line_id, "") if line_id else "")
    return sources


def _payment_payer(line: RemittanceLine, pots: dict[str, tuple[str, str]]) -> Payer:
    """A remittance line's payer in the layout's words: a pot's funder kind and line for
    "pot:...", else the code's first word ("reablement", "own", "card")."""
    source, pot_line = pots.get(line.payer_code, (line.payer_code.partition(":")[0], ""))
    return Payer(
        source=source, funder=line.funder_name, pot_line=pot_line, cost_centre=line.cost_centre
    )
