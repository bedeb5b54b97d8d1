"""The council's figures (issue 19, item 9): /council/figures, each figure with its definition
in plain words, the period, a chart with its table, and a CSV of the table's rows. The figures
come from `marketplace.console.figures`; the front door's (issue 20, item 6) from
`marketplace.referrals.figures`, whose import here also gives the console's front door figures
their events (it registers `referral_contacts` in FRONT_DOOR_SOURCES)."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, render_template, request
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.budgets.rules import financial_year_of
from marketplace.console import figures
from marketplace.council import bp
from marketplace.council.figures_forms import FiguresPeriodForm
from marketplace.csv_export import csv_text
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.pages.downloads import csv_download
from marketplace.referrals import figure_charts
from marketplace.referrals import figures as front_door
from marketplace.types import utcnow


def _form() -> FiguresPeriodForm:
    today = london_today()
    # The financial year so far, unless the officer chooses.
    default = figures.Period(date(financial_year_of(today), 4, 1), today)
    return FiguresPeriodForm(request.args, today=today, default=default)


def _front_door(period: figures.Period) -> front_door.FrontDoorJourney:
    return front_door.front_door_journey(
        db.session,
        period,
        now=utcnow(),
        abandoned_days=current_app.config["FRONT_DOOR_ABANDONED_DAYS"],
    )


@bp.route("/figures")
@requires("read_council_figures")
def council_figures() -> tuple[str, int]:
    form = _form()
    if not form.validate():
        return render_template("council/figures/index.html", form=form, found=None), 400
    found = figures.council_figures(db.session, form.period())
    journey = _front_door(found.period)
    return render_template(
        "council/figures/index.html",
        form=form,
        found=found,
        charts=figures.charts_of(found),
        journey=journey,
        journey_charts=figure_charts.charts_of(journey),
        indicated_median=figure_charts.median_difference_text(journey),
        bar_days=front_door.BAR_DAYS,
        bar_was_days=front_door.BAR_WAS_DAYS,
        period_args={
            "since": found.period.since.isoformat(),
            "until": found.period.until.isoformat(),
        },
    ), 200


@bp.route("/figures.csv")
@requires("read_council_figures")
def council_figures_csv() -> Response:
    form = _form()
    key = request.args.get("table", "")
    if not form.validate() or key not in figures.CHART_KEYS + figure_charts.CHART_KEYS:
        abort(400)
    period = form.period()
    if key in figure_charts.CHART_KEYS:
        table = figure_charts.table_of(_front_door(period), key)
    else:
        table = figures.table_of(figures.council_figures(db.session, period), key)
    return csv_download(
        csv_text(table.head, table.rows),
        f"figures-{key}-{period.since.isoformat()}-to-{period.until.isoformat()}.csv",
    )
