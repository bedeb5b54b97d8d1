"""Helpers for the search tests: search as the page would, and make small listings."""

from __future__ import annotations

from datetime import date

from search import ListingDocument, SearchEngine, SearchResults, parse_params

# The corpus is dated around this day: "can start within N days" counts from it.
TODAY = date(2025, 6, 2)


def ask(engine: SearchEngine, **params: str | list[str]) -> SearchResults:
    """Search with URL-style parameters, as the search page would."""
    return engine.search(parse_params(params, today=TODAY))


def ids(results: SearchResults) -> list[str]:
    return [hit.document.id for hit in results.hits]


def listing(listing_id: str, **changes: object) -> ListingDocument:
    """A small valid listing for write tests."""
    values: dict[str, object] = {
        "id": listing_id,
        "name": f"Listing {listing_id}",
        "description": "Help at home with washing and dressing.",
        "provider_name": "Test Care",
        "category_codes": ("personal-care",),
        "category_names": ("Personal care",),
        "locality_codes": ("hitchin",),
        "delivery_modes": ("at_home",),
        "price_pence": 2000,
        "last_confirmed": TODAY,
    }
    values.update(changes)
    return ListingDocument(**values)  # type: ignore[arg-type]


def all_ids(engine: SearchEngine, **params: str | list[str]) -> list[str]:
    """Every result of a search, page after page."""
    found: list[str] = []
    page = 1
    while True:
        results = ask(engine, per_page="50", page=str(page), **params)
        found += ids(results)
        if page >= results.pages:
            return found
        page += 1
