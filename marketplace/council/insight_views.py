"""The council's reports (issue 19): the index of every report (/council/reports) and the
market insight reports (item 6) under /council/reports/market/..., each table with its chart
beside it and a CSV of the same rows (/council/reports/market/<table>.csv). The figures come
from `marketplace.console.insight` and `insight_market`, the tables from `insight_tables`.

A period (`?period=30`, 90 or 365 days, 30 when not given) applies to searches and orders;
supply, prices and lapsed listings are as they are now. Any other period is answered with the
error summary and no figures (400), or a 400 for a CSV file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from flask import Response, abort, render_template, request, url_for

from marketplace.accounts.access import requires
from marketplace.console import insight, insight_demand, insight_market
from marketplace.council import bp
from marketplace.council import insight_tables as tables
from marketplace.council.paging import Paged, page_number
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.pages.downloads import csv_download
from marketplace.types import utcnow
from providers.models import STALE_AFTER_DAYS

WORDS_PER_PAGE = 25
LAPSED_PER_PAGE = 25
# A CSV of a paged list holds every row up to this many (far more than any council's).
CSV_ROWS = 10_000


@bp.route("/reports")
@requires("use_council_pages")
def reports() -> str:
    return render_template("council/reports/index.html")


def _period_words(period: insight.Period) -> str:
    return f"in the last {period.days} days"


def _period_or_none() -> tuple[insight.Period | None, str | None]:
    try:
        return insight.period_of(request.args.get("period"), utcnow()), None
    except insight.PeriodError as error:
        return None, str(error)


def _page(
    template: str,
    endpoint: str,
    build: Callable[[insight.Period], dict[str, object]],
    *,
    uses_period: bool = True,
) -> tuple[str, int]:
    """A report page for the period asked for, or its error summary with no figures. A report
    of what is there now (`uses_period` False) offers no period and reads none."""
    if uses_period:
        period, error = _period_or_none()
    else:
        period, error = insight.period_of(None, utcnow()), None
    figures = build(period) if period is not None else {}
    return render_template(
        template,
        period=period,
        period_error=error,
        uses_period=uses_period,
        period_choices=insight.PERIOD_DAYS,
        chosen=request.args.get("period", ""),
        endpoint=endpoint,
        period_words=_period_words(period) if period and uses_period else "",
        csv_href=lambda name: url_for(
            "council.market_csv", name=name, period=period.days if period else None
        ),
        **figures,
    ), (400 if error else 200)


def _searches(period: insight.Period) -> dict[str, object]:
    places = insight.reference(db.session)
    found = insight.unmet_searches(db.session, period, places)
    paged = Paged(page=page_number(), per_page=WORDS_PER_PAGE, total=0)
    words, total = insight.unmet_words(db.session, period, page=paged.page, per_page=paged.per_page)
    paged = Paged(page=paged.page, per_page=paged.per_page, total=total)
    words_of_period = _period_words(period)
    return {
        "total": found.total,
        "by_category": tables.search_gaps(
            found.by_category, by="category", chart_id="searches-categories",
            period_words=words_of_period,
        ),
        "by_area": tables.search_gaps(
            found.by_area, by="area", chart_id="searches-areas", period_words=words_of_period
        ),
        "by_both": tables.search_gaps(
            found.by_area_and_category, by="category and area", chart_id="searches-both",
            period_words=words_of_period,
        ),
        "words": tables.unmet_words(words, period_words=words_of_period),
        "paged": paged,
        "page_url": lambda number: (
            f"{url_for('council.market_searches')}?"
            f"{urlencode({'period': period.days, 'page': number})}#words"
        ),
    }  # fmt: skip


@bp.route("/reports/market/searches")
@requires("read_market_insight")
def market_searches() -> tuple[str, int]:
    return _page("council/reports/searches.html", "council.market_searches", _searches)


def _demand(period: insight.Period) -> dict[str, object]:
    places = insight.reference(db.session)
    found = insight_demand.demand_and_supply(
        db.session, period, places, london_today(), crossed=True
    )
    words = _period_words(period)
    return {
        "by_both": tables.demand_supply(
            found.by_area_and_category,
            by="category and area",
            chart_id="demand-both",
            period_words=words,
        ),
        "by_category": tables.demand_supply(
            found.by_category, by="category", chart_id="demand-categories", period_words=words
        ),
        "by_area": tables.demand_supply(
            found.by_area, by="area", chart_id="demand-areas", period_words=words
        ),
    }


@bp.route("/reports/market/demand")
@requires("read_market_insight")
def market_demand() -> tuple[str, int]:
    return _page("council/reports/demand.html", "council.market_demand", _demand)


def _prices(period: insight.Period) -> dict[str, object]:
    found = insight_market.prices(db.session, insight.reference(db.session), crossed=True)
    return {
        "by_both": tables.price_ranges(
            found.by_area_and_category, by="category and area", chart_id="prices-both"
        ),
        "by_category": tables.price_ranges(
            found.by_category, by="category", chart_id="prices-categories"
        ),
        "by_area": tables.price_ranges(found.by_area, by="area", chart_id="prices-areas"),
    }


@bp.route("/reports/market/prices")
@requires("read_market_insight")
def market_prices() -> tuple[str, int]:
    return _page("council/reports/prices.html", "council.market_prices", _prices, uses_period=False)


def _lapsed(period: insight.Period) -> dict[str, object]:
    now = utcnow()
    paged = Paged(page=page_number(), per_page=LAPSED_PER_PAGE, total=0)
    listings, total = insight_market.lapsed_listings(
        db.session, now, page=paged.page, per_page=paged.per_page
    )
    return {
        "by_category": tables.checked_counts(
            insight_market.lapsed_by_category(db.session, insight.reference(db.session), now),
            chart_id="lapsed-categories",
            stale_days=STALE_AFTER_DAYS,
        ),
        "listings": tables.lapsed_listings(listings),
        "lapsed_rows": listings,
        "paged": Paged(page=paged.page, per_page=paged.per_page, total=total),
        "stale_days": STALE_AFTER_DAYS,
        "page_url": lambda number: (
            f"{url_for('council.market_lapsed')}?{urlencode({'page': number})}#listings"
        ),
    }


@bp.route("/reports/market/lapsed")
@requires("read_market_insight")
def market_lapsed() -> tuple[str, int]:
    return _page("council/reports/lapsed.html", "council.market_lapsed", _lapsed, uses_period=False)


def _position(period: insight.Period) -> dict[str, object]:
    places = insight.reference(db.session)
    today = london_today()
    searches = insight.unmet_searches(db.session, period, places)
    demand = insight_demand.demand_and_supply(db.session, period, places, today)
    prices = insight_market.prices(db.session, places)
    rows = insight_market.position_statement(demand, searches, prices)
    return {
        "categories": tables.position(rows, period_words=_period_words(period)),
        "gaps": [row for row in rows if row.gaps],
        "months": tables.months(insight_market.trend(db.session, today)),
        "searches_total": searches.total,
    }


@bp.route("/reports/market/position")
@requires("read_market_insight")
def market_position() -> tuple[str, int]:
    return _page("council/reports/position.html", "council.market_position", _position)


def _csv_tables(period: insight.Period, now: datetime) -> dict[str, Callable[[], tables.Report]]:
    """Every table's CSV, by name: each builds only its own figures."""
    words = _period_words(period)

    def places() -> insight.Reference:
        return insight.reference(db.session)

    def searches() -> insight.UnmetSearches:
        return insight.unmet_searches(db.session, period, places())

    def demand() -> insight_demand.DemandAndSupply:
        return insight_demand.demand_and_supply(
            db.session, period, places(), london_today(), crossed=True
        )

    def prices() -> insight_market.Prices:
        return insight_market.prices(db.session, places(), crossed=True)

    def position() -> tables.Report:
        reference = places()
        rows = insight_market.position_statement(
            insight_demand.demand_and_supply(db.session, period, reference, london_today()),
            insight.unmet_searches(db.session, period, reference),
            insight_market.prices(db.session, reference),
        )
        return tables.position(rows, period_words=words)

    return {
        "searches-categories": lambda: tables.search_gaps(
            searches().by_category, by="category", chart_id="c", period_words=words
        ),
        "searches-areas": lambda: tables.search_gaps(
            searches().by_area, by="area", chart_id="c", period_words=words
        ),
        "searches-both": lambda: tables.search_gaps(
            searches().by_area_and_category,
            by="category and area",
            chart_id="c",
            period_words=words,
        ),
        "searches-words": lambda: tables.unmet_words(
            insight.unmet_words(db.session, period, page=1, per_page=CSV_ROWS)[0],
            period_words=words,
        ),
        "demand-categories": lambda: tables.demand_supply(
            demand().by_category, by="category", chart_id="c", period_words=words
        ),
        "demand-areas": lambda: tables.demand_supply(
            demand().by_area, by="area", chart_id="c", period_words=words
        ),
        "demand-both": lambda: tables.demand_supply(
            demand().by_area_and_category,
            by="category and area",
            chart_id="c",
            period_words=words,
        ),
        "prices-categories": lambda: tables.price_ranges(
            prices().by_category, by="category", chart_id="c"
        ),
        "prices-areas": lambda: tables.price_ranges(prices().by_area, by="area", chart_id="c"),
        "prices-both": lambda: tables.price_ranges(
            prices().by_area_and_category, by="category and area", chart_id="c"
        ),
        "lapsed-categories": lambda: tables.checked_counts(
            insight_market.lapsed_by_category(db.session, places(), now),
            chart_id="c",
            stale_days=STALE_AFTER_DAYS,
        ),
        "lapsed-listings": lambda: tables.lapsed_listings(
            insight_market.lapsed_listings(db.session, now, page=1, per_page=CSV_ROWS)[0]
        ),
        "position-categories": position,
        "position-months": lambda: tables.months(insight_market.trend(db.session, london_today())),
    }


@bp.route("/reports/market/<name>.csv")
@requires("read_market_insight")
def market_csv(name: str) -> Response:
    period, error = _period_or_none()
    if period is None:
        abort(400, error)
    builders = _csv_tables(period, utcnow())
    if name not in builders:
        abort(404)
    return csv_download(builders[name]().csv(), f"{name}-last-{period.days}-days")
