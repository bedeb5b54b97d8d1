"""The demo's CQC trust signals: the sample care directory imported, and a few home care
listings naming CQC locations in it (their organisations giving the sample's CQC provider
IDs), one claiming a rating the CQC does not give and one naming an ID the CQC does not know,
so the council's CQC page shows both flagged.

Providers type their CQC location ID and rating on their listing form; the demo writes them
as a provider would, only where a listing names none yet, so running it again changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from marketplace import PROJECT_ROOT
from marketplace.cqc import care_directory
from marketplace.cqc.models import CqcLocation
from marketplace.demo.orders_seed import WASHING
from marketplace.extensions import db
from marketplace.types import utcnow
from providers.models import CqcRating, Organisation, Service, ServiceStatus

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

SAMPLE = PROJECT_ROOT / "docs" / "cqc" / "care-directory-sample.csv"

# (organisation, listing or None for its first published listing by name, location ID typed,
# rating claimed).
CLAIMS: tuple[tuple[str, str | None, str, CqcRating | None], ...] = (
    # Borne out by the CQC: shown as Good, with its date, on the listing.
    ("Bluebell Homecare Stevenage", WASHING, "1-2210457731", CqcRating.GOOD),
    ("Riverside Care at Home", None, "1-2210457952", CqcRating.OUTSTANDING),
    ("Heritage Live-in Care", None, "1-2210458066", CqcRating.NOT_YET_RATED),
    # Claims Outstanding; the CQC rates it Requires improvement: flagged to the council.
    ("Chiltern Home Care", None, "1-2210457844", CqcRating.OUTSTANDING),
    # An ID the CQC has never issued, claiming Good (the finding): flagged as unknown.
    ("Garden City Care Services", None, "1-2219999999", CqcRating.GOOD),
)


def _listing(organisation_name: str, listing_name: str | None) -> Service | None:
    query = (
        select(Service)
        .join(Organisation)
        .where(Organisation.name == organisation_name, Service.status == ServiceStatus.PUBLISHED)
        .order_by(Service.name)
    )
    if listing_name is not None:
        query = query.where(Service.name == listing_name)
    return db.session.scalars(query.limit(1)).first()


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
        summary = care_directory.import_care_directory(entries, now=utcnow())
        locations.created.extend(summary.added)
        locations.existing = summary.unchanged + len(summary.updated)
    for organisation_name, listing_name, location_id, rating in CLAIMS:
        service = _listing(organisation_name, listing_name)
        if service is None:
            raise SeedOrderError(
                f"{organisation_name!r} has no published listing: seed providers first"
            )
        # A claim is a change to a listing, not a row of its own, so the report counts none.
        if not service.cqc_location_id:
            service.cqc_location_id, service.cqc_rating = location_id, rating
            # The demo's made-up provider IDs give way to the sample's, as a provider
            # registered with the CQC would give its own.
            if location_id in providers:
                service.organisation.cqc_provider_id = providers[location_id]
    db.session.flush()
    return SeedReport([locations])
