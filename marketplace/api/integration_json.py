"""The integration API's answers: people, budgets, figures and statements as JSON, in our
words. Money in integer pence (`*_pence`), dates as ISO `YYYY-MM-DD`, times as ISO 8601 in
UTC, ids as UUID strings."""

from __future__ import annotations

from typing import Any

from marketplace.budgets.figures import BudgetFigures, Figures
from marketplace.budgets.models import FundingStream, PersonalBudget
from marketplace.budgets.statement import Statement, StatementLine
from marketplace.people.models import Person

Json = dict[str, Any]


def person(found: Person) -> Json:
    return {
        "id": str(found.id),
        "full_name": found.full_name,
        "preferred_name": found.preferred_name,
        "date_of_birth": found.date_of_birth.isoformat() if found.date_of_birth else None,
        "postcode": found.postcode,
        "email": found.email,
        "phone": found.phone,
        "case_reference": found.case_reference,
        "address_line_1": found.address_line_1,
        "address_line_2": found.address_line_2,
        "town": found.town,
        "county": found.county,
        "communication_needs": found.communication_needs,
        "preferred_contact": found.preferred_contact.value if found.preferred_contact else None,
        # The code itself is never sent back: only the provider delivering an order sees it.
        "has_key_safe_code": found.key_safe_code is not None,
        "access_notes": found.access_notes,
        "created_at": found.created_at.isoformat(),
    }


def stream(found: FundingStream) -> Json:
    return {
        "id": str(found.id),
        "kind": found.kind.value,
        "amount_pence": found.amount_pence,
        "draw_order": found.draw_order,
        "pot_id": str(found.pot_id) if found.pot_id else None,
        "funder": found.pot.funder.name if found.pot else None,
    }


def budget(found: PersonalBudget) -> Json:
    return {
        "id": str(found.id),
        "person_id": str(found.person_id),
        "starts_on": found.starts_on.isoformat(),
        "ends_on": found.ends_on.isoformat(),
        "frequency": found.frequency.value,
        "status": found.status.value,
        "streams": [stream(item) for item in found.streams],
    }


def _figures(found: Figures) -> Json:
    return {
        "allocated_pence": found.allocated_pence,
        "committed_pence": found.committed_pence,
        "spent_pence": found.spent_pence,
        "available_pence": found.available_pence,
        "returned_pence": found.returned_pence,
        "carried_forward_pence": found.carried_forward_pence,
        "isf_pence": found.isf_pence,  # ISF (issue 18)
    }


def budget_figures(found: PersonalBudget, figures: BudgetFigures) -> Json:
    return {
        **budget(found),
        "streams": [{**stream(item), **_figures(each)} for item, each in figures.streams],
        "total": _figures(figures.total),
    }


def _line(found: StatementLine) -> Json:
    return {
        "transfer_id": str(found.transfer_id),
        "at": found.at.isoformat(),
        "on": found.on.isoformat(),
        "stream_id": str(found.stream.id),
        "stream_kind": found.stream.kind.value,
        "what": found.what,
        "description": found.description,
        "reason": found.reason,
        "in_pence": found.in_pence,
        "out_pence": found.out_pence,
        "held_change_pence": found.held_change_pence,
        "balance_pence": found.balance_pence,
        "held_pence": found.held_pence,
        "available_pence": found.available_pence,
        # PERIODS (issue 18): what a commitment's line was held for ("Order ORD-1234, cycle 5
        # (4 May to 31 May 2026)"), or null.
        "purchase": found.purchase,
    }


def statement(found: Statement) -> Json:
    chosen = found.chosen
    return {
        "budget_id": str(found.budget.id),
        "from": chosen.date_from.isoformat() if chosen.date_from else None,
        "to": chosen.date_to.isoformat() if chosen.date_to else None,
        "stream_id": str(chosen.stream_id) if chosen.stream_id else None,
        "opening_balance_pence": found.opening_balance_pence,
        "opening_held_pence": found.opening_held_pence,
        "opening_available_pence": found.opening_available_pence,
        "in_pence": found.in_pence,
        "out_pence": found.out_pence,
        "closing_balance_pence": found.closing_balance_pence,
        "closing_held_pence": found.closing_held_pence,
        "closing_available_pence": found.closing_available_pence,
        "lines": [_line(line) for line in found.lines],
    }
