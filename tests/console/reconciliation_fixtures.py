"""RECON (issue 19): a varied ledger for the reconciliation's tests: budgets from the council's
pot and from an NHS pot's two named lines, purchases held, spent and released, a package's
cycles held and settled, revisions up and down, a period closed with its money returned, card
money into an own-funds stream, an Individual Service Fund agreed, spent from and returned, a
reablement pot paying an episode; and one commitment left with nothing delivered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.budgets import funders, isf, own_funds
from marketplace.budgets.allocations import StreamSpec, create_budget, revise_stream
from marketplace.budgets.closing import close_period
from marketplace.budgets.models import (
    FunderPot,
    FunderPotLine,
    PaymentFrequency,
    PersonalBudget,
    PotPurpose,
    StreamKind,
)
from marketplace.budgets.pot_lines import add_pot_line
from marketplace.budgets.spending import release, reserve, spend
from marketplace.orders import reablement
from marketplace.orders.models import Order
from marketplace.people.models import Person
from tests.packages.period_fixtures import (
    PeriodWorld,
    hold_next_cycle,
    period_world,
    settle_cycle,
)

__all__ = ["period_world"]

YEAR = 2026
HEALTH = {"personal-care"}


@dataclass
class Varied:
    world: PeriodWorld
    council_pot: FunderPot
    nhs_pot: FunderPot
    reablement_pot: FunderPot
    chc: FunderPotLine
    s117: FunderPotLine
    people: dict[str, Person]
    budgets: dict[str, PersonalBudget]
    package: Order


def _budget(
    session: Session,
    person: Person,
    specs: list[StreamSpec],
    starts_on: date = date(2026, 4, 1),
    ends_on: date = date(2027, 3, 31),
) -> PersonalBudget:
    budget = create_budget(
        session,
        person=person,
        starts_on=starts_on,
        ends_on=ends_on,
        frequency=PaymentFrequency.MONTHLY,
        streams=specs,
        today=date(2026, 9, 1),
    )
    session.commit()
    return budget


@pytest.fixture
def varied(
    session: Session,
    period_world: PeriodWorld,
    council_pot: FunderPot,
    nhs_pot: FunderPot,
    make_user: Callable[..., User],
) -> Varied:
    world = period_world
    world.person.postcode = "SG1 2AB"
    chc = add_pot_line(
        session, nhs_pot, name="Continuing healthcare", cost_centre="CHC01", planned_pence=3_000_00
    )
    s117 = add_pot_line(
        session, nhs_pot, name="Section 117 aftercare", cost_centre="S117", planned_pence=1_000_00
    )
    session.commit()
    payee = funders.payee_account(
        session, code=f"organisation:{world.provider.id}", name=world.provider.name
    )

    # Margaret (the world's person): a council budget for the first half-year with a package:
    # its first cycle settled (spent), its second held (committed).
    first = world.first_budget()
    package = world.package(session)
    settle_cycle(session, world, package, package.cycles[0])
    hold_next_cycle(session, package, first)

    # Bea: continuing healthcare from the NHS pot, council money and a contribution; purchases
    # spent, held and released; the NHS stream revised up then down; an ISF agreed, spent from
    # and returned.
    bea = Person(full_name="Bea Adeyemi", postcode="AL1 3AA")
    cyril = Person(full_name="Cyril Marsh")
    dora = Person(full_name="Dora Quince", postcode="SG1 4XY")
    session.add_all([bea, cyril, dora])
    session.commit()
    bea_budget = _budget(
        session,
        bea,
        [
            StreamSpec(StreamKind.NHS, 1_500_00, pot=nhs_pot, pot_line=chc),
            StreamSpec(StreamKind.CLIENT_CONTRIBUTION, 200_00),
            StreamSpec(StreamKind.COUNCIL, 400_00, pot=council_pot),
        ],
    )
    spend(
        session,
        reserve(
            session, bea_budget, amount_pence=300_00, category_codes=HEALTH, payee=payee, key="b1"
        ),
        key="b1:spent",
    )
    reserve(session, bea_budget, amount_pence=100_00, category_codes=HEALTH, payee=payee, key="b2")
    release(
        session,
        reserve(
            session, bea_budget, amount_pence=50_00, category_codes=HEALTH, payee=payee, key="b3"
        ),
        key="b3:released",
    )
    nhs_stream = next(s for s in bea_budget.streams if s.kind is StreamKind.NHS)
    revise_stream(session, nhs_stream, amount_pence=1_600_00, reason="More care", key="r1")
    revise_stream(session, nhs_stream, amount_pence=1_400_00, reason="Less care", key="r2")
    session.commit()
    fund = isf.request_isf(
        session,
        person=bea,
        budget=bea_budget,
        organisation=world.provider,
        amount_pence=80_00,
        agreement="Trips out on Saturdays",
        by=world.officer,
        today=date(2026, 6, 1),
    )
    isf.decide(session, fund, by=world.staff, agree=True)
    isf.record_spend(
        session,
        fund,
        spent_on=date(2026, 6, 6),
        amount_pence=30_00,
        description="Cinema trip",
        by=world.staff,
        key="isf-spend-1",
        today=date(2026, 6, 6),
    )
    isf.return_unspent(session, fund, by=world.officer, why="No longer needed")
    session.commit()

    # Cyril: section 117 aftercare and council money for the first half-year, some spent, the
    # period closed and the rest returned to each funder.
    cyril_budget = _budget(
        session,
        cyril,
        [
            StreamSpec(StreamKind.NHS, 500_00, pot=nhs_pot, pot_line=s117),
            StreamSpec(StreamKind.COUNCIL, 300_00, pot=council_pot),
        ],
        ends_on=date(2026, 9, 30),
    )
    spend(
        session,
        reserve(
            session, cyril_budget, amount_pence=120_00, category_codes=HEALTH, payee=payee, key="c1"
        ),
        key="c1:spent",
    )
    close_period(session, cyril_budget)
    session.commit()

    # Dora: her own money, some of it paid by card.
    dora_budget = _budget(session, dora, [StreamSpec(StreamKind.OWN_FUNDS, 60_00)])
    clearing = ledger.open_account(
        session, code="stripe:clearing:test", name="Card clearing", guarded=False
    )
    own_stream = own_funds.own_funds_stream(dora_budget)
    assert own_stream is not None
    own_funds.pay_in(
        session,
        own_stream,
        source=clearing,
        amount_pence=40_00,
        key="card:dora:1",
        description="Card payment",
    )
    session.commit()

    # The NHS funder's reablement pot pays an episode for Cyril.
    reablement_pot = funders.open_pot(session, nhs_pot.funder, YEAR, PotPurpose.REABLEMENT)
    funders.fund_pot(session, reablement_pot, amount_pence=2_000_00, key="fund:reablement")
    session.commit()
    reablement.start_episode(
        session,
        person=cyril,
        service=world.service,
        pot=reablement_pot,
        starts_on=date(2026, 6, 1),
        weeks=2,
        units_per_occasion=1,
        days=["MO"],
        by=world.officer,
        today=date(2026, 6, 1),
    )
    session.commit()
    return Varied(
        world=world,
        council_pot=council_pot,
        nhs_pot=nhs_pot,
        reablement_pot=reablement_pot,
        chc=chc,
        s117=s117,
        people={"margaret": world.person, "bea": bea, "cyril": cyril, "dora": dora},
        budgets={"margaret": first, "bea": bea_budget, "cyril": cyril_budget, "dora": dora_budget},
        package=package,
    )
