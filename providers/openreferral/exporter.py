"""`flask directory export`: the directory as ORUK 3.0 JSON or as our CSV template.

The JSON is a list of fully nested services, exactly as `/api/v1/services/{id}` gives them,
less `last_modified` (it says when our copy changed, which an import elsewhere cannot keep),
and with the provider's own CQC claim in `accreditations` where the feed gives the CQC's
rating from its directory: an export carries what providers typed, and the directory that
imports it checks the claim against its own CQC import.
The CSV is one template row per service (see `csv_records`). Both are what `flask directory
import` reads, so export, import into an empty database and export again gives the same file.

By default the export holds what the public feed shows: approved organisations' published
services. `everything=True` adds drafts, archived listings and organisations the council has
not approved (or has suspended), for moving a whole directory.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.cqc.checks import verified_locations
from marketplace.extensions import db
from providers.models import (
    Organisation,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
    service_is_public,
)
from providers.openreferral import csv_records, encoding, oruk
from providers.openreferral.phrases import accreditation_text

ExportFormat = Literal["json", "csv"]


@dataclass
class Export:
    """The file's text, how many services it holds, and anything it could not hold."""

    text: str
    services: int
    warnings: list[str] = field(default_factory=list)


def services_to_export(*, everything: bool = False) -> list[Service]:
    """The services to export, by organisation name then service name (then id, for ties)."""
    query = (
        select(Service)
        .join(Organisation)
        .order_by(Organisation.name, Organisation.id, Service.name, Service.id)
        .options(
            selectinload(Service.organisation).selectinload(Organisation.areas),
            selectinload(Service.taxonomy_terms).selectinload(TaxonomyTerm.parent),
            selectinload(Service.localities),
            selectinload(Service.locations).selectinload(ServiceAtLocation.location),
        )
    )
    if not everything:
        query = query.where(service_is_public())
    return list(db.session.scalars(query))


def export_directory(file_format: ExportFormat, *, everything: bool = False) -> Export:
    """The directory as the text of a JSON or CSV file (see the module's description)."""
    services = services_to_export(everything=everything)
    if file_format == "json":
        listing = []
        verified = verified_locations(services)
        for service in services:
            entry = oruk.service_full(service, verified=verified)
            entry.pop("last_modified", None)
            claim = accreditation_text(service.cqc_location_id, service.cqc_rating)
            if claim is not None:
                entry["accreditations"] = claim
            listing.append(entry)
        return Export(encoding.dumps(listing, indent=2) + "\n", len(services))
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=csv_records.COLUMNS, lineterminator="\n")
    writer.writeheader()
    warnings = []
    for service in services:
        writer.writerow(csv_records.row_for(service))
        if len(service.locations) > 1:
            warnings.append(
                f"{service.name} ({service.organisation.name}) is offered at "
                f"{len(service.locations)} venues: the CSV holds the first, the JSON holds all"
            )
    return Export(buffer.getvalue(), len(services), warnings)
