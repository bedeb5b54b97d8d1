"""A person's details through the integration API: the new fields in GET and PATCH
/people/{id}, answers that match the OpenAPI document, the key safe code written but never
read back, every change on the record (with the token it came through), and each bad field
answered 422 by name."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people import details
from marketplace.people.models import Person
from tests.api.integration_helpers import bearer, error_of, matches, new_token

PEOPLE = "/api/v1/people"
CHANGES = {
    "address_line_1": "12 Orchard Way",
    "town": "Stevenage",
    "county": "Hertfordshire",
    "postcode": "sg14qt",
    "phone": "01632  960901",
    "preferred_contact": "text",
    "communication_needs": "Uses BSL",
    "key_safe_code": "C4729X",
    "access_notes": "Side gate",
    "date_of_birth": "1941-03-14",
}


@pytest.fixture
def officer(app: Flask) -> dict[str, str]:
    return bearer(new_token(Role.COUNCIL_OFFICER, name="Case system"))


@pytest.fixture
def person_id(client: FlaskClient, officer: dict[str, str]) -> str:
    created = client.post(PEOPLE, json={"full_name": "Dorothy Pearce"}, headers=officer)
    assert created.status_code == 201
    return created.get_json()["id"]


def test_the_details_are_changed_and_read_back_without_the_key_safe_code(
    client: FlaskClient, officer: dict[str, str], person_id: str, document: dict[str, Any]
) -> None:
    changed = client.patch(f"{PEOPLE}/{person_id}", json=CHANGES, headers=officer)
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    matches(document, "Person", body)
    assert body["postcode"] == "SG1 4QT"
    assert body["phone"] == "01632 960901"
    assert body["preferred_contact"] == "text"
    assert body["has_key_safe_code"] is True
    assert "key_safe_code" not in body
    assert "C4729X" not in changed.get_data(as_text=True)
    read = client.get(f"{PEOPLE}/{person_id}", headers=officer).get_json()
    assert read == body

    person = db.session.get(Person, uuid.UUID(person_id))
    history = details.details_history(db.session, person)
    assert len(history) == 1
    assert history[0].token is not None
    assert history[0].token.name == "Case system"
    assert history[0].changed_by_id is None
    assert "key_safe_code" in history[0].fields

    cleared = client.patch(f"{PEOPLE}/{person_id}", json={"key_safe_code": None}, headers=officer)
    assert cleared.get_json()["has_key_safe_code"] is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"postcode": "SG1"}, "postcode"),
        ({"phone": "call me"}, "phone"),
        ({"phone": "1" * 31}, "phone"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "1800-01-01"}, "date_of_birth"),
        ({"date_of_birth": "2147483648-01-01"}, "date_of_birth"),
        ({"preferred_contact": "pigeon"}, "preferred_contact"),
        ({"preferred_contact": 1}, "preferred_contact"),
        ({"address_line_1": "x" * 101}, "address_line_1"),
        ({"communication_needs": "x" * 100_000}, "communication_needs"),
        ({"key_safe_code": "1" * 21}, "key_safe_code"),
        ({"access_notes": ["a list"]}, "access_notes"),
        ({"has_key_safe_code": True}, "has_key_safe_code"),
    ],
)
def test_a_bad_detail_is_refused_by_name(
    client: FlaskClient,
    officer: dict[str, str],
    person_id: str,
    changes: dict[str, Any],
    field: str,
) -> None:
    response = client.patch(f"{PEOPLE}/{person_id}", json=changes, headers=officer)
    assert response.status_code == 422
    assert error_of(response) == "validation_error"
    assert field in response.get_json()["details"]["fields"]


def test_the_document_describes_the_new_fields(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("address_line_1", "town", "county", "preferred_contact", "access_notes"):
        assert name in schemas["Person"]["properties"]
        assert name in schemas["PersonChanges"]["properties"]
    assert "key_safe_code" not in schemas["Person"]["properties"]
    assert schemas["PersonChanges"]["properties"]["key_safe_code"]["writeOnly"] is True
    assert "has_key_safe_code" in schemas["Person"]["required"]
