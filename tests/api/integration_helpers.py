"""Helpers for the integration API's tests: tokens, bearer headers, people with budgets."""

from __future__ import annotations

from typing import Any

import jsonschema

from marketplace.accounts import api_tokens as tokens
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people.models import Person


def new_token(role: Role = Role.COUNCIL_OFFICER, name: str | None = None) -> str:
    """A committed token of the role; returns the secret."""
    _row, secret = tokens.create_token(
        db.session, name=name or f"{role.value} system {len(tokens.tokens(db.session))}", role=role
    )
    db.session.commit()
    return secret


def bearer(secret: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **more}


def citizen_with_person(user: User, name: str = "Dorothy Pearce") -> Person:
    """Give a citizen's account its own person record (committed)."""
    person = Person(full_name=name)
    db.session.add(person)
    db.session.flush()
    user.person_id = person.id
    db.session.commit()
    return person


def error_of(response: Any) -> str:
    body = response.get_json()
    assert set(body) >= {"error", "message"}, body
    return body["error"]


def matches(document: dict[str, Any], schema: str, body: Any) -> None:
    """The body validates against the named schema of the OpenAPI document."""
    jsonschema.validate(
        body,
        {**document, "$ref": f"#/components/schemas/{schema}"},
        format_checker=jsonschema.FormatChecker(),
    )
