"""`flask seed-demo` loads the CQC sample and a mismatch shows flagged (issue 13's "done when").

Only the steps the CQC step needs are run (a full seed hashes the demo passwords)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.cqc import care_directory, checks
from marketplace.cqc.checks import FlagKind
from marketplace.cqc.models import CqcLocation
from marketplace.demo import seed
from marketplace.demo.cqc_seed import seed_cqc
from marketplace.extensions import db
from marketplace.types import utcnow
from providers.models import CqcRating, Organisation, Service
from providers.search_index import SearchOutboxEntry
from tests.conftest import sign_in

STEPS = (seed.seed_taxonomy, seed.seed_localities, seed.seed_providers, seed_cqc)


def _flags() -> set[tuple[str, FlagKind]]:
    return {(flag.service.organisation.name, flag.kind) for flag in checks.listing_flags()}


def test_the_demo_loads_the_cqc_sample_and_flags_a_claimed_rating_the_cqc_does_not_give(
    app: Flask,
) -> None:
    seed.run_all(STEPS)
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(CqcLocation)) == 6
    assert _flags() == {
        ("Chiltern Home Care", FlagKind.RATING_DIFFERS),
        ("Garden City Care Services", FlagKind.UNKNOWN),
    }
    flagged = len(checks.listing_flags())
    washing = db.session.scalars(
        select(Service)
        .join(Organisation)
        .where(Organisation.name == "Bluebell Homecare Stevenage")
        .where(Service.name == "Help with washing and dressing")
    ).one()
    location = checks.verified_location(washing)
    assert location is not None
    assert location.rating is CqcRating.GOOD

    queued = db.session.scalar(select(func.count()).select_from(SearchOutboxEntry))
    again = seed.run_all(STEPS)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(SearchOutboxEntry)) == queued
    assert again.created("CQC locations") == []
    assert len(checks.listing_flags()) == flagged


def test_the_demo_keeps_a_real_directory_imported_before_it(app: Flask) -> None:
    real = (
        "Location ID,Location Name,Provider ID,Provider Name,Location Latest Overall Rating,"
        "Publication Date\n1-123456789,Real Care,1-100000001,Real Care Ltd,Good,01/02/2026\n"
    )
    care_directory.import_care_directory(
        db.session, care_directory.read_care_directory(real), now=utcnow()
    )

    seed.run_all(STEPS)

    stored = {row.location_id: row for row in db.session.scalars(select(CqcLocation))}
    assert list(stored) == ["1-123456789"]
    assert stored["1-123456789"].registered


def test_the_council_sees_the_demo_mismatch(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    seed.run_all(STEPS)
    db.session.commit()
    sign_in(client, make_user(Role.COUNCIL_OFFICER))

    page = client.get("/council/cqc").get_data(as_text=True)

    assert f"Listings to check ({len(checks.listing_flags())})" in page
    assert "Chiltern Home Care" in page
    assert "Rated differently from what the provider claims" in page
    assert "Requires improvement (CQC, published 2 September 2026)" in page
