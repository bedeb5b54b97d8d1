"""The demo's CQC trust signals: the sample care directory imported, and a few home care
listings naming CQC locations in it (their organisations giving the sample's CQC provider
IDs), one claiming a rating the CQC does not give and one naming an ID the CQC does not know,
so the council's CQC page shows both flagged.

Providers type their CQC location ID and rating on their listing form; the demo writes them
as a provider would, only where a listing names none yet, so running it again changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from marketplace.cqc import care_directory
from marketplace.cqc.models import CqcLocation
from marketplace.extensions import db
from marketplace.types import utcnow
from providers.models import CqcRating, Organisation, Service, ServiceStatus, TaxonomyTerm

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

# The repository's root (not `marketplace.PROJECT_ROOT`: the app's package imports every page).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = PROJECT_ROOT / "docs" / "cqc" / "care-directory-sample.csv"

# The care the CQC regulates among the demo's categories: an agency's listings of it are all
# delivered from its registered location (its office), so they all name that location.
REGULATED = ("personal-care", "live-in-care", "night-care")

# (organisation, CQC location ID its regulated listings give, rating they claim).
CLAIMS: tuple[tuple[str, str, CqcRating], ...] = (
    # Borne out by the CQC: shown with the CQC's rating and its date on each listing.
    ("Bluebell Homecare Stevenage", "1-2210457731", CqcRating.GOOD),
    ("Riverside Care at Home", "1-2210457952", CqcRating.OUTSTANDING),
    ("Heritage Live-in Care", "1-2210458066", CqcRating.NOT_YET_RATED),
    # Claims Outstanding; the CQC rates it Requires improvement: flagged to the council.
    ("Chiltern Home Care", "1-2210457844", CqcRating.OUTSTANDING),
    # An ID the CQC has never issued, claiming Good (the finding): flagged as unknown.
    ("Garden City Care Services", "1-2219999999", CqcRating.GOOD),
)


def _regulated_listings(organisation_name: str) -> list[Service]:
    return list(
        db.session.scalars(
            select(Service)
            .join(Organisation)
            .where(
                Organisation.name == organisation_name,
                Service.status == ServiceStatus.PUBLISHED,
                Service.taxonomy_terms.any(TaxonomyTerm.code.in_(REGULATED)),
            )
            .order_by(Service.name)
        )
    )


def seed_cqc() -> SeedReport:
    """Import the sample directory and write the demo listings' CQC claims. Raises
    SeedOrderError when a listing it needs is missing (seed providers first)."""
    from marketplace.demo.seed import SeedOrderError, SeedReport, Tally

    entries = care_directory.read_care_directory_file(SAMPLE)
    providers = {entry.location_id: entry.provider_id for entry in entries}
    stored = set(db.session.scalars(select(CqcLocation.location_id)))
    locations = Tally("CQC locations")
    # A real directory imported before the demo stays: the sample would deregister it.
    if stored - {entry.location_id for entry in entries}:
        locations.existing = len(stored)
    else:
        summary = care_directory.import_care_directory(db.session, entries, now=utcnow())
        locations.created.extend(summary.added)
        locations.existing = summary.unchanged + len(summary.updated)
    for organisation_name, location_id, rating in CLAIMS:
        listings = _regulated_listings(organisation_name)
        if not listings:
            raise SeedOrderError(
                f"{organisation_name!r} has no published home care listing: seed providers first"
            )
        # A claim is a change to a listing, not a row of its own, so the report counts none.
        for service in listings:
            if not service.cqc_location_id:
                service.cqc_location_id, service.cqc_rating = location_id, rating
        # The demo's made-up provider IDs give way to the sample's, as a provider registered
        # with the CQC would give its own (set only when different: a second run changes
        # nothing, not even the search outbox).
        organisation = listings[0].organisation
        if location_id in providers and organisation.cqc_provider_id != providers[location_id]:
            organisation.cqc_provider_id = providers[location_id]
    db.session.flush()
    return SeedReport([locations])
