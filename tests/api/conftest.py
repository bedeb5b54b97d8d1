"""Fixtures for the feed: the reference data, and services built in one call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.formatting import LONDON
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
from tests.conftest import sign_in
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


class Clock:
    """The wall clock, held (ticking) at noon in London on `today`; a test moves it by setting
    `today`. The one way the suite sets the time: time-machine, so the views, the rules and
    the database's stamps all read the same moment."""

    def __init__(self, traveller: time_machine.Coordinates, today: date) -> None:
        self._traveller = traveller
        self._today = today
        self._signed_in: list[tuple[FlaskClient, User]] = []

    def keep_signed_in(self, client: FlaskClient, user: User) -> FlaskClient:
        """Sign `client` in as `user` again whenever the clock moves: a move of days ends a
        browser session (30 idle minutes), as it would for a person."""
        self._signed_in.append((client, user))
        return client

    @property
    def today(self) -> date:
        return self._today

    @today.setter
    def today(self, day: date) -> None:
        self._today = day
        self._traveller.move_to(noon_in_london(day))
        for client, user in self._signed_in:
            sign_in(client, user)


def noon_in_london(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=LONDON)


@pytest.fixture
def clock() -> Iterator[Clock]:
    """The clock at the orders tests' TODAY, moved by a test."""
    with time_machine.travel(noon_in_london(TODAY)) as traveller:
        yield Clock(traveller, TODAY)
