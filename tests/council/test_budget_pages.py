"""Officers give a budget, revise a stream and close a period over HTTP; every refusal is a
GOV.UK error on the form and changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.budgets.figures import budget_figures, pot_figures, stream_figures
from marketplace.budgets.models import (
    BudgetStatus,
    FunderPot,
    FundingStream,
    PaymentFrequency,
    PersonalBudget,
    StreamKind,
    StreamRevision,
)
from marketplace.budgets.queries import budgets_of
from marketplace.budgets.spending import reserve
from marketplace.budgets.verify import check_budgets
from marketplace.extensions import db
from marketplace.ledger import LedgerAccount, Transfer
from tests.citizens.helpers import YEAR, YEAR_END, YEAR_START, give_budget
from tests.conftest import sign_in

Pots = dict[StreamKind, FunderPot]


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _dates(prefix: str, day: date) -> list[tuple[str, str]]:
    return [(prefix, str(day.day)), (prefix, str(day.month)), (prefix, str(day.year))]


def _budget_form(pots: Pots, **changes: object) -> MultiDict[str, str]:
    """A good budget form: a year, four-weekly, council £13,000 and a £1,300 contribution."""
    fields: dict[str, object] = {
        "starts_on": YEAR_START,
        "ends_on": YEAR_END,
        "frequency": "four_weekly",
        "council_amount": "13,000.00",
        "council_pot": str(pots[StreamKind.COUNCIL].id),
        "council_order": "30",
        "client_contribution_amount": "£1300",
        "client_contribution_order": "10",
        "nhs_amount": "",
        "nhs_pot": "",
        "nhs_order": "20",
        "own_funds_amount": "",
        "own_funds_order": "40",
    }
    fields.update(changes)
    data: list[tuple[str, str]] = []
    for name, value in fields.items():
        if isinstance(value, date):
            data += _dates(name, value)
        elif value is not None:
            data.append((name, str(value)))
    return MultiDict(data)


def _ledger_size() -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer)) or 0


def test_people_are_searched_by_name(officer_client: FlaskClient, citizen: User) -> None:
    page = _text(officer_client.get("/council/people?name=test+CIT"))

    assert "Test Citizen" in page
    assert f"/council/people/{citizen.person_id}" in page
    assert "has “zebedee” in it" in _text(officer_client.get("/council/people?name=zebedee"))


def test_an_officer_gives_a_budget_out_of_two_funders_pots(
    officer_client: FlaskClient, citizen: User, pots: Pots
) -> None:
    path = f"/council/people/{citizen.person_id}/budgets/new"
    form = _text(officer_client.get(path))
    assert f'value="{pots[StreamKind.COUNCIL].id}" selected' in form
    assert "£100,000 unallocated" in form

    response = officer_client.post(
        path,
        data=_budget_form(
            pots,
            nhs_amount="2600",
            nhs_pot=str(pots[StreamKind.NHS].id),
            frequency="monthly",
        ),
    )

    assert response.status_code == 302
    (budget,) = budgets_of(db.session, citizen.person)
    assert budget.frequency is PaymentFrequency.MONTHLY
    assert {s.kind: s.amount_pence for s in budget.streams} == {
        StreamKind.COUNCIL: 13_000_00,
        StreamKind.NHS: 2_600_00,
        StreamKind.CLIENT_CONTRIBUTION: 1_300_00,
    }
    assert pot_figures(db.session, pots[StreamKind.COUNCIL]).unallocated_pence == 87_000_00
    assert pot_figures(db.session, pots[StreamKind.NHS]).unallocated_pence == 47_400_00
    page = _text(officer_client.get(response.location))
    assert "has a new personal budget" in page
    assert "Revise the amount: Council" in page
    assert check_budgets(db.session)[0] == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"starts_on": None}, "Enter the start date"),
        ({"ends_on": None}, "Enter the end date"),
        ({"ends_on": YEAR_START - timedelta(days=1)}, "The end date must be the same as or after"),
        ({"ends_on": YEAR_START + timedelta(days=400)}, "can be a year at most"),
        ({"frequency": "fortnightly"}, "Not a valid choice"),
        ({"council_amount": "-100"}, "cannot be negative"),
        ({"council_amount": "2,000,000"}, "must be £1,000,000 or less"),
        # Exponents are not pounds (marketplace.money): "1e999990" stalled the server.
        ({"council_amount": "1e9"}, "must be an amount in pounds"),
        ({"council_amount": "twelve"}, "must be an amount in pounds"),
        ({"council_amount": "0"}, "must be more than £0"),
        ({"council_amount": "", "client_contribution_amount": ""}, "at least one funding stream"),
        ({"council_pot": ""}, "Choose the pot the council money comes from"),
        ({"council_pot": "not-a-pot"}, "Choose a pot from the list"),
        ({"council_order": "10"}, "already has draw order 10"),
        ({"council_order": "-3"}, "Enter a draw order from 1 to 99"),
        ({"council_amount": "150000"}, "has only £100,000 unallocated"),
        (
            {"starts_on": date(YEAR + 1, 4, 1), "ends_on": date(YEAR + 2, 3, 31)},
            "Choose a pot for the financial year the budget starts in",
        ),
    ],
)
def test_bad_budgets_are_explained_and_nothing_changes(
    officer_client: FlaskClient, citizen: User, pots: Pots, changes: dict, message: str
) -> None:
    before = _ledger_size()

    response = officer_client.post(
        f"/council/people/{citizen.person_id}/budgets/new", data=_budget_form(pots, **changes)
    )

    assert response.status_code == 400
    page = _text(response)
    assert "There is a problem" in page
    assert message in page
    assert budgets_of(db.session, citizen.person) == []
    assert _ledger_size() == before


def test_a_second_budget_for_the_same_period_is_refused(
    officer_client: FlaskClient, citizen: User, pots: Pots, budget: PersonalBudget
) -> None:
    response = officer_client.post(
        f"/council/people/{citizen.person_id}/budgets/new", data=_budget_form(pots)
    )

    assert response.status_code == 400
    assert "already has an open budget" in _text(response)
    assert budgets_of(db.session, citizen.person) == [budget]


def _revise(
    client: FlaskClient, budget: PersonalBudget, kind: StreamKind, **data: str
) -> tuple[TestResponse, FundingStream]:
    stream = next(s for s in budget.streams if s.kind is kind)
    path = f"/council/people/{budget.person_id}/budgets/{budget.id}/streams/{stream.id}/revise"
    data.setdefault("key", "3f3c4c62-7d0a-4a4b-9f36-3f6b0b7f2a10")
    return client.post(path, data=data), stream


def test_an_officer_revises_a_stream_with_a_reason_once(
    officer_client: FlaskClient, budget: PersonalBudget
) -> None:
    stream = next(s for s in budget.streams if s.kind is StreamKind.COUNCIL)
    form = _text(
        officer_client.get(
            f"/council/people/{budget.person_id}/budgets/{budget.id}/streams/{stream.id}/revise"
        )
    )
    assert 'value="13000.00"' in form

    first, _ = _revise(
        officer_client, budget, StreamKind.COUNCIL, amount="14000", reason="Needs more help"
    )
    again, _ = _revise(
        officer_client, budget, StreamKind.COUNCIL, amount="14000", reason="Needs more help"
    )

    assert first.status_code == again.status_code == 302
    db.session.refresh(stream)
    assert stream.amount_pence == 14_000_00
    assert db.session.query(StreamRevision).count() == 1
    assert check_budgets(db.session)[0] == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "", "reason": "x"}, "Enter the new amount"),
        ({"amount": "-1", "reason": "x"}, "cannot be negative"),
        ({"amount": "5000000", "reason": "x"}, "must be £1,000,000 or less"),
        ({"amount": "14000", "reason": ""}, "Say why the amount is changing"),
        ({"amount": "14000", "reason": "x" * 501}, "500 characters or fewer"),
        ({"amount": "14000", "reason": "x", "key": "nonsense"}, "This form has expired"),
        ({"amount": "200000", "reason": "x"}, "The pot has only"),
        ({"amount": "0", "reason": "x"}, "cannot be less than"),
    ],
)
def test_bad_revisions_are_explained_and_nothing_changes(
    officer_client: FlaskClient,
    budget: PersonalBudget,
    provider_payee: LedgerAccount,
    data: dict[str, str],
    message: str,
) -> None:
    # The contribution is drawn first: hold all of it and £50 of the council's money.
    contribution = next(s for s in budget.streams if s.kind is StreamKind.CLIENT_CONTRIBUTION)
    drawn_first = stream_figures(db.session, [contribution])[contribution.id].available_pence
    reserve(
        db.session,
        budget,
        amount_pence=drawn_first + 50_00,
        category_codes={"meals"},
        payee=provider_payee,
        key="held",
    )
    db.session.commit()
    before = _ledger_size()

    response, stream = _revise(officer_client, budget, StreamKind.COUNCIL, **data)

    assert response.status_code == 400
    assert message in _text(response)
    db.session.refresh(stream)
    assert stream.amount_pence == 13_000_00
    assert _ledger_size() == before


def _close_path(budget: PersonalBudget, end: str = "") -> str:
    return f"/council/people/{budget.person_id}/budgets/{budget.id}/close{end}"


def test_closing_a_period_previews_then_returns_whats_unspent(
    officer_client: FlaskClient, budget: PersonalBudget, pots: Pots
) -> None:
    council_before = pot_figures(db.session, pots[StreamKind.COUNCIL]).unallocated_pence
    choices = _text(officer_client.get(_close_path(budget)))
    assert "has no later budget, so unspent money can only be returned" in choices

    preview = officer_client.get(_close_path(budget, "/preview"))
    page = _text(preview)

    assert preview.status_code == 200
    assert "£16,900" in page  # all of it is unspent
    assert "Back to Hertfordshire County Council" in page
    assert budgets_of(db.session, budget.person)[0].status is BudgetStatus.OPEN

    hidden = dict(_hidden(page))
    response = officer_client.post(_close_path(budget), data=hidden)

    assert response.status_code == 302
    db.session.refresh(budget)
    assert budget.status is BudgetStatus.CLOSED
    assert budget_figures(db.session, budget).total.returned_pence == 16_900_00
    assert pot_figures(db.session, pots[StreamKind.COUNCIL]).unallocated_pence == (
        council_before + 13_000_00
    )
    assert ledger.verify_ledger(db.session).problems == []
    assert check_budgets(db.session)[0] == []
    person_page = _text(officer_client.get(response.location))
    assert "is closed" in person_page
    assert ">Returned</th>" in person_page
    assert "Close this period" not in person_page
    assert "already closed" in _text(officer_client.get(_close_path(budget)))


def _hidden(page: str) -> list[tuple[str, str]]:
    return re.findall(
        r'<input[^>]*name="(choices|expected_unspent_pence)"[^>]*value="([^"]*)"', page
    )


def test_unspent_money_is_carried_forward_into_the_next_budget(
    officer_client: FlaskClient, budget: PersonalBudget, pots: Pots, citizen: User
) -> None:
    following = give_budget(
        citizen.person,
        pots,
        starts_on=date(YEAR + 1, 4, 1),
        ends_on=date(YEAR + 2, 3, 31),
        client_contribution=1_200_00,
    )
    contribution = next(s for s in budget.streams if s.kind is StreamKind.CLIENT_CONTRIBUTION)

    page = _text(
        officer_client.get(
            _close_path(budget, f"/preview?stream_{contribution.id.hex}=carry_forward")
        )
    )
    assert "Carried forward to the budget from 1 April" in page
    response = officer_client.post(_close_path(budget), data=dict(_hidden(page)))

    assert response.status_code == 302
    carried = budget_figures(db.session, following).streams[0][1]
    assert carried.available_pence == 1_300_00
    assert check_budgets(db.session)[0] == []


def test_money_carried_forward_is_labelled_so_with_its_period_not_returned(
    app: Flask, officer_client: FlaskClient, budget: PersonalBudget, pots: Pots, citizen: User
) -> None:
    following = give_budget(
        citizen.person,
        pots,
        starts_on=date(YEAR + 1, 4, 1),
        ends_on=date(YEAR + 2, 3, 31),
        client_contribution=1_200_00,
    )
    contribution = next(s for s in budget.streams if s.kind is StreamKind.CLIENT_CONTRIBUTION)
    page = _text(
        officer_client.get(
            _close_path(budget, f"/preview?stream_{contribution.id.hex}=carry_forward")
        )
    )
    assert officer_client.post(_close_path(budget), data=dict(_hidden(page))).status_code == 302
    closed = budget_figures(db.session, budget).total
    # The council's £13,000 and the NHS's £2,600 went back; the person's £1,300 went on.
    assert (closed.returned_pence, closed.carried_forward_pence) == (15_600_00, 1_300_00)
    citizen_client = app.test_client()
    sign_in(citizen_client, citizen)
    next_period = f"{YEAR + 1}"

    for page in (
        _text(officer_client.get(f"/council/people/{citizen.person_id}")),
        _text(citizen_client.get(f"/my/budgets/{budget.id}")),
    ):
        assert ">Returned</th>" in page
        assert ">Carried forward</th>" in page
        assert re.search(r">£13,000</td>\s*<td[^>]*>£0</td>", page)  # the council's
        assert re.search(r">£0</td>\s*<td[^>]*>£1,300</td>", page)  # the person's
        assert f"£1,300 was carried forward to the budget from 1 April {next_period}" in page
    for statement in (
        _text(
            officer_client.get(f"/council/people/{citizen.person_id}/budgets/{budget.id}/statement")
        ),
        _text(citizen_client.get(f"/my/budgets/{budget.id}/statement")),
    ):
        assert f"Carried forward to the budget from 1 April {next_period}" in statement
        assert "Returned at the end of the period" in statement  # the council's stream only
    assert following.streams[0].amount_pence == 1_200_00 + 1_300_00


def test_a_budget_whose_period_has_ended_is_flagged_awaiting_close_not_open(
    app: Flask, officer: User, budget: PersonalBudget, citizen: User
) -> None:
    officer_client = app.test_client()
    citizen_client = app.test_client()
    flag = "Period ended, awaiting close"
    sign_in(officer_client, officer)
    assert "Budgets to close" not in _text(officer_client.get("/council/people"))

    with time_machine.travel(datetime(YEAR + 1, 4, 2, 9, tzinfo=UTC)):
        sign_in(officer_client, officer)
        sign_in(citizen_client, citizen)
        person_page = _text(officer_client.get(f"/council/people/{citizen.person_id}"))
        people_page = _text(officer_client.get("/council/people"))
        citizen_page = _text(citizen_client.get("/my/budget"))

    assert re.search(
        rf'<strong class="govuk-tag govuk-tag--orange">\s*{flag}\s*</strong>', person_page
    )
    assert not re.search(r'class="govuk-tag[^"]*">\s*Open\s*</strong>', person_page)
    assert f"This period ended on 31 March {YEAR + 1} and the budget is still open" in person_page
    assert "Close this period" in person_page
    assert "Budgets to close: 1" in people_page
    assert f"#budget-{budget.id}" in people_page
    assert flag in citizen_page
    assert f"This period ended on 31 March {YEAR + 1}. The council will close it" in citizen_page
    # Nothing closed it by itself: that is the officer's decision.
    db.session.refresh(budget)
    assert budget.status is BudgetStatus.OPEN


def test_a_close_is_refused_if_the_budget_changed_since_the_preview(
    officer_client: FlaskClient, budget: PersonalBudget, provider_payee: LedgerAccount
) -> None:
    page = _text(officer_client.get(_close_path(budget, "/preview")))
    reserve(
        db.session,
        budget,
        amount_pence=10_00,
        category_codes={"meals"},
        payee=provider_payee,
        key="late",
    )
    db.session.commit()
    before = _ledger_size()

    response = officer_client.post(_close_path(budget), data=dict(_hidden(page)))

    assert response.status_code == 409
    text = _text(response)
    assert "The period cannot be closed" in text
    assert "£10 is still committed" in text
    assert 'name="choices"' not in text
    db.session.refresh(budget)
    assert budget.status is BudgetStatus.OPEN
    assert _ledger_size() == before


def test_a_close_with_tampered_choices_is_a_bad_request(
    officer_client: FlaskClient, budget: PersonalBudget
) -> None:
    for data in (
        {"choices": "nonsense", "expected_unspent_pence": "0"},
        {"choices": "", "expected_unspent_pence": "lots"},
        {"choices": "3f3c4c62-7d0a-4a4b-9f36-3f6b0b7f2a10:return", "expected_unspent_pence": "1"},
    ):
        assert officer_client.post(_close_path(budget), data=data).status_code == 400
    db.session.refresh(budget)
    assert budget.status is BudgetStatus.OPEN


def test_funders_pots_with_their_figures(
    officer_client: FlaskClient, budget: PersonalBudget
) -> None:
    page = _text(officer_client.get(f"/council/funders?year={YEAR}"))

    assert "Hertfordshire County Council" in page
    assert "Hertfordshire and West Essex Integrated Care Board" in page
    assert "£100,000" in page
    assert "£87,000" in page  # not yet allocated
    assert "No funder has a pot" in _text(officer_client.get(f"/council/funders?year={YEAR + 5}"))


def test_the_officer_reads_the_same_statement_and_csv_as_the_person(
    officer_client: FlaskClient, budget: PersonalBudget
) -> None:
    path = f"/council/people/{budget.person_id}/budgets/{budget.id}/statement"
    page = officer_client.get(path)
    download = officer_client.get(path + ".csv?date_from=2000-01-01")

    assert page.status_code == 200
    assert "Instalment" in _text(page)
    assert download.mimetype == "text/csv"
    assert download.get_data(as_text=True).startswith("date,time,stream,what")


def test_another_persons_budget_through_this_persons_address_is_404(
    officer_client: FlaskClient,
    budget: PersonalBudget,
    make_user,
    pots: Pots,
) -> None:
    other = make_user().person
    stream = budget.streams[0]
    for path in (
        f"/council/people/{other.id}/budgets/{budget.id}/statement",
        f"/council/people/{other.id}/budgets/{budget.id}/close",
        f"/council/people/{other.id}/budgets/{budget.id}/streams/{stream.id}/revise",
    ):
        assert officer_client.get(path).status_code == 404
