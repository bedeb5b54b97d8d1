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

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.accounts import api_tokens as tokens
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.api import openapi
from marketplace.extensions import db
from providers import search_index
from tests.api.integration_helpers import bearer
from tests.conftest import RequestClient, test_settings
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


@dataclass
class _Prepared:
    """What every case starts from, made by the first case of the module: the world's rows
    (every table, parents first), the callers' headers and the app that serves the requests."""

    rows: list[tuple[Table, list[dict[str, Any]]]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    served: Flask | None = None


@pytest.fixture(scope="module")
def prepared() -> Iterator[_Prepared]:
    made = _Prepared()
    yield made
    if made.served is not None:
        with made.served.app_context():
            db.engine.dispose()


def _make_world(request: pytest.FixtureRequest, session: Session) -> list[dict[str, str]]:
    """The world and a token acting for a user of each role: the headers of each kind of
    caller, none (anonymous) first."""
    world: World = request.getfixturevalue("world")
    make_user: Callable[..., User] = request.getfixturevalue("make_user")
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
def callers(
    request: pytest.FixtureRequest, app: Flask, session: Session, prepared: _Prepared
) -> list[dict[str, str]]:
    """The headers of each kind of caller, in a database holding the world. The first case
    makes the world (fixtures, rules, tokens) and keeps every row; each later case starts from
    the same rows, put back into the database the last case's teardown emptied, as if it had
    made the world itself (the same ids and token secrets, so the same headers)."""
    if not prepared.headers:
        prepared.headers = _make_world(request, session)
        prepared.rows = [
            (table, [dict(row) for row in session.execute(select(table)).mappings()])
            for table in db.metadata.sorted_tables
        ]
    else:
        for table, rows in prepared.rows:
            if rows:
                session.execute(table.insert(), rows)
        session.commit()
    return prepared.headers


@pytest.fixture
def served(
    callers: list[dict[str, str]],
    prepared: _Prepared,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Flask:
    """A second app on the same database, so that each generated request runs in an app
    context of its own (the test's own context holds a database session and `g`). It keeps
    its own search index, as a second machine would: two indexes in one folder would share
    Whoosh's lock. Built once for the module: every case starts from the same rows, so the
    same index."""
    if prepared.served is None:
        instance = tmp_path_factory.mktemp("served")
        served = create_app(
            test_settings(
                database_url, instance, SEARCH_INDEX_PATH=str(instance / "served-search-index")
            )
        )
        served.test_client_class = RequestClient
        # Its index is brought up to date now, before Hypothesis runs: Hypothesis seeds
        # `random` the same way for every example, and Whoosh names new segments from
        # `random`, so writes made during the run would reuse a segment's name. The run
        # changes no listing.
        with served.app_context():
            search_index.sync(served)
        prepared.served = served
    return prepared.served


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
