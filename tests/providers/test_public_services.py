"""Which services anyone may see: one rule (published, by an approved organisation), asked the
same way by the directory's pages, the search index, the export and the public API."""

from __future__ import annotations

from collections.abc import Callable

from marketplace.extensions import db
from providers import directory, search_index
from providers.models import Organisation, OrganisationStatus, Service, ServiceStatus
from providers.openreferral import exporter


def test_every_public_listing_query_agrees_with_the_rule(
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    services = [
        make_listing(
            make_organisation(f"{org_status.value} {status.value}", status=org_status),
            name=f"Listing {status.value}",
            status=status,
        )
        for org_status in OrganisationStatus
        for status in ServiceStatus
    ]
    db.session.commit()
    # Imported once the app has loaded every model: the module's loader options map them all.
    from marketplace.api import queries
    from marketplace.api.params import ServiceFilters

    public = {service.id for service in services if service.is_public}
    # One per organisation status and listing status: only published-and-approved is public.
    assert len(public) == 1

    assert directory.public_service_count() == len(public)
    assert {s.id for s in services if directory.public_service(s.id) is not None} == public
    assert {s.id for s in exporter.services_to_export()} == public
    assert {document.id for document in search_index.public_documents()} == {
        str(service_id) for service_id in public
    }
    assert {s.id for s in queries.services(ServiceFilters(), None).items} == public
    assert {s.id for s in services if queries.service(s.id) is not None} == public
    organisation_ids = [service.organisation_id for service in services]
    nested = queries.services_of(organisation_ids)
    assert {s.id for listed in nested.values() for s in listed} == public
