"""Listing documents: what the app hands in, checked, and stored as JSON."""

from __future__ import annotations

import pytest

from search import Availability, ListingDocument

from .helpers import TODAY, listing


def test_a_document_survives_json(corpus: list[ListingDocument]) -> None:
    for document in corpus:
        assert ListingDocument.from_json(document.to_json()) == document


def test_availability_may_be_given_as_text() -> None:
    document = listing("a", availability="waiting_list", earliest_start=TODAY)
    assert document.availability is Availability.WAITING_LIST


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": ""}, "needs an id"),
        ({"price_pence": 12.5}, "whole pence"),
        ({"price_pence": True}, "whole pence"),
        ({"price_pence": -1}, "negative"),
        ({"latitude": 51.9}, "both coordinates"),
        ({"delivery_modes": ("by_owl",)}, "delivery modes"),
        ({"cqc_rating": "superb"}, "CQC rating"),
        ({"availability": "sometimes"}, "sometimes"),
    ],
)
def test_bad_documents_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        listing("a", **changes)
