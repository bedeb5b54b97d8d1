"""The API does what its OpenAPI document says, operation by operation: Schemathesis generates
requests for every operation of /api/v1/openapi.json (valid ones from the schemas, invalid ones
to be refused, unsupported methods, missing headers and tokens) and runs every one of its
checks on each answer (status codes, headers, content types and bodies as documented, no
5xx, invalid data refused, valid data accepted, ...).

It runs once anonymously and once with a token per role, each acting for a user of that role
in a world with a citizen, a budget, a provider, a listing and an officer. The number of
generated examples per operation is bounded and Hypothesis is derandomised, so a run is quick
and the same every time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from marketplace.accounts import api_tokens as tokens
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.api import openapi
from providers import search_index
from tests.api.integration_helpers import bearer
from tests.orders.fixtures import World

CALLERS = ("citizen", "council_officer", "provider_staff", "broker", "admin")
SERVER = "http://marketplace.test/api/v1"
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # Schemathesis's default

# Every check runs. Only one is told something: a well-formed request that the rules refuse
# (a start date in the past, a split that does not add up, a step the order's state does not
# allow) is answered 422 `validation_error` or 409, which a schema cannot express; 400 stays
# wrong for a request the document says is valid.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}}}
)
schema = schemathesis.openapi.from_dict(openapi.document(SERVER), config=CONFIG)


@pytest.fixture
def callers(session: Session, world: World, make_user: Callable[..., User]) -> list[dict[str, str]]:
    """The headers of each kind of caller: none (anonymous), then a token acting for a user of
    each role."""
    users = {
        Role.CITIZEN: world.citizen,
        Role.COUNCIL_OFFICER: world.officer,
        Role.PROVIDER_STAFF: world.staff,
    }
    headers = [{}]
    for role in map(Role, CALLERS):
        user = users.get(role) or make_user(role)
        _row, secret = tokens.create_token(
            session, name=f"{role.value} system", role=role, user=user, created_by=user
        )
        headers.append(bearer(secret))
    session.commit()
    return headers


@pytest.fixture
def served(make_app: Callable[..., Flask], callers: list[dict[str, str]], tmp_path: Path) -> Flask:
    """A second app on the same database, so that each generated request runs in an app
    context of its own (the test's own context holds a database session and `g`). It keeps
    its own search index, as a second machine would: two indexes in one folder would share
    Whoosh's lock."""
    served = make_app(SEARCH_INDEX_PATH=str(tmp_path / "served-search-index"))
    # Its index is brought up to date now, before Hypothesis runs: Hypothesis seeds `random`
    # the same way for every example, and Whoosh names new segments from `random`, so writes
    # made during the run would reuse a segment's name. The run changes no listing.
    with served.app_context():
        search_index.sync(served)
    return served


def test_the_run_covers_the_served_document(served: Flask) -> None:
    assert served.test_client().get("/api/v1/openapi.json").get_json() == schema.raw_schema


@schema.parametrize()
@settings(
    max_examples=5,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, served: Flask, callers: list[dict[str, str]]
) -> None:
    # Every request, Schemathesis's own probes (such as calling without the token) included,
    # goes to this test's app.
    case.operation.app = case.operation.schema.app = served
    for headers in callers:
        case.call_and_validate(headers=headers)
