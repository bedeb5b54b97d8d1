"""ISF (issue 18): a person with an open budget (£300 assessed contribution drawn first, £500
NHS for health care only, £1,000 council), a citizen login, and an approved provider with a
member of staff; and the check that the ledger, the budgets and every fund verify."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets import isf
from marketplace.budgets.models import IndividualServiceFund, PersonalBudget
from marketplace.budgets.verify import check_budgets
from marketplace.ledger import verify_ledger
from marketplace.people.models import Person
from providers.models import Organisation
from tests.budgets.fixtures import MakeBudget
from tests.conftest import PASSWORD

TODAY = date(2026, 6, 1)
CONTRIBUTION_PENCE = 300_00
NHS_PENCE = 500_00
COUNCIL_PENCE = 1_000_00


@dataclass
class IsfWorld:
    person: Person
    citizen: User
    budget: PersonalBudget
    provider: Organisation
    staff: User
    officer: User

    def request(
        self, session: Session, amount_pence: int = 200_00, **kw: object
    ) -> IndividualServiceFund:
        fund = isf.request_isf(
            session,
            person=self.person,
            budget=self.budget,
            organisation=self.provider,
            amount_pence=amount_pence,
            agreement=str(kw.pop("agreement", "Trips out with a support worker on Saturdays")),
            by=self.citizen,
            **kw,  # type: ignore[arg-type]
        )
        session.commit()
        return fund

    def agreed(self, session: Session, amount_pence: int = 200_00) -> IndividualServiceFund:
        fund = self.request(session, amount_pence)
        isf.decide(session, fund, by=self.staff, agree=True)
        session.commit()
        return fund


@pytest.fixture
def isf_world(
    session: Session,
    person: Person,
    make_budget: MakeBudget,
    make_organisation: Callable[..., Organisation],
    make_user: Callable[..., User],
) -> IsfWorld:
    budget = make_budget(
        client_contribution=CONTRIBUTION_PENCE, nhs=NHS_PENCE, council=COUNCIL_PENCE
    )
    citizen = accounts.create_user(
        email="margaret@example.org",
        full_name="Margaret Okafor",
        password=PASSWORD,
        role=Role.CITIZEN,
        person=person,
    )
    provider = make_organisation("Chiltern Home Care")
    staff = make_user(Role.PROVIDER_STAFF, organisation=provider)
    officer = make_user(Role.COUNCIL_OFFICER)
    session.commit()
    return IsfWorld(person, citizen, budget, provider, staff, officer)


def assert_all_verifies(session: Session) -> None:
    """`flask ledger verify`'s ledger and budgets checks (ISFs included) find nothing."""
    report = verify_ledger(session)
    assert report.ok, report.problems
    problems, _ = check_budgets(session)
    assert problems == []


def spend(
    session: Session, world: IsfWorld, fund: IndividualServiceFund, pence: int, key: str
) -> None:
    """The provider records `pence` spent from the fund today (committed)."""
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
