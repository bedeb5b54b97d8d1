"""Fixtures for the feed: the reference data, and services built in one call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.api import order_views
from marketplace.extensions import db
from providers.models import (
    Locality,
    Location,
    Organisation,
    OrganisationStatus,
    PriceUnit,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.orders.fixtures import TODAY


@pytest.fixture
def reference_data(app: Flask) -> None:
    ensure_taxonomy()
    ensure_localities()
    db.session.commit()


def _by_code(model: type[Any], codes: list[str]) -> list[Any]:
    rows = {row.code: row for row in db.session.scalars(select(model).where(model.code.in_(codes)))}
    return [rows[code] for code in codes]


@pytest.fixture
def make_service(reference_data: None) -> Callable[..., Service]:
    """A committed service; its organisation is made (approved) unless one is given."""

    def build(
        name: str = "Home care visits",
        *,
        organisation: Organisation | None = None,
        organisation_status: OrganisationStatus = OrganisationStatus.APPROVED,
        status: ServiceStatus = ServiceStatus.PUBLISHED,
        description: str = "Help with washing and dressing.",
        categories: tuple[str, ...] = ("personal-care",),
        areas: tuple[str, ...] = ("stevenage",),
        price_pence: int = 2650,
        price_unit: PriceUnit = PriceUnit.PER_HOUR,
        venue: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Service:
        if organisation is None:
            organisation = Organisation(
                name=f"{name} Ltd", description="A provider.", status=organisation_status
            )
            db.session.add(organisation)
        service = Service(
            organisation=organisation,
            name=name,
            description=description,
            status=status,
            price_pence=price_pence,
            price_unit=price_unit,
            taxonomy_terms=_by_code(TaxonomyTerm, list(categories)),
            localities=_by_code(Locality, list(areas)),
            **fields,
        )
        if venue is not None:
            location = Location(organisation=organisation, **venue)
            service.locations = [ServiceAtLocation(location=location)]
        db.session.add(service)
        db.session.commit()
        return service

    return build


STEVENAGE_VENUE = {
    "name": "Bowes Lyon House",
    "address": "St George's Way",
    "town": "Stevenage",
    "postcode": "SG1 1XY",
    "latitude": 51.9017,
    "longitude": -0.2019,
}


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    """The OpenAPI document the app serves."""
    return client.get("/api/v1/openapi.json").get_json()


@dataclass
class Clock:
    today: date


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The orders API's "today" (London), fixed at the orders tests' TODAY, moved by a test."""
    fixed = Clock(TODAY)
    monkeypatch.setattr(order_views, "london_today", lambda: fixed.today)
    return fixed
