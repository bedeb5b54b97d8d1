"""Search: plain words in, the right services out, with every choice kept in the URL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from flask import current_app, render_template, request

from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.pages.on_behalf import person_in_hand
from marketplace.public import bp
from providers import directory, reviews
from providers import lead_providers as leads
from providers.models import STALE_AFTER_DAYS, LeadProvider, Locality
from providers.search_index import search_engine, sync_if_stale
from providers.search_log import record_search
from search import SearchQuery, SearchResults, parse_params, to_params

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
# The units a price can be compared in, as the page names them (search.documents.PRICE_UNITS).
PRICE_UNITS = {
    "per_hour": "per hour",
    "per_visit": "per visit",
    "per_session": "per session",
    "per_day": "per day",
    "per_night": "per night",
    "per_week": "per week",
    "per_item": "per item",
    "free": "free",
}
SORTS = {
    "relevance": "Best match",
    "price": "Lowest price",
    "distance": "Nearest",
    "confirmed": "Most recently checked",
}


def _url(pairs: list[tuple[str, str]]) -> str:
    return "?" + urlencode(pairs)


def _without(query: SearchQuery, *names: str) -> str:
    """This search's URL without the named parameters (and back on page 1)."""
    return _url([(k, v) for k, v in to_params(query.with_page(1)) if k not in {*names, "page"}])


def _other_units(query: SearchQuery, results: SearchResults) -> list[tuple[str, int, str]]:
    """When prices were compared in one unit: each other unit with how many results it has
    and the URL comparing in it instead."""
    if results.price_unit is None:
        return []
    kept = [(k, v) for k, v in to_params(query.with_page(1)) if k not in {"unit", "page"}]
    return [
        (
            PRICE_UNITS.get(count.value, count.value),
            count.count,
            _url([*kept, ("unit", count.value)]),
        )
        for count in results.facets.get("unit", ())
        if not count.selected and count.count
    ]


def _searcher_area(query: SearchQuery, today: date) -> tuple[Locality | None, list[LeadProvider]]:
    """Whose area's lead providers come first (LEAD, issue 18), with its leads: an area chosen
    on the page (a filter, then "near"), else a place named in the words, else where the
    signed-in person (or whoever they act for) lives. Known before searching, so a search
    in an area with leads is made once."""
    for value in (*query.filters.localities, query.near or ""):
        district, found = leads.area_and_leads(db.session, value, today)
        if district is not None:
            return district, found
    if query.words:
        for place in search_engine().places_named(query.words):
            for code in sorted(place.codes):
                district, found = leads.area_and_leads(db.session, code, today)
                if district is not None:
                    return district, found
    person = person_in_hand()
    district = leads.district_of_person(db.session, person) if person is not None else None
    return district, leads.leads_in(db.session, district, today) if district else []


def _leads_first(query: SearchQuery, today: date) -> tuple[SearchQuery, dict[str, str]]:
    """The query with the area's lead providers' services first, when it has any, and the
    label each of those services carries."""
    district, found = _searcher_area(query, today)
    lead_services = leads.lead_services_for_area(db.session, district, found) if district else {}
    if not lead_services:
        return query, {}
    labels = leads.labels_for(db.session, set(lead_services.values()))
    labelled = {service_id: labels[lead.id] for service_id, lead in lead_services.items()}
    return replace(query, first=frozenset(lead_services)), labelled


@bp.route("/search")
def search() -> str:
    today = datetime.now(LONDON).date()
    query = parse_params(request.args.items(multi=True), today=today)
    sync_if_stale(current_app._get_current_object())  # type: ignore[attr-defined]
    query, lead_labels = _leads_first(query, today)
    results = search_engine().search(query)
    if query.page == 1:
        record_search(query, results, source="page")
    chosen = [
        name
        for name, _ in to_params(query)
        if name in FACET_TITLES or name in ("max_price", "unit")
    ]
    # REVIEWS (issue 19): the page's services' ratings, from published reviews, read in one
    # grouped statement (not kept in the index, so a publication shows at once).
    ratings = {
        str(service_id): rating
        for service_id, rating in reviews.ratings_for(
            db.session, [hit.document.id for hit in results.hits]
        ).items()
    }
    return render_template(
        "public/search.html",
        query=query,
        results=results,
        ratings=ratings,
        facet_titles=FACET_TITLES,
        sorts=SORTS,
        localities=directory.locality_names(),
        lead_labels=lead_labels,
        price_units=PRICE_UNITS,
        other_units=_other_units(query, results),
        stale_before=today - timedelta(days=STALE_AFTER_DAYS),
        page_url=lambda page: _url(to_params(query.with_page(page))),
        suggestion_url=(
            _url(
                [
                    ("q", results.suggestion),
                    *[pair for pair in to_params(query) if pair[0] not in {"q", "page"}],
                ]
            )
            if results.suggestion
            else None
        ),
        drop_filter_urls=[
            (
                FACET_TITLES.get(name, "Price unit" if name == "unit" else "Price"),
                _without(query, name),
            )
            for name in dict.fromkeys(chosen)
        ],
        wider_area_url=_url([("q", " ".join(query.words.split()[:1]) or "")])
        if results.places
        else None,
    )
