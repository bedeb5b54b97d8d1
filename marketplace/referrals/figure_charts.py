"""The front door's figures (issue 20, item 6) as charts, each with its table and CSV on
/council/figures: one chart a figure, its table the chart's own figures (`BarChart.table`),
and the CSV the same rows, so what the page shows is what the CSV holds. Rules-side: no Flask.
"""

from __future__ import annotations

from marketplace.charts import Bar, BarChart, DataTable
from marketplace.console.figures import Share
from marketplace.formatting import pounds
from marketplace.referrals.figures import (
    BAR_DAYS,
    FrontDoorJourney,
    wait_counts,
)

# The CSV tables, by the key of their download (`/council/figures.csv?table=...`).
CHART_KEYS = (
    "assessments",
    "abandoned_at",
    "referral_waits",
    "visits",
    "indicated",
    "reviews",
)


def _share_text(part: int, whole: int) -> str:
    """A count with its share of the whole, as the tables show it: "3 (75%)"."""
    share = Share(part, whole)
    return f"{part}" if share.percent is None else f"{part} ({share.percent}%)"


def charts_of(found: FrontDoorJourney) -> dict[str, BarChart]:
    """The chart of each front door figure, by key (CHART_KEYS)."""
    assessments = found.assessments
    started = assessments.started
    waits = found.referrals
    to_contact, to_decision = wait_counts(waits.to_contact), wait_counts(waits.to_decision)
    visits = found.visits
    indicated = found.indicated.counts
    reviews = found.reviews
    return {
        "assessments": BarChart(
            chart_id="figure-assessments",
            title="Self-assessments started, by what became of them",
            description="Self-assessments started in the period: sent to the council, "
            "abandoned, or still being answered.",
            label_heading="What became of them",
            series_name="Self-assessments",
            bars=[
                Bar(label, count, _share_text(count, started))
                for label, count in (
                    ("Sent", assessments.sent),
                    ("Abandoned", assessments.abandoned),
                    ("Still being answered", assessments.in_progress),
                )
            ]
            if started
            else [],
            empty_text="No self-assessment was started in this period.",
        ),
        "abandoned_at": BarChart(
            chart_id="figure-abandoned-at",
            title="Abandoned self-assessments, by the question they stopped at",
            description="Self-assessments started in the period and abandoned, by the first "
            "question left unanswered.",
            label_heading="Stopped at",
            series_name="Abandoned",
            bars=[
                Bar(name, count, _share_text(count, assessments.abandoned))
                for name, count in assessments.abandoned_at
            ],
            empty_text="No self-assessment started in this period was abandoned.",
        ),
        "referral_waits": BarChart(
            chart_id="figure-referral-waits",
            title="Days from a referral to a first contact and to a decision",
            description="Referrals received in the period, by how long until the council "
            f"first contacted the person and until its decision. The bar is {BAR_DAYS} days.",
            label_heading="How long",
            series_name="To the first contact",
            against_name="To the decision",
            bars=[
                Bar(
                    name,
                    to_contact[name],
                    _share_text(to_contact[name], waits.received),
                    to_decision[name],
                    _share_text(to_decision[name], waits.received),
                )
                for name in to_contact
            ]
            if waits.received
            else [],
            empty_text="No referral was received in this period.",
        ),
        "visits": BarChart(
            chart_id="figure-visits",
            title="Visits booked, by what became of them",
            description="Assessment and review visits booked for a day in the period: done, "
            "still to come, moved, cancelled or wasted.",
            label_heading="What became of them",
            series_name="Assessment visits",
            against_name="Review visits",
            bars=[
                Bar(name, assessment, str(assessment), review, str(review))
                for name, assessment, review in visits.by_outcome
            ]
            if visits.booked
            else [],
            empty_text="No visit was booked for a day in this period.",
        ),
        "indicated": BarChart(
            chart_id="figure-indicated",
            title="Budgets agreed against the range indicated",
            description="Referrals turned into a budget in the period: the agreed weekly "
            "budget within, below or above the weekly range the self-assessment indicated.",
            label_heading="The agreed budget",
            series_name="Budgets",
            bars=[
                Bar(name, count, _share_text(count, len(found.indicated.budgets)))
                for name, count in indicated.items()
            ]
            if found.indicated.budgets
            else [],
            empty_text="No referral was turned into a budget in this period.",
        ),
        "reviews": BarChart(
            chart_id="figure-reviews",
            title="Support plan reviews due, by when they were done",
            description="Support plans whose review fell due in the period: reviewed on or "
            "before the day, late, or not yet.",
            label_heading="Reviewed",
            series_name="Plans",
            bars=[
                Bar(name, count, _share_text(count, reviews.due))
                for name, count in (
                    ("On time", reviews.on_time),
                    ("Late", reviews.late),
                    ("Not yet", reviews.not_yet),
                )
            ]
            if reviews.due
            else [],
            empty_text="No support plan's review fell due in this period.",
        ),
    }


def table_of(found: FrontDoorJourney, key: str) -> DataTable:
    """The table of one front door chart (what its CSV holds). KeyError for an unknown key."""
    return charts_of(found)[key].table()


def median_difference_text(found: FrontDoorJourney) -> str | None:
    """The middle difference of agreed budgets from the indicated range, in words, or None
    when no budget was agreed."""
    median = found.indicated.median_difference_pence
    if median is None:
        return None
    if median == 0:
        return "the middle budget was within the range"
    where = "above the top" if median > 0 else "below the bottom"
    return f"the middle budget was {pounds(abs(median))} a week {where} of the range"
