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


@given(
    st.lists(st.sampled_from(["a", "b", "c", None]), min_size=0, max_size=200),
    st.sets(st.integers(min_value=0, max_value=199)),
)
def test_facet_counts_are_the_values_bits_within_each_set(
    values: list[str | None], among: set[int]
) -> None:
    part = CataloguePart()
    for ordinal, value in enumerate(values):
        row = catalogue_row(listing(f"l{ordinal}", languages=(value,) if value else ()), PARENTS)
        part.add(ordinal, row)
    size = len(values)
    catalogue = Catalogue.join([(0, part)], size, bits_of(range(size), size))
    within = bits_of((o for o in among if o < size), size)
    expected = {
        value: (bits & within).bit_count() for value, bits in catalogue.facets["language"].items()
    }
    assert catalogue.facet_counts({"language": within})["language"] == expected
    budgets = catalogue.facet_counts({"budgets": within})["budgets"]
    assert sum(budgets.values()) == within.bit_count()
    # Several facets at once, two within one set and one within another, as a search asks.
    everyone = catalogue.live
    counted = catalogue.facet_counts({"language": within, "budgets": within, "mode": everyone})
    assert counted["language"] == expected
    assert counted["budgets"] == budgets
    assert counted["mode"] == {
        value: (bits & everyone).bit_count() for value, bits in catalogue.facets["mode"].items()
    }


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=1, max_size=80),
    st.sets(st.integers(min_value=0, max_value=79)),
    st.integers(min_value=0, max_value=90),
)
def test_the_first_few_candidates_in_an_order_are_the_whole_order_kept_to_them(
    keys: list[tuple[int, int]], chosen: set[int], wanted: int
) -> None:
    documents = [
        listing(f"l{n}", price_pence=price * 100, last_confirmed=TODAY - timedelta(age))
        for n, (price, age) in enumerate(keys)
    ]
    catalogue = catalogue_of(documents)
    candidates = bits_of((o for o in chosen if o < len(keys)), len(keys))
    members = set(ordinals_of(candidates))
    cheapest = [o for o in catalogue.cheapest() if o in members]
    freshest = [o for o in catalogue.most_recently_confirmed() if o in members]
    assert catalogue.cheapest_among(candidates, wanted) == cheapest[:wanted]
    assert catalogue.freshest_among(candidates, wanted) == freshest[:wanted]
    # Stable orders: equal keys keep their ordinal order.
    assert cheapest == sorted(members, key=lambda o: (keys[o][0], o))
    assert freshest == sorted(members, key=lambda o: (keys[o][1], o))


def test_bitsets_come_from_any_iterable_of_ordinals() -> None:
    expected = 0b100101
    assert bits_of([0, 2, 5], 6) == expected
    assert bits_of(iter([5, 0, 2]), 6) == expected
    assert bits_of(range(0, 6, 5), 6) | 0b100 == expected
    assert bits_of([], 6) == 0
    assert bits_of([1], 0) == 0
    assert ordinals_of(0) == []
    assert ordinals_of(1 << 70) == [70]
