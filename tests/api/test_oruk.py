"""The pieces of the feed that need no database: JSON text, phrases, ids, paging."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal

import pytest

from marketplace.formatting import pounds
from providers.models import CapacityStatus, CqcRating
from providers.openreferral import encoding, phrases
from providers.openreferral.identifiers import CARE_TAXONOMY_ID, part_id, term_id
from providers.openreferral.oruk import paged


@pytest.mark.parametrize(
    ("pence", "text"), [(0, "0.00"), (5, "0.05"), (2650, "26.50"), (1_000_000, "10000.00")]
)
def test_pence_become_exact_pounds(pence: int, text: str) -> None:
    amount = Decimal(pounds(pence, plain=True))  # as the feed's cost options write it
    assert encoding.dumps({"amount": amount}) == f'{{"amount":{text}}}'
    assert json.loads(encoding.dumps(amount), parse_float=Decimal) == Decimal(text)


def test_the_writer_matches_the_standard_library_for_everything_else() -> None:
    value = {"a": [1, 2.5, True, None, 'é\n"x"'], "b": {}, "c": [], "d": {"e": -3}}
    assert encoding.dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(encoding.dumps(value, indent=2)) == value
    assert encoding.dumps(value, indent=2) == json.dumps(value, ensure_ascii=False, indent=2)


@pytest.mark.parametrize("bad", [Decimal("NaN"), float("inf"), {1: "a"}, object()])
def test_the_writer_refuses_what_json_cannot_hold(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        encoding.dumps(bad)


@pytest.mark.parametrize(
    ("status", "start"),
    [
        (CapacityStatus.FULL, None),
        (CapacityStatus.WAITING_LIST, date(2027, 3, 1)),
        (CapacityStatus.ACCEPTING, date(2027, 1, 4)),
    ],
)
def test_capacity_alerts_read_back(status: CapacityStatus, start: date | None) -> None:
    alert = phrases.capacity_alert(status, start)
    assert alert is not None
    assert phrases.read_capacity_alert(alert) == (status, start)


def test_accepting_with_no_start_date_needs_no_alert() -> None:
    assert phrases.capacity_alert(CapacityStatus.ACCEPTING, None) is None
    assert phrases.read_capacity_alert("Closed for refurbishment") is None


@pytest.mark.parametrize(
    ("location", "rating"),
    [
        ("1-123456789", CqcRating.GOOD),
        (None, CqcRating.REQUIRES_IMPROVEMENT),
        ("1-12345678901", None),
    ],
)
def test_cqc_accreditations_read_back(location: str | None, rating: CqcRating | None) -> None:
    text = phrases.accreditation_text(location, rating)
    assert text is not None
    assert phrases.read_accreditation(text) == (location, rating)


def test_other_accreditations_are_not_guessed_at() -> None:
    assert phrases.accreditation_text(None, None) is None
    assert phrases.read_accreditation("Member of the UKHCA") is None
    assert phrases.read_accreditation("CQC registered, rated Brilliant") is None


def test_derived_ids_are_stable_and_distinct() -> None:
    owner = uuid.UUID("00000000-0000-0000-0000-000000000001")
    assert part_id(owner, "schedule", "0") == part_id(owner, "schedule", "0")
    assert part_id(owner, "schedule", "0") != part_id(owner, "schedule", "1")
    assert term_id("meals") == uuid.uuid5(CARE_TAXONOMY_ID, "meals")


def test_paging_fields() -> None:
    assert paged([], total=0, page=1, per_page=50) == {
        "total_items": 0,
        "total_pages": 1,
        "page_number": 1,
        "size": 0,
        "first_page": True,
        "last_page": True,
        "empty": True,
        "contents": [],
    }
    assert paged([{}], total=101, page=3, per_page=50)["total_pages"] == 3
