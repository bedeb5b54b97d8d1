"""Bitsets, and the per-generation catalogue's filters and orders."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from search.catalogue import (
    Catalogue,
    CataloguePart,
    Membership,
    bits_of,
    catalogue_row,
    ordinals_of,
)
from search.documents import ListingDocument

from .helpers import TODAY, listing

PARENTS: dict[str, str | None] = {"personal-care": "help-at-home", "help-at-home": None}


@given(st.sets(st.integers(min_value=0, max_value=5000)))
def test_bitsets_round_trip(ordinals: set[int]) -> None:
    bits = bits_of(ordinals, 5001)
    assert ordinals_of(bits) == sorted(ordinals)
    assert bits.bit_count() == len(ordinals)
    members = Membership(bits)
    assert all(o in members for o in ordinals)
    assert all(o not in members for o in range(0, 5100, 7) if o not in ordinals)


def catalogue_of(
    documents: list[ListingDocument], deleted: frozenset[int] = frozenset()
) -> Catalogue:
    part = CataloguePart()
    for ordinal, document in enumerate(documents):
        part.add(ordinal, catalogue_row(document, PARENTS))
    size = len(documents)
    live = bits_of((o for o in range(size) if o not in deleted), size)
    return Catalogue.join([(0, part)], size, live)


def test_parts_join_at_their_bases() -> None:
    first, second = CataloguePart(), CataloguePart()
    first.add(0, catalogue_row(listing("a", price_pence=100), PARENTS))
    first.add(1, catalogue_row(listing("b", price_pence=300), PARENTS))
    second.add(0, catalogue_row(listing("c", price_pence=200, languages=("Welsh",)), PARENTS))
    joined = Catalogue.join([(0, first), (2, second)], 3, 0b111)
    assert joined.ids == ["a", "b", "c"]
    assert joined.facets["language"]["welsh"] == 0b100
    assert joined.cheapest() == [0, 2, 1]
    assert ordinals_of(joined.price_at_most(250)) == [0, 2]


def test_categories_carry_their_parents() -> None:
    catalogue = catalogue_of([listing("a")])
    assert catalogue.facets["category"]["help-at-home"] == 0b1
    assert catalogue.labels["category"]["personal-care"] == "Personal care"


def test_who_can_start_by_a_day() -> None:
    documents = [
        listing("now"),
        listing("soon", availability="waiting_list", earliest_start=TODAY + timedelta(5)),
        listing("later", availability="waiting_list", earliest_start=TODAY + timedelta(50)),
        listing("waiting", availability="waiting_list"),
        listing("full", availability="full", earliest_start=TODAY),
    ]
    catalogue = catalogue_of(documents)
    assert ordinals_of(catalogue.can_start_by(TODAY + timedelta(7))) == [0, 1]
    assert ordinals_of(catalogue.can_start_by(TODAY + timedelta(60))) == [0, 1, 2]
    assert ordinals_of(catalogue.can_start_by(date(2000, 1, 1))) == [0]


def test_orders_put_fresh_and_cheap_first() -> None:
    documents = [
        listing("old", last_confirmed=TODAY - timedelta(100), price_pence=50),
        listing("new", last_confirmed=TODAY, price_pence=500),
        listing("never", last_confirmed=None, price_pence=0, price_unit="free"),
    ]
    catalogue = catalogue_of(documents)
    assert catalogue.most_recently_confirmed() == [1, 0, 2]
    assert catalogue.cheapest() == [2, 0, 1]
