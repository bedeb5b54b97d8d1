"""Named lines of a funder's pot (issue 19): an NHS funder funds named items (continuing
healthcare, section 117 aftercare...), each with its planned amount and cost centre. A stream
allocated from the pot may name its line; the reconciliation reports each line's plan against
what was allocated to it.

A line is a label on money, not an account: the pot's ledger account holds all of it, and a
line's figures are the sums of its streams' figures. So a line's plan is a plan, never a
limit the ledger enforces (the pot's guard is).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select

from marketplace.budgets.errors import BudgetError
from marketplace.budgets.models import FunderPot, FunderPotLine, PotPurpose
from marketplace.types import Session

# The columns' lengths (String(120), String(40)).
NAME_LENGTH = 120
COST_CENTRE_LENGTH = 40


def add_pot_line(
    session: Session, pot: FunderPot, *, name: str, cost_centre: str, planned_pence: int
) -> FunderPotLine:
    """Add a named line to a budgets pot and flush it.

    Raises BudgetError: a reablement pot (its money pays episodes, not streams that could
    name a line), an empty or too long name or cost centre, a negative plan, or a name the
    pot has already (compared without regard to case or surrounding spaces).
    """
    name, cost_centre = " ".join(name.split()), cost_centre.strip()
    if pot.purpose is not PotPurpose.BUDGETS:
        raise BudgetError("only a personal budgets pot has lines")
    if not name or len(name) > NAME_LENGTH:
        raise BudgetError(f"a line needs a name of 1 to {NAME_LENGTH} characters")
    if len(cost_centre) > COST_CENTRE_LENGTH:
        raise BudgetError(f"a cost centre has at most {COST_CENTRE_LENGTH} characters")
    if planned_pence < 0:
        raise BudgetError("a line's planned amount cannot be negative")
    taken = session.scalar(
        select(FunderPotLine.id).where(
            FunderPotLine.pot_id == pot.id, func.lower(FunderPotLine.name) == name.lower()
        )
    )
    if taken is not None:
        raise BudgetError(f"{pot.label} already has a line called {name}", name=name)
    line = FunderPotLine(
        pot_id=pot.id, name=name, cost_centre=cost_centre, planned_pence=planned_pence
    )
    session.add(line)
    session.flush()
    return line


def lines_of_pots(session: Session, pot_ids: Sequence[uuid.UUID]) -> list[FunderPotLine]:
    """The lines of these pots, by pot then name, in one statement."""
    if not pot_ids:
        return []
    return list(
        session.scalars(
            select(FunderPotLine)
            .where(FunderPotLine.pot_id.in_(pot_ids))
            .order_by(FunderPotLine.pot_id, FunderPotLine.name)
        )
    )


def line_by_id(session: Session, line_id: uuid.UUID) -> FunderPotLine | None:
    return session.get(FunderPotLine, line_id)
