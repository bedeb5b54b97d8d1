"""Providers' performance (issue 19, PERF): /council/reports/performance, per provider and per
area for a chosen period, sortable by any column, with a chart, the tables and a CSV of each.
Routes on `council`; the figures are `marketplace.console.performance`'s."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, render_template, request
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.charts import Bar, BarChart
from marketplace.console import performance
from marketplace.council import bp
from marketplace.csv_export import csv_text
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.pages.downloads import csv_download

AUDIENCES = {"provider": "Provider", "area": "Area"}


def _report() -> tuple[performance.PerformanceReport, str, bool]:
    period = performance.period_named(request.args.get("period"), london_today())
    column = request.args.get("sort", "name")
    if column not in performance.COLUMNS:
        column = "name"
    descending = request.args.get("order") == "descending"
    return performance.provider_performance(db.session, period), column, descending


def _chart(report: performance.PerformanceReport) -> BarChart:
    return BarChart(
        chart_id="provider-performance",
        title=f"Orders accepted and cancelled by provider: {report.period.label.lower()}",
        description="For each provider with orders in the period, how many it accepted and "
        "how many were cancelled (by anyone).",
        label_heading="Provider",
        series_name="Accepted",
        against_name="Cancelled",
        bars=[
            Bar(row.name, row.accepted, str(row.accepted), row.cancelled, str(row.cancelled))
            for row in report.by_provider
        ],
        empty_text="No provider had orders in this period.",
    )


@bp.route("/reports/performance")
@requires("read_provider_performance")
def provider_performance() -> str:
    report, column, descending = _report()

    def sort_url(key: str) -> str:
        flip = key == column and not descending
        return "?" + urlencode(
            {
                "period": report.period.key,
                "sort": key,
                "order": "descending" if flip else "ascending",
            }
        )

    return render_template(
        "council/reports/performance.html",
        report=report,
        periods=performance.periods(london_today()),
        chart=_chart(report),
        tables={
            audience: performance.sorted_rows(rows, column, descending)
            for audience, rows in (("provider", report.by_provider), ("area", report.by_area))
        },
        audiences=AUDIENCES,
        head=performance.TABLE_HEAD,
        columns=performance.COLUMNS,
        column=column,
        descending=descending,
        sort_url=sort_url,
    )


@bp.route("/reports/performance/<audience>.csv")
@requires("read_provider_performance")
def provider_performance_csv(audience: str) -> Response:
    if audience not in AUDIENCES:
        abort(404)
    report, column, descending = _report()
    rows = report.by_provider if audience == "provider" else report.by_area
    head = (AUDIENCES[audience], *performance.TABLE_HEAD[1:])
    return csv_download(
        csv_text(head, performance.table_rows(performance.sorted_rows(rows, column, descending))),
        f"performance-by-{audience}-{report.period.starts_on}-to-{report.period.ends_on}.csv",
    )
