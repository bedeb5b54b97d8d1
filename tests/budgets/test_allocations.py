"""Budgets are allocated out of funders' pots by ledger transfers; instalments are released
on their dates; streams are revised with a reason."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.budgets import funders
from marketplace.budgets.allocations import (
    StreamSpec,
    create_budget,
    release_due_instalments,
    revise_stream,
)
from marketplace.budgets.errors import BudgetError
from marketplace.budgets.figures import budget_figures, pot_figures
from marketplace.budgets.models import (
    FunderKind,
    FunderPot,
    PaymentFrequency,
    PersonalBudget,
    StreamKind,
)
from marketplace.budgets.spending import reserve
from marketplace.budgets.verify import check_budgets
from marketplace.ledger import InsufficientFunds, LedgerAccount, Transfer
from marketplace.people.models import Person
from tests.budgets.fixtures import YEAR_END, YEAR_START, MakeBudget


def _stream(budget: PersonalBudget, kind: StreamKind):
    return next(stream for stream in budget.streams if stream.kind is kind)


def _assert_consistent(session: Session) -> None:
    assert ledger.verify_ledger(session).problems == []
    assert check_budgets(session)[0] == []


def test_an_annual_budget_of_several_streams_from_two_funders(
    session: Session, make_budget: MakeBudget, council_pot: FunderPot, nhs_pot: FunderPot
) -> None:
    budget = make_budget(council=12_000_00, nhs=3_000_00, client_contribution=1_200_00)

    figures = budget_figures(session, budget)

    assert [stream.kind for stream, _ in figures.streams] == [
        StreamKind.CLIENT_CONTRIBUTION,
        StreamKind.NHS,
        StreamKind.COUNCIL,
    ]
    assert figures.total.allocated_pence == figures.total.available_pence == 16_200_00
    assert figures.total.scheduled_pence == 0
    assert pot_figures(session, council_pot).unallocated_pence == 1_000_000_00 - 12_000_00
    assert pot_figures(session, council_pot).streams.allocated_pence == 12_000_00
    assert pot_figures(session, nhs_pot).given_pence == 500_000_00
    _assert_consistent(session)


def test_a_four_weekly_budget_releases_each_instalment_on_its_date(
    session: Session, make_budget: MakeBudget
) -> None:
    budget = make_budget(frequency=PaymentFrequency.FOUR_WEEKLY, council=13_000_01)
    stream = budget.streams[0]

    assert [i.amount_pence for i in stream.instalments] == [1_000_01] + [1_000_00] * 12
    assert budget_figures(session, budget).total.available_pence == 1_000_01

    released = release_due_instalments(session, date(2026, 5, 27))
    session.commit()

    assert [i.number for i in released] == [2, 3]
    figures = budget_figures(session, budget).total
    assert figures.available_pence == 3_000_01
    assert figures.scheduled_pence == 10_000_00
    assert release_due_instalments(session, date(2026, 5, 27)) == []
    _assert_consistent(session)


def test_releasing_twice_in_two_sessions_records_each_instalment_once(
    app: Flask, session: Session, make_budget: MakeBudget
) -> None:
    budget = make_budget(frequency=PaymentFrequency.MONTHLY, council=12_000_00)
    runner = app.test_cli_runner()

    first = runner.invoke(args=["ledger", "release-instalments", "--date", "2026-06-30"])
    second = runner.invoke(args=["ledger", "release-instalments", "--date", "2026-06-30"])

    assert first.exit_code == 0, first.output
    assert "Released 2 instalments (£2,000)" in first.output
    assert "Released 0 instalments" in second.output
    session.expire_all()
    assert budget_figures(session, budget).total.available_pence == 3_000_00
    _assert_consistent(session)


def test_the_pot_must_cover_the_allocation_and_nothing_is_recorded(
    session: Session, person: Person
) -> None:
    council = funders.create_funder(session, name="Small Council", kind=FunderKind.COUNCIL)
    pot = funders.open_pot(session, council, 2026)
    funders.fund_pot(session, pot, amount_pence=500_00, key="fund")
    session.commit()
    before = session.scalar(select(func.count()).select_from(Transfer))

    with pytest.raises(InsufficientFunds) as refused:
        create_budget(
            session,
            person=person,
            starts_on=YEAR_START,
            ends_on=YEAR_END,
            frequency=PaymentFrequency.ANNUAL,
            streams=[
                StreamSpec(StreamKind.CLIENT_CONTRIBUTION, 100_00),
                StreamSpec(StreamKind.COUNCIL, 600_00, pot=pot),
            ],
            today=YEAR_START,
        )

    assert refused.value.shortfall_pence == 100_00
    assert session.scalar(select(func.count()).select_from(Transfer)) == before
    assert session.scalar(select(func.count()).select_from(PersonalBudget)) == 0


@pytest.mark.parametrize(
    ("streams", "message"),
    [
        ([], "at least one"),
        ([StreamSpec(StreamKind.COUNCIL, 100)], "needs a pot"),
        (
            [
                StreamSpec(StreamKind.OWN_FUNDS, 100, draw_order=1),
                StreamSpec(StreamKind.CLIENT_CONTRIBUTION, 100, draw_order=1),
            ],
            "draw order",
        ),
    ],
)
def test_a_budget_is_refused_when_its_streams_make_no_sense(
    session: Session, person: Person, streams: list[StreamSpec], message: str
) -> None:
    with pytest.raises(BudgetError, match=message):
        create_budget(
            session,
            person=person,
            starts_on=YEAR_START,
            ends_on=YEAR_END,
            frequency=PaymentFrequency.ANNUAL,
            streams=streams,
            today=YEAR_START,
        )


def test_a_stream_needs_its_own_kind_of_funder_and_year(
    session: Session, person: Person, council_pot: FunderPot, nhs_pot: FunderPot
) -> None:
    def attempt(spec: StreamSpec, starts_on: date = YEAR_START) -> None:
        create_budget(
            session,
            person=person,
            starts_on=starts_on,
            ends_on=starts_on.replace(year=starts_on.year + 1),
            frequency=PaymentFrequency.ANNUAL,
            streams=[spec],
            today=starts_on,
        )

    with pytest.raises(BudgetError, match="nhs funder"):
        attempt(StreamSpec(StreamKind.NHS, 100, pot=council_pot))
    with pytest.raises(BudgetError, match="financial year"):
        attempt(StreamSpec(StreamKind.COUNCIL, 100, pot=council_pot), date(2027, 4, 1))
    with pytest.raises(BudgetError, match="paid by the person"):
        attempt(StreamSpec(StreamKind.OWN_FUNDS, 100, pot=nhs_pot))
    with pytest.raises(ledger.InvalidTransfer):
        attempt(StreamSpec(StreamKind.OWN_FUNDS, 0))


def test_revising_up_spreads_over_the_instalments_to_come(
    session: Session, make_budget: MakeBudget, council_pot: FunderPot
) -> None:
    budget = make_budget(frequency=PaymentFrequency.MONTHLY, council=12_000_00)
    stream = budget.streams[0]

    revision = revise_stream(
        session, stream, amount_pence=12_110_00, reason="Reassessed: more help at night", key="r1"
    )
    session.commit()

    assert revision is not None
    assert revision.previous_amount_pence == 12_000_00
    assert [i.amount_pence for i in stream.instalments] == [1_000_00] + [1_010_00] * 11
    figures = budget_figures(session, budget).total
    assert (figures.allocated_pence, figures.scheduled_pence) == (1_000_00, 11_110_00)
    transfers = session.scalars(select(Transfer).where(Transfer.reference == "r1")).all()
    assert [(t.amount_pence, t.reason) for t in transfers] == [
        (110_00, "Reassessed: more help at night")
    ]
    assert pot_figures(session, council_pot).unallocated_pence == 1_000_000_00 - 12_110_00
    _assert_consistent(session)


def test_revising_down_takes_what_is_to_come_first_then_what_is_available(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(frequency=PaymentFrequency.MONTHLY, council=1_200_00)
    stream = budget.streams[0]
    reserve(session, budget, amount_pence=30_00, category_codes={"meals"}, payee=payee, key="o1")

    revise_stream(session, stream, amount_pence=50_00, reason="Moved to NHS funding", key="r")
    session.commit()

    assert [i.amount_pence for i in stream.instalments] == [100_00] + [0] * 11
    figures = budget_figures(session, budget).total
    assert figures.allocated_pence == 50_00
    assert (figures.committed_pence, figures.available_pence) == (30_00, 20_00)
    assert release_due_instalments(session, date(2026, 5, 1))[0].released_transfer is None
    _assert_consistent(session)


def test_a_stream_is_never_revised_below_what_is_committed_and_spent(
    session: Session, make_budget: MakeBudget, payee: LedgerAccount
) -> None:
    budget = make_budget(council=1_000_00)
    reserve(session, budget, amount_pence=400_00, category_codes={"meals"}, payee=payee, key="o")

    with pytest.raises(BudgetError) as refused:
        revise_stream(session, budget.streams[0], amount_pence=399_99, reason="cut", key="r")

    assert refused.value.details["minimum_pence"] == 400_00
    assert budget.streams[0].amount_pence == 1_000_00
    assert (
        revise_stream(session, budget.streams[0], amount_pence=400_00, reason="cut", key="r2")
        is not None
    )
    _assert_consistent(session)


def test_a_revision_replayed_returns_the_first_and_a_different_one_is_refused(
    session: Session, make_budget: MakeBudget
) -> None:
    budget = make_budget(council=1_000_00)
    stream = budget.streams[0]
    first = revise_stream(session, stream, amount_pence=900_00, reason="r", key="k")

    assert revise_stream(session, stream, amount_pence=900_00, reason="r", key="k") == first
    with pytest.raises(ledger.IdempotencyConflict):
        revise_stream(session, stream, amount_pence=800_00, reason="r", key="k")
    assert revise_stream(session, stream, amount_pence=900_00, reason="r", key="k2") is None


@pytest.mark.parametrize("amount", [-1, 1.5, "100"])
def test_a_revision_needs_whole_pence_and_a_reason(
    session: Session, make_budget: MakeBudget, amount: object
) -> None:
    stream = make_budget(council=1_000_00).streams[0]

    with pytest.raises(BudgetError):
        revise_stream(session, stream, amount_pence=amount, reason="x", key="k")  # type: ignore[arg-type]
    with pytest.raises(BudgetError):
        revise_stream(session, stream, amount_pence=5, reason=" ", key="k")


def test_a_budget_made_with_instalments_due_records_what_the_scheduler_would(
    session: Session, make_budget: MakeBudget
) -> None:
    """`create_budget` releases the instalments already due of the budget it makes on a path
    of its own (no stream lock, no second read of each flag, one flush): the transfers and
    flags are those of the same budget made at its start and released by the scheduler on the
    day it was made, nil instalments (3p over 13) included."""
    streams = {"council": 13_000_01, "nhs": 3, "client_contribution": 520_00}
    made_late = make_budget(
        frequency=PaymentFrequency.FOUR_WEEKLY, today=date(2026, 9, 1), **streams
    )
    made_early = make_budget(frequency=PaymentFrequency.FOUR_WEEKLY, **streams)
    assert release_due_instalments(session, date(2026, 9, 1), budget=made_early)
    session.commit()

    def record(budget: PersonalBudget) -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = []
        for stream in sorted(budget.streams, key=lambda stream: stream.draw_order):
            for instalment in stream.instalments:
                made = instalment.released_transfer
                rows.append(
                    (stream.kind, instalment.number, instalment.amount_pence, instalment.released)
                )
                if made is not None:
                    rows.append(
                        (
                            made.kind,
                            made.code,
                            made.amount_pence,
                            made.description,
                            made.idempotency_key == f"instalment:{instalment.id}",
                            made.debit_account_id == stream.unreleased_account_id,
                            made.credit_account_id == stream.account_id,
                        )
                    )
        return rows

    late = record(made_late)
    assert late == record(made_early)
    assert sum(row[3] is True for row in late if len(row) == 4) == 3 * 6
    assert ("nhs", 6, 0, True) in late
    assert ("nhs", 13, 0, False) in late
    _assert_consistent(session)
