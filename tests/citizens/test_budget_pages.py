"""The citizen's budget page, statement, CSV and support plan, over HTTP."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import FunderPot, PaymentFrequency, PersonalBudget, StreamKind
from marketplace.budgets.spending import reserve
from marketplace.extensions import db
from marketplace.formatting import pounds
from marketplace.ledger import LedgerAccount
from marketplace.people import plans
from marketplace.people.models import SupportPlan
from tests.citizens.helpers import YEAR_START, give_budget
from tests.conftest import sign_in


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def test_without_a_budget_the_page_says_so(citizen_client: FlaskClient) -> None:
    response = citizen_client.get("/my/budget")

    assert response.status_code == 200
    assert "You do not have a personal budget yet" in _text(response)


def test_the_budget_page_draws_each_stream_and_tables_the_figures(
    citizen_client: FlaskClient, budget: PersonalBudget
) -> None:
    response = citizen_client.get("/my/budget")
    page = _text(response)

    assert response.status_code == 200
    figures = budget_figures(db.session, budget)
    # One bar per stream and one for the total, hidden from screen readers...
    assert page.count('<svg class="app-budget-bar"') == 4
    assert 'aria-hidden="true"' in page
    assert "app-budget-bar__available" in page
    # ...because the table beside it says the same.
    table = page[
        page.index(
            '<table class="govuk-table govuk-table--small-text-until-tablet app-budget-table">'
        ) :
    ]
    table = table[: table.index("</table>")]
    for stream, row in figures.streams:
        assert stream.kind.label in table
        assert pounds(row.available_pence) in table
    total = figures.total
    assert f"{pounds(total.available_pence)}</span> available to spend now" in page
    assert pounds(total.scheduled_pence) in table
    assert "Looking ahead" in page


def test_bar_widths_add_up_to_the_whole(
    citizen_client: FlaskClient, budget: PersonalBudget, provider_payee: LedgerAccount
) -> None:
    reserve(
        db.session,
        budget,
        amount_pence=333_33,
        category_codes={"meals"},
        payee=provider_payee,
        key="o",
    )
    db.session.commit()

    page = _text(citizen_client.get(f"/my/budgets/{budget.id}"))

    for bar in re.findall(r'<svg class="app-budget-bar".*?</svg>', page, re.S):
        widths = [
            int(w)
            for w in re.findall(
                r'class="app-budget-bar__(?!track)\w+" x="\d+" y="0" width="(\d+)"', bar
            )
        ]
        assert sum(widths) == 1000


def test_an_alert_when_the_budget_is_nearly_spent(
    citizen_client: FlaskClient,
    citizen: User,
    pots: dict[StreamKind, FunderPot],
    provider_payee: LedgerAccount,
) -> None:
    budget = give_budget(citizen.person, pots, frequency=PaymentFrequency.ANNUAL, council=1_000_00)
    reserve(
        db.session,
        budget,
        amount_pence=950_00,
        category_codes={"personal-care", "help-at-home"},
        payee=provider_payee,
        key="big",
    )
    db.session.commit()

    assert "Less than a tenth of the budget" in _text(citizen_client.get("/my/budget"))


def test_another_citizen_gets_404_for_someone_elses_budget(
    client: FlaskClient, make_user: Callable[..., User], budget: PersonalBudget
) -> None:
    sign_in(client, make_user(Role.CITIZEN))

    for path in ("", "/statement", "/statement.csv", "/statement?date_from=2026-04-01"):
        assert client.get(f"/my/budgets/{budget.id}{path}").status_code == 404
    assert "You do not have a personal budget yet" in _text(client.get("/my/budget"))


def test_the_statement_filters_by_date_and_stream_from_a_bookmarkable_address(
    citizen_client: FlaskClient, budget: PersonalBudget
) -> None:
    council = next(s for s in budget.streams if s.kind.value == "council")
    whole = _text(citizen_client.get(f"/my/budgets/{budget.id}/statement"))
    one_stream = _text(citizen_client.get(f"/my/budgets/{budget.id}/statement?stream={council.id}"))
    three_parts = citizen_client.get(
        f"/my/budgets/{budget.id}/statement?date_from=1&date_from=1&date_from=2000"
        "&date_to=31&date_to=12&date_to=2000"
    )

    assert "Your assessed contribution" in whole
    assert "Instalment" in one_stream
    assert "Your assessed contribution</strong>" not in one_stream
    assert ": Council only" in one_stream
    assert three_parts.status_code == 200
    assert "0 entries from 1 January 2000 to 31 December 2000" in _text(three_parts)
    # The download link carries the same filters.
    assert f'statement.csv?stream={council.id}"' in one_stream


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=31&date_from=2&date_from=2026", "From must be a real date"),
        ("date_from=1&date_from=4", "From must include a day, month and year"),
        ("date_from=2026-05-01&date_to=2026-04-01", "The ‘To’ date must be the same as or after"),  # noqa: RUF001
        ("stream=not-a-stream", "Choose funding from the list"),
    ],
)
def test_bad_filters_are_explained(
    citizen_client: FlaskClient, budget: PersonalBudget, query: str, message: str
) -> None:
    response = citizen_client.get(f"/my/budgets/{budget.id}/statement?{query}")

    assert response.status_code == 400
    assert "There is a problem" in _text(response)
    assert message in _text(response)
    assert citizen_client.get(f"/my/budgets/{budget.id}/statement.csv?{query}").status_code == 400


def test_the_csv_download_is_the_statement_in_pounds(
    citizen_client: FlaskClient, budget: PersonalBudget
) -> None:
    response = citizen_client.get(f"/my/budgets/{budget.id}/statement.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="statement-test-citizen-{YEAR_START:%Y-%m-%d}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(_text(response))))
    released = (
        sum(int(s.amount_pence) for s in budget.streams)
        - budget_figures(db.session, budget).total.scheduled_pence
    )
    assert len(rows) == sum(1 for s in budget.streams for i in s.instalments if i.released)
    assert rows[-1]["balance"] == f"{released // 100}.{released % 100:02d}"
    assert all(re.fullmatch(r"-?\d+\.\d\d", row["money_in"]) for row in rows)


def _plan_form(**rows: tuple[str, str]) -> dict[str, str]:
    data = {"outcomes": "To keep living at home."}
    for n, (category, amount) in rows.items():
        data[f"category_{n[1:]}"] = category
        data[f"amount_{n[1:]}"] = amount
    return data


def test_the_citizen_drafts_their_plan(citizen_client: FlaskClient, citizen: User) -> None:
    assert "You do not have an approved plan yet" in _text(citizen_client.get("/my/plan"))
    assert citizen_client.get("/my/plan/draft").status_code == 200

    response = citizen_client.post(
        "/my/plan/draft",
        data=_plan_form(r1=("personal-care", "£180.50"), r3=("hot-meal-delivery", "30")),
    )

    assert response.status_code == 302
    draft = plans.draft_of(db.session, citizen.person)
    assert draft is not None
    assert [(i.category_code, i.weekly_amount_pence) for i in draft.items] == [
        ("personal-care", 180_50),
        ("hot-meal-delivery", 30_00),
    ]
    page = _text(citizen_client.get("/my/plan"))
    assert "Your draft, waiting for the council" in page
    assert "£180.50" in page
    # A draft is asked for, not agreed.
    assert "Support asked for, each week (not yet agreed)" in page
    assert "Support agreed" not in page
    # Editing starts from the draft, with spare rows.
    form = _text(citizen_client.get("/my/plan/draft"))
    assert 'value="180.50"' in form
    assert 'name="category_5"' in form
    assert 'name="category_6"' not in form


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"category_1": "meals", "amount_1": "10"}, "Say what you want your care and support"),
        (_plan_form(), "Choose at least one category of support"),
        (_plan_form(r1=("meals", "")), "Enter the weekly amount for this category"),
        (_plan_form(r1=("", "12.00")), "Choose the category this amount is for"),
        (_plan_form(r1=("meals", "-5")), "cannot be negative"),
        (_plan_form(r1=("meals", "99999")), "must be £5,000 or less"),
        (_plan_form(r1=("meals", "1.234")), "must be in pounds and pence"),
        (_plan_form(r1=("meals", "lots")), "must be an amount in pounds"),
        (_plan_form(r1=("rocket-rides", "5")), "Choose a category from the list"),
        (_plan_form(r1=("meals", "5"), r2=("meals", "6")), "only once"),
        ({"outcomes": "x" * 5001, "category_1": "meals", "amount_1": "5"}, "5000 characters"),
    ],
)
def test_bad_plans_are_explained_and_nothing_is_saved(
    citizen_client: FlaskClient, data: dict[str, str], message: str
) -> None:
    response = citizen_client.post("/my/plan/draft", data=data)

    assert response.status_code == 400
    assert "There is a problem" in _text(response)
    assert message in _text(response)
    assert db.session.query(SupportPlan).count() == 0


def test_other_roles_cannot_use_the_citizens_pages(
    client: FlaskClient, make_user: Callable[..., User], budget: PersonalBudget
) -> None:
    sign_in(client, make_user(Role.COUNCIL_OFFICER))
    assert client.get(f"/my/budgets/{budget.id}").status_code == 403
    assert client.post("/my/plan/draft", data=_plan_form(r1=("meals", "5"))).status_code == 403
