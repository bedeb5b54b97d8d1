"""Search: plain words in, the right services out, with every choice kept in the URL."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import current_app, render_template, request

from marketplace.formatting import LONDON
from marketplace.public.views import bp
from providers.search_index import search_engine, sync_if_stale
from search import SearchQuery, parse_params, to_params

FACET_TITLES = {
    "category": "Kind of help",
    "locality": "Area",
    "mode": "How it is delivered",
    "availability": "Availability",
    "budgets": "Personal budgets",
    "language": "Languages spoken",
    "access": "Accessibility",
    "cqc": "CQC rating",
}
SORTS = {
    "relevance": "Best match",
    "price": "Lowest price",
    "distance": "Nearest",
    "confirmed": "Most recently checked",
}


def _page_url(query: SearchQuery, page: int) -> str:
    return "?" + urlencode(to_params(query.with_page(page)))


@bp.route("/search")
def search() -> str:
    today = datetime.now(LONDON).date()
    query = parse_params(request.args.items(multi=True), today=today)
    sync_if_stale(current_app._get_current_object())  # type: ignore[attr-defined]
    results = search_engine().search(query)
    return render_template(
        "public/search.html",
        query=query,
        results=results,
        facet_titles=FACET_TITLES,
        sorts=SORTS,
        page_url=lambda page: _page_url(query, page),
        suggestion_url=(
            "?"
            + urlencode(
                [("q", results.suggestion)]
                + [pair for pair in to_params(query) if pair[0] not in {"q", "page"}]
            )
            if results.suggestion
            else None
        ),
    )
