"""Period end in bulk (issue 19, item 3): close the periods of one person's budgets or of many
at once, by the council's rule for unspent money, with a preview of every amount first.

Each budget is closed by the one close the council already has for a single budget
(`marketplace.budgets.closing`: its preview, its ledger transfers, its refusals); this module
chooses the budgets, applies the rule to each stream, previews them all, and confirms them
together, recording a `PeriodCloseRun` with its closing report and telling each person.

The confirmation is bound to the preview: the preview's `fingerprint` is a digest of every
budget chosen and every amount, destination and problem in it. Confirming takes the ledger
locks of every budget chosen, previews again, and refuses (`PeriodEndChanged`, with the new
preview) if anything differs, such as an invoice settled meanwhile, or another officer's
confirmation of the same run that got there first.

All or nothing: either every budget the preview said would close is closed exactly as
previewed, or none is (the officer is shown the new preview). Budgets the preview said cannot
close (money still committed, a package with nothing to pay for it after the period) are left
open and listed with why; they are part of the report, not a failure. Why not a savepoint per
budget, closing the rest when one fails: a failure once the figures are confirmed equal can
only mean something moved under the run, and the run's report must be what the officer
confirmed, penny for penny (docs/decisions.md, "Period end in bulk").
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.budgets import closing
from marketplace.budgets import queries as budget_queries
from marketplace.budgets.closing import CarryingOn, CloseChoice
from marketplace.budgets.models import (
    BudgetStatus,
    Funder,
    FunderPot,
    FundingStream,
    PersonalBudget,
    StreamKind,
)
from marketplace.charts import Bar, BarChart
from marketplace.console.models import PeriodCloseRun, UnspentRule
from marketplace.csv_export import pence_cell
from marketplace.formatting import pounds
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import notify, recipients_for_person
from marketplace.orders.checkout import new_reference
from marketplace.orders.package_periods import carrying_on
from marketplace.people.models import Person
from marketplace.types import Session
from providers.lead_providers import districts, outward_code
from providers.models import Locality

RUN_PREFIX = "PE"
# Where a person's own streams (their assessed contribution, their own money) go back to.
THE_PERSON = "the person"
# What the person's notification links to: their statement of the closed period.
PERSON_STATEMENT = "/my/budgets/{id}/statement"


class PeriodEndError(Exception):
    """A period end that cannot go ahead; `str()` says why, in words for the officer."""


class NothingToClose(PeriodEndError):
    pass


class PeriodEndChanged(PeriodEndError):
    """The budgets or their figures changed since the preview: `preview` is the new one."""

    def __init__(self, preview: PeriodEndPreview) -> None:
        super().__init__(
            "Something changed since the preview (an invoice settled, money committed, or a "
            "budget closed by someone else), so nothing was closed. Check the new preview "
            "below and confirm again"
        )
        self.preview = preview


@dataclass(frozen=True)
class Selection:
    """Which budgets to close and by what rule: every open budget whose period ended on or
    before `ended_by`, of one person, or those with money from one funder, or of people living
    in one district (their postcode's)."""

    ended_by: date
    rule: UnspentRule
    person_id: uuid.UUID | None = None
    funder_id: uuid.UUID | None = None
    district_code: str | None = None

    def as_dict(self) -> dict[str, str]:
        found = {"ended_by": self.ended_by.isoformat(), "rule": self.rule.value}
        if self.person_id:
            found["person_id"] = str(self.person_id)
        if self.funder_id:
            found["funder_id"] = str(self.funder_id)
        if self.district_code:
            found["district_code"] = self.district_code
        return found


@dataclass(frozen=True)
class StreamMove:
    """What the period end does with one stream's unspent money."""

    stream_id: uuid.UUID
    stream_name: str  # the stream's kind, as a statement names it
    funder_name: str  # whose money it is: the funder's name, or "the person"
    pot_label: str  # the pot it came from ("" for the person's own money)
    choice: CloseChoice
    amount_pence: int
    # When carried: the stream of the next budget it goes into, and that budget's period.
    destination_stream_id: uuid.UUID | None = None
    destination_period: str = ""

    @property
    def where(self) -> str:
        if self.amount_pence == 0:
            return "Nothing unspent"
        if self.choice is CloseChoice.CARRY_FORWARD:
            return f"Carried into the budget for {self.destination_period}"
        if self.pot_label:
            return f"Returned to {self.pot_label}"
        return "Returned to the person"


@dataclass
class BudgetPlan:
    """One budget's part of a period end: what each stream does, or why it cannot close."""

    budget: PersonalBudget
    next_budget: PersonalBudget | None
    choices: dict[uuid.UUID, CloseChoice]
    carrying_on: list[CarryingOn]
    moves: list[StreamMove]
    problems: list[str]
    # What the budget's close is bound to (closing.close_period's expected_unspent_pence).
    unspent_pence: int

    @property
    def can_close(self) -> bool:
        return not self.problems

    @property
    def returned_pence(self) -> int:
        return sum(m.amount_pence for m in self.moves if m.choice is CloseChoice.RETURN)

    @property
    def carried_pence(self) -> int:
        return sum(m.amount_pence for m in self.moves if m.choice is CloseChoice.CARRY_FORWARD)

    @property
    def period(self) -> str:
        return _period(self.budget)


@dataclass
class PeriodEndPreview:
    selection: Selection
    plans: list[BudgetPlan] = field(default_factory=list)

    @property
    def closing(self) -> list[BudgetPlan]:
        return [plan for plan in self.plans if plan.can_close]

    @property
    def left_open(self) -> list[BudgetPlan]:
        return [plan for plan in self.plans if not plan.can_close]

    @property
    def returned_pence(self) -> int:
        return sum(plan.returned_pence for plan in self.closing)

    @property
    def carried_pence(self) -> int:
        return sum(plan.carried_pence for plan in self.closing)

    def by_funder(self) -> list[tuple[str, int, int]]:
        """Per funder (or "the person"): returned and carried forward, over the budgets that
        close; by name."""
        totals: dict[str, list[int]] = {}
        for plan in self.closing:
            for move in plan.moves:
                pair = totals.setdefault(move.funder_name, [0, 0])
                pair[0 if move.choice is CloseChoice.RETURN else 1] += move.amount_pence
        return [(name, pair[0], pair[1]) for name, pair in sorted(totals.items())]

    @property
    def fingerprint(self) -> str:
        """A digest of every budget chosen and everything its close would do: what the
        confirmation is bound to."""
        return hashlib.sha256(json.dumps(_fingerprinted(self), sort_keys=True).encode()).hexdigest()

    def report(self) -> dict[str, Any]:
        """The closing report, as `PeriodCloseRun.report` keeps it (plain JSON)."""
        return {
            "selection": self.selection.as_dict(),
            "closed": [_plan_report(plan) for plan in self.closing],
            "left_open": [_plan_report(plan) for plan in self.left_open],
            "by_funder": [
                {"funder": name, "returned_pence": returned, "carried_pence": carried}
                for name, returned, carried in self.by_funder()
            ],
        }


def _fingerprinted(preview: PeriodEndPreview) -> list[Any]:
    return [
        [
            str(plan.budget.id),
            plan.unspent_pence,
            plan.problems,
            [
                [str(m.stream_id), m.choice.value, m.amount_pence, str(m.destination_stream_id)]
                for m in plan.moves
            ],
        ]
        for plan in preview.plans
    ]


def _plan_report(plan: BudgetPlan) -> dict[str, Any]:
    return {
        "budget_id": str(plan.budget.id),
        "person_id": str(plan.budget.person_id),
        "person": plan.budget.person.full_name,
        "period": plan.period,
        "returned_pence": plan.returned_pence,
        "carried_pence": plan.carried_pence,
        "streams": [
            {
                "stream": m.stream_name,
                "funder": m.funder_name,
                "amount_pence": m.amount_pence,
                "choice": m.choice.value,
                "where": m.where,
            }
            for m in plan.moves
        ],
        "problems": plan.problems,
    }


def _period(budget: PersonalBudget) -> str:
    return f"{budget.starts_on:%-d %B %Y} to {budget.ends_on:%-d %B %Y}"


# Choosing ------------------------------------------------------------------------------------


def funders_to_choose(session: Session) -> list[Funder]:
    """Every funder, by name: the choices of the funder filter."""
    return list(session.scalars(select(Funder).order_by(Funder.name)))


def districts_to_choose(session: Session) -> list[Locality]:
    """The county's districts: the choices of the area filter."""
    return districts(session)


def chosen_budgets(session: Session, selection: Selection) -> list[PersonalBudget]:
    """The open budgets the selection names, each person's oldest period first (so money
    carried forward within one run reaches a later period before it closes), by person."""
    query = (
        select(PersonalBudget)
        .join(Person, PersonalBudget.person_id == Person.id)
        .where(
            PersonalBudget.status == BudgetStatus.OPEN,
            PersonalBudget.ends_on <= selection.ended_by,
        )
        .order_by(Person.full_name, Person.id, PersonalBudget.starts_on, PersonalBudget.id)
        # A confirmation reads them again after taking the locks: what is current, not what
        # this session loaded before.
        .execution_options(populate_existing=True)
        .options(
            selectinload(PersonalBudget.person),
            selectinload(PersonalBudget.streams)
            .selectinload(FundingStream.pot)
            .selectinload(FunderPot.funder),
        )
    )
    if selection.person_id is not None:
        query = query.where(PersonalBudget.person_id == selection.person_id)
    if selection.funder_id is not None:
        query = query.where(
            PersonalBudget.id.in_(
                select(FundingStream.budget_id)
                .join(FunderPot, FundingStream.pot_id == FunderPot.id)
                .where(FunderPot.funder_id == selection.funder_id)
            )
        )
    found = list(session.scalars(query))
    if selection.district_code is None:
        return found
    district = next((d for d in districts(session) if d.code == selection.district_code), None)
    if district is None:
        return []
    outwards = set(district.postcode_districts or [])
    return [b for b in found if outward_code(b.person.postcode) in outwards]


# The preview ---------------------------------------------------------------------------------


def preview_period_end(session: Session, selection: Selection) -> PeriodEndPreview:
    """What closing the chosen budgets by the selection's rule would do, budget by budget and
    stream by stream; changes nothing."""
    return _preview(session, selection, chosen_budgets(session, selection))


def _preview(
    session: Session, selection: Selection, budgets: Sequence[PersonalBudget]
) -> PeriodEndPreview:
    preview = PeriodEndPreview(selection)
    # Money this run carries into a stream of a later budget it also closes: that budget's
    # close moves it on too.
    carried_in: dict[uuid.UUID, int] = {}
    for budget in budgets:
        following = budget_queries.next_budget(session, budget)
        choices = (
            closing.carry_where_possible(budget, following)
            if selection.rule is UnspentRule.CARRY_FORWARD
            else {stream.id: CloseChoice.RETURN for stream in budget.streams}
        )
        packages = carrying_on(session, budget)
        plan = closing.preview_close(
            session, budget, choices=choices, next_budget=following, carrying_on=packages
        )
        moves = [_move(line, following, carried_in.get(line.stream.id, 0)) for line in plan.lines]
        budget_plan = BudgetPlan(
            budget=budget,
            next_budget=following,
            choices=choices,
            carrying_on=packages,
            moves=moves,
            problems=_problems(plan),
            unspent_pence=sum(move.amount_pence for move in moves),
        )
        if budget_plan.can_close:
            for move in moves:
                if move.destination_stream_id is not None:
                    carried_in[move.destination_stream_id] = (
                        carried_in.get(move.destination_stream_id, 0) + move.amount_pence
                    )
        preview.plans.append(budget_plan)
    return preview


def _move(line: closing.CloseLine, following: PersonalBudget | None, carried_in: int) -> StreamMove:
    stream = line.stream
    pot = stream.pot
    destination = line.destination if line.choice is CloseChoice.CARRY_FORWARD else None
    return StreamMove(
        stream_id=stream.id,
        stream_name=_stream_name(stream),
        funder_name=pot.funder.name if pot is not None else THE_PERSON,
        pot_label=pot.label if pot is not None else "",
        choice=line.choice,
        amount_pence=line.unspent_pence + carried_in,
        destination_stream_id=destination.id if destination is not None else None,
        destination_period=_period(following) if destination and following else "",
    )


def _stream_name(stream: FundingStream) -> str:
    return {
        StreamKind.COUNCIL: "Council",
        StreamKind.NHS: "NHS personal health budget",
        StreamKind.CLIENT_CONTRIBUTION: "Assessed contribution",
        StreamKind.OWN_FUNDS: "Person's own money",
    }[stream.kind]


def _problems(plan: closing.ClosePreview) -> list[str]:
    """Why the budget cannot close, in the officer's words (as the single close's page says)."""
    found = []
    for line in plan.lines:
        name = _stream_name(line.stream)
        if line.committed_pence:
            held_for = f" (held for {'; '.join(line.held_for)})" if line.held_for else ""
            found.append(
                f"{name}: {pounds(line.committed_pence)} is still committed{held_for}. Those "
                "purchases must be paid or released before the period can close"
            )
        elif line.problem:
            found.append(f"{name}: the next budget has no stream like it to carry the money into")
    found += [p for package in plan.carrying_on if (p := package.problem(plan.budget))]
    return found


# Confirming ----------------------------------------------------------------------------------


def confirm_period_end(
    session: Session,
    selection: Selection,
    *,
    fingerprint: str,
    made_by: User,
    note: str = "",
) -> tuple[PeriodCloseRun, PeriodEndPreview]:
    """Close every budget the preview with this `fingerprint` said would close, exactly as it
    said, record the run with its closing report, and tell each person. Returns the run and the
    plan done. Flushes; the caller commits.

    Raises PeriodEndChanged (with the new preview) when anything differs from the preview
    confirmed, NothingToClose when no budget chosen can close. Nothing is closed then.
    """
    candidates = chosen_budgets(session, selection)
    _lock(session, candidates)
    # Read again now the locks are ours: another officer's run, or an invoice, may have got
    # there first.
    preview = preview_period_end(session, selection)
    if preview.fingerprint != fingerprint:
        raise PeriodEndChanged(preview)
    if not preview.closing:
        raise NothingToClose("None of the budgets chosen can be closed")
    try:
        with ledger.savepoint(session):
            for plan in preview.closing:
                done = closing.close_period(
                    session,
                    plan.budget,
                    choices=plan.choices,
                    next_budget=plan.next_budget,
                    expected_unspent_pence=plan.unspent_pence,
                    carrying_on=plan.carrying_on,
                )
                # close_period refused any other figure (expected_unspent_pence).
                assert done.unspent_pence == plan.unspent_pence
    except ledger.LedgerError:
        session.expire_all()
        raise PeriodEndChanged(preview_period_end(session, selection)) from None
    run = PeriodCloseRun(
        reference=new_reference(RUN_PREFIX),
        rule=selection.rule,
        ended_by=selection.ended_by,
        budget_count=len(preview.closing),
        returned_pence=preview.returned_pence,
        carried_pence=preview.carried_pence,
        report=preview.report(),
        made_by_id=made_by.id,
        note=note,
    )
    session.add(run)
    session.flush()
    for plan in preview.closing:
        notify(
            session,
            recipients_for_person(session, plan.budget.person_id),
            NotificationKind.PERIOD_CLOSED,
            title=f"Your budget for {plan.period} has been closed",
            body=_what_happened(plan),
            link=PERSON_STATEMENT.format(id=plan.budget.id),
        )
    return run, preview


def _what_happened(plan: BudgetPlan) -> str:
    parts = []
    if plan.carried_pence:
        assert plan.next_budget is not None
        parts.append(
            f"{pounds(plan.carried_pence)} unspent was carried into your budget for "
            f"{_period(plan.next_budget)}"
        )
    if plan.returned_pence:
        parts.append(f"{pounds(plan.returned_pence)} unspent went back to where it came from")
    if not parts:
        parts.append("Nothing was left unspent")
    return ". ".join(parts) + ". Your statement shows each amount."


def _lock(session: Session, budgets: Sequence[PersonalBudget]) -> None:
    """The ledger locks of every account the budgets' closes touch, taken at once in one
    order, so two officers confirming the same run queue rather than deadlock."""
    accounts: list[uuid.UUID] = []
    for budget in budgets:
        for stream in budget.streams:
            accounts += [stream.account_id, stream.unreleased_account_id, stream.source_account_id]
        following = budget_queries.next_budget(session, budget)
        if following is not None:
            accounts += [stream.account_id for stream in following.streams]
    ledger.lock_accounts(session, accounts)


# Reading runs --------------------------------------------------------------------------------


def run_by_reference(session: Session, reference: str) -> PeriodCloseRun | None:
    return session.scalar(
        select(PeriodCloseRun)
        .where(PeriodCloseRun.reference == reference)
        .options(selectinload(PeriodCloseRun.made_by))
    )


def recent_runs(session: Session, limit: int = 20) -> list[PeriodCloseRun]:
    """The latest runs, newest first."""
    return list(
        session.scalars(
            select(PeriodCloseRun)
            .order_by(PeriodCloseRun.made_at.desc(), PeriodCloseRun.id)
            .limit(limit)
            .options(selectinload(PeriodCloseRun.made_by))
        )
    )


REPORT_HEADER = (
    "Run",
    "Person",
    "Period",
    "Stream",
    "Funder",
    "Amount",
    "What happened",
    "Left open because",
)


def report_rows(run: PeriodCloseRun) -> list[list[object]]:
    """The closing report's rows, one a stream of each budget closed, then one a budget left
    open (the CSV of the report page)."""
    rows: list[list[object]] = []
    for budget in run.report.get("closed", []):
        for stream in budget["streams"]:
            rows.append(
                [
                    run.reference,
                    budget["person"],
                    budget["period"],
                    stream["stream"],
                    stream["funder"],
                    pence_cell(stream["amount_pence"]),
                    stream["where"],
                    "",
                ]
            )
    for budget in run.report.get("left_open", []):
        rows.append(
            [
                run.reference,
                budget["person"],
                budget["period"],
                "",
                "",
                "",
                "Left open",
                "; ".join(budget["problems"]),
            ]
        )
    return rows


def person_named(session: Session, person_id: uuid.UUID | None) -> Person | None:
    """The person a one-person period end is for (None: none, or no such person)."""
    return session.get(Person, person_id) if person_id is not None else None


PREVIEW_HEADER = (
    "Person",
    "Period",
    "Stream",
    "Funder",
    "Amount",
    "What closing does",
    "Cannot close because",
)


def preview_rows(preview: PeriodEndPreview) -> list[list[object]]:
    """The preview's rows, one a stream of each budget that would close, then one a budget
    that cannot (the CSV of the preview page)."""
    rows: list[list[object]] = []
    for plan in preview.closing:
        for move in plan.moves:
            rows.append(
                [
                    plan.budget.person.full_name,
                    plan.period,
                    move.stream_name,
                    move.funder_name,
                    pence_cell(move.amount_pence),
                    move.where,
                    "",
                ]
            )
    for plan in preview.left_open:
        rows.append(
            [
                plan.budget.person.full_name,
                plan.period,
                "",
                "",
                "",
                "Left open",
                "; ".join(plan.problems),
            ]
        )
    return rows


def funder_chart(run: PeriodCloseRun) -> BarChart:
    """The closing report's chart: per funder (or the person), what went back and what was
    carried forward, from the report as kept."""
    return BarChart(
        chart_id="period-end-funders",
        title="Whose money went where",
        description="Unspent money returned to each funder, and carried forward into the "
        "next budgets, by whose money it was.",
        label_heading="Whose money",
        series_name="Returned",
        against_name="Carried forward",
        bars=[
            Bar(
                total["funder"],
                total["returned_pence"],
                pounds(total["returned_pence"]),
                total["carried_pence"],
                pounds(total["carried_pence"]),
            )
            for total in run.report.get("by_funder", [])
        ],
        empty_text="Nothing was left unspent.",
    )


def funder_rows(run: PeriodCloseRun) -> tuple[list[str], list[list[object]]]:
    """The chart's table as CSV rows: money as pounds with two decimals."""
    header = ["Run", "Whose money", "Returned", "Carried forward"]
    return header, [
        [
            run.reference,
            total["funder"],
            pence_cell(total["returned_pence"]),
            pence_cell(total["carried_pence"]),
        ]
        for total in run.report.get("by_funder", [])
    ]
