"""Which listings the council is told about, and the rating search and the API carry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.council.decisions import decisions_waiting
from marketplace.cqc import care_directory, checks
from marketplace.cqc.checks import FlagKind, flag_for
from marketplace.cqc.models import CqcLocation
from marketplace.extensions import db
from providers import search_index
from providers.models import CqcRating, Service, ServiceStatus
from tests.cqc.conftest import DIRECTORY, GONE, GOOD, IMPORTED_AT, REQUIRES_IMPROVEMENT, UNRATED


def _location(rating: CqcRating | None, *, registered: bool = True) -> CqcLocation:
    return CqcLocation(
        location_id="1-200000009",
        name="Acme",
        provider_id="1-100000009",
        provider_name="Acme Ltd",
        rating=rating,
        rating_published_on=date(2026, 5, 14) if rating else None,
        deregistered_at=None if registered else datetime(2026, 12, 1, tzinfo=UTC),
    )


# The directory's location as (its rating, registered?), or None for an ID it does not hold.
Listed = tuple[CqcRating | None, bool] | None


@pytest.mark.parametrize(
    ("claimed", "listed", "kind"),
    [
        (CqcRating.GOOD, None, FlagKind.UNKNOWN),
        (None, None, FlagKind.UNKNOWN),
        (CqcRating.GOOD, (CqcRating.GOOD, False), FlagKind.DEREGISTERED),
        (CqcRating.OUTSTANDING, (CqcRating.REQUIRES_IMPROVEMENT, True), FlagKind.RATING_DIFFERS),
        (CqcRating.GOOD, (None, True), FlagKind.RATING_DIFFERS),
        (CqcRating.GOOD, (CqcRating.GOOD, True), None),
        (CqcRating.NOT_YET_RATED, (None, True), None),
        (None, (CqcRating.INADEQUATE, True), None),
    ],
)
def test_flag_for_says_why_a_claim_is_not_borne_out(
    app: Flask, claimed: CqcRating | None, listed: Listed, kind: FlagKind | None
) -> None:
    location = None if listed is None else _location(listed[0], registered=listed[1])

    assert flag_for(claimed, location) is kind


@pytest.mark.parametrize(
    ("provider_id", "kind"),
    [
        (None, None),
        ("1-100000009", None),
        (" 1-100000009 ", None),
        ("1-100000001", FlagKind.OTHER_PROVIDER),
    ],
)
def test_a_location_must_be_the_organisations_when_it_gives_its_cqc_provider_id(
    app: Flask, provider_id: str | None, kind: FlagKind | None
) -> None:
    location = _location(CqcRating.GOOD)  # the CQC registers it to provider 1-100000009

    assert flag_for(CqcRating.GOOD, location, provider_id) is kind


def test_nothing_is_flagged_before_a_directory_is_imported(
    app: Flask, claiming: Callable[..., Service]
) -> None:
    claiming("1-299999999", CqcRating.GOOD)

    assert checks.listing_flags() == []


def test_listings_unknown_deregistered_or_rated_otherwise_are_flagged(
    directory: None, claiming: Callable[..., Service]
) -> None:
    claiming(GOOD, CqcRating.GOOD, name="Agreed")
    claiming(UNRATED, CqcRating.NOT_YET_RATED, name="Agreed unrated")
    claiming(None, None, name="Not regulated")
    made_up = claiming("1-299999999", CqcRating.GOOD, name="Made up")
    gone = claiming(GONE, CqcRating.OUTSTANDING, name="Gone")
    inflated = claiming(REQUIRES_IMPROVEMENT, CqcRating.OUTSTANDING, name="Inflated")
    archived = claiming("1-288888888", CqcRating.GOOD, name="Archived")
    archived.status = ServiceStatus.ARCHIVED
    db.session.commit()

    flags = {flag.service.name: flag for flag in checks.listing_flags()}

    assert set(flags) == {"Made up", "Gone", "Inflated"}
    assert flags["Made up"].kind is FlagKind.UNKNOWN
    assert flags["Made up"].location is None
    assert flags["Gone"].kind is FlagKind.DEREGISTERED
    assert flags["Inflated"].kind is FlagKind.RATING_DIFFERS
    assert flags["Inflated"].location.rating is CqcRating.REQUIRES_IMPROVEMENT
    assert {made_up, gone, inflated} == {flag.service for flag in flags.values()}


def test_another_providers_location_is_flagged_and_its_rating_not_shown(
    directory: None, claiming: Callable[..., Service]
) -> None:
    borrowed = claiming(GOOD, CqcRating.GOOD, name="Borrowed")
    borrowed.organisation.cqc_provider_id = "1-100000002"  # Brook's, not Acme's
    own = claiming(REQUIRES_IMPROVEMENT, CqcRating.REQUIRES_IMPROVEMENT, name="Own")
    own.organisation.cqc_provider_id = "1-100000002"
    db.session.commit()

    assert {flag.service.name: flag.kind for flag in checks.listing_flags()} == {
        "Borrowed": FlagKind.OTHER_PROVIDER
    }
    assert checks.verified_location(borrowed) is None
    assert search_index.document_for(borrowed).cqc_rating is None
    assert checks.verified_location(own) is not None
    assert checks.verified_locations([borrowed, own]) == {own.id: checks.verified_location(own)}


def test_search_carries_the_cqcs_rating_not_the_claim(
    directory: None, claiming: Callable[..., Service]
) -> None:
    inflated = claiming(REQUIRES_IMPROVEMENT, CqcRating.OUTSTANDING, name="Inflated")
    made_up = claiming("1-299999999", CqcRating.GOOD, name="Made up")
    gone = claiming(GONE, CqcRating.OUTSTANDING, name="Gone")

    assert search_index.document_for(inflated).cqc_rating == "requires_improvement"
    assert search_index.document_for(made_up).cqc_rating is None
    assert search_index.document_for(gone).cqc_rating is None


def test_an_import_that_changes_a_rating_queues_its_listings_for_search(
    directory: None, claiming: Callable[..., Service]
) -> None:
    from sqlalchemy import select

    from marketplace.cqc import care_directory
    from providers.search_index import SearchOutboxEntry
    from tests.cqc.conftest import DIRECTORY

    inflated = claiming(REQUIRES_IMPROVEMENT, CqcRating.OUTSTANDING, name="Inflated")
    newest = max(db.session.scalars(select(SearchOutboxEntry.id)))

    care_directory.import_care_directory(
        db.session,
        care_directory.read_care_directory(
            DIRECTORY.replace("Requires improvement,02/09/2026", "Outstanding,01/12/2026")
        ),
        now=datetime(2026, 12, 2, tzinfo=UTC),
    )

    queued = db.session.scalars(
        select(SearchOutboxEntry.service_id).where(SearchOutboxEntry.id > newest)
    )
    assert inflated.id in set(queued)
    assert search_index.document_for(inflated).cqc_rating == "outstanding"


def test_the_api_gives_the_cqcs_rating_and_none_for_an_unknown_id(
    directory: None, client: FlaskClient, claiming: Callable[..., Service]
) -> None:
    inflated = claiming(REQUIRES_IMPROVEMENT, CqcRating.OUTSTANDING, name="Inflated")
    made_up = claiming("1-299999999", CqcRating.GOOD, name="Made up")
    unrated = claiming(UNRATED, None, name="Unrated")

    def accreditations(service: Service) -> str | None:
        return client.get(f"/api/v1/services/{service.id}").get_json().get("accreditations")

    assert accreditations(inflated) == (
        f"CQC registered (location {REQUIRES_IMPROVEMENT}), rated Requires improvement"
    )
    assert accreditations(made_up) == "CQC registered (location 1-299999999)"
    assert accreditations(unrated) == f"CQC registered (location {UNRATED}), rated Not yet rated"


def test_the_councils_count_of_flags_is_kept_until_the_directory_changes(
    directory: None,
    claiming: Callable[..., Service],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The overview's count reads and checks every CQC-linked listing; it is worked out again
    only after a change that writes the search outbox: a listing's claim, or an import of the
    CQC's directory that changes a location a listing names."""
    claiming(GOOD, CqcRating.GOOD, name="Acme visits")
    wrong = claiming(GOOD, CqcRating.OUTSTANDING, name="Acme nights")
    worked_out: list[int] = []
    flags = checks.listing_flags

    def counting() -> list[checks.ListingFlag]:
        found = flags()
        worked_out.append(len(found))
        return found

    monkeypatch.setattr(checks, "listing_flags", counting)

    assert decisions_waiting(db.session).cqc_listings == 1
    assert decisions_waiting(db.session).cqc_listings == 1
    assert worked_out == [1]

    wrong.cqc_rating = CqcRating.GOOD
    db.session.commit()
    assert decisions_waiting(db.session).cqc_listings == 0

    newer = "".join(
        line.replace(",Good,", ",Inadequate,") if GOOD in line else line
        for line in DIRECTORY.splitlines(True)
        if GONE not in line
    )
    care_directory.import_care_directory(
        db.session,
        care_directory.read_care_directory(newer),
        now=IMPORTED_AT.replace(day=2, month=12),
    )
    db.session.commit()
    assert decisions_waiting(db.session).cqc_listings == 2
    assert worked_out == [1, 0, 2]
