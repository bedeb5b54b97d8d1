"""A simple in-memory model of what the figures should be, for the stateful invariant test.

It knows nothing of the ledger: only pence per stream and per pot, moved by plain arithmetic
as each operation says. The test drives the real rules and this model side by side and
compares every figure after every step.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from marketplace.budgets.models import PaymentFrequency, StreamKind
from marketplace.budgets.rules import DEFAULT_ALLOWED_CATEGORY_CODES, DEFAULT_DRAW_ORDER
from marketplace.budgets.schedule import instalment_dates, split_evenly


@dataclass
class ModelInstalment:
    due_on: date
    amount: int
    released: bool = False


@dataclass
class ModelStream:
    id: uuid.UUID
    kind: StreamKind
    amount: int
    instalments: list[ModelInstalment]
    allocated: int = 0
    committed: int = 0
    spent: int = 0
    available: int = 0
    returned: int = 0
    carried_forward: int = 0

    @property
    def draw_order(self) -> int:
        return DEFAULT_DRAW_ORDER[self.kind]

    @property
    def scheduled(self) -> int:
        return sum(i.amount for i in self.instalments if not i.released)

    @property
    def pot(self) -> str | None:
        return {StreamKind.COUNCIL: "council", StreamKind.NHS: "nhs"}.get(self.kind)

    def allows(self, category: str) -> bool:
        allowed = DEFAULT_ALLOWED_CATEGORY_CODES[self.kind]
        return allowed is None or category in allowed

    def figures(self) -> tuple[int, ...]:
        return (
            self.allocated,
            self.committed,
            self.spent,
            self.available,
            self.returned,
            self.scheduled,
            self.carried_forward,
        )


@dataclass
class ModelBudget:
    id: uuid.UUID
    person: int
    starts_on: date
    streams: list[ModelStream]
    closed: bool = False

    def in_draw_order(self) -> list[ModelStream]:
        return sorted(self.streams, key=lambda stream: stream.draw_order)


@dataclass
class ModelCommitment:
    key: str
    budget: ModelBudget
    parts: list[tuple[ModelStream, int]]
    resolved: bool = False

    @property
    def amount(self) -> int:
        return sum(amount for _, amount in self.parts)


@dataclass
class Model:
    today: date
    pots: dict[str, int] = field(default_factory=dict)
    budgets: list[ModelBudget] = field(default_factory=list)

    def new_budget(
        self,
        budget_id: uuid.UUID,
        person: int,
        starts_on: date,
        ends_on: date,
        frequency: PaymentFrequency,
        streams: dict[StreamKind, tuple[uuid.UUID, int]],
    ) -> ModelBudget:
        dates = instalment_dates(starts_on, ends_on, frequency)
        budget = ModelBudget(budget_id, person, starts_on, [])
        for kind, (stream_id, amount) in streams.items():
            instalments = [
                ModelInstalment(day, share)
                for day, share in zip(dates, split_evenly(amount, len(dates)), strict=True)
            ]
            stream = ModelStream(stream_id, kind, amount, instalments)
            budget.streams.append(stream)
            if stream.pot:
                self.pots[stream.pot] -= amount
        self.budgets.append(budget)
        self.release(self.today, [budget])
        return budget

    def can_allocate(self, streams: dict[StreamKind, tuple[uuid.UUID, int]]) -> bool:
        needs = {"council": 0, "nhs": 0}
        for kind, (_, amount) in streams.items():
            pot = {StreamKind.COUNCIL: "council", StreamKind.NHS: "nhs"}.get(kind)
            if pot:
                needs[pot] += amount
        return all(needs[pot] <= self.pots[pot] for pot in needs)

    def release(self, today: date, budgets: list[ModelBudget] | None = None) -> None:
        for budget in budgets if budgets is not None else self.budgets:
            if budget.closed:
                continue
            for stream in budget.streams:
                for instalment in stream.instalments:
                    if instalment.due_on <= today and not instalment.released:
                        self._release(stream, instalment)

    @staticmethod
    def _release(stream: ModelStream, instalment: ModelInstalment) -> None:
        instalment.released = True
        stream.allocated += instalment.amount
        stream.available += instalment.amount

    @staticmethod
    def split(budget: ModelBudget, amount: int, category: str) -> tuple[list, int]:
        """The parts a commitment takes, and the shortfall (0 when it is covered)."""
        parts, remaining = [], amount
        for stream in budget.in_draw_order():
            if remaining == 0:
                break
            take = min(remaining, stream.available)
            if take > 0 and stream.allows(category):
                parts.append((stream, take))
                remaining -= take
        return parts, remaining

    @staticmethod
    def commit(commitment: ModelCommitment) -> None:
        for stream, amount in commitment.parts:
            stream.available -= amount
            stream.committed += amount

    @staticmethod
    def spend(commitment: ModelCommitment, amount: int) -> list[tuple[ModelStream, int]]:
        postings, remaining = [], amount
        for stream, held in commitment.parts:
            spent = min(remaining, held)
            remaining -= spent
            stream.committed -= held
            stream.spent += spent
            stream.available += held - spent
            if spent:
                postings.append((stream, spent))
        commitment.resolved = True
        return postings

    @staticmethod
    def release_commitment(commitment: ModelCommitment) -> None:
        for stream, held in commitment.parts:
            stream.committed -= held
            stream.available += held
        commitment.resolved = True

    @staticmethod
    def refund(stream: ModelStream, amount: int) -> None:
        stream.spent -= amount
        stream.available += amount

    def revise(self, stream: ModelStream, amount: int) -> str | None:
        """Apply a revision; returns the refusal expected instead, if any."""
        change = amount - stream.amount
        to_come = [i for i in stream.instalments if not i.released]
        if change > 0:
            if stream.pot and change > self.pots[stream.pot]:
                return "insufficient_funds"
            if to_come:
                for instalment, share in zip(
                    to_come, split_evenly(change, len(to_come)), strict=True
                ):
                    instalment.amount += share
            else:
                stream.allocated += change
                stream.available += change
        elif change < 0:
            decrease = -change
            from_unreleased = min(decrease, sum(i.amount for i in to_come))
            from_available = decrease - from_unreleased
            if from_available > stream.available:
                return "below_used"
            remaining = from_unreleased
            for instalment in reversed(to_come):
                taken = min(remaining, instalment.amount)
                instalment.amount -= taken
                remaining -= taken
            stream.available -= from_available
            stream.allocated -= from_available
        if stream.pot:
            self.pots[stream.pot] -= change
        stream.amount = amount
        return None

    def close(self, budget: ModelBudget, carry_into: dict[uuid.UUID, ModelStream]) -> None:
        for stream in budget.streams:
            for instalment in stream.instalments:
                if not instalment.released:
                    self._release(stream, instalment)
            unspent, stream.available = stream.available, 0
            destination = carry_into.get(stream.id)
            if destination is not None:
                stream.carried_forward += unspent
                destination.allocated += unspent
                destination.available += unspent
                destination.amount += unspent
            else:
                stream.returned += unspent
                if stream.pot:
                    self.pots[stream.pot] += unspent
        budget.closed = True
