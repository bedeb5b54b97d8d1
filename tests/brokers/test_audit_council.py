"""The council's side of the audit log: officers search it (/council/audit, by person, by who
acted, by date, in pages) and export everything held about a person (subject access)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.council.audit_views import ENTRIES_PER_PAGE
from marketplace.formatting import london_today
from marketplace.people import audit
from marketplace.people.audit import AuditEntry
from tests.brokers.acting_helpers import People, consent, make_people, start_acting
from tests.conftest import sign_in


@pytest.fixture
def people(make_user: Callable[..., User], reference_data: None) -> People:
    return make_people(make_user)


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.COUNCIL_OFFICER)


def broker_reads_the_client_s_home(client: FlaskClient, people: People) -> None:
    consent(people.person, broker=people.broker)
    sign_in(client, people.broker)
    start_acting(client, people.person)
    assert client.get("/my/").status_code == 200
    client.post("/sign-out")


def test_officers_find_entries_by_person_and_by_who_acted(
    client: FlaskClient, people: People, officer: User
) -> None:
    broker_reads_the_client_s_home(client, people)
    sign_in(client, officer)

    by_person = client.get("/council/audit", query_string={"person": "pearce"})
    by_actor = client.get("/council/audit", query_string={"actor": people.broker.email})
    by_nobody = client.get("/council/audit", query_string={"actor": "nobody@example.org"})

    assert by_person.status_code == 200
    page = by_person.get_data(as_text=True)
    assert people.broker.email in page
    assert "Dorothy Pearce" in page
    assert "Matching entries: " in page
    assert people.broker.email in by_actor.get_data(as_text=True)
    assert 'id="no-entries"' in by_nobody.get_data(as_text=True)


def test_officers_search_by_london_dates(
    session: Session, client: FlaskClient, people: People, officer: User
) -> None:
    broker_reads_the_client_s_home(client, people)
    sign_in(client, officer)
    today, tomorrow = london_today(), london_today() + timedelta(days=1)

    def found(day: object) -> str:
        return client.get(
            "/council/audit",
            query_string={
                "since-day": day.day,  # type: ignore[attr-defined]
                "since-month": day.month,  # type: ignore[attr-defined]
                "since-year": day.year,  # type: ignore[attr-defined]
                "actor": people.broker.email,
            },
        ).get_data(as_text=True)

    assert "Matching entries: 1" in found(today)
    assert 'id="no-entries"' in found(tomorrow)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"since-day": "31", "since-month": "2", "since-year": "2026"},
            "From date must be a real date",
        ),
        ({"since-day": "1", "since-year": "2026"}, "From date must include a day, month and year"),
        (
            {
                "since-day": "2",
                "since-month": "3",
                "since-year": "2026",
                "until-day": "1",
                "until-month": "3",
                "until-year": "2026",
            },
            "To date must be the same as or after the from date",
        ),
    ],
    ids=["not-a-date", "missing-month", "backwards"],
)
def test_a_bad_date_is_in_the_error_summary(
    client: FlaskClient, officer: User, query: dict[str, str], message: str
) -> None:
    sign_in(client, officer)

    response = client.get("/council/audit", query_string=query)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page
    assert message in page
    assert "<title>Error: " in page


def test_the_log_is_paged(
    session: Session, client: FlaskClient, people: People, officer: User
) -> None:
    for number in range(ENTRIES_PER_PAGE + 1):
        audit.record(
            session,
            actor_id=officer.id,
            person_id=people.person.id,
            action="viewed",
            what=f"Page {number}",
        )
    session.commit()
    sign_in(client, officer)

    first = client.get("/council/audit").get_data(as_text=True)
    second = client.get("/council/audit?page=2").get_data(as_text=True)
    past_end = client.get("/council/audit?page=9").get_data(as_text=True)

    assert "page 1 of 2" in first
    assert "page 2 of 2" in second
    # 51 made, plus the officer's own first read of the log's page is not about a person.
    assert second.count('<tr class="govuk-table__row">') == 1 + 1
    assert "Page 9 is past the end" in past_end


def test_the_subject_access_export_holds_everything_about_the_person_and_no_keys(
    session: Session, client: FlaskClient, people: People, officer: User
) -> None:
    people.person.key_safe_code = "Keysafe code 9731"
    session.commit()
    broker_reads_the_client_s_home(client, people)
    sign_in(client, officer)

    response = client.get(f"/council/people/{people.person.id}/subject-access.json")

    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    held = json.loads(response.get_data(as_text=True))["held"]
    assert held["people"][0]["full_name"] == "Dorothy Pearce"
    assert held["people"][0]["key_safe_code"].startswith("Held: not exported")
    for table in ("users", "consents", "personal_budgets", "funding_streams", "audit_entries"):
        assert held.get(table), f"{table} missing from the export"
    assert held["ledger_transfers"], "the budget's statement (its ledger transfers) is missing"
    assert "password_hash" not in held["users"][0]
    assert "Keysafe code 9731" not in response.get_data(as_text=True)
    # The export is itself on the record.
    exported = session.scalars(select(AuditEntry).where(AuditEntry.actor_id == officer.id)).one()
    assert exported.what == "Subject access export (JSON)"


def test_the_subject_access_csv_is_one_value_a_line_and_runs_no_formula(
    session: Session, client: FlaskClient, people: People, officer: User
) -> None:
    people.person.preferred_name = '=HYPERLINK("http://evil.example")'
    session.commit()
    sign_in(client, officer)

    response = client.get(f"/council/people/{people.person.id}/subject-access.csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["What", "Row", "Field", "Value"]
    assert ["people", "1", "full_name", "Dorothy Pearce"] in rows
    assert ["people", "1", "preferred_name", '\'=HYPERLINK("http://evil.example")'] in rows


def test_only_officers_export_or_search(client: FlaskClient, people: People) -> None:
    consent(people.person, broker=people.broker)
    sign_in(client, people.broker)

    assert client.get("/council/audit").status_code == 403
    assert client.get(f"/council/people/{people.person.id}/subject-access.json").status_code == 403


def test_the_page_links_keep_the_search(
    session: Session, client: FlaskClient, people: People, officer: User
) -> None:
    for _ in range(ENTRIES_PER_PAGE + 1):
        audit.record(
            session, actor_id=officer.id, person_id=people.person.id, action="viewed", what="p"
        )
    session.commit()
    sign_in(client, officer)

    page = client.get("/council/audit", query_string={"person": "pearce"}).get_data(as_text=True)

    links = re.findall(r'href="(/council/audit\?[^"]*page=2[^"]*)"', page)
    assert links
    assert all("person=pearce" in link for link in links)
