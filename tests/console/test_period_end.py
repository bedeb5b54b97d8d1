"""Period end in bulk (issue 19, CLOSE): the preview of many budgets' closes by the council's
rule, and its confirmation: what it says is what it does, penny for penny, per stream and
funder; budgets that cannot close are named and left open; a preview gone stale is refused;
two officers confirming at once close each budget once. Ledger verify after each."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from urllib.parse import urlencode

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets import funders
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.closing import CloseChoice
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import (
    BudgetStatus,
    FunderKind,
    FunderPot,
    PaymentFrequency,
    PersonalBudget,
    StreamKind,
)
from marketplace.budgets.spending import reserve, spend
from marketplace.budgets.verify import check_budgets
from marketplace.console import period_end
from marketplace.console.models import PeriodCloseRun, UnspentRule
from marketplace.console.period_end import PeriodEndChanged, Selection
from marketplace.extensions import db
from marketplace.ledger import LedgerAccount, Transfer
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.people.models import Person
from marketplace.types import Session as AnySession
from tests.conftest import sign_in
from tests.ledger.threads import engine_options
from tests.packages.period_fixtures import (
    PeriodWorld,
    hold_next_cycle,
    period_world,
    settle_cycle,
)

__all__ = ["period_world"]

FIRST = (date(2026, 4, 1), date(2026, 9, 30))
SECOND = (date(2026, 10, 1), date(2027, 3, 31))
ENDED_BY = date(2026, 10, 31)
MEALS = {"meals"}


def _consistent(session: Session) -> None:
    report = ledger.verify_ledger(session)
    assert report.ok, report.problems
    assert check_budgets(session)[0] == []


def _budget(
    session: AnySession,
    person: Person,
    period: tuple[date, date],
    *,
    council_pot: FunderPot,
    nhs_pot: FunderPot | None = None,
    council: int = 0,
    nhs: int = 0,
    contribution: int = 0,
) -> PersonalBudget:
    specs = []
    if contribution:
        specs.append(StreamSpec(StreamKind.CLIENT_CONTRIBUTION, contribution))
    if council:
        specs.append(StreamSpec(StreamKind.COUNCIL, council, pot=council_pot))
    if nhs:
        specs.append(StreamSpec(StreamKind.NHS, nhs, pot=nhs_pot))
    budget = create_budget(
        session,
        person=person,
        starts_on=period[0],
        ends_on=period[1],
        frequency=PaymentFrequency.ANNUAL,
        streams=specs,
        today=period[0],
    )
    session.commit()
    return budget


def _person(session: AnySession, name: str, postcode: str | None = None) -> Person:
    found = Person(full_name=name, postcode=postcode)
    session.add(found)
    session.commit()
    return found


def _spend(
    session: Session, budget: PersonalBudget, payee: LedgerAccount, pence: int, key: str
) -> None:
    spend(
        session,
        reserve(session, budget, amount_pence=pence, category_codes=MEALS, payee=payee, key=key),
        key=f"invoice:{key}",
    )
    session.commit()


def _close_transfers(session: Session, budget: PersonalBudget) -> dict[object, Transfer]:
    """The ledger transfers the close made, by stream id."""
    keys = {f"close:{stream.id}": stream.id for stream in budget.streams}
    return {
        keys[t.idempotency_key]: t
        for t in session.scalars(select(Transfer).where(Transfer.idempotency_key.in_(keys)))
    }


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.COUNCIL_OFFICER)


def test_the_preview_is_what_the_close_does_per_stream_and_funder(
    session: Session,
    council_pot: FunderPot,
    nhs_pot: FunderPot,
    payee: LedgerAccount,
    officer: User,
    make_user: Callable[..., User],
) -> None:
    ada = _person(session, "Ada Brown")
    ben = _person(session, "Ben Carter")
    citizen = make_user(Role.CITIZEN)
    citizen.person_id = ada.id
    session.commit()
    ada_first = _budget(
        session,
        ada,
        FIRST,
        council_pot=council_pot,
        nhs_pot=nhs_pot,
        council=1_000_00,
        nhs=500_00,
        contribution=100_00,
    )
    ben_first = _budget(session, ben, FIRST, council_pot=council_pot, council=800_00)
    ben_next = _budget(session, ben, SECOND, council_pot=council_pot, council=800_00)
    # 100 from the contribution, then 150 from the council's (the NHS's does not pay for meals).
    _spend(session, ada_first, payee, 250_00, "ada")
    _spend(session, ben_first, payee, 300_33, "ben")

    selection = Selection(ENDED_BY, UnspentRule.CARRY_FORWARD)
    preview = period_end.preview_period_end(session, selection)

    # Ben's next budget has not ended, so it is not chosen; Ada has none: hers go back.
    assert [plan.budget for plan in preview.plans] == [ada_first, ben_first]
    ada_plan, ben_plan = preview.plans
    assert [(m.stream_name, m.choice, m.amount_pence, m.where) for m in ada_plan.moves] == [
        ("Assessed contribution", CloseChoice.RETURN, 0, "Nothing unspent"),
        ("NHS personal health budget", CloseChoice.RETURN, 500_00, f"Returned to {nhs_pot.label}"),
        ("Council", CloseChoice.RETURN, 850_00, f"Returned to {council_pot.label}"),
    ]
    assert [(m.choice, m.amount_pence) for m in ben_plan.moves] == [
        (CloseChoice.CARRY_FORWARD, 499_67)
    ]
    assert ben_plan.moves[0].where == "Carried into the budget for 1 October 2026 to 31 March 2027"
    assert preview.by_funder() == [
        ("Hertfordshire County Council", 850_00, 499_67),
        ("Hertfordshire and West Essex ICB", 500_00, 0),
        ("the person", 0, 0),
    ]
    pots_before = ledger.balances(session, [council_pot.account_id, nhs_pot.account_id])

    run, done = period_end.confirm_period_end(
        session, selection, fingerprint=preview.fingerprint, made_by=officer
    )
    session.commit()

    assert (ada_first.status, ben_first.status, ben_next.status) == (
        BudgetStatus.CLOSED,
        BudgetStatus.CLOSED,
        BudgetStatus.OPEN,
    )
    # Each stream's ledger transfer is the amount previewed, to the place previewed.
    for plan in preview.plans:
        transfers = _close_transfers(session, plan.budget)
        for move in plan.moves:
            if move.amount_pence == 0:
                assert move.stream_id not in transfers
                continue
            transfer = transfers[move.stream_id]
            assert transfer.amount_pence == move.amount_pence
            stream = next(s for s in plan.budget.streams if s.id == move.stream_id)
            expected = (
                next(s for s in ben_next.streams if s.id == move.destination_stream_id).account_id
                if move.choice is CloseChoice.CARRY_FORWARD
                else stream.source_account_id
            )
            assert transfer.credit_account_id == expected
    pots_after = ledger.balances(session, [council_pot.account_id, nhs_pot.account_id])
    assert (
        pots_after[council_pot.account_id].available - pots_before[council_pot.account_id].available
        == 850_00
    )
    assert (
        pots_after[nhs_pot.account_id].available - pots_before[nhs_pot.account_id].available
        == 500_00
    )
    assert budget_figures(session, ben_next).total.allocated_pence == 800_00 + 499_67
    assert (run.budget_count, run.returned_pence, run.carried_pence) == (2, 1_350_00, 499_67)
    assert run.rule is UnspentRule.CARRY_FORWARD
    assert run.report["left_open"] == []
    assert [b["person"] for b in run.report["closed"]] == ["Ada Brown", "Ben Carter"]
    assert done.fingerprint == preview.fingerprint
    told = session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.PERIOD_CLOSED)
    ).all()
    assert [(n.user_id, n.link) for n in told] == [
        (citizen.id, f"/my/budgets/{ada_first.id}/statement")
    ]
    _consistent(session)


def test_a_budget_that_cannot_close_is_named_and_left_open_and_the_rest_close(
    session: Session, council_pot: FunderPot, payee: LedgerAccount, officer: User
) -> None:
    ada = _person(session, "Ada Brown")
    ben = _person(session, "Ben Carter")
    ada_first = _budget(session, ada, FIRST, council_pot=council_pot, council=1_000_00)
    ben_first = _budget(session, ben, FIRST, council_pot=council_pot, council=800_00)
    reserve(session, ben_first, amount_pence=40_00, category_codes=MEALS, payee=payee, key="b")
    session.commit()

    selection = Selection(ENDED_BY, UnspentRule.RETURN)
    preview = period_end.preview_period_end(session, selection)

    assert [plan.budget for plan in preview.closing] == [ada_first]
    assert [(plan.budget, plan.problems) for plan in preview.left_open] == [
        (
            ben_first,
            [
                "Council: £40 is still committed. Those purchases must be paid or released "
                "before the period can close"
            ],
        )
    ]
    run, _ = period_end.confirm_period_end(
        session, selection, fingerprint=preview.fingerprint, made_by=officer
    )
    session.commit()
    assert (ada_first.status, ben_first.status) == (BudgetStatus.CLOSED, BudgetStatus.OPEN)
    assert run.budget_count == 1
    assert run.report["left_open"][0]["person"] == "Ben Carter"
    rows = period_end.report_rows(run)
    assert rows[-1][-2:] == ["Left open", preview.left_open[0].problems[0]]
    _consistent(session)


def test_a_budget_with_a_running_package_carries_it_and_one_with_no_next_budget_stays_open(
    session: Session, period_world: PeriodWorld, officer: User
) -> None:
    world = period_world
    first, second = world.first_budget(), world.second_budget()
    order = world.package(session)
    hold_next_cycle(session, order, first)
    hold_next_cycle(session, order, first)
    hold_next_cycle(session, order, second)
    for cycle in order.cycles[:3]:
        settle_cycle(session, world, order, cycle)

    selection = Selection(ENDED_BY, UnspentRule.RETURN, person_id=world.person.id)
    preview = period_end.preview_period_end(session, selection)

    (plan,) = preview.plans
    assert plan.can_close
    assert [(p.reference, p.next_budget) for p in plan.carrying_on] == [(order.reference, second)]
    period_end.confirm_period_end(
        session, selection, fingerprint=preview.fingerprint, made_by=officer
    )
    session.commit()
    assert first.status is BudgetStatus.CLOSED
    assert order.status.is_open
    _consistent(session)

    # The second period, once ended, has the package and no budget after it: left open.
    later = Selection(date(2027, 4, 30), UnspentRule.RETURN, person_id=world.person.id)
    (stuck,) = period_end.preview_period_end(session, later).plans
    assert not stuck.can_close
    assert any("carries on after 31 March 2027" in problem for problem in stuck.problems)


def test_a_close_refuses_when_an_amount_changed_since_the_preview(
    session: Session, council_pot: FunderPot, payee: LedgerAccount, officer: User
) -> None:
    ada = _person(session, "Ada Brown")
    ada_first = _budget(session, ada, FIRST, council_pot=council_pot, council=1_000_00)
    selection = Selection(ENDED_BY, UnspentRule.RETURN)
    preview = period_end.preview_period_end(session, selection)
    # An invoice settled meanwhile.
    _spend(session, ada_first, payee, 12_34, "late")

    with pytest.raises(PeriodEndChanged) as changed:
        period_end.confirm_period_end(
            session, selection, fingerprint=preview.fingerprint, made_by=officer
        )
    session.rollback()

    assert changed.value.preview.plans[0].unspent_pence == 1_000_00 - 12_34
    assert ada_first.status is BudgetStatus.OPEN
    assert session.scalar(select(PeriodCloseRun)) is None
    _consistent(session)


def test_money_carried_into_a_later_period_the_same_run_closes_moves_on_with_it(
    session: Session, council_pot: FunderPot, officer: User
) -> None:
    ada = _person(session, "Ada Brown")
    first = _budget(session, ada, FIRST, council_pot=council_pot, council=600_00)
    second = _budget(session, ada, SECOND, council_pot=council_pot, council=400_00)
    selection = Selection(date(2027, 4, 30), UnspentRule.CARRY_FORWARD)
    preview = period_end.preview_period_end(session, selection)

    assert [(p.budget, p.carried_pence, p.returned_pence) for p in preview.plans] == [
        (first, 600_00, 0),
        (second, 0, 1_000_00),
    ]
    run, _ = period_end.confirm_period_end(
        session, selection, fingerprint=preview.fingerprint, made_by=officer
    )
    session.commit()
    assert (run.returned_pence, run.carried_pence) == (1_000_00, 600_00)
    assert budget_figures(session, second).total.returned_pence == 1_000_00
    _consistent(session)


def test_the_filters_choose_by_funder_area_and_person(
    session: Session, council_pot: FunderPot, nhs_pot: FunderPot, reference_data: None
) -> None:
    ada = _person(session, "Ada Brown", postcode="SG1 2AB")
    ben = _person(session, "Ben Carter", postcode="AL1 1AA")
    ada_first = _budget(session, ada, FIRST, council_pot=council_pot, council=100_00)
    ben_first = _budget(session, ben, FIRST, council_pot=council_pot, nhs_pot=nhs_pot, nhs=100_00)
    _budget(
        session,
        ben,
        (date(2026, 11, 1), date(2026, 11, 30)),
        council_pot=council_pot,
        council=10_00,
    )

    def chosen(**filters: object) -> list[PersonalBudget]:
        return period_end.chosen_budgets(
            session,
            Selection(ENDED_BY, UnspentRule.RETURN, **filters),  # type: ignore[arg-type]
        )

    assert chosen() == [ada_first, ben_first]
    assert chosen(funder_id=nhs_pot.funder_id) == [ben_first]
    assert chosen(person_id=ada.id) == [ada_first]
    stevenage = next(
        d for d in period_end.districts_to_choose(session) if "SG1" in d.postcode_districts
    )
    assert chosen(district_code=stevenage.code) == [ada_first]
    assert chosen(district_code="nowhere") == []


def test_two_officers_confirming_the_same_run_at_once_close_each_budget_once(
    make_app: Callable[..., Flask],
) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    with app.app_context():
        session = db.session
        council = funders.create_funder(session, name="Council", kind=FunderKind.COUNCIL)
        pot = funders.open_pot(session, council, 2026)
        funders.fund_pot(session, pot, amount_pence=10_000_00, key="fund")
        for name in ("Ada Brown", "Ben Carter", "Cy Dunn"):
            person = _person(session, name)
            _budget(session, person, FIRST, council_pot=pot, council=300_00)
        officers = []
        for number in range(2):
            officer = User(
                email=f"officer{number}@example.org",
                password_hash="x",
                role=Role.COUNCIL_OFFICER,
                full_name=f"Officer {number}",
            )
            session.add(officer)
            officers.append(officer)
        session.commit()
        officer_ids = [o.id for o in officers]
        selection = Selection(ENDED_BY, UnspentRule.RETURN)
        fingerprint = period_end.preview_period_end(session, selection).fingerprint

    barrier = threading.Barrier(2)

    def confirm(number: int) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                period_end.confirm_period_end(
                    db.session,
                    selection,
                    fingerprint=fingerprint,
                    made_by=db.session.get_one(User, officer_ids[number]),
                )
                db.session.commit()
            except PeriodEndChanged:
                db.session.rollback()
                return "changed"
            except BaseException:
                db.session.rollback()
                raise
            return "ok"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(confirm, range(2)))

    assert outcomes == ["changed", "ok"]
    with app.app_context():
        session = db.session
        runs = session.scalars(select(PeriodCloseRun)).all()
        assert [(run.budget_count, run.returned_pence) for run in runs] == [(3, 900_00)]
        budgets = session.scalars(select(PersonalBudget)).all()
        assert {b.status for b in budgets} == {BudgetStatus.CLOSED}
        returns = session.scalars(
            select(Transfer).where(Transfer.idempotency_key.like("close:%"))
        ).all()
        assert len(returns) == 3
        result = app.test_cli_runner().invoke(args=["ledger", "verify"])
        assert result.exit_code == 0, result.output


# The pages ------------------------------------------------------------------------------------

TODAY = datetime(2026, 11, 16, 12, tzinfo=UTC)


def _hidden(page: str) -> dict[str, str]:
    """The confirmation form's hidden fields, as the preview page drew them."""
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page)
    }


def _query(day: date, **more: str) -> str:
    parts = [("ended_by", str(day.day)), ("ended_by", str(day.month)), ("ended_by", str(day.year))]
    return urlencode(parts + list(more.items()))


@time_machine.travel(TODAY, tick=False)
def test_an_officer_previews_confirms_and_reads_the_report(
    session: Session,
    client: FlaskClient,
    council_pot: FunderPot,
    payee: LedgerAccount,
    officer: User,
) -> None:
    ada = _person(session, "Ada Brown")
    ben = _person(session, "Ben Carter")
    ada_first = _budget(session, ada, FIRST, council_pot=council_pot, council=1_000_00)
    ben_first = _budget(session, ben, FIRST, council_pot=council_pot, council=800_00)
    reserve(session, ben_first, amount_pence=40_00, category_codes=MEALS, payee=payee, key="b")
    session.commit()
    sign_in(client, officer)
    # The people page's list of budgets to close leads here.
    assert 'href="/council/period-end"' in client.get("/council/people").get_data(as_text=True)
    # So does an ended period on the person's page, for that person alone.
    person_page = client.get(f"/council/people/{ben.id}").get_data(as_text=True)
    assert f'href="/council/period-end?person_id={ben.id}"' in person_page
    only_ben = client.get(f"/council/period-end?person_id={ben.id}").get_data(as_text=True)
    assert "Only Ben Carter\u2019s budgets" in only_ben

    start = client.get("/council/period-end")
    assert start.status_code == 200
    assert 'value="return" checked' in start.get_data(as_text=True)

    preview = client.get(f"/council/period-end/preview?{_query(ENDED_BY, rule='return')}")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert "Close 1 period" in page
    assert "£1,000" in page
    assert "Returned to Hertfordshire County Council 2026/27" in page
    assert "Council: £40 is still committed" in page  # Ben's, left open
    csv = client.get(f"/council/period-end/preview.csv?{_query(ENDED_BY, rule='return')}")
    assert csv.status_code == 200
    assert "Ada Brown,1 April 2026 to 30 September 2026,Council" in csv.get_data(as_text=True)

    fields = _hidden(page)
    done = client.post("/council/period-end", data={**fields, "note": "Half-year end"})
    assert done.status_code == 302, done.get_data(as_text=True)
    report = client.get(done.headers["Location"])
    text = report.get_data(as_text=True)
    assert report.status_code == 200
    assert "1 period closed" in text
    assert "Half-year end" in text
    assert "Left open" in text
    assert (ada_first.status, ben_first.status) == (BudgetStatus.CLOSED, BudgetStatus.OPEN)
    run = session.scalars(select(PeriodCloseRun)).one()
    run_csv = client.get(f"/council/period-end/runs/{run.reference}.csv").get_data(as_text=True)
    assert run_csv.splitlines()[1] == (
        f"{run.reference},Ada Brown,1 April 2026 to 30 September 2026,Council,"
        "Hertfordshire County Council,1000.00,Returned to Hertfordshire County Council 2026/27,"
    )
    assert 'aria-labelledby="period-end-funders-title period-end-funders-desc"' in text
    funders_csv = client.get(f"/council/period-end/runs/{run.reference}.csv?table=funders")
    assert funders_csv.get_data(as_text=True).splitlines() == [
        "Run,Whose money,Returned,Carried forward",
        f"{run.reference},Hertfordshire County Council,1000.00,0.00",
    ]
    # Sent again (a second click): the preview it was bound to is gone, so nothing happens.
    again = client.post("/council/period-end", data=fields)
    assert again.status_code == 409
    assert "Nothing was closed" in again.get_data(as_text=True)
    assert session.scalars(select(func.count()).select_from(PeriodCloseRun)).one() == 1
    _consistent(session)


@time_machine.travel(TODAY, tick=False)
def test_a_confirmation_after_an_invoice_settled_is_refused_with_the_new_preview(
    session: Session,
    client: FlaskClient,
    council_pot: FunderPot,
    payee: LedgerAccount,
    officer: User,
) -> None:
    ada = _person(session, "Ada Brown")
    ada_first = _budget(session, ada, FIRST, council_pot=council_pot, council=1_000_00)
    sign_in(client, officer)
    page = client.get(f"/council/period-end/preview?{_query(ENDED_BY, rule='return')}")
    fields = _hidden(page.get_data(as_text=True))
    _spend(session, ada_first, payee, 12_34, "late")

    refused = client.post("/council/period-end", data=fields)

    text = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Nothing was closed" in text
    assert "£987.66" in text
    session.expire_all()
    assert session.get_one(PersonalBudget, ada_first.id).status is BudgetStatus.OPEN
    _consistent(session)


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("rule=return", "Enter the date the periods ended by"),
        (_query(date(2026, 11, 16), rule="return"), "The date must be yesterday or earlier"),
        (_query(date(2030, 1, 1), rule="return"), "The date must be yesterday or earlier"),
        ("ended_by=30&ended_by=2&ended_by=2026&rule=return", "must be a real date"),
        (_query(ENDED_BY), "Select what happens to money left unspent"),
        (_query(ENDED_BY, rule="spend_it"), "Select what happens to money left unspent"),
        (_query(ENDED_BY, rule="return", funder="nope"), "Choose the funder from the list"),
        (_query(date(2026, 1, 31), rule="return"), "No open budget's period ended by that date"),
    ],
)
def test_bad_choices_are_the_error_summary(
    session: Session,
    client: FlaskClient,
    council_pot: FunderPot,
    officer: User,
    query: str,
    message: str,
) -> None:
    _budget(session, _person(session, "Ada Brown"), FIRST, council_pot=council_pot, council=10_00)
    sign_in(client, officer)
    response = client.get(f"/council/period-end/preview?{query}")
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "govuk-error-summary" in text
    assert message in text
    assert session.scalar(select(PeriodCloseRun)) is None


def test_a_tampered_confirmation_is_a_bad_request(client: FlaskClient, officer: User) -> None:
    sign_in(client, officer)
    response = client.post(
        "/council/period-end",
        data={"ended_by": "2026-10-31", "rule": "return", "fingerprint": "not-a-digest"},
    )
    assert response.status_code == 400
