"""API tokens: stored as a hash, refused once revoked, scoped to a role, made by the CLI and
by an admin's page."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.accounts import api_tokens as tokens
from marketplace.accounts.api_tokens import ApiToken
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from tests.api.integration_helpers import bearer, error_of, new_token
from tests.conftest import sign_in

PEOPLE = "/api/v1/people"


def test_only_the_hash_of_the_token_is_stored(app: Flask) -> None:
    row, secret = tokens.create_token(db.session, name="Case management", role=Role.ADMIN)
    db.session.commit()
    assert secret.startswith("mkt_")
    assert len(secret) >= 40
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(value) for value in vars(stored).values()}
    assert stored.id == row.id


def test_no_token_an_unknown_or_a_revoked_token_gets_401(app: Flask, client: FlaskClient) -> None:
    secret = new_token(name="Mosaic")
    assert (
        client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers=bearer(secret)).status_code
        == 201
    )

    for headers in ({}, bearer(secret[:-2] + "xx"), {"Authorization": f"Basic {secret}"}):
        response = client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers=headers)
        assert response.status_code == 401
        assert error_of(response) == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    tokens.revoke(db.session, tokens.token_by_name(db.session, "Mosaic"))
    db.session.commit()
    response = client.get(PEOPLE + "/" + "0" * 32, headers=bearer(secret))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_may_do_only_what_its_role_may(app: Flask, client: FlaskClient) -> None:
    officer = new_token(Role.COUNCIL_OFFICER)
    person_id = client.post(
        PEOPLE, json={"full_name": "Ann Lee"}, headers=bearer(officer)
    ).get_json()["id"]
    for role in (Role.BROKER, Role.PROVIDER_STAFF, Role.ADMIN, Role.CITIZEN):
        secret = new_token(role)
        created = client.post(PEOPLE, json={"full_name": "Bob"}, headers=bearer(secret))
        read = client.get(f"{PEOPLE}/{person_id}", headers=bearer(secret))
        assert (created.status_code, read.status_code) == (403, 403), role
        assert error_of(created) == error_of(read) == "forbidden"
    assert client.get(f"{PEOPLE}/{person_id}", headers=bearer(officer)).status_code == 200


def test_last_use_is_recorded(app: Flask, client: FlaskClient) -> None:
    secret = new_token(name="Used")
    assert tokens.token_by_name(db.session, "Used").last_used_at is None
    client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers=bearer(secret))
    db.session.expire_all()
    assert tokens.token_by_name(db.session, "Used").last_used_at is not None


def test_cli_prints_the_token_on_its_last_line_and_revokes_it(
    app: Flask, client: FlaskClient
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["api-token", "create", "--role", "council_officer", "--name", "Liquidlogic"]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert client.post(PEOPLE, json={"full_name": "Ann"}, headers=bearer(secret)).status_code == 201

    again = runner.invoke(args=["api-token", "create", "--role", "admin", "--name", "Liquidlogic"])
    assert again.exit_code != 0
    assert "already" in again.output

    listed = runner.invoke(args=["api-token", "list"])
    assert "Liquidlogic\tcouncil_officer\tlive" in listed.output

    assert runner.invoke(args=["api-token", "revoke", "Liquidlogic"]).exit_code == 0
    assert client.post(PEOPLE, json={"full_name": "Ann"}, headers=bearer(secret)).status_code == 401
    assert "revoked" in runner.invoke(args=["api-token", "list"]).output
    assert runner.invoke(args=["api-token", "revoke", "Nobody"]).exit_code != 0


def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    sign_in(client, admin)
    assert client.get("/admin/api-tokens").status_code == 200

    refused = client.post("/admin/api-tokens/new", data={"name": "", "role": "council_officer"})
    assert refused.status_code == 400
    assert db.session.scalars(select(ApiToken)).all() == []

    created = client.post(
        "/admin/api-tokens/new", data={"name": "Case management", "role": "council_officer"}
    )
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    page = created.get_data(as_text=True)
    row = db.session.scalars(select(ApiToken)).one()
    secret = re.search(r"mkt_[A-Za-z0-9_-]{43}", page).group(0)
    assert tokens.hash_token(secret) == row.token_hash
    assert row.created_by_id == admin.id
    assert secret not in client.get("/admin/api-tokens").get_data(as_text=True)

    api = app.test_client()
    assert api.get(f"{PEOPLE}/{row.id}", headers=bearer(secret)).status_code == 404

    revoked = client.post(f"/admin/api-tokens/{row.id}/revoke")
    assert revoked.status_code == 302
    assert api.get(f"{PEOPLE}/{row.id}", headers=bearer(secret)).status_code == 401
    assert "Revoked" in client.get("/admin/api-tokens").get_data(as_text=True)


def test_the_token_created_page_is_an_html_page_in_the_service_layout(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    """The page showing a new token once is served as HTML, so the browser lays it out
    (it was text/plain, and the administrator saw the page's raw HTML)."""
    sign_in(client, make_user(Role.ADMIN))

    created = client.post(
        "/admin/api-tokens/new", data={"name": "Case management", "role": "council_officer"}
    )

    assert created.status_code == 200
    assert created.mimetype == "text/html"
    assert created.mimetype_params.get("charset") == "utf-8"
    page = created.get_data(as_text=True)
    assert '<html lang="en" class="govuk-template' in page
    assert "govuk-panel__title" in page
    assert "API token created" in page


def test_only_admins_reach_the_token_pages(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    sign_in(client, make_user(Role.COUNCIL_OFFICER))
    assert client.get("/admin/api-tokens").status_code == 403
    assert (
        client.post("/admin/api-tokens/new", data={"name": "x", "role": "admin"}).status_code == 403
    )
