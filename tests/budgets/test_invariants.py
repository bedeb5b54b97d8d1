"""Long random sequences of allocate, release, commit, post, partial post, void, refund
(reverse), revise, close and replay, driven against the real rules and an in-memory model
side by side (Hypothesis stateful testing). After every step every figure must match the
model, and the ledger and the budgets must verify:

- every transfer's debits equal its credits and all accounts net to zero;
- no guarded account's available balance is negative, counting pending transfers;
- allocated = committed + spent + available + returned + carried forward for every stream,
  budget and pot;
- a pending transfer is resolved at most once, never for more than it held;
- replaying with the same idempotency key changes nothing, with other details is refused;
- stored balances equal those recomputed from the transfers.

Set LEDGER_HYPOTHESIS_PROFILE=ledger-deep for a longer run than the suite's.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, timedelta

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from marketplace import ledger
from marketplace.budgets import funders
from marketplace.budgets.allocations import (
    StreamSpec,
    create_budget,
    release_due_instalments,
    revise_stream,
)
from marketplace.budgets.closing import CloseChoice, close_period, preview_close
from marketplace.budgets.errors import BudgetClosed, BudgetError, CloseRefused
from marketplace.budgets.figures import pot_figures, stream_figures
from marketplace.budgets.models import FunderKind, PaymentFrequency, PersonalBudget, StreamKind
from marketplace.budgets.spending import Commitment, release, reserve, spend
from marketplace.budgets.verify import check_budgets
from marketplace.extensions import db
from marketplace.ledger import IdempotencyConflict, InsufficientFunds, Transfer, TransferKind
from marketplace.people.models import Person
from tests.budgets.model import Model, ModelBudget, ModelCommitment, ModelStream
from tests.conftest import empty_database

settings.register_profile(
    "ledger",
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile("ledger-deep", settings.get_profile("ledger"), max_examples=500)
PROFILE = settings.get_profile(os.environ.get("LEDGER_HYPOTHESIS_PROFILE", "ledger"))

YEAR_START, YEAR_END = date(2026, 4, 1), date(2027, 3, 31)
CATEGORIES = ["meals", "podiatry", "personal-care", "transport"]


class BudgetMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.session = db.session
        self.session.rollback()
        empty_database()
        self.model = Model(today=YEAR_START, pots={"council": 600_00, "nhs": 250_00})
        self.pots = {}
        for name, kind in (("council", FunderKind.COUNCIL), ("nhs", FunderKind.NHS)):
            funder = funders.create_funder(self.session, name=name, kind=kind)
            self.pots[name] = funders.open_pot(self.session, funder, 2026)
            funders.fund_pot(
                self.session, self.pots[name], amount_pence=self.model.pots[name], key=name
            )
        self.people = [Person(full_name="Ann"), Person(full_name="Bob")]
        self.session.add_all(self.people)
        self.payee = funders.payee_account(self.session, code="care", name="Care Ltd")
        self.session.commit()
        self.budgets: dict[uuid.UUID, PersonalBudget] = {}
        self.commitments: list[tuple[ModelCommitment, Commitment]] = []
        self.postings: list[tuple[ModelBudget, ModelStream, Transfer]] = []
        self.revisions: list[tuple[str, uuid.UUID, int]] = []
        self.counter = 0

    def _key(self, kind: str) -> str:
        self.counter += 1
        return f"{kind}:{self.counter}"

    def _open_budgets(self) -> list[ModelBudget]:
        return [b for b in self.model.budgets if not b.closed]

    def _stream(self, stream: ModelStream):
        return next(s for b in self.budgets.values() for s in b.streams if s.id == stream.id)

    @precondition(lambda self: len(self.model.budgets) < 5)
    @rule(
        person=st.integers(0, 1),
        late=st.booleans(),
        frequency=st.sampled_from(PaymentFrequency),
        amounts=st.dictionaries(
            st.sampled_from(StreamKind), st.integers(1, 250_00), min_size=1, max_size=4
        ),
    )
    def allocate(self, person: int, late: bool, frequency: PaymentFrequency, amounts: dict) -> None:
        starts_on = date(2026, 10, 1) if late else YEAR_START
        specs = [
            StreamSpec(kind, amount, pot=self.pots.get(kind.value))
            for kind, amount in amounts.items()
        ]
        affordable = self.model.can_allocate({k: (uuid.uuid4(), a) for k, a in amounts.items()})
        try:
            budget = create_budget(
                self.session,
                person=self.people[person],
                starts_on=starts_on,
                ends_on=YEAR_END,
                frequency=frequency,
                streams=specs,
                today=self.model.today,
            )
        except InsufficientFunds:
            assert not affordable
            return
        assert affordable
        self.session.commit()
        self.budgets[budget.id] = budget
        self.model.new_budget(
            budget.id,
            person,
            starts_on,
            YEAR_END,
            frequency,
            {s.kind: (s.id, s.amount_pence) for s in budget.streams},
        )

    @rule(days=st.integers(1, 120))
    def time_passes(self, days: int) -> None:
        self.model.today = min(self.model.today + timedelta(days=days), YEAR_END)
        release_due_instalments(self.session, self.model.today)
        self.session.commit()
        self.model.release(self.model.today)

    @precondition(lambda self: self.model.budgets)
    @rule(data=st.data(), amount=st.integers(1, 150_00), category=st.sampled_from(CATEGORIES))
    def buy(self, data: st.DataObject, amount: int, category: str) -> None:
        budget = data.draw(st.sampled_from(self.model.budgets))
        key = self._key("order")
        parts, shortfall = self.model.split(budget, amount, category)

        def buying() -> Commitment:
            return reserve(
                self.session,
                self.budgets[budget.id],
                amount_pence=amount,
                category_codes={category},
                payee=self.payee,
                key=key,
            )

        if budget.closed:
            with pytest.raises(BudgetClosed):
                buying()
            return
        if shortfall:
            with pytest.raises(InsufficientFunds) as refused:
                buying()
            assert refused.value.shortfall_pence == shortfall
            return
        bought = buying()
        assert [(p.stream.id, p.amount_pence) for p in bought.parts] == [
            (s.id, a) for s, a in parts
        ]
        self.session.commit()
        held = ModelCommitment(key, budget, parts)
        self.model.commit(held)
        self.commitments.append((held, bought))

    def _unresolved(self) -> list[tuple[ModelCommitment, Commitment]]:
        return [pair for pair in self.commitments if not pair[0].resolved]

    @precondition(lambda self: self._unresolved())
    @rule(data=st.data(), whole=st.booleans())
    def invoice(self, data: st.DataObject, whole: bool) -> None:
        held, bought = data.draw(st.sampled_from(self._unresolved()))
        amount = held.amount if whole else data.draw(st.integers(1, held.amount))
        key = self._key("invoice")
        resolutions = spend(self.session, bought, key=key, amount_pence=amount)
        assert spend(self.session, bought, key=key, amount_pence=amount) == resolutions
        self.session.commit()
        postings = self.model.spend(held, amount)
        posted = [t for t in resolutions if t.kind is TransferKind.POST]
        assert [(t.debit_account_id, t.amount_pence) for t in posted] == [
            (self._stream(s).account_id, a) for s, a in postings
        ]
        self.postings += [(held.budget, s, t) for (s, _), t in zip(postings, posted, strict=True)]

    @precondition(lambda self: self._unresolved())
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        held, bought = data.draw(st.sampled_from(self._unresolved()))
        release(self.session, bought, key=self._key("cancel"))
        self.session.commit()
        self.model.release_commitment(held)

    @precondition(lambda self: any(not b.closed for b, _, _ in self.postings))
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        choice = data.draw(st.sampled_from([p for p in self.postings if not p[0].closed]))
        _, stream, posting = choice
        ledger.reverse(self.session, posting, key=self._key("refund"), reason="not delivered")
        self.session.commit()
        self.model.refund(stream, posting.amount_pence)
        self.postings.remove(choice)

    @precondition(lambda self: self.model.budgets)
    @rule(data=st.data(), amount=st.integers(0, 400_00))
    def revise(self, data: st.DataObject, amount: int) -> None:
        budget = data.draw(st.sampled_from(self.model.budgets))
        stream = data.draw(st.sampled_from(budget.streams))
        key = self._key("revision")
        expected = "closed" if budget.closed else self.model.revise(stream, amount)
        try:
            revised = revise_stream(
                self.session, self._stream(stream), amount_pence=amount, reason="review", key=key
            )
        except BudgetClosed:
            assert expected == "closed"
        except InsufficientFunds:
            assert expected == "insufficient_funds"
        except BudgetError:
            assert expected == "below_used"
        else:
            assert expected is None
            self.session.commit()
            if revised is not None:
                self.revisions.append((key, stream.id, amount))
        self.session.rollback()

    @precondition(lambda self: self.commitments or self.revisions)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """The same key again changes nothing; the same key for something else is refused."""
        if self.commitments and (not self.revisions or data.draw(st.booleans())):
            held, bought = data.draw(st.sampled_from(self.commitments))
            budget = self.budgets[held.budget.id]
            again = reserve(
                self.session,
                budget,
                amount_pence=held.amount,
                category_codes={"meals"},
                payee=self.payee,
                key=held.key,
            )
            assert [p.transfer.id for p in again.parts] == [p.transfer.id for p in bought.parts]
            with pytest.raises(IdempotencyConflict):
                reserve(
                    self.session,
                    budget,
                    amount_pence=held.amount + 1,
                    category_codes={"meals"},
                    payee=self.payee,
                    key=held.key,
                )
        else:
            key, stream_id, amount = data.draw(st.sampled_from(self.revisions))
            stream = self._stream(
                next(s for b in self.model.budgets for s in b.streams if s.id == stream_id)
            )
            assert revise_stream(self.session, stream, amount_pence=amount, reason="r", key=key)
            with pytest.raises(IdempotencyConflict):
                revise_stream(self.session, stream, amount_pence=amount + 1, reason="r", key=key)
        self.session.commit()

    @precondition(lambda self: self._open_budgets())
    @rule(data=st.data(), carry=st.booleans())
    def close(self, data: st.DataObject, carry: bool) -> None:
        budget = data.draw(st.sampled_from(self._open_budgets()))
        later = [
            b
            for b in self._open_budgets()
            if b.person == budget.person and b.starts_on > budget.starts_on
        ]
        following = later[0] if carry and later else None
        carry_into = {}
        if following is not None:
            kinds = {s.kind: s for s in following.streams}
            carry_into = {s.id: kinds[s.kind] for s in budget.streams if s.kind in kinds}
        choices = {stream_id: CloseChoice.CARRY_FORWARD for stream_id in carry_into}
        real, real_next = self.budgets[budget.id], following and self.budgets[following.id]
        preview = preview_close(self.session, real, choices=choices, next_budget=real_next)
        assert preview.unspent_pence == sum(s.available + s.scheduled for s in budget.streams)
        if any(s.committed for s in budget.streams):
            with pytest.raises(CloseRefused):
                close_period(self.session, real, choices=choices, next_budget=real_next)
            return
        close_period(
            self.session,
            real,
            choices=choices,
            next_budget=real_next,
            expected_unspent_pence=preview.unspent_pence,
        )
        self.session.commit()
        self.model.close(budget, carry_into)

    @invariant()
    def every_figure_matches_the_model(self) -> None:
        streams = [s for b in self.budgets.values() for s in b.streams]
        actual = stream_figures(self.session, streams)
        for budget in self.model.budgets:
            for stream in budget.streams:
                figures = actual[stream.id]
                assert figures.balanced
                assert (
                    figures.allocated_pence,
                    figures.committed_pence,
                    figures.spent_pence,
                    figures.available_pence,
                    figures.returned_pence,
                    figures.scheduled_pence,
                    figures.carried_forward_pence,
                ) == stream.figures(), stream.kind
        for name, pot in self.pots.items():
            figures = pot_figures(self.session, pot)
            assert figures.unallocated_pence == self.model.pots[name]
            assert figures.streams.balanced

    @invariant()
    def the_ledger_and_the_budgets_verify(self) -> None:
        report = ledger.verify_ledger(self.session)
        assert report.problems == []
        assert check_budgets(self.session)[0] == []

    def teardown(self) -> None:
        self.session.rollback()


def test_budgets_keep_every_invariant_through_random_sequences(app: Flask) -> None:
    run_state_machine_as_test(BudgetMachine, settings=PROFILE)
