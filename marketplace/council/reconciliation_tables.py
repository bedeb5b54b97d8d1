"""RECON (issue 19): the reconciliation's tables, each built once and shown two ways: as a GOV.UK
table whose every figure links to the transfers behind it, and as its CSV (the same rows, money
in pounds with two decimals). `url` is how the page makes its links (the views pass url_for),
so this module has no Flask of its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from marketplace.charts import Bar, BarChart
from marketplace.console import reconciliation as recon
from marketplace.console.reconciliation import Reconciliation, Row, Scope
from marketplace.csv_export import pence_cell
from marketplace.formatting import london_time, pounds

Url = Callable[..., str]


@dataclass(frozen=True)
class Cell:
    text: str
    csv: object
    href: str | None = None
    numeric: bool = False
    # Words only screen readers hear after a link's text (what the figure is, for whom).
    hidden: str = ""


@dataclass(frozen=True)
class Table:
    table_id: str
    caption: str
    head: Sequence[str]
    rows: list[list[Cell]]
    csv_href: str
    numeric: frozenset[int] = frozenset()
    total: list[Cell] | None = None
    empty_text: str = "None in this period."
    chart: BarChart | None = None

    @property
    def csv_rows(self) -> list[list[object]]:
        rows = [[cell.csv for cell in row] for row in self.rows]
        if self.total is not None:
            rows.append([cell.csv for cell in self.total])
        return rows


def _lower(label: str) -> str:
    """A column's heading inside a sentence ("In ISFs" -> "in ISFs")."""
    return label[:1].lower() + label[1:]


def money(pence: int, href: str | None = None, hidden: str = "") -> Cell:
    return Cell(pounds(pence), pence_cell(pence), href, True, hidden)


def text(words: str, href: str | None = None) -> Cell:
    return Cell(words, words, href)


@dataclass
class Builder:
    """What every table of one page shares: the period, the reconciliation, how to link."""

    found: Reconciliation
    url: Url
    figures: Sequence[tuple[str, str]] = field(default=recon.FIGURES)

    @property
    def period_args(self) -> dict[str, str]:
        return self.found.period.args

    def drill(self, scope: Scope, figure: str) -> str:
        return self.url(
            "council.reconciliation_transfers", figure=figure, **self.period_args, **scope.args
        )

    def figure_cells(
        self, row: Row, figures: Sequence[tuple[str, str]] | None = None
    ) -> list[Cell]:
        return [
            money(row[name], self.drill(row.scope, name), f"{_lower(label)}, {row.label}")
            for name, label in (figures or self.figures)
        ]

    def total_cells(
        self, rows: Sequence[Row], scope: Scope, figures: Sequence[tuple[str, str]]
    ) -> list[Cell]:
        return [
            money(
                sum(row[name] for row in rows),
                self.drill(scope, name),
                f"{_lower(label)}, all",
            )
            for name, label in figures
        ]


def spent_chart(chart_id: str, title: str, rows: Sequence[Row], what: str) -> BarChart:
    """Spent (and committed) against allocated, a bar pair for each row."""
    return BarChart(
        chart_id=chart_id,
        title=title,
        description=f"Money spent or committed against money allocated, by {what}.",
        label_heading=what.capitalize(),
        series_name="Spent or committed",
        against_name="Allocated",
        bars=[
            Bar(
                row.label,
                max(row["spent_pence"] + row["committed_pence"], 0),
                pounds(row["spent_pence"] + row["committed_pence"]),
                max(row["allocated_pence"], 0),
                pounds(row["allocated_pence"]),
            )
            for row in rows
        ],
    )


def funders_table(b: Builder) -> Table:
    rows = b.found.funders()
    figures = (*recon.POT_FIGURES, *recon.FIGURES)
    body = [
        [
            text(
                row.label,
                b.url("council.reconciliation_funder", funder=row.key, **b.period_args),
            ),
            *(
                (
                    money(row[name])
                    if row.key == recon.OWN_MONEY
                    else money(
                        row[name],
                        b.url(
                            "council.reconciliation_pot_transfers",
                            funder=row.key,
                            figure=name,
                            **b.period_args,
                        ),
                        f"{_lower(label)}, {row.label}",
                    )
                )
                for name, label in recon.POT_FIGURES
            ),
            *b.figure_cells(row),
        ]
        for row in rows
    ]
    total = [
        text("Total"),
        *(money(sum(row[name] for row in rows)) for name, _ in recon.POT_FIGURES),
        *b.total_cells(rows, Scope(), recon.FIGURES),
    ]
    return Table(
        "funders",
        "Each funder's money: its pots, and the budgets' streams allocated from them",
        ["Funder", *(label for _, label in figures)],
        body,
        b.url("council.reconciliation_csv", table="funders", **b.period_args),
        frozenset(range(1, len(figures) + 1)),
        total,
        chart=spent_chart("recon-funders", "Spent against allocated, by funder", rows, "funder"),
    )


def reablement_table(b: Builder) -> Table:
    body = []
    for pot, figures in b.found.reablement():
        body.append(
            [
                text(pot.label),
                *(
                    money(
                        figures[name],
                        b.url(
                            "council.reconciliation_pot_transfers",
                            pot=str(pot.id),
                            figure=name,
                            **b.period_args,
                        ),
                        f"{_lower(label)}, {pot.label}",
                    )
                    for name, label in recon.REABLEMENT_FIGURES
                ),
            ]
        )
    return Table(
        "reablement",
        "Reablement pots: paid straight to providers, never through a person's budget",
        ["Pot", *(label for _, label in recon.REABLEMENT_FIGURES)],
        body,
        b.url("council.reconciliation_csv", table="reablement", **b.period_args),
        frozenset(range(1, len(recon.REABLEMENT_FIGURES) + 1)),
        empty_text="No reablement pot in this period.",
    )


def reablement_people_table(b: Builder, pot_id: str) -> Table:
    """A reablement pot's care by person and provider, each figure to its transfers."""
    pot = next(pot for pot in b.found.pots if str(pot.id) == pot_id)
    rows = b.found.reablement_people(pot.id)
    figures = (("committed_pence", "Held for care"), ("spent_pence", "Paid to providers"))

    def link(row: Row, name: str) -> str:
        return b.url(
            "council.reconciliation_pot_transfers",
            figure=name,
            **b.period_args,
            **row.scope.args,
        )

    body = [
        [
            text(row.label),
            *(money(row[name], link(row, name), f"{_lower(label)}, {row.label}")
              for name, label in figures),
        ]
        for row in rows
    ]  # fmt: skip
    return Table(
        f"reablement-{pot.id}",
        f"{pot.label}: care by person and provider",
        ["Person and provider", *(label for _, label in figures)],
        body,
        b.url(
            "council.reconciliation_funder_csv",
            funder=str(pot.funder_id),
            pot=str(pot.id),
            **b.period_args,
        ),
        frozenset({1, 2}),
        [text("Total"), *(money(sum(row[name] for row in rows)) for name, _ in figures)],
        empty_text="No reablement care was held from this pot.",
    )


LINE_HEAD = ("Line", "Cost centre", "Planned", "Allocated in all", "Difference from plan")


def pot_lines_table(b: Builder, pot_id: str) -> Table:
    pot = next(pot for pot in b.found.pots if str(pot.id) == pot_id)
    rows = b.found.pot_line_rows(pot)
    body = []
    for row in rows:
        planned, difference = row.extra["planned_pence"], row.extra["difference_pence"]
        body.append(
            [
                text(
                    row.label,
                    b.url("council.reconciliation_people", **b.period_args, **row.scope.args),
                ),
                text(row.extra["cost_centre"]),
                money(planned) if planned is not None else text(""),
                money(row.extra["whole_pence"]),
                money(difference) if difference is not None else text(""),
                *b.figure_cells(row),
            ]
        )
    scope = Scope(funder=str(pot.funder_id), pot=str(pot.id))
    total = [
        text("Total"),
        text(""),
        money(sum(line.planned_pence for line in b.found.pot_plan.get(pot.id, []))),
        money(sum(row.extra["whole_pence"] for row in rows)),
        text(""),
        *b.total_cells(rows, scope, recon.FIGURES),
    ]
    return Table(
        f"pot-{pot.id}",
        f"{pot.label}: its lines, planned against allocated",
        [*LINE_HEAD, *(label for _, label in recon.FIGURES)],
        body,
        b.url(
            "council.reconciliation_funder_csv",
            funder=str(pot.funder_id),
            pot=str(pot.id),
            **b.period_args,
        ),
        frozenset({2, 3, 4, *range(5, 5 + len(recon.FIGURES))}),
        total,
        empty_text="No stream was allocated from this pot in this period.",
        chart=BarChart(
            chart_id=f"recon-lines-{str(pot.id)[:8]}",
            title=f"{pot.label}: allocated against planned, by line",
            description="The whole amount allocated to each line's streams against its plan.",
            label_heading="Line",
            series_name="Allocated in all",
            against_name="Planned",
            bars=[
                Bar(
                    row.label,
                    max(row.extra["whole_pence"], 0),
                    pounds(row.extra["whole_pence"]),
                    row.extra["planned_pence"] or 0,
                    pounds(row.extra["planned_pence"] or 0),
                )
                for row in rows
            ],
        ),
    )


def people_table(b: Builder, rows: Sequence[Row], all_rows: Sequence[Row], scope: Scope) -> Table:
    body = [
        [
            text(
                row.label,
                b.url("council.reconciliation_person", who=row.key, **b.period_args),
            ),
            *b.figure_cells(row),
        ]
        for row in rows
    ]
    total = [text("Total, all pages"), *b.total_cells(all_rows, scope, recon.FIGURES)]
    return Table(
        "people",
        "People and their budgets' figures",
        ["Person", *(label for _, label in recon.FIGURES)],
        body,
        b.url("council.reconciliation_people_csv", **b.period_args, **scope.args),
        frozenset(range(1, len(recon.FIGURES) + 1)),
        total,
        empty_text="Nobody has a budget in this period here.",
    )


def streams_table(b: Builder, person_id: str) -> Table:
    rows = b.found.streams_of(uuid.UUID(person_id))
    body = []
    for row in rows:
        stream = row.extra["stream"]
        body.append(
            [
                text(row.label),
                text(stream.area),
                money(stream.amount_pence),
                *b.figure_cells(row),
            ]
        )
    scope = Scope(person=person_id)
    total = [
        text("Total"),
        text(""),
        money(sum(row.extra["stream"].amount_pence for row in rows)),
        *b.total_cells(rows, scope, recon.FIGURES),
    ]
    return Table(
        "streams",
        "Their funding streams in the period",
        ["Stream", "Area", "Whole amount", *(label for _, label in recon.FIGURES)],
        body,
        b.url("council.reconciliation_person_csv", who=person_id, **b.period_args),
        frozenset({2, *range(3, 3 + len(recon.FIGURES))}),
        total,
        empty_text="They have no budget in this period.",
    )


def localities_table(b: Builder) -> Table:
    rows = b.found.localities()
    body = [
        [
            text(
                row.label, b.url("council.reconciliation_people", **b.period_args, **row.scope.args)
            ),
            *b.figure_cells(row),
        ]
        for row in rows
    ]
    return Table(
        "localities",
        "Each area's people: the district of their home postcode",
        ["Area", *(label for _, label in recon.FIGURES)],
        body,
        b.url("council.reconciliation_localities_csv", **b.period_args),
        frozenset(range(1, len(recon.FIGURES) + 1)),
        [text("Total"), *b.total_cells(rows, Scope(), recon.FIGURES)],
        chart=spent_chart("recon-areas", "Spent against allocated, by area", rows, "area"),
    )


def providers_table(b: Builder) -> Table:
    rows = b.found.providers()
    body = [
        [
            text(
                row.label, b.url("council.reconciliation_people", **b.period_args, **row.scope.args)
            ),
            *b.figure_cells(row, recon.PROVIDER_FIGURES),
        ]
        for row in rows
    ]
    return Table(
        "providers",
        "Each provider: money committed to it, spent with it, and held in its ISFs",
        ["Provider", *(label for _, label in recon.PROVIDER_FIGURES)],
        body,
        b.url("council.reconciliation_providers_csv", **b.period_args),
        frozenset(range(1, len(recon.PROVIDER_FIGURES) + 1)),
        # Not a drill-down: money with no provider (allocations, returns) is not in this table.
        [text("Total"), *(money(sum(row[n] for row in rows)) for n, _ in recon.PROVIDER_FIGURES)],
        chart=BarChart(
            chart_id="recon-providers",
            title="Spent with each provider",
            description="Money from people's budgets spent with each provider.",
            label_heading="Provider",
            series_name="Spent",
            bars=[
                Bar(row.label, max(row["spent_pence"], 0), pounds(row["spent_pence"]))
                for row in rows
            ],
        ),
    )


TRANSFER_HEAD = (
    "Date",
    "Person",
    "Stream",
    "Key",
    "Description",
    "From account",
    "To account",
    "Kind",
    "Amount",
)


def transfers_table(
    b: Builder,
    lines: Sequence[recon.Line],
    figure: str,
    codes: Mapping[uuid.UUID, str],
    csv_href: str,
    total_pence: int,
) -> Table:
    body = []
    for line in lines:
        transfer = line.movement.transfer
        amount = (
            line.movement.available_pence
            if figure == "available_pence"
            else line.movement.amount_pence
        )
        body.append(
            [
                Cell(london_time(transfer.created_at), transfer.created_at),
                text(
                    line.stream.person_name,
                    b.url(
                        "council.reconciliation_person",
                        who=str(line.stream.person_id),
                        **b.period_args,
                    ),
                ),
                text(recon_stream_label(line.stream)),
                text(transfer.idempotency_key),
                text(transfer.description or transfer.code),
                text(codes.get(transfer.debit_account_id, "")),
                text(codes.get(transfer.credit_account_id, "")),
                text(f"{transfer.kind.value} ({transfer.code})"),
                money(amount),
            ]
        )
    return Table(
        "transfers",
        f"The ledger transfers behind {recon.ALL_FIGURE_LABELS[figure].lower()}",
        list(TRANSFER_HEAD),
        body,
        csv_href,
        frozenset({8}),
        [text("Total"), *(text("") for _ in range(7)), money(total_pence)],
        empty_text="No transfer makes up this figure.",
    )


def pot_transfers_table(
    lines: Sequence[recon.PotLine],
    figure: str,
    codes: Mapping[uuid.UUID, str],
    csv_href: str,
    total_pence: int,
) -> Table:
    body = []
    for line in lines:
        transfer = line.movement.transfer
        amount = (
            line.movement.available_pence
            if figure == "available_pence"
            else line.movement.amount_pence
        )
        body.append(
            [
                Cell(london_time(transfer.created_at), transfer.created_at),
                text(line.pot.label),
                text(""),
                text(transfer.idempotency_key),
                text(transfer.description or transfer.code),
                text(codes.get(transfer.debit_account_id, "")),
                text(codes.get(transfer.credit_account_id, "")),
                text(f"{transfer.kind.value} ({transfer.code})"),
                money(amount),
            ]
        )
    head = list(TRANSFER_HEAD)
    head[1], head[2] = "Pot", "Stream"
    return Table(
        "transfers",
        f"The ledger transfers behind {recon.ALL_FIGURE_LABELS[figure].lower()}",
        head,
        body,
        csv_href,
        frozenset({8}),
        [text("Total"), *(text("") for _ in range(7)), money(total_pence)],
        empty_text="No transfer makes up this figure.",
    )


def recon_stream_label(stream: recon.StreamInfo) -> str:
    source = stream.funder_name if stream.funder != recon.OWN_MONEY else stream.kind.label
    line = f", {stream.line_name}" if stream.line and stream.line != recon.NO_LINE else ""
    return f"{source}{line}"


def pace_table(b: Builder, paces: Sequence[recon.Pace], csv_href: str) -> Table:
    body = [
        [
            text(
                p.person_name,
                b.url("council.reconciliation_person", who=str(p.person_id), **b.period_args),
            ),
            Cell(
                f"{p.starts_on:%-d %b %Y} to {p.ends_on:%-d %b %Y}",
                f"{p.starts_on.isoformat()} to {p.ends_on.isoformat()}",
            ),
            Cell(f"{p.on:%-d %b %Y}", p.on),
            money(p.whole_pence),
            money(p.expected_pence),
            money(p.used_pence),
            money(p.difference_pence),
            text(p.verdict),
        ]
        for p in paces
    ]
    return Table(
        "pace",
        "People over or under spending against the point in their period",
        [
            "Person",
            "Budget period",
            "Point reached",
            "Whole amount",
            "Expected by then",
            "Spent, committed or in ISFs",
            "Difference",
            "Verdict",
        ],
        body,
        csv_href,
        frozenset({3, 4, 5, 6}),
        empty_text="Nobody is over or under by more than the tolerance.",
    )


def overdue_table(
    b: Builder, overdue: Sequence[recon.Overdue], today: date, csv_href: str
) -> Table:
    body = [
        [
            text(o.order_reference, b.url("council.order", order_id=str(o.order_id))),
            text(o.person_name),
            text(o.provider_name),
            Cell(
                f"{o.cycle_number}: {o.starts_on:%-d %b} to {o.ends_on:%-d %b %Y}",
                f"{o.cycle_number}: {o.starts_on.isoformat()} to {o.ends_on.isoformat()}",
            ),
            Cell(f"{o.due_by:%-d %b %Y}", o.due_by),
            Cell(str(o.days_overdue(today)), o.days_overdue(today), numeric=True),
            money(
                o.held_pence,
                b.url(
                    "council.reconciliation_pot_transfers",
                    pot=str(o.pot_id),
                    reference=o.commitment_key,
                    figure="committed_pence",
                    **b.period_args,
                )
                if o.pot_id
                else b.drill(Scope(reference=o.commitment_key), "committed_pence"),
                f"held, {o.order_reference} cycle {o.cycle_number}",
            ),
        ]
        for o in overdue
    ]
    return Table(
        "overdue",
        "Commitments with nothing delivered or invoiced past the provider's terms",
        ["Order", "Person", "Provider", "Cycle", "Invoice due by", "Days overdue", "Held"],
        body,
        csv_href,
        frozenset({5, 6}),
        empty_text="No commitment is waiting past its provider's terms.",
    )
