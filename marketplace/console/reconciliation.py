"""Reconciliation from funder to person to penny (issue 19, item 2).

For a period the officer chooses (a financial year, or from and to dates), every funding
stream of every budget whose period overlaps it, from each funder's pot (and the pot's named
lines) down to each person, stream, locality and provider: allocated, committed, spent,
returned, carried forward, in Individual Service Funds, available and still to come.

Every figure is a sum of ledger transfers, classified by the budgets' own rules
(`marketplace.budgets.figures.movements_of`, the same classification `figures_of` and
`flask ledger verify` use): this module reads the transfers once, makes one `Line` per
movement (the transfer, the figure it counts in, its signed amount, and who and where it
belongs to), and every table is those lines grouped; every drill-down is the same lines
filtered. So a figure and the list of transfers behind it cannot disagree.

Figures are the ledger as it stands now, for the streams of the budgets in the period: a
budget from 1 April to 31 March is wholly in its financial year, one that spans two years is
in both (a budget is never split by date: its money is one allocation).

A funder's reablement pot (issue 18) pays its episodes' cycles straight from the pot, with no
person's budget in between: it is reported at the funder's level (given, held, paid), each
figure drilling down to its transfers, and not among people, whose figures are their budgets'.

Rules-side: no Flask. Reads only; never writes.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select, union
from sqlalchemy.orm import aliased, selectinload

from marketplace.budgets.figures import Movement, movements_of, pot_movements
from marketplace.budgets.models import (
    BudgetStatus,
    Funder,
    FunderPot,
    FunderPotLine,
    FundingStream,
    IndividualServiceFund,
    PersonalBudget,
    PotPurpose,
    StreamKind,
)
from marketplace.budgets.rules import financial_year_of
from marketplace.ledger import LedgerAccount, Transfer, TransferKind
from marketplace.orders.models import CycleState, Delivery, Invoice, Order, OrderCycle
from marketplace.people.models import Person
from marketplace.types import Session
from providers.lead_providers import outward_code
from providers.models import Locality, Organisation

# The figures of a stream, in the order the tables show them, with the officers' words.
FIGURES: tuple[tuple[str, str], ...] = (
    ("allocated_pence", "Allocated"),
    ("committed_pence", "Committed"),
    ("spent_pence", "Spent"),
    ("returned_pence", "Returned"),
    ("carried_forward_pence", "Carried forward"),
    ("isf_pence", "In ISFs"),
    ("available_pence", "Available"),
    ("scheduled_pence", "To come"),
)
FIGURE_LABELS = dict(FIGURES)
# A pot's own figures (the funder's money not yet given to any stream).
POT_FIGURES: tuple[tuple[str, str], ...] = (
    ("given_pence", "Given by the funder"),
    ("unallocated_pence", "Not allocated"),
)
REABLEMENT_FIGURES: tuple[tuple[str, str], ...] = (
    ("given_pence", "Given by the funder"),
    ("committed_pence", "Held for care"),
    ("spent_pence", "Paid to providers"),
    ("available_pence", "Left"),
)
ALL_FIGURE_LABELS = {**dict(REABLEMENT_FIGURES), **dict(POT_FIGURES), **FIGURE_LABELS}
PROVIDER_FIGURES: tuple[tuple[str, str], ...] = (
    ("committed_pence", "Committed"),
    ("spent_pence", "Spent"),
    ("isf_pence", "In ISFs"),
)

OWN_MONEY = "own"  # the `funder` of a stream the person pays (no funder's pot)
OWN_MONEY_NAME = "The person's own money"
NO_LINE = "none"  # the `line` of a funder's stream that names no line of its pot
NO_LINE_NAME = "No line named"
NO_AREA = "No area known"
NO_PROVIDER = "none"

# The council's tolerance for spending against the point in a period, in percent of the
# budget's whole amount, unless it sets another (config RECONCILIATION_TOLERANCE_PERCENT).
DEFAULT_TOLERANCE_PERCENT = 10
MAX_TOLERANCE_PERCENT = 100
FIRST_YEAR, LAST_YEAR = 2000, 2100


class ReconciliationError(ValueError):
    """A period or scope that cannot be reconciled (dates the wrong way round, a year out of
    range, a filter that names nothing)."""


@dataclass(frozen=True)
class Period:
    """The days the officer chose, both included."""

    since: date
    until: date

    @classmethod
    def financial_year(cls, year: int) -> Period:
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ReconciliationError(f"Enter a year from {FIRST_YEAR} to {LAST_YEAR}")
        return cls(date(year, 4, 1), date(year + 1, 3, 31))

    @classmethod
    def current(cls, today: date) -> Period:
        return cls.financial_year(financial_year_of(today))

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise ReconciliationError("The end date must be the same as or after the start date")

    @property
    def years(self) -> list[int]:
        """The financial years the period touches."""
        return list(range(financial_year_of(self.since), financial_year_of(self.until) + 1))

    @property
    def args(self) -> dict[str, Any]:
        """The period as a page's query arguments."""
        return {"since": self.since.isoformat(), "until": self.until.isoformat()}


@dataclass(frozen=True)
class StreamInfo:
    """Who and where a stream's money belongs to: its funder, pot and line, its person and
    their area, its budget."""

    stream_id: uuid.UUID
    kind: StreamKind
    amount_pence: int
    budget_id: uuid.UUID
    starts_on: date
    ends_on: date
    budget_open: bool
    person_id: uuid.UUID
    person_name: str
    case_reference: str | None
    area: str
    funder: str  # a funder's id, or OWN_MONEY
    funder_name: str
    pot_id: uuid.UUID | None
    pot_label: str
    line: str  # a line's id, NO_LINE, or "" for the person's own money
    line_name: str


@dataclass(frozen=True)
class Line:
    """One movement of one stream, with the stream it belongs to and the provider it went to
    (or was held for), if any."""

    movement: Movement
    stream: StreamInfo
    provider: str  # an organisation's id, or NO_PROVIDER

    @property
    def figure(self) -> str | None:
        return self.movement.figure


@dataclass(frozen=True)
class PotLine:
    """A movement on a pot's own account; for a reablement pot's holds, the person and the
    provider of the cycle held (its commitment key is the transfer's reference)."""

    movement: Movement
    pot: FunderPot
    person: tuple[uuid.UUID, str] | None = None
    provider: tuple[uuid.UUID, str] | None = None


@dataclass(frozen=True)
class Scope:
    """Which of the lines a table or a drill-down covers: every field None means all."""

    funder: str | None = None
    pot: str | None = None
    line: str | None = None
    person: str | None = None
    stream: str | None = None
    area: str | None = None
    provider: str | None = None
    reference: str | None = None

    FIELDS = ("funder", "pot", "line", "person", "stream", "area", "provider", "reference")

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Scope:
        """The scope a page's query arguments name. Raises ReconciliationError for an id that
        is not one (a link cut short)."""
        found: dict[str, str | None] = {}
        for name in cls.FIELDS:
            value = (args.get(name) or "").strip() or None
            if value is not None and name in ("pot", "person", "stream"):
                _uuid(value, name)
            if value is not None and name in ("funder", "line", "provider"):
                special = {"funder": OWN_MONEY, "line": NO_LINE, "provider": NO_PROVIDER}[name]
                if value != special:
                    _uuid(value, name)
            if value is not None and len(value) > 200:
                raise ReconciliationError(f"The {name} is not one we know")
            found[name] = value
        return cls(**found)

    @property
    def args(self) -> dict[str, Any]:
        """The scope as a page's query arguments."""
        return {name: getattr(self, name) for name in self.FIELDS if getattr(self, name)}

    def holds(self, line: Line) -> bool:
        stream = line.stream
        return (
            (self.funder is None or stream.funder == self.funder)
            and (self.pot is None or str(stream.pot_id) == self.pot)
            and (self.line is None or stream.line == self.line)
            and (self.person is None or str(stream.person_id) == self.person)
            and (self.stream is None or str(stream.stream_id) == self.stream)
            and (self.area is None or stream.area == self.area)
            and (self.provider is None or line.provider == self.provider)
            and (self.reference is None or line.movement.transfer.reference == self.reference)
        )

    @property
    def empty(self) -> bool:
        return not self.args


def _uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise ReconciliationError(f"The {name} is not one we know") from error


@dataclass(frozen=True)
class Row:
    """One row of a summary table: what it is, its figures in pence by figure name, and the
    scope its figures' drill-downs cover."""

    key: str
    label: str
    totals: dict[str, int]
    scope: Scope
    extra: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, figure: str) -> int:
        return self.totals.get(figure, 0)


def sum_lines(lines: Iterable[Line]) -> dict[str, int]:
    """Each figure's sum over the lines (available as the sum of what each adds to it)."""
    totals = dict.fromkeys(FIGURE_LABELS, 0)
    for line in lines:
        movement = line.movement
        if movement.figure is not None:
            totals[movement.figure] = totals.get(movement.figure, 0) + movement.amount_pence
        totals["available_pence"] += movement.available_pence
    return totals


def sum_pot_lines(lines: Iterable[PotLine]) -> dict[str, int]:
    totals = {"given_pence": 0, "unallocated_pence": 0, "committed_pence": 0, "spent_pence": 0}
    available = 0
    for line in lines:
        movement = line.movement
        if movement.figure is not None:
            totals[movement.figure] = totals.get(movement.figure, 0) + movement.amount_pence
        available += movement.available_pence
    totals["available_pence"] = available
    return totals


@dataclass(frozen=True)
class Reconciliation:
    """Every movement of every stream in the period, and of the pots they come from."""

    period: Period
    lines: list[Line]
    pots: list[FunderPot]
    pot_lines: list[PotLine]
    names: dict[str, str]  # funder and provider ids -> names
    pot_plan: dict[uuid.UUID, list[FunderPotLine]]
    streams: dict[uuid.UUID, StreamInfo]

    def within(self, scope: Scope) -> list[Line]:
        return [line for line in self.lines if scope.holds(line)] if not scope.empty else self.lines

    def totals(self, scope: Scope = Scope()) -> dict[str, int]:
        return sum_lines(self.within(scope))

    def grouped(
        self,
        scope: Scope,
        key: Callable[[Line], tuple[str, str]],
        narrow: Callable[[Scope, str], Scope],
    ) -> list[Row]:
        """The lines in `scope` grouped by `key` (a group's key and its label), each group a
        row whose drill-down scope is `narrow(scope, key)`; rows by label."""
        groups: dict[str, list[Line]] = defaultdict(list)
        labels: dict[str, str] = {}
        for line in self.within(scope):
            group, label = key(line)
            groups[group].append(line)
            labels[group] = label
        return sorted(
            (
                Row(group, labels[group], sum_lines(members), narrow(scope, group))
                for group, members in groups.items()
            ),
            key=lambda row: row.label.lower(),
        )

    # The summary tables --------------------------------------------------------------

    def funders(self) -> list[Row]:
        """One row a funder (the council first), then the person's own money; each with its
        pots' own figures (given, not allocated) beside its streams'."""
        rows = self.grouped(
            Scope(),
            lambda line: (line.stream.funder, line.stream.funder_name),
            lambda scope, key: replace(scope, funder=key),
        )
        by_funder = {row.key: row for row in rows}
        for pot in self.pots:
            if pot.purpose is not PotPurpose.BUDGETS:
                continue
            key = str(pot.funder_id)
            if key not in by_funder:
                by_funder[key] = Row(
                    key, pot.funder.name, dict.fromkeys(FIGURE_LABELS, 0), Scope(funder=key)
                )
        for key, row in by_funder.items():
            own = self.pot_totals(funder=key)
            row.totals.update({"given_pence": own["given_pence"]})
            row.totals.update({"unallocated_pence": own["unallocated_pence"]})
        return sorted(by_funder.values(), key=_funder_order(self))

    def pot_totals(
        self, *, funder: str | None = None, pot: uuid.UUID | None = None
    ) -> dict[str, int]:
        return sum_pot_lines(self.pot_lines_of(funder=funder, pot=pot))

    def pot_lines_of(
        self,
        *,
        funder: str | None = None,
        pot: uuid.UUID | None = None,
        purpose: PotPurpose = PotPurpose.BUDGETS,
    ) -> list[PotLine]:
        return [
            line
            for line in self.pot_lines
            if line.pot.purpose is purpose
            and (funder is None or str(line.pot.funder_id) == funder)
            and (pot is None or line.pot.id == pot)
        ]

    def reablement(self) -> list[tuple[FunderPot, dict[str, int]]]:
        """Each reablement pot in the period's years, with its given, held, paid and left."""
        return [
            (
                pot,
                sum_pot_lines(self.pot_lines_of(pot=pot.id, purpose=PotPurpose.REABLEMENT)),
            )
            for pot in self.pots
            if pot.purpose is PotPurpose.REABLEMENT
        ]

    def reablement_people(self, pot: uuid.UUID) -> list[Row]:
        """A reablement pot's care by person and provider: what is held for them and what was
        paid, each drilling down to the pot's transfers for that person."""
        groups: dict[tuple[str, str], list[PotLine]] = defaultdict(list)
        names: dict[tuple[str, str], str] = {}
        for line in self.pot_lines:
            if line.pot.id != pot or line.person is None or line.provider is None:
                continue
            key = (str(line.person[0]), str(line.provider[0]))
            groups[key].append(line)
            names[key] = f"{line.person[1]}, {line.provider[1]}"
        rows = []
        for key, members in groups.items():
            totals = sum_pot_lines(members)
            rows.append(
                Row(
                    key[0],
                    names[key],
                    totals,
                    Scope(pot=str(pot), person=key[0], provider=key[1]),
                    extra={"person": members[0].person, "provider": members[0].provider},
                )
            )
        return sorted(rows, key=lambda row: row.label.lower())

    def funder_pots(self, funder: str) -> list[FunderPot]:
        return [
            pot
            for pot in self.pots
            if str(pot.funder_id) == funder and pot.purpose is PotPurpose.BUDGETS
        ]

    def pot_line_rows(self, pot: FunderPot) -> list[Row]:
        """The pot's named lines, each with its plan and what its streams were given (their
        whole amounts: allocated and to come), then the streams that name no line."""
        scope = Scope(funder=str(pot.funder_id), pot=str(pot.id))
        found = {
            row.key: row
            for row in self.grouped(
                scope,
                lambda line: (line.stream.line, line.stream.line_name),
                lambda scope, key: replace(scope, line=key),
            )
        }
        rows = []
        for planned in self.pot_plan.get(pot.id, []):
            key = str(planned.id)
            row = found.pop(key, None) or Row(
                key, planned.name, dict.fromkeys(FIGURE_LABELS, 0), replace(scope, line=key)
            )
            rows.append(_with_plan(row, planned))
        rows.extend(_with_plan(row, None) for row in found.values())
        return rows

    def people(self, scope: Scope) -> list[Row]:
        return self.grouped(
            scope,
            lambda line: (str(line.stream.person_id), line.stream.person_name),
            lambda scope, key: replace(scope, person=key),
        )

    def localities(self, scope: Scope = Scope()) -> list[Row]:
        rows = self.grouped(
            scope,
            lambda line: (line.stream.area, line.stream.area),
            lambda scope, key: replace(scope, area=key),
        )
        # "No area known" last: it is not a place.
        return sorted(rows, key=lambda row: row.key == NO_AREA)

    def providers(self, scope: Scope = Scope()) -> list[Row]:
        """Money committed to or spent with each provider (or moved into the ISFs it holds);
        lines with no provider (allocations, returns) are left out."""
        with_provider = [line for line in self.within(scope) if line.provider != NO_PROVIDER]
        groups: dict[str, list[Line]] = defaultdict(list)
        for line in with_provider:
            groups[line.provider].append(line)
        return sorted(
            (
                Row(
                    key,
                    self.names.get(key, "Unknown provider"),
                    sum_lines(members),
                    replace(scope, provider=key),
                )
                for key, members in groups.items()
            ),
            key=lambda row: row.label.lower(),
        )

    def streams_of(self, person: uuid.UUID) -> list[Row]:
        """The person's streams in the period, by budget start then draw (kind) order."""
        rows = self.grouped(
            Scope(person=str(person)),
            lambda line: (str(line.stream.stream_id), _stream_label(line.stream)),
            lambda scope, key: replace(scope, stream=key),
        )
        for row in rows:
            row.extra["stream"] = self.streams[uuid.UUID(row.key)]
        return sorted(
            rows, key=lambda row: (row.extra["stream"].starts_on, row.extra["stream"].kind.value)
        )

    def movements(self, scope: Scope, figure: str) -> list[Line]:
        """The lines behind one figure of a scope: their amounts (or, for `available`, what
        each adds to it) sum to the figure. Newest first."""
        if figure == "available_pence":
            found = [line for line in self.within(scope) if line.movement.available_pence]
        else:
            found = [line for line in self.within(scope) if line.figure == figure]
        return sorted(found, key=lambda line: line.movement.transfer.created_at, reverse=True)

    def pot_movements(
        self,
        figure: str,
        *,
        pot: uuid.UUID | None = None,
        funder: str | None = None,
        reference: str | None = None,
        person: str | None = None,
        provider: str | None = None,
    ) -> list[PotLine]:
        """The movements on a pot's own account (or on a funder's budgets pots') behind one
        of its figures, those of one commitment if `reference` is given; newest first."""
        found = [
            line
            for line in self.pot_lines
            if (pot is None or line.pot.id == pot)
            and (
                funder is None
                or (str(line.pot.funder_id) == funder and line.pot.purpose is PotPurpose.BUDGETS)
            )
            and (reference is None or line.movement.transfer.reference == reference)
            and (person is None or (line.person is not None and str(line.person[0]) == person))
            and (
                provider is None
                or (line.provider is not None and str(line.provider[0]) == provider)
            )
            and (
                line.movement.available_pence
                if figure == "available_pence"
                else line.movement.figure == figure
            )
        ]
        return sorted(found, key=lambda line: line.movement.transfer.created_at, reverse=True)


def _funder_order(found: Reconciliation) -> Callable[[Row], tuple[int, str]]:
    kinds = {str(pot.funder_id): pot.funder.kind.value for pot in found.pots}

    def order(row: Row) -> tuple[int, str]:
        if row.key == OWN_MONEY:
            return (2, row.label.lower())
        return (0 if kinds.get(row.key) == "council" else 1, row.label.lower())

    return order


def _with_plan(row: Row, planned: FunderPotLine | None) -> Row:
    whole = row["allocated_pence"] + row["scheduled_pence"]
    extra = {
        "cost_centre": planned.cost_centre if planned else "",
        "planned_pence": planned.planned_pence if planned else None,
        "whole_pence": whole,
        "difference_pence": (whole - planned.planned_pence) if planned else None,
    }
    return replace(row, extra={**row.extra, **extra})


def _stream_label(stream: StreamInfo) -> str:
    period = f"{stream.starts_on:%-d %b %Y} to {stream.ends_on:%-d %b %Y}"
    source = stream.funder_name if stream.funder != OWN_MONEY else stream.kind.label
    line = f", {stream.line_name}" if stream.line and stream.line != NO_LINE else ""
    return f"{source}{line} ({period})"


# Reading the ledger ---------------------------------------------------------------------


def reconcile(session: Session, period: Period) -> Reconciliation:
    """Every movement of the streams of the budgets overlapping `period`, and of the pots of
    the period's financial years and of those streams: a fixed number of statements however
    many people, streams or transfers there are."""
    stream_rows = session.execute(
        select(
            FundingStream,
            PersonalBudget.starts_on,
            PersonalBudget.ends_on,
            PersonalBudget.status,
            Person.id,
            Person.full_name,
            Person.case_reference,
            Person.postcode,
        )
        .join(PersonalBudget, FundingStream.budget_id == PersonalBudget.id)
        .join(Person, PersonalBudget.person_id == Person.id)
        .where(PersonalBudget.starts_on <= period.until, PersonalBudget.ends_on >= period.since)
    ).all()
    streams = [row[0] for row in stream_rows]
    pot_ids = {stream.pot_id for stream in streams if stream.pot_id is not None}
    pots = list(
        session.scalars(
            select(FunderPot)
            .where(or_(FunderPot.financial_year.in_(period.years), FunderPot.id.in_(pot_ids)))
            .options(selectinload(FunderPot.funder), selectinload(FunderPot.lines))
        )
    )
    pots_by_id = {pot.id: pot for pot in pots}
    plan_lines = {line.id: line for pot in pots for line in pot.lines}
    areas = _areas(session)

    infos: dict[uuid.UUID, StreamInfo] = {}
    for stream, starts_on, ends_on, status, person_id, name, case_ref, postcode in stream_rows:
        pot = pots_by_id.get(stream.pot_id) if stream.pot_id else None
        planned = plan_lines.get(stream.pot_line_id) if stream.pot_line_id else None
        infos[stream.id] = StreamInfo(
            stream_id=stream.id,
            kind=stream.kind,
            amount_pence=stream.amount_pence,
            budget_id=stream.budget_id,
            starts_on=starts_on,
            ends_on=ends_on,
            budget_open=status is BudgetStatus.OPEN,
            person_id=person_id,
            person_name=name,
            case_reference=case_ref,
            area=areas.get(outward_code(postcode), NO_AREA),
            funder=str(pot.funder_id) if pot else OWN_MONEY,
            funder_name=pot.funder.name if pot else OWN_MONEY_NAME,
            pot_id=pot.id if pot else None,
            pot_label=pot.label if pot else "",
            line=str(planned.id) if planned else (NO_LINE if pot else ""),
            line_name=planned.name if planned else (NO_LINE_NAME if pot else ""),
        )

    touching = _transfers_touching(
        session,
        union(
            select(FundingStream.account_id).where(FundingStream.id.in_(_stream_ids(period))),
            select(FundingStream.unreleased_account_id).where(
                FundingStream.id.in_(_stream_ids(period))
            ),
            select(FunderPot.account_id).where(FunderPot.id.in_([pot.id for pot in pots])),
        ),
    )
    payees, funds = _providers_of_accounts(session)
    lines: list[Line] = []
    for stream in streams:
        own = touching[stream.account_id] + touching[stream.unreleased_account_id]
        unique = list({transfer.id: transfer for transfer in own}.values())
        for movement in movements_of(stream, unique):
            transfer = movement.transfer
            other = (
                transfer.credit_account_id
                if transfer.debit_account_id == stream.account_id
                else transfer.debit_account_id
            )
            provider = payees.get(other) or funds.get(other) or NO_PROVIDER
            lines.append(Line(movement, infos[stream.id], provider))
    cycles = _reablement_cycles(session, [p.id for p in pots if p.purpose is PotPurpose.REABLEMENT])
    pot_lines = []
    for pot in pots:
        for movement in pot_movements(pot, touching[pot.account_id]):
            whose = cycles.get(movement.transfer.reference or "")
            pot_lines.append(PotLine(movement, pot, *(whose if whose else (None, None))))
    providers = {line.provider for line in lines if line.provider != NO_PROVIDER}
    names = {str(pot.funder_id): pot.funder.name for pot in pots}
    names[OWN_MONEY] = OWN_MONEY_NAME
    if providers:
        names.update(
            (str(organisation_id), name)
            for organisation_id, name in session.execute(
                select(Organisation.id, Organisation.name).where(
                    Organisation.id.in_([uuid.UUID(p) for p in providers])
                )
            )
        )
    return Reconciliation(
        period=period,
        lines=lines,
        pots=sorted(pots, key=lambda pot: (pot.funder.kind.value, pot.funder.name, pot.label)),
        pot_lines=pot_lines,
        names=names,
        pot_plan={pot.id: list(pot.lines) for pot in pots},
        streams=infos,
    )


def _reablement_cycles(
    session: Session, pot_ids: list[uuid.UUID]
) -> dict[str, tuple[tuple[uuid.UUID, str], tuple[uuid.UUID, str]]]:
    """Each reablement cycle's commitment key, to its person and provider (id, name), in one
    statement."""
    if not pot_ids:
        return {}
    rows = session.execute(
        select(
            OrderCycle.commitment_key, Person.id, Person.full_name, Organisation.id,
            Organisation.name,
        )
        .join(Order, OrderCycle.order_id == Order.id)
        .join(Person, Order.person_id == Person.id)
        .join(Organisation, Order.organisation_id == Organisation.id)
        .where(OrderCycle.pot_id.in_(pot_ids))
    )  # fmt: skip
    return {key: ((pid, name), (oid, oname)) for key, pid, name, oid, oname in rows}


def _stream_ids(period: Period) -> Any:
    return (
        select(FundingStream.id)
        .join(PersonalBudget, FundingStream.budget_id == PersonalBudget.id)
        .where(PersonalBudget.starts_on <= period.until, PersonalBudget.ends_on >= period.since)
    )


def _transfers_touching(session: Session, accounts: Any) -> dict[uuid.UUID, list[Transfer]]:
    """The transfers on the accounts the subquery names, by account (a transfer between two
    of them is under both), what each reverses read with them."""
    ids = accounts.subquery()
    found = session.scalars(
        select(Transfer)
        .where(
            or_(
                Transfer.debit_account_id.in_(select(ids.c[0])),
                Transfer.credit_account_id.in_(select(ids.c[0])),
            )
        )
        .options(selectinload(Transfer.reverses))
        .order_by(Transfer.created_at, Transfer.id)
    )
    touching: dict[uuid.UUID, list[Transfer]] = defaultdict(list)
    for transfer in found:
        touching[transfer.debit_account_id].append(transfer)
        touching[transfer.credit_account_id].append(transfer)
    return touching


def _providers_of_accounts(
    session: Session,
) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    """Each provider's payee account and each Individual Service Fund's account, to the
    organisation's id (as text)."""
    prefix = "payee:organisation:"
    payees = {
        account_id: code.removeprefix(prefix)
        for account_id, code in session.execute(
            select(LedgerAccount.id, LedgerAccount.code).where(
                LedgerAccount.code.startswith(prefix)
            )
        )
    }
    funds = {
        account_id: str(organisation_id)
        for account_id, organisation_id in session.execute(
            select(IndividualServiceFund.account_id, IndividualServiceFund.organisation_id)
        )
    }
    return payees, funds


def _areas(session: Session) -> dict[str, str]:
    """Each postcode district (its outward code) to the name of the county's district it is in:
    a person's locality is their home postcode's district."""
    found: dict[str, str] = {}
    for name, outwards in session.execute(
        select(Locality.name, Locality.postcode_districts).where(Locality.kind == "district")
    ):
        for outward in outwards or []:
            found.setdefault(outward.upper(), name)
    return found


# Spending against the point in the period ----------------------------------------------


@dataclass(frozen=True)
class Pace:
    """A person's open budget against the point reached in its period."""

    person_id: uuid.UUID
    person_name: str
    budget_id: uuid.UUID
    starts_on: date
    ends_on: date
    on: date
    whole_pence: int  # the budget's whole amount for its period (allocated and to come)
    used_pence: int  # spent, committed and moved into ISFs
    expected_pence: int  # whole x the share of the period gone by `on`
    tolerance_pence: int
    streams: tuple[uuid.UUID, ...]

    @property
    def difference_pence(self) -> int:
        return self.used_pence - self.expected_pence

    @property
    def over(self) -> bool:
        return self.difference_pence > self.tolerance_pence

    @property
    def under(self) -> bool:
        return -self.difference_pence > self.tolerance_pence

    @property
    def verdict(self) -> str:
        return "Over" if self.over else "Under" if self.under else "On track"


def pace(found: Reconciliation, *, today: date, tolerance_percent: int) -> list[Pace]:
    """Every open budget in the period that a funder pays into, against the point reached in
    its period: the point is today, or the period's end if that is earlier (never before the
    budget starts nor after it ends). Expected use is the budget's whole amount times the
    share of its days gone by then (the point's day counted); use is what is spent,
    committed and moved into ISFs. Over or under when they differ by more than the tolerance,
    a percentage of the whole amount. Over first (most over first), then under."""
    if not 0 <= tolerance_percent <= MAX_TOLERANCE_PERCENT:
        raise ReconciliationError(f"Enter a tolerance from 0 to {MAX_TOLERANCE_PERCENT}%")
    by_budget: dict[uuid.UUID, list[Line]] = defaultdict(list)
    for line in found.lines:
        if line.stream.budget_open:
            by_budget[line.stream.budget_id].append(line)
    streams_of: dict[uuid.UUID, list[StreamInfo]] = defaultdict(list)
    for info in found.streams.values():
        streams_of[info.budget_id].append(info)
    paces = []
    for budget_id, lines in by_budget.items():
        infos = streams_of[budget_id]
        first = infos[0]
        if all(info.funder == OWN_MONEY for info in infos) or today < first.starts_on:
            continue
        totals = sum_lines(lines)
        on = max(first.starts_on, min(today, found.period.until, first.ends_on))
        days = (first.ends_on - first.starts_on).days + 1
        gone = (on - first.starts_on).days + 1
        whole = totals["allocated_pence"] + totals["scheduled_pence"]
        paces.append(
            Pace(
                person_id=first.person_id,
                person_name=first.person_name,
                budget_id=budget_id,
                starts_on=first.starts_on,
                ends_on=first.ends_on,
                on=on,
                whole_pence=whole,
                used_pence=totals["spent_pence"] + totals["committed_pence"] + totals["isf_pence"],
                expected_pence=whole * gone // days,
                tolerance_pence=whole * tolerance_percent // 100,
                streams=tuple(sorted(info.stream_id for info in infos)),
            )
        )
    flagged = [p for p in paces if p.over or p.under]
    return sorted(flagged, key=lambda p: (not p.over, -abs(p.difference_pence), p.person_name))


# Commitments with no delivery ------------------------------------------------------------


@dataclass(frozen=True)
class Overdue:
    """A cycle whose money is still held, with nothing delivered or invoiced, longer after its
    end than its provider's invoicing terms."""

    order_id: uuid.UUID
    order_reference: str
    person_id: uuid.UUID
    person_name: str
    provider_id: uuid.UUID
    provider_name: str
    cycle_number: int
    starts_on: date
    ends_on: date
    due_by: date  # the cycle's end plus the provider's invoice cycle
    held_pence: int
    commitment_key: str
    pot_id: uuid.UUID | None  # a reablement cycle's pot (held from it, not from a budget)

    def days_overdue(self, today: date) -> int:
        return (today - self.due_by).days


def overdue_commitments(session: Session, period: Period, *, today: date) -> list[Overdue]:
    """Cycles that ended in the period (or before its end) whose money is still held, with no
    delivery recorded and no invoice, where the cycle's end plus its provider's invoice cycle
    (7 or 28 days) is before `today`; their held amounts from the ledger (the holds not yet
    posted or voided). Oldest first. Three statements."""
    resolution = aliased(Transfer)
    rows = session.execute(
        select(
            OrderCycle.id,
            OrderCycle.number,
            OrderCycle.starts_on,
            OrderCycle.ends_on,
            OrderCycle.commitment_key,
            Order.id,
            Order.reference,
            Order.invoice_cycle,
            Person.id,
            Person.full_name,
            Organisation.id,
            Organisation.name,
            OrderCycle.pot_id,
        )
        .join(Order, OrderCycle.order_id == Order.id)
        .join(Person, Order.person_id == Person.id)
        .join(Organisation, Order.organisation_id == Organisation.id)
        .where(
            OrderCycle.state == CycleState.HELD,
            OrderCycle.ends_on >= period.since,
            OrderCycle.ends_on <= period.until,
            OrderCycle.ends_on < today - timedelta(days=7),
            ~exists().where(Delivery.cycle_id == OrderCycle.id),
            ~exists().where(Invoice.cycle_id == OrderCycle.id),
        )
        .order_by(OrderCycle.ends_on, Order.reference, OrderCycle.number)
    ).all()
    late = [row for row in rows if row[3] + timedelta(days=row[7].days) < today]
    if not late:
        return []
    held = dict(
        session.execute(
            select(Transfer.reference, func.sum(Transfer.amount_pence))
            .outerjoin(resolution, resolution.pending_id == Transfer.id)
            .where(
                Transfer.reference.in_([row[4] for row in late]),
                Transfer.kind == TransferKind.PENDING,
                resolution.id.is_(None),
            )
            .group_by(Transfer.reference)
        ).all()
    )
    return [
        Overdue(
            order_id=row[5],
            order_reference=row[6],
            person_id=row[8],
            person_name=row[9],
            provider_id=row[10],
            provider_name=row[11],
            cycle_number=row[1],
            starts_on=row[2],
            ends_on=row[3],
            due_by=row[3] + timedelta(days=row[7].days),
            held_pence=int(held.get(row[4]) or 0),
            commitment_key=row[4],
            pot_id=row[12],
        )
        for row in late
        if held.get(row[4])
    ]


def account_codes(session: Session, transfers: Iterable[Transfer]) -> dict[uuid.UUID, str]:
    """The codes of the accounts these transfers move money between, in one statement."""
    ids = {t.debit_account_id for t in transfers} | {t.credit_account_id for t in transfers}
    if not ids:
        return {}
    return dict(
        session.execute(
            select(LedgerAccount.id, LedgerAccount.code).where(LedgerAccount.id.in_(ids))
        ).all()
    )


def funder_exists(found: Reconciliation, funder: str) -> bool:
    return (
        funder == OWN_MONEY
        or any(str(pot.funder_id) == funder for pot in found.pots)
        or any(line.stream.funder == funder for line in found.lines)
    )


def pot_of(found: Reconciliation, pot_id: uuid.UUID) -> FunderPot | None:
    return next((pot for pot in found.pots if pot.id == pot_id), None)


def funder_named(session: Session, funder_id: uuid.UUID) -> Funder | None:
    return session.get(Funder, funder_id)


def person_named(session: Session, person_id: uuid.UUID) -> Person | None:
    return session.get(Person, person_id)


__all__ = [
    "FIGURES",
    "Line",
    "Overdue",
    "Pace",
    "Period",
    "Reconciliation",
    "ReconciliationError",
    "Row",
    "Scope",
    "overdue_commitments",
    "pace",
    "reconcile",
]
