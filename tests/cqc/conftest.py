"""A CQC directory imported from three locations, and a listing maker that types a claim."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask

from marketplace.cqc import care_directory
from marketplace.extensions import db
from providers.models import CqcRating, Organisation, Service

IMPORTED_AT = datetime(2026, 11, 30, 9, tzinfo=UTC)
DIRECTORY = (
    "Location ID,Location Name,Provider ID,Provider Name,Location Latest Overall Rating,"
    "Publication Date\n"
    "1-200000001,Acme Care,1-100000001,Acme Care Ltd,Good,14/05/2026\n"
    "1-200000002,Brook Care,1-100000002,Brook Care Ltd,Requires improvement,02/09/2026\n"
    "1-200000003,Cedar Care,1-100000003,Cedar Care Ltd,Outstanding,21/11/2025\n"
    "1-200000004,Dale Care,1-100000004,Dale Care Ltd,,\n"
)
GOOD, REQUIRES_IMPROVEMENT, GONE, UNRATED = (
    "1-200000001",
    "1-200000002",
    "1-200000003",
    "1-200000004",
)


@pytest.fixture
def directory(app: Flask) -> None:
    """Four locations imported, then the third missing from a newer file (deregistered)."""
    care_directory.import_care_directory(
        db.session, care_directory.read_care_directory(DIRECTORY), now=IMPORTED_AT
    )
    newer = "".join(line for line in DIRECTORY.splitlines(True) if GONE not in line)
    care_directory.import_care_directory(
        db.session,
        care_directory.read_care_directory(newer),
        now=IMPORTED_AT.replace(day=1, month=12),
    )
    db.session.commit()


@pytest.fixture
def claiming(
    make_organisation: Callable[..., Organisation], make_listing: Callable[..., Service]
) -> Callable[..., Service]:
    """A published listing naming a CQC location ID and claiming a rating."""

    def build(
        location_id: str | None, rating: CqcRating | None, name: str = "Home care visits"
    ) -> Service:
        service = make_listing(make_organisation(f"{name} Ltd"), name=name)
        service.cqc_location_id, service.cqc_rating = location_id, rating
        db.session.commit()
        return service

    return build
