"""ISF (issue 18, item 6): asking a provider to hold part of a budget, the provider agreeing,
recording spending, the statement, and the unspent money going back (asked for, at the
period's close, when the provider is suspended); `flask ledger verify`'s checks after each."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.budgets import isf
from marketplace.budgets.closing import close_period, preview_close
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import IndividualServiceFund, IsfState, StreamKind
from marketplace.budgets.rules import TransferCode
from marketplace.budgets.statement import budget_statement
from marketplace.budgets.verify import check_budgets
from marketplace.ledger import InsufficientFunds, Transfer
from marketplace.notifications.models import Notification, NotificationKind
from providers.models import OrganisationStatus
from tests.packages import isf_fixtures
from tests.packages.isf_fixtures import (
    CONTRIBUTION_PENCE,
    COUNCIL_PENCE,
    TODAY,
    IsfWorld,
    assert_all_verifies,
)

isf_world = isf_fixtures.isf_world


def _stream(world: IsfWorld, kind: StreamKind):
    return next(s for s in world.budget.streams if s.kind is kind)


def _spend(session: Session, world: IsfWorld, fund, pence: int, key: str) -> None:
    isf.record_spend(
        session,
        fund,
        spent_on=TODAY,
        amount_pence=pence,
        description="Cinema trip with a support worker",
        by=world.staff,
        key=key,
        today=TODAY,
    )
    session.commit()


def test_asking_moves_nothing_and_tells_the_provider(session: Session, isf_world: IsfWorld) -> None:
    fund = isf_world.request(session)

    assert fund.state is IsfState.REQUESTED
    # The contribution is first in draw order and has the money.
    assert fund.stream_id == _stream(isf_world, StreamKind.CLIENT_CONTRIBUTION).id
    assert ledger.balance(session, fund.account_id).posted == 0
    told = session.scalars(
        select(Notification).where(Notification.user_id == isf_world.staff.id)
    ).all()
    assert [n.kind for n in told] == [NotificationKind.ISF_REQUESTED]
    assert_all_verifies(session)


def test_the_first_stream_with_enough_pays_and_a_health_only_stream_never(
    session: Session, isf_world: IsfWorld
) -> None:
    # More than the contribution holds: the NHS stream is for health care only, so the
    # council's pays.
    fund = isf_world.request(session, CONTRIBUTION_PENCE + 1)
    assert fund.stream_id == _stream(isf_world, StreamKind.COUNCIL).id

    with pytest.raises(isf.IsfRefused, match="cannot pay into"):
        isf_world.request(session, 10_00, stream=_stream(isf_world, StreamKind.NHS))
    with pytest.raises(isf.IsfRefused, match="No part of the budget has"):
        isf_world.request(session, COUNCIL_PENCE + 1)


@pytest.mark.parametrize(
    ("amount", "agreement", "message"),
    [
        (0, "Trips", "more than £0.00"),
        (-5, "Trips", "more than £0.00"),
        (isf.MAX_FUND_PENCE + 1, "Trips", "or less"),
        (10_00, "   ", "how the money will be spent"),
    ],
)
def test_a_bad_request_is_refused(
    session: Session, isf_world: IsfWorld, amount: int, agreement: str, message: str
) -> None:
    with pytest.raises(isf.IsfRefused, match=message):
        isf_world.request(session, amount, agreement=agreement)


def test_a_provider_not_approved_cannot_be_asked(session: Session, isf_world: IsfWorld) -> None:
    isf_world.provider.status = OrganisationStatus.SUSPENDED
    with pytest.raises(isf.IsfRefused, match="not approved"):
        isf_world.request(session)


def test_agreeing_moves_the_money_once_and_the_figures_add_up(
    session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.request(session)
    isf.decide(session, fund, by=isf_world.staff, agree=True)
    isf.decide(session, fund, by=isf_world.staff, agree=True)  # a retried answer
    session.commit()

    assert fund.state is IsfState.AGREED
    assert ledger.balance(session, fund.account_id).posted == 200_00
    moved = session.scalars(select(Transfer).where(Transfer.code == TransferCode.ISF)).all()
    assert len(moved) == 1
    total = budget_figures(session, isf_world.budget).total
    assert total.isf_pence == 200_00
    assert total.available_pence == CONTRIBUTION_PENCE + 500_00 + COUNCIL_PENCE - 200_00
    assert total.balanced
    lines = budget_statement(session, isf_world.budget).lines
    assert lines[-1].description == (
        f"Held by Chiltern Home Care as an Individual Service Fund ({fund.reference})"
    )
    assert lines[-1].out_pence == 200_00
    assert_all_verifies(session)

    with pytest.raises(isf.IsfRefused, match="already agreed"):
        isf.decide(session, fund, by=isf_world.staff, agree=False, reason="Changed our minds")


def test_declining_needs_a_reason_and_moves_nothing(session: Session, isf_world: IsfWorld) -> None:
    fund = isf_world.request(session)
    with pytest.raises(isf.IsfRefused, match="Say why"):
        isf.decide(session, fund, by=isf_world.staff, agree=False)
    isf.decide(session, fund, by=isf_world.staff, agree=False, reason="We have no staff free")
    session.commit()
    assert fund.state is IsfState.DECLINED
    assert ledger.balance(session, fund.account_id).posted == 0
    told = session.scalars(
        select(Notification.kind).where(Notification.user_id == isf_world.citizen.id)
    ).all()
    assert told == [NotificationKind.ISF_DECIDED]
    assert_all_verifies(session)


def test_only_the_provider_asked_can_decide(
    session: Session, isf_world: IsfWorld, make_user
) -> None:
    from marketplace.accounts.roles import Role

    fund = isf_world.request(session)
    stranger = make_user(Role.PROVIDER_STAFF)
    with pytest.raises(isf.IsfRefused, match="Only the provider"):
        isf.decide(session, fund, by=stranger, agree=True)


def test_agreeing_when_the_stream_no_longer_has_the_money_moves_nothing(
    session: Session, isf_world: IsfWorld
) -> None:
    first = isf_world.request(session, 200_00)
    second = isf_world.request(session, 200_00)  # both fit the £300 contribution when asked
    isf.decide(session, first, by=isf_world.staff, agree=True)
    session.commit()
    with pytest.raises(InsufficientFunds, match="no longer has"):
        isf.decide(session, second, by=isf_world.staff, agree=True)
    session.rollback()
    assert session.get_one(type(second), second.id).state is IsfState.REQUESTED
    assert_all_verifies(session)


def test_spending_goes_to_the_provider_and_a_retried_form_records_once(
    session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.agreed(session)
    _spend(session, isf_world, fund, 45_50, "form-1")
    _spend(session, isf_world, fund, 45_50, "form-1")

    statement = isf.isf_statement(session, fund)
    assert (statement.agreed_pence, statement.spent_pence, statement.balance_pence) == (
        200_00,
        45_50,
        154_50,
    )
    assert [line.what for line in statement.lines] == [
        "Agreed: moved from the budget into the fund",
        "Spent",
    ]
    assert statement.lines[-1].spent_on == TODAY
    assert len(fund.spends) == 1
    payee = ledger.open_account(
        session,
        code=f"payee:organisation:{isf_world.provider.id}",
        name="Chiltern Home Care",
        guarded=False,
    )
    assert ledger.balance(session, payee.id).posted == 45_50
    # To the budget the money stays "in ISFs" whether the provider holds or spent it.
    assert budget_figures(session, isf_world.budget).total.isf_pence == 200_00
    assert_all_verifies(session)


def test_spending_more_than_the_fund_holds_is_refused_and_records_nothing(
    session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.agreed(session, 100_00)
    _spend(session, isf_world, fund, 60_00, "form-1")
    with pytest.raises(InsufficientFunds, match=r"The fund holds £40: you cannot record £40\.01"):
        _spend(session, isf_world, fund, 40_01, "form-2")
    session.rollback()
    assert len(fund.spends) == 1
    assert ledger.balance(session, fund.account_id).posted == 40_00
    assert_all_verifies(session)


def test_a_spend_in_the_future_or_without_words_is_refused(
    session: Session, isf_world: IsfWorld
) -> None:
    from datetime import timedelta

    fund = isf_world.agreed(session)
    with pytest.raises(isf.IsfRefused, match="future"):
        isf.record_spend(
            session,
            fund,
            spent_on=TODAY + timedelta(days=1),
            amount_pence=5_00,
            description="Bus fare",
            by=isf_world.staff,
            key="k1",
            today=TODAY,
        )
    with pytest.raises(isf.IsfRefused, match="what the money was spent on"):
        isf.record_spend(
            session,
            fund,
            spent_on=TODAY,
            amount_pence=5_00,
            description=" ",
            by=isf_world.staff,
            key="k2",
            today=TODAY,
        )


def test_nothing_can_be_spent_before_the_provider_agrees(
    session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.request(session)
    with pytest.raises(isf.IsfRefused, match="no more spending"):
        _spend(session, isf_world, fund, 5_00, "form-1")


def test_returning_the_unspent_money_ends_the_fund(session: Session, isf_world: IsfWorld) -> None:
    fund = isf_world.agreed(session)
    _spend(session, isf_world, fund, 50_00, "form-1")
    moved = isf.return_unspent(session, fund, by=isf_world.officer, why="The person asked")
    again = isf.return_unspent(session, fund, by=isf_world.officer, why="The person asked")
    session.commit()

    assert moved is not None
    assert moved.amount_pence == 150_00
    assert again is None
    assert fund.state is IsfState.CLOSED
    total = budget_figures(session, isf_world.budget).total
    assert total.isf_pence == 50_00  # what the fund spent
    assert isf.isf_statement(session, fund).lines[-1].reason == "The person asked"
    assert_all_verifies(session)
    with pytest.raises(isf.IsfRefused, match="closed"):
        _spend(session, isf_world, fund, 5_00, "form-2")


def test_a_suspended_provider_spends_no_more_and_the_unspent_money_comes_back(
    session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.agreed(session)
    waiting = isf_world.request(session, 20_00)
    _spend(session, isf_world, fund, 30_00, "form-1")

    funds = isf.suspend_funds_of(
        session, isf_world.provider, by=isf_world.officer, why="Safeguarding concerns"
    )
    session.commit()

    assert {f.id for f in funds} == {fund.id, waiting.id}
    assert fund.state is IsfState.SUSPENDED
    assert waiting.state is IsfState.SUSPENDED
    assert ledger.balance(session, fund.account_id).posted == 0
    total = budget_figures(session, isf_world.budget).total
    assert total.isf_pence == 30_00
    assert_all_verifies(session)
    with pytest.raises(isf.IsfRefused, match="suspended"):
        _spend(session, isf_world, fund, 5_00, "form-2")
    with pytest.raises(isf.IsfRefused, match="already suspended"):
        isf.decide(session, waiting, by=isf_world.staff, agree=True)


def test_the_period_close_returns_each_fund_s_unspent_money_first(
    session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.agreed(session)
    waiting = isf_world.request(session, 10_00)
    _spend(session, isf_world, fund, 80_00, "form-1")
    before = budget_figures(session, isf_world.budget).total

    preview = preview_close(session, isf_world.budget)
    # The fund's £120 left comes back with the rest of the unspent money.
    assert preview.unspent_pence == before.available_pence + before.scheduled_pence + 120_00
    close_period(session, isf_world.budget, expected_unspent_pence=preview.unspent_pence)
    session.commit()

    assert fund.state is IsfState.CLOSED
    assert waiting.state is IsfState.CLOSED
    assert ledger.balance(session, fund.account_id).posted == 0
    total = budget_figures(session, isf_world.budget).total
    assert total.isf_pence == 80_00
    assert total.available_pence == 0
    assert total.returned_pence == preview.unspent_pence
    assert_all_verifies(session)


def test_verify_finds_a_fund_whose_money_does_not_add_up(
    session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.agreed(session)
    # A hand-made transfer out of the fund, with no spend recorded for it.
    stranger = ledger.open_account(session, code="payee:someone-else", name="X", guarded=False)
    ledger.transfer(
        session,
        key="by-hand",
        debit=fund.account_id,
        credit=stranger,
        amount_pence=10_00,
        code=TransferCode.ISF_SPEND,
    )
    session.commit()
    problems, _ = check_budgets(session)
    assert any("between the wrong accounts" in p for p in problems), problems
    assert any("is not as its record says" in p for p in problems), problems


def test_without_a_budget_named_the_open_one_for_the_day_pays(
    session: Session, isf_world: IsfWorld
) -> None:
    def ask(day: date) -> IndividualServiceFund:
        return isf.request_isf(
            session,
            person=isf_world.person,
            organisation=isf_world.provider,
            amount_pence=10_00,
            agreement="Bus fares to the day centre",
            by=isf_world.citizen,
            today=day,
        )

    assert ask(TODAY).budget_id == isf_world.budget.id
    with pytest.raises(isf.IsfRefused, match="no open personal budget"):
        ask(date(2027, 4, 1))  # after the period: no budget yet


def test_flask_ledger_verify_checks_the_funds(
    app: Flask, session: Session, isf_world: IsfWorld
) -> None:
    fund = isf_world.agreed(session)
    isf_fixtures.spend(session, isf_world, fund, 25_00, "form-1")
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["ledger", "verify"])
    assert clean.exit_code == 0, clean.output

    # Money into the fund from somewhere that is not its stream.
    outsider = ledger.open_account(session, code="payee:outsider", name="X", guarded=False)
    ledger.transfer(
        session,
        key="by-hand",
        debit=outsider,
        credit=fund.account_id,
        amount_pence=5_00,
        code=TransferCode.ISF,
    )
    session.commit()
    broken = runner.invoke(args=["ledger", "verify"])
    assert broken.exit_code == 1
    assert f"ISF {fund.reference}" in broken.output
