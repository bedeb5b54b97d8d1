"""People and their budgets through the integration API: each endpoint's success and each of
its error codes, the same figures and statement as the pages, and responses that match the
OpenAPI document."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import PersonalBudget, StreamKind
from marketplace.budgets.statement import StatementFilter, budget_statement
from marketplace.extensions import db
from marketplace.people.models import Person
from tests.api.integration_helpers import (
    bearer,
    citizen_with_person,
    error_of,
    matches,
    new_token,
)
from tests.citizens.helpers import TODAY, YEAR, YEAR_END, YEAR_START, funded_pots, give_budget
from tests.conftest import PASSWORD, sign_in

PEOPLE = "/api/v1/people"


@pytest.fixture
def officer(app: Flask) -> dict[str, str]:
    return bearer(new_token(Role.COUNCIL_OFFICER))


def _new_person(client: FlaskClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = client.post(PEOPLE, json={"full_name": "Dorothy Pearce", **fields}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_read_and_change_a_person(
    client: FlaskClient, officer: dict[str, str], document: dict[str, Any]
) -> None:
    created = _new_person(
        client,
        officer,
        preferred_name="Dot",
        date_of_birth="1941-06-02",
        postcode="sg1 1aa",
        email="dot@example.org",
        case_reference="LAS-100234",
    )
    matches(document, "Person", created)
    assert created["postcode"] == "SG1 1AA"
    assert created["case_reference"] == "LAS-100234"
    uuid.UUID(created["id"])
    stored = db.session.get(Person, uuid.UUID(created["id"]))
    assert (stored.full_name, stored.date_of_birth.isoformat()) == ("Dorothy Pearce", "1941-06-02")

    read = client.get(f"{PEOPLE}/{created['id']}", headers=officer)
    assert read.status_code == 200
    assert read.get_json() == created

    changed = client.patch(
        f"{PEOPLE}/{created['id']}",
        json={"phone": "01438 000000", "preferred_name": None},
        headers=officer,
    )
    assert changed.status_code == 200
    body = changed.get_json()
    matches(document, "Person", body)
    assert (body["phone"], body["preferred_name"], body["full_name"]) == (
        "01438 000000",
        None,
        "Dorothy Pearce",
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"full_name": ""}, "full_name"),
        ({"full_name": 12}, "full_name"),
        ({"full_name": "A", "date_of_birth": "2300-01-01"}, "date_of_birth"),
        ({"full_name": "A", "date_of_birth": "1941-02-30"}, "date_of_birth"),
        ({"full_name": "A", "postcode": "nowhere"}, "postcode"),
        ({"full_name": "A", "email": "not an email"}, "email"),
        ({"full_name": "A", "case_reference": "x" * 51}, "case_reference"),
        ({"full_name": "A", "id": str(uuid.uuid4())}, "id"),
    ],
)
def test_a_bad_person_is_refused_by_field(
    client: FlaskClient, officer: dict[str, str], fields: dict[str, Any], field: str
) -> None:
    response = client.post(PEOPLE, json=fields, headers=officer)
    assert response.status_code == 422
    assert error_of(response) == "validation_error"
    assert field in response.get_json()["details"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_a_body_that_is_not_a_json_object_is_refused(
    client: FlaskClient, officer: dict[str, str]
) -> None:
    for body in ({"data": "full_name=A"}, {"json": ["A"]}):
        response = client.post(PEOPLE, headers=officer, **body)
        assert response.status_code == 422
        assert "body" in response.get_json()["details"]["fields"]
    empty = client.patch(f"{PEOPLE}/{uuid.uuid4()}", json={}, headers=officer)
    assert empty.status_code == 404


def test_a_case_reference_belongs_to_one_person(
    client: FlaskClient, officer: dict[str, str]
) -> None:
    first = _new_person(client, officer, case_reference="LAS-1")
    other = _new_person(client, officer, full_name="Ann Lee", case_reference="LAS-2")
    taken = client.post(PEOPLE, json={"full_name": "B", "case_reference": "LAS-1"}, headers=officer)
    assert taken.status_code == 409
    assert error_of(taken) == "conflict"
    moved = client.patch(
        f"{PEOPLE}/{other['id']}", json={"case_reference": "LAS-1"}, headers=officer
    )
    assert moved.status_code == 409
    kept = client.patch(
        f"{PEOPLE}/{first['id']}", json={"case_reference": "LAS-1"}, headers=officer
    )
    assert kept.status_code == 200
    # Many people may have none.
    _new_person(client, officer, full_name="C")
    _new_person(client, officer, full_name="D")


def test_unknown_people_are_not_found(client: FlaskClient, officer: dict[str, str]) -> None:
    for path in (f"{PEOPLE}/{uuid.uuid4()}", f"{PEOPLE}/not-a-uuid"):
        for method, suffix in (
            ("GET", ""),
            ("PATCH", ""),
            ("GET", "/budget"),
            ("GET", "/statement"),
        ):
            response = client.open(
                path + suffix, method=method, json={"phone": "1"}, headers=officer
            )
            assert response.status_code == 404, (method, path + suffix)
            assert error_of(response) == "not_found"
        response = client.post(path + "/budgets", json={}, headers=officer)
        assert response.status_code == 404


def _budget_body(pots: dict[StreamKind, Any], **changes: Any) -> dict[str, Any]:
    return {
        "starts_on": YEAR_START.isoformat(),
        "ends_on": YEAR_END.isoformat(),
        "frequency": "four_weekly",
        "streams": [
            {"kind": "client_contribution", "amount_pence": 1_300_00},
            {
                "kind": "council",
                "amount_pence": 13_000_00,
                "pot_id": str(pots[StreamKind.COUNCIL].id),
            },
            {"kind": "nhs", "amount_pence": 2_600_00, "pot_id": str(pots[StreamKind.NHS].id)},
        ],
        **changes,
    }


def test_give_a_budget_and_read_the_same_figures_and_statement_as_the_pages(
    client: FlaskClient, officer: dict[str, str], document: dict[str, Any]
) -> None:
    pots = funded_pots()
    person = _new_person(client, officer)
    created = client.post(
        f"{PEOPLE}/{person['id']}/budgets", json=_budget_body(pots), headers=officer
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    matches(document, "Budget", body)
    assert {s["kind"]: s["amount_pence"] for s in body["streams"]} == {
        "client_contribution": 1_300_00,
        "council": 13_000_00,
        "nhs": 2_600_00,
    }

    budget = db.session.get(PersonalBudget, uuid.UUID(body["id"]))
    figures = budget_figures(db.session, budget)
    answer = client.get(f"{PEOPLE}/{person['id']}/budget", headers=officer)
    assert answer.status_code == 200
    got = answer.get_json()
    matches(document, "BudgetFigures", got)
    assert got["total"]["allocated_pence"] > 0
    for name in ("allocated_pence", "committed_pence", "spent_pence", "available_pence"):
        assert got["total"][name] == getattr(figures.total, name)
        by_stream = {s["id"]: s[name] for s in got["streams"]}
        assert by_stream == {str(stream.id): getattr(f, name) for stream, f in figures.streams}

    statement = client.get(f"{PEOPLE}/{person['id']}/statement", headers=officer)
    assert statement.status_code == 200
    lines = statement.get_json()
    matches(document, "Statement", lines)
    page = budget_statement(db.session, budget)
    assert [line["transfer_id"] for line in lines["lines"]] == [
        str(line.transfer_id) for line in page.lines
    ]
    assert lines["closing_available_pence"] == page.closing_available_pence
    assert len(lines["lines"]) >= 3  # at least the first instalment of each stream

    council = next(s for s in body["streams"] if s["kind"] == "council")
    only_council = client.get(
        f"{PEOPLE}/{person['id']}/statement",
        query_string={
            "stream": council["id"],
            "from": YEAR_START.isoformat(),
            "to": TODAY.isoformat(),
        },
        headers=officer,
    ).get_json()
    wanted = budget_statement(
        db.session,
        budget,
        StatementFilter(date_from=YEAR_START, date_to=TODAY, stream_id=uuid.UUID(council["id"])),
    )
    assert [line["transfer_id"] for line in only_council["lines"]] == [
        str(line.transfer_id) for line in wanted.lines
    ]
    assert {line["stream_kind"] for line in only_council["lines"]} == {"council"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts_on": "2026-13-01"}, "starts_on"),
        ({"ends_on": "2000-01-01"}, "ends_on"),
        ({"ends_on": f"{YEAR + 2}-03-31"}, "ends_on"),
        ({"frequency": "weekly"}, "frequency"),
        ({"streams": []}, "streams"),
        ({"streams": [{"kind": "council", "amount_pence": 100}]}, "streams.0.pot_id"),
        ({"streams": [{"kind": "own_funds", "amount_pence": 0}]}, "streams.0.amount_pence"),
        ({"streams": [{"kind": "own_funds", "amount_pence": 1.5}]}, "streams.0.amount_pence"),
        (
            {"streams": [{"kind": "own_funds", "amount_pence": 100_000_001}]},
            "streams.0.amount_pence",
        ),
        ({"streams": [{"kind": "gift", "amount_pence": 100}]}, "streams.0.kind"),
        (
            {
                "streams": [
                    {"kind": "own_funds", "amount_pence": 1},
                    {"kind": "own_funds", "amount_pence": 2},
                ]
            },
            "streams.1.kind",
        ),
        (
            {"streams": [{"kind": "council", "amount_pence": 100, "pot_id": str(uuid.uuid4())}]},
            "streams.0.pot_id",
        ),
    ],
)
def test_a_bad_budget_is_refused_by_field_and_nothing_is_allocated(
    client: FlaskClient, officer: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    pots = funded_pots()
    person = _new_person(client, officer)
    response = client.post(
        f"{PEOPLE}/{person['id']}/budgets", json=_budget_body(pots, **changes), headers=officer
    )
    assert response.status_code == 422, response.get_json()
    assert error_of(response) == "validation_error"
    assert field in response.get_json()["details"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(PersonalBudget)) == 0


def test_a_pot_of_the_wrong_funder_is_refused(client: FlaskClient, officer: dict[str, str]) -> None:
    pots = funded_pots()
    person = _new_person(client, officer)
    body = _budget_body(pots)
    body["streams"][1]["pot_id"] = str(pots[StreamKind.NHS].id)
    del body["streams"][2]
    response = client.post(f"{PEOPLE}/{person['id']}/budgets", json=body, headers=officer)
    assert response.status_code == 422
    assert "streams.1.pot_id" in response.get_json()["details"]["fields"]


def test_an_overlapping_budget_is_a_conflict(client: FlaskClient, officer: dict[str, str]) -> None:
    pots = funded_pots()
    person = _new_person(client, officer)
    path = f"{PEOPLE}/{person['id']}/budgets"
    assert client.post(path, json=_budget_body(pots), headers=officer).status_code == 201
    again = client.post(path, json=_budget_body(pots), headers=officer)
    assert again.status_code == 409
    assert error_of(again) == "conflict"
    assert db.session.scalar(select(func.count()).select_from(PersonalBudget)) == 1


def test_a_pot_that_cannot_cover_the_budget_is_insufficient_funds(
    client: FlaskClient, officer: dict[str, str]
) -> None:
    pots = funded_pots(council_pence=1_000_00)
    person = _new_person(client, officer)
    response = client.post(
        f"{PEOPLE}/{person['id']}/budgets", json=_budget_body(pots), headers=officer
    )
    assert response.status_code == 409
    assert error_of(response) == "insufficient_funds"
    details = response.get_json()["details"]
    assert details["field"] == "streams.1.amount_pence"
    assert details["shortfall_pence"] == 12_000_00
    assert db.session.scalar(select(func.count()).select_from(PersonalBudget)) == 0


def test_a_person_with_no_budget_has_no_figures(
    client: FlaskClient, officer: dict[str, str]
) -> None:
    person = _new_person(client, officer)
    for suffix in ("/budget", "/statement", f"/budget?budget_id={uuid.uuid4()}"):
        response = client.get(f"{PEOPLE}/{person['id']}{suffix}", headers=officer)
        assert response.status_code == 404
        assert error_of(response) == "not_found"


def test_bad_statement_filters_are_refused(client: FlaskClient, officer: dict[str, str]) -> None:
    pots = funded_pots()
    person = _new_person(client, officer)
    client.post(f"{PEOPLE}/{person['id']}/budgets", json=_budget_body(pots), headers=officer)
    for query, field in (
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "to"),
        ({"stream": str(uuid.uuid4())}, "stream"),
    ):
        response = client.get(
            f"{PEOPLE}/{person['id']}/statement", query_string=query, headers=officer
        )
        assert response.status_code == 422
        assert field in response.get_json()["details"]["fields"]


def test_a_citizen_session_reads_only_their_own(app: Flask, make_user: Callable[..., User]) -> None:
    citizen, other = make_user(Role.CITIZEN), make_user(Role.CITIZEN)
    mine, theirs = citizen_with_person(citizen), citizen_with_person(other, "Ann Lee")
    give_budget(mine, funded_pots(), council=13_000_00)
    client = app.test_client()
    sign_in(client, citizen)
    for suffix in ("", "/budget", "/statement"):
        assert client.get(f"{PEOPLE}/{mine.id}{suffix}").status_code == 200
        refused = client.get(f"{PEOPLE}/{theirs.id}{suffix}")
        assert refused.status_code == 403
        assert error_of(refused) == "forbidden"
    assert client.patch(f"{PEOPLE}/{mine.id}", json={"phone": "1"}).status_code == 403
    assert client.post(PEOPLE, json={"full_name": "Me again"}).status_code == 403


def test_an_officer_session_may_use_the_api(app: Flask, make_user: Callable[..., User]) -> None:
    client = app.test_client()
    sign_in(client, make_user(Role.COUNCIL_OFFICER))
    created = client.post(PEOPLE, json={"full_name": "Ann Lee"})
    assert created.status_code == 201
    assert client.get(f"{PEOPLE}/{created.get_json()['id']}").status_code == 200


def test_a_session_write_needs_the_csrf_token(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        officer = make_user(Role.COUNCIL_OFFICER)
        client = app.test_client()
        page = client.get("/sign-in").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        signed_in = client.post(
            "/sign-in", data={"email": officer.email, "password": PASSWORD, "csrf_token": token}
        )
        assert signed_in.status_code == 302
        refused = client.post(PEOPLE, json={"full_name": "Ann Lee"})
        assert refused.status_code == 400
        assert error_of(refused) == "csrf_failed"
        assert db.session.scalar(select(func.count()).select_from(Person)) == 0
        page = client.get("/account/change-password").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        allowed = client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers={"X-CSRFToken": token})
        assert allowed.status_code == 201
