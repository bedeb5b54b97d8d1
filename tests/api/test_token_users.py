"""API tokens that act for a user account: made by the CLI (`--user`) and the admin page only
for an active user of the token's role; their requests are made as that user (the policy sees
the user, the order records them), their Idempotency-Keys stay the token's, and deactivating
the user or revoking the token stops them at once. Tokens for no one still only read orders."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts import api_tokens as tokens
from marketplace.accounts.api_tokens import ApiToken
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.orders.models import Delivery, Order, OrderStatus
from tests.api.conftest import Clock
from tests.api.integration_helpers import bearer, error_of
from tests.conftest import sign_in
from tests.orders.fixtures import (
    TODAY,
    World,
    assert_ledger_verifies,
)

ORDERS = "/api/v1/orders"
ONE_OFF_TODAY = {"kind": "one_off", "starts_on": TODAY.isoformat(), "units_per_occasion": 2}


@pytest.fixture(autouse=True)
def today(clock: Clock) -> None:
    """Every test here runs at the orders tests' TODAY."""


def token_for(user: User, name: str | None = None) -> dict[str, str]:
    """The bearer header of a new committed token that `user` made to act for themselves."""
    _row, secret = tokens.create_token(
        db.session, name=name or f"For {user.email}", role=user.role, user=user, created_by=user
    )
    db.session.commit()
    return bearer(secret)


def new_order(ordering: World, schedule: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "service_id": str(ordering.service.id),
        "person_id": str(ordering.person.id),
        "schedule": schedule or ONE_OFF_TODAY,
    }


def count(model: type[Any]) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


# Making them ------------------------------------------------------------------------------


def test_the_cli_makes_a_token_for_an_active_user_of_its_role_only(
    app: Flask,
    client: FlaskClient,
    world: World,
) -> None:
    runner = app.test_cli_runner()
    officer_email = world.officer.email

    def create(name: str, role: str, email: str) -> Any:
        return runner.invoke(
            args=["api-token", "create", "--role", role, "--name", name, "--user", email]
        )

    unknown = create("Nobody's", "council_officer", "nobody@example.org")
    assert unknown.exit_code != 0
    assert "no user" in unknown.output
    wrong_role = create("Wrong role", "provider_staff", officer_email)
    assert wrong_role.exit_code != 0
    assert "council officer, not a provider staff" in wrong_role.output.lower()
    world.officer.active = False
    db.session.commit()
    inactive = create("Inactive", "council_officer", officer_email)
    assert inactive.exit_code != 0
    assert "deactivated" in inactive.output
    assert count(ApiToken) == 0

    world.officer.active = True
    db.session.commit()
    made = create("Case management (Ann)", "council_officer", officer_email.upper())
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    assert secret.startswith("mkt_")
    row = tokens.token_by_name(db.session, "Case management (Ann)")
    assert (row.user_id, row.role) == (world.officer.id, Role.COUNCIL_OFFICER)
    assert "does nothing until" in made.output
    listed = runner.invoke(args=["api-token", "list"]).output
    assert f"acts for {officer_email}" in listed
    assert "waiting for its user to confirm it" in listed

    # Nothing until the officer confirms it; then it places an order as the officer.
    refused = client.post(ORDERS, json=new_order(world), headers=bearer(secret))
    assert refused.status_code == 401
    assert "not confirmed" in refused.get_json()["message"]
    assert count(Order) == 0
    tokens.confirm(db.session, row, by=world.officer)
    db.session.commit()
    placed = client.post(ORDERS, json=new_order(world), headers=bearer(secret))
    assert placed.status_code == 201, placed.get_json()


def test_an_admin_chooses_the_user_a_token_acts_for(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    world: World,
) -> None:
    admin = make_user(Role.ADMIN)
    sign_in(client, admin)
    form = client.get("/admin/api-tokens/new").get_data(as_text=True)
    assert f'value="{world.officer.id}"' in form
    assert f'value="{world.staff.id}"' in form
    assert f'value="{admin.id}"' not in form  # an admin is not a role a token may be

    wrong_role = client.post(
        "/admin/api-tokens/new",
        data={"name": "Rota", "role": "council_officer", "user": str(world.staff.id)},
    )
    assert wrong_role.status_code == 400
    assert "not a council officer" in wrong_role.get_data(as_text=True)
    not_listed = client.post(
        "/admin/api-tokens/new",
        data={"name": "Rota", "role": "council_officer", "user": str(uuid.uuid4())},
    )
    assert not_listed.status_code == 400
    assert "Choose a user from the list" in not_listed.get_data(as_text=True)
    assert count(ApiToken) == 0

    created = client.post(
        "/admin/api-tokens/new",
        data={"name": "Rota", "role": "provider_staff", "user": str(world.staff.id)},
    )
    assert created.status_code == 200
    secret = re.search(r"mkt_[A-Za-z0-9_-]{43}", created.get_data(as_text=True)).group(0)
    row = tokens.token_by_name(db.session, "Rota")
    assert row.user_id == world.staff.id
    assert world.staff.email in client.get("/admin/api-tokens").get_data(as_text=True)

    order = app.test_client().post(ORDERS, json=new_order(world), headers=token_for(world.officer))
    accept = f"{ORDERS}/{order.get_json()['id']}/accept"
    assert app.test_client().post(accept, headers=bearer(secret)).status_code == 401
    staff = app.test_client()
    sign_in(staff, world.staff)
    assert staff.post(f"/account/api-tokens/{row.id}/confirm").status_code == 302
    accepted = app.test_client().post(accept, headers=bearer(secret))
    assert accepted.status_code == 200, accepted.get_json()

    # Without a user, as before.
    plain = client.post("/admin/api-tokens/new", data={"name": "Reader", "role": "council_officer"})
    assert plain.status_code == 200
    assert tokens.token_by_name(db.session, "Reader").user_id is None


# Using them -------------------------------------------------------------------------------


def test_an_officers_token_places_and_cancels_an_order_as_the_officer(
    client: FlaskClient,
    session: Session,
    world: World,
) -> None:
    officer = token_for(world.officer)
    placed = client.post(ORDERS, json=new_order(world), headers=officer)
    assert placed.status_code == 201, placed.get_json()
    body = placed.get_json()
    stored = session.get(Order, uuid.UUID(body["id"]))
    assert stored.placed_by_id == world.officer.id
    assert body["events"][0]["actor_role"] == "council_officer"
    assert stored.events[0].actor_id == world.officer.id

    cancelled = client.post(
        f"{ORDERS}/{body['id']}/cancel", json={"reason": "Going into hospital"}, headers=officer
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"
    session.expire_all()
    assert stored.events[-1].actor_id == world.officer.id
    assert_ledger_verifies(session)


def test_a_providers_token_fulfils_its_own_organisations_orders_only(
    client: FlaskClient,
    session: Session,
    world: World,
) -> None:
    order_id = client.post(
        ORDERS, json=new_order(world), headers=token_for(world.officer)
    ).get_json()["id"]
    others = token_for(world.other_staff)
    path = f"{ORDERS}/{order_id}"
    delivery = {"delivered_on": TODAY.isoformat(), "units": 2, "note": "Morning visit"}
    for refused in (
        client.get(path, headers=others),
        client.post(f"{path}/accept", headers=others),
        client.post(f"{path}/deliveries", json=delivery, headers=others),
    ):
        assert refused.status_code == 403
        assert error_of(refused) == "forbidden"
    assert session.get(Order, uuid.UUID(order_id)).status is OrderStatus.PLACED

    own = token_for(world.staff)
    assert client.post(f"{path}/accept", headers=own).status_code == 200
    recorded = client.post(f"{path}/deliveries", json=delivery, headers=own)
    assert recorded.status_code == 201, recorded.get_json()
    stored = session.get(Delivery, uuid.UUID(recorded.get_json()["id"]))
    assert stored.recorded_by_id == world.staff.id
    assert client.post(f"{path}/deliveries", json=delivery, headers=others).status_code == 403
    assert count(Delivery) == 1
    assert_ledger_verifies(session)


def test_deactivating_the_user_or_revoking_the_token_stops_it_at_once(
    client: FlaskClient,
    session: Session,
    world: World,
) -> None:
    officer = token_for(world.officer, name="Ann's")
    body = client.post(ORDERS, json=new_order(world), headers=officer).get_json()
    world.officer.active = False
    session.commit()
    for response in (
        client.get(f"{ORDERS}/{body['id']}", headers=officer),
        client.post(ORDERS, json=new_order(world), headers=officer),
    ):
        assert response.status_code == 401
        assert error_of(response) == "unauthorized"
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert count(Order) == 1

    world.officer.active = True
    session.commit()
    assert client.get(f"{ORDERS}/{body['id']}", headers=officer).status_code == 200
    tokens.revoke(session, tokens.token_by_name(session, "Ann's"))
    session.commit()
    assert client.get(f"{ORDERS}/{body['id']}", headers=officer).status_code == 401


def test_idempotency_keys_stay_the_tokens_own(
    app: Flask,
    client: FlaskClient,
    session: Session,
    world: World,
) -> None:
    """Two tokens of one officer, and the officer's own session, each have their own keys: the
    same key from another of them is a new request, not a replay of the first's."""
    first, second = token_for(world.officer, "First"), token_for(world.officer, "Second")
    key = {"Idempotency-Key": "order-for-dorothy"}
    one = client.post(ORDERS, json=new_order(world), headers={**first, **key})
    again = client.post(ORDERS, json=new_order(world), headers={**first, **key})
    assert (one.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == one.get_json()["id"]

    other = client.post(ORDERS, json=new_order(world), headers={**second, **key})
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers
    assert other.get_json()["id"] != one.get_json()["id"]

    signed_in = app.test_client()
    sign_in(signed_in, world.officer)
    own = signed_in.post(ORDERS, json=new_order(world), headers=key)
    assert own.status_code == 201
    assert own.get_json()["id"] not in {one.get_json()["id"], other.get_json()["id"]}
    assert count(Order) == 3
    assert_ledger_verifies(session)


def test_a_token_for_no_one_still_only_reads_orders(
    client: FlaskClient,
    session: Session,
    world: World,
) -> None:
    body = client.post(ORDERS, json=new_order(world), headers=token_for(world.officer)).get_json()
    _row, secret = tokens.create_token(session, name="Reader", role=Role.COUNCIL_OFFICER)
    session.commit()
    reader = bearer(secret)
    assert client.get(f"{ORDERS}/{body['id']}", headers=reader).status_code == 200
    refused = client.post(f"{ORDERS}/{body['id']}/cancel", headers=reader)
    assert refused.status_code == 403
    assert refused.get_json()["details"]["reason"] == "token_cannot_change_orders"
    assert session.get(Order, uuid.UUID(body["id"])).status is OrderStatus.PLACED


def test_a_token_whose_user_changed_role_is_refused(
    client: FlaskClient,
    session: Session,
    world: World,
) -> None:
    """The token was made for a council officer: if the account stops being one, the token
    does not carry on with the account's new role."""
    officer = token_for(world.officer)
    world.officer.role = Role.ADMIN
    session.commit()
    assert client.post(ORDERS, json=new_order(world), headers=officer).status_code == 401
    assert count(Order) == 0


# Acting as someone else needs their say ------------------------------------------------------


def test_an_admin_cannot_act_as_an_officer_until_the_officer_confirms_the_token(
    app: Flask,
    client: FlaskClient,
    session: Session,
    make_user: Callable[..., User],
    world: World,
) -> None:
    """Issue 12, item 9: an admin, refused every council page, made a council officer's token
    acting for a named officer and placed, approved and settled as them. Now the token does
    nothing until that officer confirms it, nobody else can confirm it, and what it does is
    recorded as the officer's through that token (which names the admin who made it)."""
    admin = make_user(Role.ADMIN)
    sign_in(client, admin)
    assert client.get("/council/").status_code == 403
    created = client.post(
        "/admin/api-tokens/new",
        data={"name": "Case management", "role": "council_officer", "user": str(world.officer.id)},
    )
    assert created.status_code == 200
    assert "does nothing until" in created.get_data(as_text=True)
    secret = re.search(r"mkt_[A-Za-z0-9_-]{43}", created.get_data(as_text=True)).group(0)
    row = tokens.token_by_name(session, "Case management")
    assert row.awaiting_confirmation
    assert "Waiting for" in client.get("/admin/api-tokens").get_data(as_text=True)

    refused = app.test_client().post(ORDERS, json=new_order(world), headers=bearer(secret))
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert count(Order) == 0

    # Neither the admin who made it nor another officer can confirm it for the officer.
    assert client.post(f"/account/api-tokens/{row.id}/confirm").status_code == 404
    other_officer = app.test_client()
    sign_in(other_officer, make_user(Role.COUNCIL_OFFICER))
    assert other_officer.post(f"/account/api-tokens/{row.id}/confirm").status_code == 404
    with pytest.raises(tokens.TokenUserError):
        tokens.confirm(session, row, by=admin)
    session.expire_all()
    assert row.awaiting_confirmation

    officer = app.test_client()
    sign_in(officer, world.officer)
    page = officer.get("/account/api-tokens").get_data(as_text=True)
    assert "Case management" in page
    assert admin.email in page
    assert "Waiting for you to confirm it" in page
    assert officer.post(f"/account/api-tokens/{row.id}/confirm").status_code == 302
    assert "Acts for you since" in officer.get("/account/api-tokens").get_data(as_text=True)

    placed = app.test_client().post(ORDERS, json=new_order(world), headers=bearer(secret))
    assert placed.status_code == 201, placed.get_json()
    assert placed.get_json()["events"][0]["through_api_token"] is True
    stored = session.get(Order, uuid.UUID(placed.get_json()["id"]))
    assert (stored.events[0].actor_id, stored.events[0].token_id) == (world.officer.id, row.id)
    assert stored.events[0].token.created_by_id == admin.id
    timeline = officer.get(f"/council/orders/{stored.id}").get_data(as_text=True)
    assert f"through the API token “Case management” made by {admin.full_name}" in timeline

    # The officer's own session records no token.
    own = officer.post(ORDERS, json=new_order(world))
    assert own.status_code == 201, own.get_json()
    assert own.get_json()["events"][0]["through_api_token"] is False


def test_a_user_refuses_a_token_made_for_them_or_revokes_one_they_confirmed(
    app: Flask,
    client: FlaskClient,
    session: Session,
    world: World,
) -> None:
    pending, pending_secret = tokens.create_token(
        session, name="Unasked for", role=Role.PROVIDER_STAFF, user=world.staff
    )
    confirmed, confirmed_secret = tokens.create_token(
        session, name="Rota system", role=Role.PROVIDER_STAFF, user=world.staff
    )
    tokens.confirm(session, confirmed, by=world.staff)
    session.commit()
    sign_in(client, world.staff)
    assert client.post(f"/account/api-tokens/{pending.id}/revoke").status_code == 302
    assert client.post(f"/account/api-tokens/{confirmed.id}/revoke").status_code == 302
    # A refused token cannot be confirmed afterwards.
    client.post(f"/account/api-tokens/{pending.id}/confirm")
    session.expire_all()
    assert pending.revoked
    assert pending.confirmed_at is None
    assert confirmed.revoked
    for secret in (pending_secret, confirmed_secret):
        response = app.test_client().get(ORDERS + f"/{uuid.uuid4()}", headers=bearer(secret))
        assert response.status_code == 401
