"""The figures the seeds measure (issue 19, item 9), from events the marketplace records, for a
period chosen by the officer. Each figure says in plain words what it counts, and comes with
the rows behind it (a table, a chart and a CSV on /council/figures).

- Reablement: of the episodes that ended in the period, the share with no ongoing care needed
  (the reablement report's own rule: `marketplace.orders.reablement.reablement_report`).
- Personal budgets for eligible people: of the people whose first support plan was approved in
  the period (approval is the record we keep of someone assessed as eligible), how many have a
  personal budget, and how long from the plan's approval to their first budget.
- From a person's record to a decision: of the people whose record was made in the period, how
  long to their first approved plan and to their first budget (for someone who came through
  the front door, the front door's own figures count from their referral).
- The front door's figures (resolution at first contact; days from first contact to a
  decision; people leaving hospital who got care within 24 hours) are defined here over
  `FrontDoorContact` events and computed from them (`front_door_figures`); the front door's
  referrals supply the events (`marketplace.referrals.figures` appends its source to
  `FRONT_DOOR_SOURCES`). With no source, each says it is not recorded.

Days are counted between London calendar days: a plan approved the day the record was made
took 0 days.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from marketplace.budgets.models import PersonalBudget
from marketplace.charts import Bar, BarChart, DataTable
from marketplace.formatting import LONDON
from marketplace.orders.reablement import TARGET_SHARE, reablement_report
from marketplace.people.models import Person, SupportPlan
from marketplace.types import Session

# How long things took, in days, grouped as the charts and tables show them.
BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("The same day", 0, 0),
    ("1 to 7 days", 1, 7),
    ("8 to 28 days", 8, 28),
    ("29 to 91 days", 29, 91),
    ("More than 91 days", 92, 10**6),
)
NOT_YET = "Not yet"
BEFORE = "Budget before the plan"


@dataclass(frozen=True)
class Period:
    since: date
    until: date

    @property
    def starts_at(self) -> datetime:
        """The first moment of `since` in London, in UTC."""
        return datetime.combine(self.since, time(), LONDON).astimezone(UTC)

    @property
    def ends_before(self) -> datetime:
        """The first moment after `until` in London, in UTC."""
        return datetime.combine(self.until + timedelta(days=1), time(), LONDON).astimezone(UTC)

    def holds(self, day: date) -> bool:
        return self.since <= day <= self.until


def london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def bucket_of(days: int) -> str:
    return next(name for name, low, high in BUCKETS if low <= days <= high)


@dataclass(frozen=True)
class Share:
    """`part` of `whole`, as a figure: "3 of 4 (75%)"."""

    part: int
    whole: int

    @property
    def percent(self) -> int | None:
        return round(self.part * 100 / self.whole) if self.whole else None

    @property
    def shown(self) -> str:
        if not self.whole:
            return "None in this period"
        return f"{self.part} of {self.whole} ({self.percent}%)"


@dataclass(frozen=True)
class Waits:
    """How many days each of a group took (None: not yet), and the middle of those that did."""

    days: tuple[int | None, ...]

    @property
    def done(self) -> list[int]:
        return sorted(d for d in self.days if d is not None and d >= 0)

    @property
    def median(self) -> int | None:
        """The middle value (the lower of the two middle ones for an even count)."""
        return statistics.median_low(self.done) if self.done else None

    def counts(self, before_label: str | None = None) -> dict[str, int]:
        """How many in each bucket, then how many not yet (and, when asked, how many came
        before: a negative wait)."""
        found = {name: 0 for name, _, _ in BUCKETS}
        if before_label:
            found[before_label] = 0
        found[NOT_YET] = 0
        for days in self.days:
            if days is None:
                found[NOT_YET] += 1
            elif days < 0:
                found[before_label or bucket_of(0)] += 1
            else:
                found[bucket_of(days)] += 1
        return found


# Reablement -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReablementFigure:
    share: Share
    target_percent: int
    by_month: list[tuple[date, int, int]]  # month, ended, no ongoing need
    still_running: int


def reablement_figure(session: Session, period: Period) -> ReablementFigure:
    """The share of reablement episodes ending in the period with no ongoing care needed, by
    the reablement report's rule (its episodes and outcomes)."""
    report = reablement_report(session, period.since, period.until)
    return ReablementFigure(
        Share(report.total.no_ongoing_need, report.total.ended),
        round(TARGET_SHARE * 100),
        [(month, t.ended, t.no_ongoing_need) for month, t in report.by_month.items()],
        report.still_running,
    )


# Personal budgets for eligible people ---------------------------------------------------------


@dataclass(frozen=True)
class BudgetsFigure:
    share: Share  # of the people approved in the period, how many have a budget
    waits: Waits  # days from first approval to first budget (negative: budget first)


def _first_approvals(session: Session) -> dict[uuid.UUID, datetime]:
    """When each person's first support plan was approved (the people with none left out)."""
    return {
        person_id: approved_at
        for person_id, approved_at in session.execute(
            select(SupportPlan.person_id, func.min(SupportPlan.approved_at))
            .where(SupportPlan.approved_at.is_not(None))
            .group_by(SupportPlan.person_id)
        )
        if approved_at is not None
    }


def _first_budgets(session: Session, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    if not person_ids:
        return {}
    return {
        person_id: created_at
        for person_id, created_at in session.execute(
            select(PersonalBudget.person_id, func.min(PersonalBudget.created_at))
            .where(PersonalBudget.person_id.in_(list(person_ids)))
            .group_by(PersonalBudget.person_id)
        )
    }


def budgets_figure(session: Session, period: Period) -> BudgetsFigure:
    """Of the people whose first support plan was approved in the period, how many have a
    personal budget (made at any time), and the days from that approval to their first
    budget."""
    approvals = {
        person_id: at
        for person_id, at in _first_approvals(session).items()
        if period.holds(london_day(at))
    }
    budgets = _first_budgets(session, list(approvals))
    days = tuple(
        (london_day(budgets[person_id]) - london_day(at)).days if person_id in budgets else None
        for person_id, at in sorted(approvals.items(), key=lambda item: item[1])
    )
    return BudgetsFigure(Share(len(budgets), len(approvals)), Waits(days))


# From a person's record to a decision ---------------------------------------------------------


@dataclass(frozen=True)
class RecordFigure:
    people: int  # records made in the period
    to_plan: Waits  # days from the record to the first approved plan
    to_budget: Waits  # days from the record to the first budget


def record_figure(session: Session, period: Period) -> RecordFigure:
    """Of the people whose record was made in the period, the days to their first approved
    support plan and to their first personal budget (None: not yet)."""
    people = session.execute(
        select(Person.id, Person.created_at)
        .where(Person.created_at >= period.starts_at, Person.created_at < period.ends_before)
        .order_by(Person.created_at, Person.id)
    ).all()
    ids = [person_id for person_id, _ in people]
    approvals = _first_approvals(session)
    budgets = _first_budgets(session, ids)

    def wait(found: dict[uuid.UUID, datetime], person_id: uuid.UUID, made: datetime) -> int | None:
        at = found.get(person_id)
        return max(0, (london_day(at) - london_day(made)).days) if at is not None else None

    return RecordFigure(
        len(people),
        Waits(tuple(wait(approvals, person_id, made) for person_id, made in people)),
        Waits(tuple(wait(budgets, person_id, made) for person_id, made in people)),
    )


# The front door (issue 20) --------------------------------------------------------------------


@dataclass(frozen=True)
class FrontDoorContact:
    """One person's first contact with the council's front door, and what came of it: the
    events issue 20 records. Times are UTC."""

    first_contact_at: datetime
    # Resolved there and then (advice, information, signposting), needing nothing more.
    resolved_at_first_contact: bool
    # When the council decided what the person gets (eligibility, a plan, a service), if it has.
    decided_at: datetime | None = None
    # Set for someone leaving hospital: when they left, and when care first reached them.
    left_hospital_at: datetime | None = None
    care_started_at: datetime | None = None


# Issue 20 adds a function giving the contacts first made in a period; none until then.
FRONT_DOOR_SOURCES: list[Callable[[Session, Period], list[FrontDoorContact]]] = []


@dataclass(frozen=True)
class FrontDoorFigure:
    key: str
    title: str
    definition: str
    value: str | None  # None: not recorded yet
    why_not: str = ""
    rows: list[tuple[str, int]] = field(default_factory=list)


# Why a front door figure shows no value (to the officer: issue 20 is our word, not theirs).
NOT_RECORDED = (
    "The marketplace does not yet record first contacts with the council's front door "
    "(referrals, calls, hospital discharges), so this cannot be counted. It will be counted "
    "from the day they are recorded"
)


def front_door_figures(
    session: Session,
    period: Period,
    contacts: Sequence[FrontDoorContact] | None = None,
) -> list[FrontDoorFigure]:
    """The front door's three figures over the contacts first made in the period (those of
    `FRONT_DOOR_SOURCES`, or `contacts` when given); each "not recorded yet" while there is no
    source of them."""
    if contacts is None and FRONT_DOOR_SOURCES:
        contacts = [c for source in FRONT_DOOR_SOURCES for c in source(session, period)]
    definitions = _front_door_definitions()
    if contacts is None:
        return [
            FrontDoorFigure(key, title, definition, None, NOT_RECORDED)
            for key, title, definition in definitions
        ]
    resolved = Share(sum(c.resolved_at_first_contact for c in contacts), len(contacts))
    decided = Waits(
        tuple(
            (london_day(c.decided_at) - london_day(c.first_contact_at)).days
            if c.decided_at is not None
            else None
            for c in contacts
            if not c.resolved_at_first_contact
        )
    )
    leaving = [c for c in contacts if c.left_hospital_at is not None]
    in_a_day = Share(
        sum(
            1
            for c in leaving
            if c.care_started_at is not None
            and c.left_hospital_at is not None
            and c.care_started_at - c.left_hospital_at <= timedelta(hours=24)
        ),
        len(leaving),
    )
    median = decided.median
    values = {
        "first_contact": (
            resolved.shown,
            [("Resolved", resolved.part), ("Needed more", resolved.whole - resolved.part)],
        ),
        "to_decision": (
            "None in this period" if median is None else f"{median} days (the middle value)",
            list(decided.counts().items()),
        ),
        "hospital": (
            in_a_day.shown,
            [
                ("Within 24 hours", in_a_day.part),
                ("Later, or not yet", in_a_day.whole - in_a_day.part),
            ],
        ),
    }
    return [
        FrontDoorFigure(key, title, definition, values[key][0], rows=values[key][1])
        for key, title, definition in definitions
    ]


def _front_door_definitions() -> list[tuple[str, str, str]]:
    return [
        (
            "first_contact",
            "Resolution at first contact",
            "Of the people who first contacted the council in the period, the share whose "
            "need was met there and then (advice, information or signposting), needing "
            "nothing more.",
        ),
        (
            "to_decision",
            "Days from first contact to a decision",
            "For the people first in contact in the period who needed more than advice, the "
            "days from that first contact to the council's decision on what they get (the "
            "middle value, and how many took how long).",
        ),
        (
            "hospital",
            "Care within 24 hours of leaving hospital",
            "Of the people who left hospital in the period needing care, the share whose care "
            "began within 24 hours of their leaving.",
        ),
    ]


# All of them ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    period: Period
    reablement: ReablementFigure
    budgets: BudgetsFigure
    record: RecordFigure
    front_door: list[FrontDoorFigure]


def council_figures(session: Session, period: Period) -> Figures:
    return Figures(
        period,
        reablement_figure(session, period),
        budgets_figure(session, period),
        record_figure(session, period),
        front_door_figures(session, period),
    )


# Charts and tables ----------------------------------------------------------------------------
# One chart a figure, its table the chart's own figures (`BarChart.table`), and the CSV the
# same rows: what the page shows is what the CSV holds.

CHART_KEYS = ("reablement", "budgets", "record")


def charts_of(found: Figures) -> dict[str, BarChart]:
    """The chart of each measured figure, by key (reablement, budgets, record)."""
    reablement = BarChart(
        chart_id="figure-reablement",
        title="Reablement episodes ended, by month",
        description="Episodes that ended each month, and how many of them needed no ongoing care.",
        label_heading="Month ended",
        series_name="Ended",
        against_name="No ongoing care needed",
        bars=[
            Bar(f"{month:%B %Y}", ended, str(ended), none_needed, str(none_needed))
            for month, ended, none_needed in found.reablement.by_month
        ],
        empty_text="No reablement episode ended in this period.",
    )
    budget_counts = found.budgets.waits.counts(BEFORE)
    budgets = BarChart(
        chart_id="figure-budgets",
        title="Days from a first approved plan to a personal budget",
        description="People whose first support plan was approved in the period, by how long "
        "until their first personal budget.",
        label_heading="How long",
        series_name="People",
        bars=[Bar(name, count, str(count)) for name, count in budget_counts.items()]
        if found.budgets.share.whole
        else [],
        empty_text="No support plan was first approved in this period.",
    )
    to_plan = found.record.to_plan.counts()
    to_budget = found.record.to_budget.counts()
    record = BarChart(
        chart_id="figure-record",
        title="Days from a person's record to a decision",
        description="People whose record was made in the period, by how long until their "
        "first approved support plan and their first personal budget.",
        label_heading="How long",
        series_name="To the first approved plan",
        against_name="To the first budget",
        bars=[
            Bar(name, to_plan[name], str(to_plan[name]), to_budget[name], str(to_budget[name]))
            for name in to_plan
        ]
        if found.record.people
        else [],
        empty_text="No person's record was made in this period.",
    )
    return {"reablement": reablement, "budgets": budgets, "record": record}


def table_of(found: Figures, key: str) -> DataTable:
    """The table of one figure's chart (what its CSV holds). KeyError for an unknown key."""
    return charts_of(found)[key].table()
