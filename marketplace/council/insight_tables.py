"""The market insight reports' tables, charts and CSV files (issue 19, items 6 and 10), from
the figures of `marketplace.console.insight` and `insight_market`: each table once, so the page's
table and its CSV hold the same rows (money as pounds on the page, pounds with two decimals in
the CSV, from the same pence). No Flask, no SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from marketplace.charts import Bar, BarChart, DataTable
from marketplace.console.insight import SearchGap, UnmetWords
from marketplace.console.insight_demand import DemandSupply
from marketplace.console.insight_market import (
    CHARTED_UNIT,
    CheckedCount,
    LapsedListing,
    Month,
    PositionRow,
    PriceRange,
)
from marketplace.csv_export import csv_text, pence_cell
from marketplace.formatting import london_time, pounds


@dataclass(frozen=True)
class Money:
    """A cell holding pence: pounds on the page, plain pounds in the CSV."""

    pence: int | None


@dataclass(frozen=True)
class Column:
    heading: str
    value: Callable[[Any], object]
    numeric: bool = True


@dataclass(frozen=True)
class Report:
    """One table of a report: its caption, columns and rows, and the chart drawn from it."""

    caption: str
    columns: Sequence[Column]
    rows: Sequence[Any]
    chart: BarChart | None = None
    empty_text: str = "None in this period."

    def table(self) -> DataTable:
        return DataTable(
            self.caption,
            [column.heading for column in self.columns],
            [[_shown(column.value(row)) for column in self.columns] for row in self.rows],
            frozenset(i for i, column in enumerate(self.columns) if column.numeric),
            self.empty_text,
        )

    def csv(self) -> str:
        return csv_text(
            [column.heading for column in self.columns],
            ([_csv_value(column.value(row)) for column in self.columns] for row in self.rows),
        )


def _shown(value: object) -> str:
    if isinstance(value, Money):
        return "None" if value.pence is None else pounds(value.pence)
    if isinstance(value, datetime):
        return london_time(value)
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    if value is None:
        return "None"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _csv_value(value: object) -> object:
    if isinstance(value, Money):
        return None if value.pence is None else pence_cell(value.pence)
    return value


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _label(column: str) -> Column:
    return Column(column, lambda row: row.label, numeric=False)


# Searches -----------------------------------------------------------------------------------


def search_gaps(rows: list[SearchGap], *, by: str, chart_id: str, period_words: str) -> Report:
    """Searches by "category", "area" or "category and area" (`by`), charted: found nothing
    against nothing available."""
    heading = {"category": "Category", "area": "Area"}.get(by, "Category in area")
    shown = [row for row in rows if row.searches]
    return Report(
        caption=f"Searches by {by}, {period_words}",
        columns=[
            _label(heading),
            Column("Searches", lambda row: row.searches),
            Column("Found nothing", lambda row: row.found_nothing),
            Column("Found nothing available", lambda row: row.nothing_available),
        ],
        rows=shown,
        chart=BarChart(
            chart_id=chart_id,
            title=f"Searches that found nothing, by {by}, {period_words}",
            description=(
                f"For each {by}, the searches that found no service, and those that found "
                "services but none accepting new clients."
            ),
            label_heading=heading,
            series_name="Found nothing",
            against_name="Found nothing available",
            bars=[
                Bar(
                    row.label,
                    row.found_nothing,
                    _plural(row.found_nothing, "search", "searches"),
                    row.nothing_available,
                    _plural(row.nothing_available, "search", "searches"),
                )
                for row in shown
                if row.unmet
            ],
            empty_text="No search found nothing in this period.",
        ),
        empty_text="No search in this period.",
    )


def unmet_words(rows: list[UnmetWords], *, period_words: str) -> Report:
    return Report(
        caption=f"Words of searches that found nothing or nothing available, {period_words}",
        columns=[
            Column("Words searched", lambda row: row.words, numeric=False),
            Column("Searches", lambda row: row.searches),
            Column("Found nothing", lambda row: row.found_nothing),
            Column("Found nothing available", lambda row: row.nothing_available),
            Column("Last searched", lambda row: row.last_searched_at, numeric=False),
        ],
        rows=rows,
    )


# Demand and supply --------------------------------------------------------------------------


def demand_supply(rows: list[DemandSupply], *, by: str, chart_id: str, period_words: str) -> Report:
    """Demand against supply by "category", "area" or "category and area" (`by`). The crossed
    table lists every pair with demand or supply; its chart only those with demand (orders or
    people waiting), so it stays as short as the need is."""
    heading = {"category": "Category", "area": "Area"}.get(by, "Category in area")
    crossed = by not in ("category", "area")
    return Report(
        caption=f"Demand ({period_words}) and supply (now) by {by}",
        columns=[
            _label(heading),
            Column("Orders placed", lambda row: row.orders),
            Column("Orders declined", lambda row: row.declined),
            Column("Hours a week ordered", lambda row: row.hours_per_week),
            Column("People waiting now", lambda row: row.people_waiting),
            Column("Budget shortfalls now", lambda row: row.shortfalls),
            Column("Providers", lambda row: row.providers),
            Column("Services", lambda row: row.services),
            Column("Accepting new clients", lambda row: row.accepting),
            Column("Waiting list", lambda row: row.waiting_list),
            Column("Full", lambda row: row.full),
            Column("Soonest start", lambda row: row.soonest_start, numeric=False),
        ],
        rows=rows,
        chart=BarChart(
            chart_id=chart_id,
            title=f"Orders placed against services accepting new clients, by {by}",
            description=(
                f"For each {by}, the orders placed {period_words} and the public services "
                "accepting new clients now."
            ),
            label_heading=heading,
            series_name="Orders placed",
            against_name="Services accepting new clients",
            bars=[
                Bar(
                    row.label,
                    row.orders,
                    _plural(row.orders, "order", "orders"),
                    row.accepting,
                    _plural(row.accepting, "service", "services"),
                )
                for row in rows
                if (row.orders or row.people_waiting) or (not crossed and row.accepting)
            ],
        ),
    )


# Prices --------------------------------------------------------------------------------------


def price_ranges(rows: list[PriceRange], *, by: str, chart_id: str) -> Report:
    """Prices by "category", "area" or "category and area" (`by`)."""
    heading = {"category": "Category", "area": "Area"}.get(by, "Category in area")
    charted = [row for row in rows if row.unit is CHARTED_UNIT]
    return Report(
        caption=f"Prices of public listings by {by} and unit, now",
        columns=[
            _label(heading),
            Column("Unit", lambda row: row.unit.label, numeric=False),
            Column("Listings", lambda row: row.listings),
            Column("Lowest", lambda row: Money(row.lowest)),
            Column("Lower quartile", lambda row: Money(row.lower_quartile)),
            Column("Median", lambda row: Money(row.median)),
            Column("Upper quartile", lambda row: Money(row.upper_quartile)),
            Column("Highest", lambda row: Money(row.highest)),
        ],
        rows=rows,
        chart=BarChart(
            chart_id=chart_id,
            title=f"Median price {CHARTED_UNIT.label}, by {by}",
            description=(
                f"The middle price {CHARTED_UNIT.label} of the public listings priced "
                f"{CHARTED_UNIT.label} in each {by}; the table gives every unit and the range."
            ),
            label_heading=heading,
            series_name=f"Median {CHARTED_UNIT.label}",
            bars=[
                Bar(
                    row.label,
                    row.median,
                    f"{pounds(row.median)} ({_plural(row.listings, 'listing', 'listings')})",
                )
                for row in charted
            ],
            empty_text=f"No public listing is priced {CHARTED_UNIT.label}.",
        ),
        empty_text="No public listing has a price.",
    )


# Lapsed listings ----------------------------------------------------------------------------


def checked_counts(rows: list[CheckedCount], *, chart_id: str, stale_days: int) -> Report:
    listed = [row for row in rows if row.current or row.lapsed]
    return Report(
        caption="Public listings by when their capacity was last checked",
        empty_text="No public listing.",
        columns=[
            _label("Category"),
            Column(f"Checked in the last {stale_days} days", lambda row: row.current),
            Column(f"Not checked for {stale_days} days", lambda row: row.lapsed),
        ],
        rows=listed,
        chart=BarChart(
            chart_id=chart_id,
            title=f"Listings not checked for {stale_days} days, by category",
            description=(
                "For each category, the public listings whose provider has not confirmed their "
                f"capacity for {stale_days} days, against those checked since."
            ),
            label_heading="Category",
            series_name=f"Not checked for {stale_days} days",
            against_name=f"Checked in the last {stale_days} days",
            bars=[
                Bar(
                    row.label,
                    row.lapsed,
                    _plural(row.lapsed, "listing", "listings"),
                    row.current,
                    _plural(row.current, "listing", "listings"),
                )
                for row in listed
            ],
        ),
    )


def lapsed_listings(rows: list[LapsedListing]) -> Report:
    return Report(
        caption="Listings not checked lately, the longest unchecked first",
        columns=[
            Column("Listing", lambda row: row.name, numeric=False),
            Column("Provider", lambda row: row.organisation, numeric=False),
            Column("Last checked", lambda row: row.last_checked_at, numeric=False),
            Column(
                "Provider reminded",
                lambda row: row.reminded_at or "Not reminded",
                numeric=False,
            ),
        ],
        rows=rows,
    )


# The market position statement ------------------------------------------------------------


def position(rows: list[PositionRow], *, period_words: str) -> Report:
    return Report(
        caption=f"Supply and demand by category (demand {period_words})",
        columns=[
            Column("Category", lambda row: row.category, numeric=False),
            Column("Providers", lambda row: row.providers),
            Column("Services", lambda row: row.services),
            Column("Accepting new clients", lambda row: row.accepting),
            Column("Orders placed", lambda row: row.orders),
            Column("Hours a week ordered", lambda row: row.hours_per_week),
            Column("People waiting now", lambda row: row.people_waiting),
            Column("Searches unmet", lambda row: row.unmet_searches),
            Column(f"Median price {CHARTED_UNIT.label}", lambda row: Money(row.median_hourly)),
            Column(f"Listings priced {CHARTED_UNIT.label}", lambda row: row.hourly_listings),
            Column("Gaps", lambda row: "; ".join(row.gaps) or "None", numeric=False),
        ],
        rows=rows,
        chart=BarChart(
            chart_id="position-categories",
            title="People's unmet searches against services accepting new clients, by category",
            description=(
                f"For each category, the searches {period_words} that found nothing or nothing "
                "available, and the public services accepting new clients now."
            ),
            label_heading="Category",
            series_name="Searches unmet",
            against_name="Services accepting new clients",
            bars=[
                Bar(
                    row.category,
                    row.unmet_searches,
                    _plural(row.unmet_searches, "search", "searches"),
                    row.accepting,
                    _plural(row.accepting, "service", "services"),
                )
                for row in rows
            ],
        ),
    )


def months(rows: list[Month]) -> Report:
    return Report(
        caption="Month by month: searches, unmet searches, orders and new listings",
        columns=[
            _label("Month"),
            Column("Searches", lambda row: row.searches),
            Column("Searches unmet", lambda row: row.unmet_searches),
            Column("Orders placed", lambda row: row.orders),
            Column("Listings added", lambda row: row.new_listings),
        ],
        rows=rows,
        chart=BarChart(
            chart_id="position-trend",
            title="Orders placed and searches unmet, month by month",
            description=(
                "For each of the last 12 months, the orders placed and the searches that found "
                "nothing or nothing available."
            ),
            label_heading="Month",
            series_name="Orders placed",
            against_name="Searches unmet",
            bars=[
                Bar(
                    row.label,
                    row.orders,
                    _plural(row.orders, "order", "orders"),
                    row.unmet_searches,
                    _plural(row.unmet_searches, "search", "searches"),
                )
                for row in rows
            ],
        ),
    )
