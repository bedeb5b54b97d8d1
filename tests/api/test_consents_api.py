"""Consents and acting on someone's behalf through the integration API (issue 17, item 9).

A token made for a broker's account acts as that broker: it reaches a person's record, budget
and orders only while their brokerage holds a live consent covering what it asks, and the
moment the person withdraws the consent its very next request is refused. The person (or
their attorney) gives and withdraws consents through the API as on their pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.accounts import api_tokens as tokens
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.api import openapi
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.people import shortlists
from marketplace.people.audit import AuditEntry
from marketplace.people.models import Authority, Consent
from providers.models import Organisation, OrganisationStatus
from tests.api.conftest import Clock
from tests.api.integration_helpers import bearer, error_of, matches
from tests.orders.fixtures import TODAY, World, assert_ledger_verifies

ONE_OFF = {"kind": "one_off", "starts_on": TODAY.isoformat(), "units_per_occasion": 2}
IN_A_YEAR = (TODAY + timedelta(days=365)).isoformat()


@pytest.fixture(autouse=True)
def today(clock: Clock) -> None:
    """Every test here runs at the orders tests' TODAY."""


def token_for(user: User) -> dict[str, str]:
    """The bearer header of a new committed token `user` made to act for themselves."""
    _row, secret = tokens.create_token(
        db.session,
        name=f"For {user.email} {uuid.uuid4().hex[:6]}",
        role=user.role,
        user=user,
        created_by=user,
    )
    db.session.commit()
    return bearer(secret)


@pytest.fixture
def broker(make_user: Callable[..., User]) -> User:
    return make_user(Role.BROKER)


def _give(client: FlaskClient, world: World, broker: User, **body: Any) -> Any:
    asked = {
        "brokerage_id": str(broker.organisation_id),
        "scopes": ["see", "shortlist", "order"],
        "ends_on": IN_A_YEAR,
        **body,
    }
    return client.post(
        f"/api/v1/people/{world.person.id}/consents", json=asked, headers=token_for(world.citizen)
    )


def test_the_person_gives_consent_and_the_brokers_token_acts_within_it_until_withdrawn(
    app: Flask, world: World, broker: User
) -> None:
    client = app.test_client()
    brokers_token = token_for(broker)
    person_path = f"/api/v1/people/{world.person.id}"
    assert client.get(person_path, headers=brokers_token).status_code == 403
    assert client.get("/api/v1/consents", headers=brokers_token).get_json() == {"items": []}

    given = _give(client, world, broker)

    assert given.status_code == 201, given.get_json()
    body = given.get_json()
    document = openapi.document("http://localhost/api/v1")
    matches(document, "Consent", body)
    assert body["state"] == "live"
    assert body["authority"] == "person"
    assert body["given_by_name"] == world.person.full_name
    assert body["grantee"] == {
        "kind": "brokerage",
        "id": str(broker.organisation_id),
        "name": db.session.get(Organisation, broker.organisation_id).name,
    }
    assert given.headers["Location"] == f"/api/v1/consents/{body['id']}"
    held = client.get("/api/v1/consents", headers=brokers_token).get_json()
    matches(document, "Consents", held)
    assert [c["id"] for c in held["items"]] == [body["id"]]
    # "see" lets the broker read the record and the budget; the statement likewise.
    assert client.get(person_path, headers=brokers_token).status_code == 200
    assert client.get(f"{person_path}/budget", headers=brokers_token).status_code == 200
    # Only the person (or their attorney) withdraws it, never its holder.
    revoke = f"/api/v1/consents/{body['id']}/revoke"
    refused = client.post(revoke, headers=brokers_token)
    assert (refused.status_code, error_of(refused)) == (403, "forbidden")

    withdrawn = client.post(revoke, headers=token_for(world.citizen))

    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["state"] == "withdrawn"
    assert withdrawn.get_json()["revoked_by_name"] == world.citizen.full_name
    # The broker's very next request is refused, and the consent is no longer held.
    assert client.get(person_path, headers=brokers_token).status_code == 403
    assert client.get(f"{person_path}/budget", headers=brokers_token).status_code == 403
    assert client.get("/api/v1/consents", headers=brokers_token).get_json() == {"items": []}
    # Withdrawing again changes nothing.
    again = client.post(revoke, headers=token_for(world.citizen))
    assert again.status_code == 200
    assert again.get_json()["revoked_at"] == withdrawn.get_json()["revoked_at"]


def test_a_brokers_token_orders_only_an_approved_choice_and_the_order_names_the_consent(
    app: Flask, world: World, broker: User
) -> None:
    client = app.test_client()
    consent_id = _give(client, world, broker).get_json()["id"]
    brokers_token = token_for(broker)
    order = {
        "person_id": str(world.person.id),
        "service_id": str(world.service.id),
        "schedule": ONE_OFF,
    }

    unapproved = client.post("/api/v1/orders", json=order, headers=brokers_token)

    assert unapproved.status_code == 422, unapproved.get_json()
    assert "approved" in unapproved.get_json()["message"]
    assert db.session.query(Order).count() == 0

    shortlists.add(
        db.session, world.person, world.service.id, by=broker, note="Local, and has a morning slot"
    )
    listed = shortlists.shortlist_of(db.session, world.person)
    assert listed is not None
    shortlists.approve(
        db.session, listed, [world.service.id], seen_version=listed.version, by=world.citizen
    )
    db.session.commit()

    placed = client.post("/api/v1/orders", json=order, headers=brokers_token)

    assert placed.status_code == 201, placed.get_json()
    found = db.session.get(Order, uuid.UUID(placed.get_json()["id"]))
    assert found is not None
    assert (found.placed_by_id, str(found.consent_id)) == (broker.id, consent_id)
    assert_ledger_verifies(db.session)


def test_a_consent_without_order_lets_the_broker_read_but_not_buy(
    app: Flask, world: World, broker: User
) -> None:
    client = app.test_client()
    _give(client, world, broker, scopes=["see"])
    order = {
        "person_id": str(world.person.id),
        "service_id": str(world.service.id),
        "schedule": ONE_OFF,
    }

    refused = client.post("/api/v1/orders", json=order, headers=token_for(broker))

    assert (refused.status_code, error_of(refused)) == (403, "forbidden")
    assert (
        client.get(f"/api/v1/people/{world.person.id}", headers=token_for(broker)).status_code
        == 200
    )


def test_a_broker_of_another_brokerage_and_another_citizen_see_nothing(
    app: Flask, world: World, broker: User, make_user: Callable[..., User]
) -> None:
    client = app.test_client()
    consent_id = _give(client, world, broker).get_json()["id"]
    stranger, other_citizen = make_user(Role.BROKER), make_user(Role.CITIZEN)

    for who in (stranger, other_citizen):
        headers = token_for(who)
        assert client.get(f"/api/v1/people/{world.person.id}", headers=headers).status_code == 403
        assert client.get(f"/api/v1/consents/{consent_id}", headers=headers).status_code == 404
        assert (
            client.post(f"/api/v1/consents/{consent_id}/revoke", headers=headers).status_code == 404
        )
        assert (
            client.get(f"/api/v1/people/{world.person.id}/consents", headers=headers).status_code
            == 403
        )
    # An officer sees the person's consents, and a holder sees its own consent.
    listed = client.get(
        f"/api/v1/people/{world.person.id}/consents", headers=token_for(world.officer)
    )
    assert [c["id"] for c in listed.get_json()["items"]] == [consent_id]
    assert (
        client.get(f"/api/v1/consents/{consent_id}", headers=token_for(broker)).status_code == 200
    )


def test_bad_consents_are_refused_with_every_field_named_and_change_nothing(
    app: Flask, world: World, broker: User, make_organisation: Callable[..., Organisation]
) -> None:
    client = app.test_client()
    pending = make_organisation("Not Yet Approved Brokerage", status=OrganisationStatus.PENDING)
    db.session.commit()

    wrong = _give(client, world, broker, scopes=["see", "fly"], ends_on="2026-02-30", extra=1)
    assert (wrong.status_code, error_of(wrong)) == (422, "validation_error")
    assert set(wrong.get_json()["details"]["fields"]) == {"scopes", "ends_on", "extra"}
    not_approved = _give(client, world, broker, brokerage_id=str(pending.id))
    assert not_approved.status_code == 422
    assert set(not_approved.get_json()["details"]["fields"]) == {"brokerage_id"}
    too_long = _give(client, world, broker, ends_on=(TODAY + timedelta(days=4 * 365)).isoformat())
    assert too_long.status_code == 422
    assert set(too_long.get_json()["details"]["fields"]) == {"ends_on"}
    assert db.session.query(Consent).count() == 0
    # A second consent to the same brokerage over the same time is refused too.
    assert _give(client, world, broker).status_code == 201
    overlapping = _give(client, world, broker)
    assert overlapping.status_code == 422
    assert set(overlapping.get_json()["details"]["fields"]) == {"brokerage_id"}
    assert db.session.query(Consent).count() == 1


def test_an_attorney_gives_and_withdraws_the_persons_consents_through_the_api(
    app: Flask, world: World, broker: User, make_user: Callable[..., User]
) -> None:
    client = app.test_client()
    daughter = make_user(Role.CITIZEN)
    lpa = Consent(
        person_id=world.person.id,
        grantee_user_id=daughter.id,
        scopes=["see", "shortlist", "order", "pay", "plan", "message"],
        authority=Authority.LPA_PROPERTY_FINANCE,
        given_by_name=daughter.full_name,
        document_reference="7000-1111-2222",
        recorded_by_id=world.officer.id,
        starts_at=clock_now() - timedelta(days=1),
        ends_at=clock_now() + timedelta(days=700),
    )
    db.session.add(lpa)
    db.session.commit()
    daughters_token = token_for(daughter)
    asked = {"brokerage_id": str(broker.organisation_id), "scopes": ["see"], "ends_on": IN_A_YEAR}

    given = client.post(
        f"/api/v1/people/{world.person.id}/consents", json=asked, headers=daughters_token
    )

    assert given.status_code == 201, given.get_json()
    assert given.get_json()["authority"] == "lpa_property_finance"
    assert given.get_json()["document_reference"] == "7000-1111-2222"
    held = client.get("/api/v1/consents", headers=daughters_token).get_json()["items"]
    assert [c["id"] for c in held] == [str(lpa.id)]
    withdrawn = client.post(
        f"/api/v1/consents/{given.get_json()['id']}/revoke", headers=daughters_token
    )
    assert withdrawn.get_json()["state"] == "withdrawn"


def clock_now() -> Any:
    from marketplace.types import utcnow

    return utcnow()


def test_what_a_brokers_token_reads_and_places_for_the_person_is_in_their_audit_log(
    app: Flask, world: World, broker: User
) -> None:
    client = app.test_client()
    consent_id = _give(client, world, broker).get_json()["id"]
    brokers_token = token_for(broker)
    person_path = f"/api/v1/people/{world.person.id}"

    assert client.get(person_path, headers=brokers_token).status_code == 200
    assert client.get(f"{person_path}/budget", headers=brokers_token).status_code == 200
    # The person reading their own record through the API is not an entry about them.
    assert client.get(person_path, headers=token_for(world.citizen)).status_code == 200

    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.person_id == world.person.id).order_by(AuditEntry.path)
    ).all()
    assert [(e.actor_id, str(e.consent_id), e.action.value) for e in entries] == [
        (broker.id, consent_id, "viewed"),
        (broker.id, consent_id, "viewed"),
    ]
    assert all(e.token_id is not None for e in entries)
    assert [e.path for e in entries] == [person_path, f"{person_path}/budget"]
