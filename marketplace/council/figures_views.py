"""The council's figures (issue 19, item 9): /council/figures, each figure with its definition
in plain words, the period, a chart with its table, and a CSV of the table's rows. The figures
come from `marketplace.console.figures`."""

from __future__ import annotations

from datetime import date

from flask import abort, render_template, request
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


def _form() -> FiguresPeriodForm:
    today = london_today()
    # The financial year so far, unless the officer chooses.
    default = figures.Period(date(financial_year_of(today), 4, 1), today)
    return FiguresPeriodForm(request.args, today=today, default=default)


@bp.route("/figures")
@requires("read_council_figures")
def council_figures() -> tuple[str, int]:
    form = _form()
    if not form.validate():
        return render_template("council/figures/index.html", form=form, found=None), 400
    found = figures.council_figures(db.session, form.period())
    return render_template(
        "council/figures/index.html",
        form=form,
        found=found,
        charts=figures.charts_of(found),
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
    if not form.validate() or key not in figures.CHART_KEYS:
        abort(400)
    found = figures.council_figures(db.session, form.period())
    table = figures.table_of(found, key)
    period = found.period
    return csv_download(
        csv_text(table.head, table.rows),
        f"figures-{key}-{period.since.isoformat()}-to-{period.until.isoformat()}.csv",
    )
