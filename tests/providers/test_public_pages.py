"""What the public service and provider pages say about a provider: read from its listings,
never contradicting them."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from marketplace.extensions import db
from providers.models import Organisation, Service


def _text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_provider_without_areas_of_its_own_shows_the_areas_its_listings_name(
    client: FlaskClient,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    provider = make_organisation("Stort Valley Care")
    service = make_listing(provider)
    assert provider.areas == []
    assert [area.name for area in service.localities] == ["Stevenage"]

    page = _text(client, f"/providers/{provider.id}")

    assert "Ask the provider" not in page
    areas = page.split("Areas served")[1].split("</dd>")[0]
    assert "Stevenage" in areas


def test_english_is_listed_once_among_a_services_languages(
    client: FlaskClient,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    service = make_listing(make_organisation())
    service.languages = ["English", "Polish"]
    db.session.commit()

    page = _text(client, f"/services/{service.id}")

    languages = page.split("Languages")[1].split("</dd>")[0]
    assert "English, Polish" in languages
    assert "English, English" not in page
